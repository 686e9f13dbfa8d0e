"""An auditor's cases for when a policy change takes effect, from the SOPs alone (in-memory engine, injected clock).

SOP-7.3 (Northwind): "Changes to the tenant policy (tiers, discount caps, rebate programs, rate tables and routing)
take effect only on the first day of a Billing Month and are not made during the last 5 business days of a Quarter or
before the rebate run for the Quarter is approved."
COP-7.2 (Contoso): "Policy changes are not made in the last 5 business days of a Quarter or before the rebate run is
approved, and take effect on the first day of a Billing Month."
PA-1.3: "a day runs from 00:00:00 to 23:59:59 UTC" -- so the first moment of a Billing Month is 00:00:00 UTC on day 1.
"""

from __future__ import annotations

import pytest

from clause_amendment import move_margin_floor
from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import RuleViolation
from revgov.services import policy_drafts
from revgov.services.tenants import load_tenant

OPS = Principal("northwind", Role.CHANNEL_OPS, "key_CHANNEL_OPS0000000000000000")
FINANCE = Principal("northwind", Role.FINANCE, "key_FINANCE00000000000000000000")
LEGAL = Principal("northwind", Role.LEGAL, "key_LEGAL0000000000000000000000")


def _draft(rt):
    draft = policy_drafts.create_draft(rt, OPS, {"reason": "raise the margin floor"})
    return move_margin_floor(rt, OPS, draft["draft_id"], "12", "14")  # PA-6.3 amended with it: the clause wins


@pytest.mark.parametrize(
    "effective_at",
    [
        "2026-12-15T00:00:00.000Z",  # mid-month
        "2026-12-01T09:00:00.000Z",  # the right day, not its first moment
        "2026-11-30T23:59:59.000Z",  # the last second of the month before
    ],
)
def test_sop_7_3_a_change_effective_other_than_the_first_day_of_a_billing_month_is_refused(effective_at):
    rt, _ = memory_runtime("2026-11-10T10:00:00.000Z")
    draft = _draft(rt)
    with pytest.raises(RuleViolation) as refused:
        policy_drafts.propose(rt, OPS, draft["draft_id"], {"effective_at": effective_at})
    assert refused.value.errors[0].path == "/effective_at"
    assert refused.value.extra["clause"] == "SOP-7.3"
    assert policy_drafts.get_draft(rt, FINANCE, draft["draft_id"])["status"] == "draft"  # nothing changed


def test_sop_7_3_the_first_day_of_a_billing_month_is_accepted_and_the_change_waits_for_it():
    rt, clock = memory_runtime("2026-11-10T10:00:00.000Z")
    before = load_tenant(rt, "northwind")[0].policy_version
    draft = _draft(rt)
    policy_drafts.propose(rt, OPS, draft["draft_id"], {"effective_at": "2026-12-01T00:00:00.000Z"})
    policy_drafts.approve(rt, FINANCE, draft["draft_id"], {})
    assert policy_drafts.approve(rt, LEGAL, draft["draft_id"], {})["status"] == "approved"
    assert load_tenant(rt, "northwind")[0].policy_version == before
    clock.set("2026-12-01T00:00:00.000Z")
    assert policy_drafts.activate_due(rt, "northwind") == [draft["draft_id"]]


def test_sop_7_3_a_change_approved_mid_month_does_not_take_effect_at_once():
    """Fixed (#19, tests/unit/test_policy_calendar.py): a proposal without effective_at ("at once") mid-month is
    refused citing SOP-7.3, so it can never take effect on 2026-11-10."""
    rt, _ = memory_runtime("2026-11-10T10:00:00.000Z")
    before = load_tenant(rt, "northwind")[0].policy_version
    draft = _draft(rt)
    with pytest.raises(RuleViolation) as refused:
        policy_drafts.propose(rt, OPS, draft["draft_id"], {})
    assert refused.value.extra["clause"] == "SOP-7.3"
    assert policy_drafts.get_draft(rt, FINANCE, draft["draft_id"])["status"] == "draft"
    assert load_tenant(rt, "northwind")[0].policy_version == before  # not before 2026-12-01T00:00:00Z
