"""A policy change does not take effect in a new Quarter before the rebate run of the Quarter just ended is approved.

SOP-7.3 (northwind billing-sop.md): "Changes to the tenant policy (tiers, discount caps, rebate programs, rate tables
and routing) take effect only on the first day of a Billing Month and are not made during the last 5 business days of
a Quarter or before the rebate run for the Quarter is approved."
COP-7.2 (contoso operations-sop.md): "Policy changes are not made in the last 5 business days of a Quarter or before
the rebate run is approved, and take effect on the first day of a Billing Month."
SOP-7.2 / COP-7.2: the rebate run is "approved by a second member of the finance queue": a prepared run is not.

A change proposed and approved early in 2026-Q3 for 2026-10-01 would otherwise take effect on 2026-10-01 while the
2026-Q3 run (rated under the policy in force) is still to be approved. In-memory engine, injected clock.
"""

from __future__ import annotations

import pytest

from clause_amendment import move_margin_floor
from memory_store import memory_runtime
from rebate_runs import second_finance
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict
from revgov.services import policy_drafts, rebates
from revgov.services.tenants import load_tenant

CLAUSE = {"northwind": "SOP-7.3", "contoso": "COP-7.2"}
MARGIN_FLOOR = {"northwind": ("12", "16"), "contoso": ("10", "14")}


def _staff(tenant: str, role: str) -> Principal:
    return Principal(tenant, Role(role), f"key_{role.upper():0<26}"[:30])


def _approved_for_october(tenant: str):  # type: ignore[no-untyped-def]
    rt, clock = memory_runtime("2026-09-01T10:00:00.000Z", tenant=tenant)  # the tenant existed in 2026-Q3
    ops, finance, legal = (_staff(tenant, r) for r in ("channel_ops", "finance", "legal"))
    before, after = MARGIN_FLOOR[tenant]
    draft = policy_drafts.create_draft(rt, ops, {"reason": "margin floor"})["draft_id"]
    move_margin_floor(rt, ops, draft, before, after)  # PA-6.3 / CPA-6.3 amended with it: the clause wins
    policy_drafts.propose(rt, ops, draft, {"effective_at": "2026-10-01T00:00:00.000Z"})
    policy_drafts.approve(rt, finance, draft, {})
    assert policy_drafts.approve(rt, legal, draft, {})["status"] == "approved"  # made in 2026-Q3, before its freeze
    return rt, clock, draft


@pytest.mark.parametrize("tenant", ["northwind", "contoso"])
def test_a_change_does_not_take_effect_before_the_previous_quarters_rebate_run_is_approved(tenant):
    rt, clock, draft = _approved_for_october(tenant)
    before = load_tenant(rt, tenant)[0].policy_version
    admin, finance = _staff(tenant, "admin"), Principal(tenant, Role.FINANCE, "key_01JRUNPREPARER000000000000")
    clock.set("2026-10-01T00:05:00.000Z")
    assert policy_drafts.activate_due(rt, tenant) == []  # the schedule leaves it approved, never forced
    with pytest.raises(Conflict) as refused:
        policy_drafts.activate(rt, admin, draft)
    assert refused.value.status == 409
    assert (refused.value.extra["rule_id"], refused.value.extra["clause"]) == ("POLICY-CHANGE-FREEZE", CLAUSE[tenant])
    assert "2026-Q3" in refused.value.detail and CLAUSE[tenant] in refused.value.detail
    _, prepared = rebates.settle(rt, finance, {"period": "2026-Q3"})  # prepared is not approved
    with pytest.raises(Conflict):
        policy_drafts.activate(rt, admin, draft)
    assert load_tenant(rt, tenant)[0].policy_version == before
    rebates.approve_settlement(rt, second_finance(tenant), prepared["settlement_id"], {})
    assert policy_drafts.activate(rt, admin, draft)["status"] == "active"
    assert load_tenant(rt, tenant)[0].policy_version != before
