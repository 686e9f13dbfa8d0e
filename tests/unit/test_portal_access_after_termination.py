"""A terminated partner's keys end with its portal access (red-team follow-up; services/keys.py).

PA-9.6: "A suspended Partner keeps read-only access to its statements and documents. Portal access ends 90 days
after termination, after which the Partner may request an export of its statements."
CPA-9.8: "Suspended Partners keep read-only access. Access ends 60 days after termination."
Before the fix a terminated partner's key worked forever. The days are the onboarding policy's
`termination.portal_access` (tenant.yaml); the key is refused with a 403 that names the rule, the clause and the
instant access ended. Bad inputs tried: a key at the last millisecond of the window (admitted) and at its end
(refused); a policy without `portal_access` (refused at once: no clause grants access after termination); a key
whose partner record is gone (401, like an unknown key); staff keys of the same tenant (unaffected).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Forbidden, Unauthenticated
from revgov.ports import Changes, Delete
from revgov.services import keys, partner_repository, tenant_repository, tenants

TERMINATED = "2026-11-10T10:00:00.000Z"
PARTNER = "ptr_01JX00000000000000000000TT"


def _party(tenant: str) -> tuple[Any, Any, str, str]:
    """A tenant with a partner terminated at TERMINATED, its portal key and a finance key."""
    rt, clock = memory_runtime(TERMINATED, tenant=tenant)
    record = {"partner_id": PARTNER, "legal_name": "Ended Ltd", "partner_type": "reseller", "status": "active",
              "tier": None, "history": []}
    rt.store.commit(tenant, Changes(puts=[partner_repository.put(record, version=None)]))
    admin = Principal(tenant, Role.ADMIN, "key_01JX0000000000000000000001")
    portal = keys.create_key(rt, admin, tenant, Role.PARTNER, PARTNER, "portal")
    finance = keys.create_key(rt, admin, tenant, Role.FINANCE, None, "finance")
    stored, version = partner_repository.load(rt.store, tenant, PARTNER)
    step = {"from": "active", "to": "terminated", "at": TERMINATED, "by": "key_x", "reason": "material breach"}
    ended = {**stored, "status": "terminated", "updated_at": TERMINATED, "history": [step]}
    rt.store.commit(tenant, Changes(puts=[partner_repository.put(ended, version=version)]))
    return rt, clock, _token(portal), _token(finance)


def _token(public: dict[str, Any]) -> str:
    return f"Bearer {public['key']}"


@pytest.mark.parametrize(("tenant", "days", "clause"), [("northwind", 90, "PA-9.6"), ("contoso", 60, "CPA-9.8")])
def test_a_terminated_partners_key_works_until_its_access_ends_then_is_refused_saying_why(
    tenant: str, days: int, clause: str
) -> None:
    rt, clock, portal, finance = _party(tenant)
    clock.set(TERMINATED)
    assert keys.authenticate(rt, portal).partner_id == PARTNER  # just terminated: still its portal
    clock.advance(days=days, seconds=-0.001)
    assert keys.authenticate(rt, portal).partner_id == PARTNER  # the window's last millisecond
    clock.advance(seconds=0.001)
    with pytest.raises(Forbidden) as refused:
        keys.authenticate(rt, portal)
    assert refused.value.status == 403
    detail = refused.value.detail
    assert clause in detail and "PTR-PORTAL-ACCESS-AFTER-TERMINATION" in detail and f"{days} days" in detail
    assert "2026-11-10T10:00:00.000Z" in detail  # when it was terminated
    assert keys.authenticate(rt, finance).role is Role.FINANCE  # staff keys are not the partner's


def test_a_policy_that_grants_no_access_after_termination_ends_it_at_once() -> None:
    rt, _, portal, _ = _party("northwind")
    tenant, version = tenants.load_tenant(rt, "northwind")
    onboarding = dict(tenant.policy["onboarding"])
    onboarding["termination"] = {k: v for k, v in onboarding["termination"].items() if k != "portal_access"}
    config = {**tenant.config, "policy": {**tenant.policy, "onboarding": onboarding}}
    rt.store.commit("northwind", Changes(puts=[tenant_repository.profile_put(replace(tenant, config=config),
                                                                              version=version)]))
    with pytest.raises(Forbidden, match="no access after termination"):
        keys.authenticate(rt, portal)


def test_an_active_partners_key_is_unaffected_and_a_key_without_its_partner_is_unknown() -> None:
    rt, _ = memory_runtime(TERMINATED)
    admin = Principal("northwind", Role.ADMIN, "key_01JX0000000000000000000001")
    record = {"partner_id": PARTNER, "status": "active", "history": []}
    rt.store.commit("northwind", Changes(puts=[partner_repository.put(record, version=None)]))
    portal = _token(keys.create_key(rt, admin, "northwind", Role.PARTNER, PARTNER, "portal"))
    assert keys.authenticate(rt, portal).partner_id == PARTNER
    rt.store.commit("northwind", Changes(deletes=[Delete(partner_repository.PARTNERS, PARTNER)]))
    with pytest.raises(Unauthenticated):
        keys.authenticate(rt, portal)
