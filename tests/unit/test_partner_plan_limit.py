"""The plan's partner limit (issue: red-team follow-up). schemas/tenant.schema.json, `plan`: "Commercial plan limits
for the tenant, enforced by the platform"; `max_partners`: "Maximum number of onboarded (non-offboarded) partners the
tenant may hold". Before the fix nothing read `max_partners`: a sales key could create partners without end.

What counts: every partner whose lifecycle can still move (an application in progress, an active or a suspended
partner); a terminated or rejected one is offboarded and frees its place. Bad inputs tried: a third application at
a limit of 2 (422 naming max_partners, nothing written, no audit record), a backfilled onboarding at the limit (the
same 422), an application after one partner was rejected (admitted).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import RuleViolation
from revgov.domain.partners import tiers_by_rank
from revgov.local.demo_partners import demo_application, onboarding_history
from revgov.ports import Changes
from revgov.services import partner_repository, partners, tenant_repository, tenants

NOW = "2026-11-10T10:00:00.000Z"
SALES = Principal("northwind", Role.SALES, "key_01JX0000000000000000000001")
ADMIN = Principal("northwind", Role.ADMIN, "key_01JX0000000000000000000002")


def _runtime(max_partners: int) -> Any:
    rt, _ = memory_runtime(NOW)
    tenant, version = tenants.load_tenant(rt, "northwind")
    planned = replace(tenant, config={**tenant.config, "plan": {**tenant.config["plan"], "max_partners": max_partners}})
    rt.store.commit("northwind", Changes(puts=[tenant_repository.profile_put(planned, version=version)]))
    return rt


def _application(rt: Any, name: str) -> dict[str, Any]:
    policy = tenants.load_tenant(rt, "northwind")[0].policy
    return demo_application(name, "reseller", tiers_by_rank(policy)[0])


def _held(rt: Any) -> list[str]:
    return list(partner_repository.statuses(rt.store, "northwind"))


def test_a_tenant_holds_no_more_partners_than_its_plan_allows() -> None:
    rt = _runtime(2)
    for name in ("First Ltd", "Second Ltd"):
        partners.apply(rt, SALES, _application(rt, name))
    records = len(rt.store.audit_records("northwind"))
    with pytest.raises(RuleViolation) as refused:
        partners.apply(rt, SALES, _application(rt, "Third Ltd"))
    assert refused.value.status == 422 and "max_partners" in refused.value.detail
    assert refused.value.extra["max_partners"] == 2
    assert _held(rt) == ["applied", "applied"] and len(rt.store.audit_records("northwind")) == records


def test_a_backfilled_onboarding_is_a_partner_too() -> None:
    rt = _runtime(1)
    partners.apply(rt, SALES, _application(rt, "First Ltd"))
    policy = tenants.load_tenant(rt, "northwind")[0].policy
    application = _application(rt, "Backfilled Ltd")
    history = onboarding_history(policy, application, date(2026, 11, 10))
    with pytest.raises(RuleViolation, match="max_partners"):
        partners.backfill_onboarding(rt, ADMIN, application, history)
    assert len(_held(rt)) == 1


@pytest.mark.parametrize("final", ["rejected", "terminated"])
def test_an_offboarded_partner_frees_its_place(final: str) -> None:
    rt = _runtime(2)
    first = partners.apply(rt, SALES, _application(rt, "First Ltd"))
    partners.apply(rt, SALES, _application(rt, "Second Ltd"))
    stored, version = partner_repository.load(rt.store, "northwind", first["partner_id"])
    rt.store.commit("northwind", Changes(puts=[partner_repository.put({**stored, "status": final}, version=version)]))
    third = partners.apply(rt, SALES, _application(rt, "Third Ltd"))
    assert third["status"] == "applied"
    assert sorted(_held(rt)) == sorted(["applied", "applied", final])
