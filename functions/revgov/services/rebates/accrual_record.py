"""An accrual as stored and announced: the record of a rated partner period, its audit record and its event. Shared by
the full re-rating (`accrual.refresh_accrual`) and the running update (`running.advance`), which must write the same."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...domain.audit import AuditEntry
from ...domain.money import format_money
from ...domain.rebates.policy import PartnerFacts
from ...domain.tenants import Tenant
from ...ports import Changes, DomainEvent
from .book import ACTOR, SOURCE
from .repository import Accrual

if TYPE_CHECKING:
    from ...domain.rebates.result import PeriodResult


def accrual_of(
    tenant: Tenant, facts: PartnerFacts, result: PeriodResult, *, line_count: int, findings: int, now: str
) -> Accrual:
    """The partner's accrual from its period's result (a full rating, or the running sums' `result_of`)."""
    partner_id = facts.partner_id
    return {
        "partner_id": partner_id,
        "period": result.period.name,
        "as_of": now,
        "policy_version": tenant.policy_version,
        "tier": facts.tier,
        "total": format_money(result.total(partner_id)),
        "programs": result.programs_view(partner_id),
        "line_count": line_count,
        "findings": findings,
    }


def accrual_changes(tenant: Tenant, accrual: Accrual, source_event: str | None) -> Changes:
    """The audit record and event of an updated accrual."""
    partner_id, period, programs = accrual["partner_id"], accrual["period"], accrual["programs"]
    totals = {p["program_id"]: p["payable"] for p in programs}
    rules = [r for p in programs for r in ((p["program_id"], p["clause"]), (p["rule_id"], p["rule_clause"]))]
    entry = AuditEntry(
        actor=ACTOR,
        action="rebate_accrual.updated",
        subject=partner_id,
        outcome=f"{period}: {accrual['total']}",
        inputs={"period": period, "programs": totals, "lines": accrual["line_count"], "event_id": source_event},
        policy_version=tenant.policy_version,
        rule_ids=tuple(dict.fromkeys(r for r, _ in rules)),
        clauses=tuple(dict.fromkeys(c for _, c in rules)),
    )
    event = {"partner_id": partner_id, "period": period, "total": accrual["total"], "programs": totals}
    return Changes(audit=[entry], events=[DomainEvent(SOURCE, "accrual.updated", event)])
