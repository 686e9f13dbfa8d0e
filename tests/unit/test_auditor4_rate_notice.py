"""Auditor 4: notice before a usage rate table changes (in-memory engine, injected clock).

PA-10.5: "Rate tables are published in the SOP and may be changed with 30 days' notice, effective from the first day
of a Billing Month." CPA-10.4: "Rate changes take effect on the first day of a Billing Month after 30 days' notice."
"""

from __future__ import annotations

from typing import Any

import pytest

from clause_amendment import move_first_band_rate, move_margin_floor
from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import RuleViolation
from revgov.services import policy_drafts

OPS = Principal("northwind", Role.CHANNEL_OPS, "key_CHANNEL_OPS0000000000000000")


def _rate_draft(rt: Any) -> dict[str, Any]:
    draft = policy_drafts.create_draft(rt, OPS, {"reason": "new cloud rates"})
    return move_first_band_rate(rt, OPS, draft["draft_id"], "0.13")  # SOP-3.2 amended with it: the clause wins


def test_pa_10_5_a_rate_table_change_needs_30_days_notice() -> None:
    rt, _ = memory_runtime("2026-11-10T10:00:00.000Z")
    draft = _rate_draft(rt)
    with pytest.raises(RuleViolation) as refused:
        policy_drafts.propose(rt, OPS, draft["draft_id"], {"effective_at": "2026-12-01T00:00:00.000Z"})
    assert refused.value.errors[0].path == "/effective_at"


def test_pa_10_5_a_rate_table_change_with_more_than_30_days_notice_is_accepted() -> None:
    # Held: proposed 10 November for 1 January (52 days' notice, the first day of a Billing Month).
    rt, _ = memory_runtime("2026-11-10T10:00:00.000Z")
    draft = _rate_draft(rt)
    proposed = policy_drafts.propose(rt, OPS, draft["draft_id"], {"effective_at": "2027-01-01T00:00:00.000Z"})
    assert proposed["status"] == "proposed"


CLAUSE = {"northwind": "PA-10.5", "contoso": "CPA-10.4"}


def _staff(tenant: str, role: Role) -> Principal:
    return Principal(tenant, role, f"key_{role.value.upper():0<26}"[:30])


def _tenant_rate_draft(rt: Any, tenant: str) -> str:
    ops = _staff(tenant, Role.CHANNEL_OPS)
    draft = policy_drafts.create_draft(rt, ops, {"reason": "new rates"})
    move_first_band_rate(rt, ops, draft["draft_id"], "0.01")  # its rate table clause amended with it
    return str(draft["draft_id"])


@pytest.mark.parametrize("tenant", ["northwind", "contoso"])
def test_a_rate_change_proposed_under_30_days_ahead_or_at_once_is_refused_citing_the_clause(tenant: str) -> None:
    # CPA-10.4: "Rate changes take effect on the first day of a Billing Month after 30 days' notice."
    rt, _ = memory_runtime("2026-11-01T00:00:01.000Z", tenant=tenant)  # 1 December: 29 days 23:59:59 ahead
    draft_id = _tenant_rate_draft(rt, tenant)
    ops = _staff(tenant, Role.CHANNEL_OPS)
    for effective_at in ("2026-12-01T00:00:00.000Z", None):
        with pytest.raises(RuleViolation) as refused:
            policy_drafts.propose(rt, ops, draft_id, {"effective_at": effective_at})
        assert refused.value.errors[0].path == "/effective_at"
        extra = refused.value.extra
        assert (extra["clause"], extra["rule_id"]) == (CLAUSE[tenant], "POLICY-RATE-NOTICE")
    proposed = policy_drafts.propose(rt, ops, draft_id, {"effective_at": "2027-01-01T00:00:00.000Z"})
    assert proposed["status"] == "proposed"


def test_exactly_30_days_is_notice_enough_and_a_change_of_no_rate_needs_none() -> None:
    rt, _ = memory_runtime("2026-11-01T00:00:00.000Z")  # 1 December is exactly 30 days away
    ops = _staff("northwind", Role.CHANNEL_OPS)
    assert policy_drafts.propose(rt, ops, _tenant_rate_draft(rt, "northwind"),
                                 {"effective_at": "2026-12-01T00:00:00.000Z"})["status"] == "proposed"  # fmt: skip
    rt, _ = memory_runtime("2026-11-20T10:00:00.000Z")
    draft = policy_drafts.create_draft(rt, ops, {"reason": "margin"})
    move_margin_floor(rt, ops, draft["draft_id"], "12", "13")  # PA-6.3 amended with it (not a rate table)
    proposed = policy_drafts.propose(rt, ops, draft["draft_id"], {"effective_at": "2026-12-01T00:00:00.000Z"})
    assert proposed["status"] == "proposed"


def test_the_notice_runs_from_the_decision_a_last_approval_29_days_ahead_is_refused_and_recorded() -> None:
    # PA-10.5: "may be changed with 30 days' notice": a change is only decided by its last approval; proposed on
    # 1 November for 1 January, finance approves on 1 December, legal on 3 December (29 days ahead): refused.
    rt, clock = memory_runtime("2026-11-01T10:00:00.000Z")
    draft_id = _tenant_rate_draft(rt, "northwind")
    policy_drafts.propose(rt, _staff("northwind", Role.CHANNEL_OPS), draft_id,
                          {"effective_at": "2027-01-01T00:00:00.000Z"})  # fmt: skip
    clock.set("2026-12-01T10:00:00Z")
    assert policy_drafts.approve(rt, _staff("northwind", Role.FINANCE), draft_id, {})["status"] == "proposed"
    clock.set("2026-12-03T00:00:01Z")
    with pytest.raises(RuleViolation) as refused:
        policy_drafts.approve(rt, _staff("northwind", Role.LEGAL), draft_id, {})
    assert refused.value.errors[0].path == "/effective_at" and refused.value.extra["clause"] == "PA-10.5"
    assert policy_drafts.get_draft(rt, _staff("northwind", Role.LEGAL), draft_id)["status"] == "proposed"
