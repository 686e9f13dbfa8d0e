"""Accruals: billing's events projected as they arrive, and each touched partner's period re-rated as its accrual."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...domain.access import Principal, Role
from ...domain.audit import AuditEntry
from ...domain.errors import Conflict, MalformedRequest, NotFound, RuleViolation
from ...domain.money import format_money
from ...domain.rebates.policy import Period, RebateBook, facts_of_partner, month_index
from ...domain.tenants import Tenant
from ...ports import Changes, DomainEvent
from ...runtime import Runtime
from .. import tenants
from ..toolkit import retry_on_conflict
from . import repository
from .book import ACTOR, ATTEMPTS, SOURCE, book, today
from .projection import credit_notes_against, mark_retro, periods_of, project_all
from .rating import rate_partner
from .repository import Accrual


def _event_detail(bus_event: dict[str, Any]) -> dict[str, Any]:
    detail = bus_event.get("detail")
    kind = bus_event.get("detail-type")
    wanted = {"invoice.lines_posted": ("line_ids", list), "invoice.paid": ("invoice_id", str)}.get(str(kind))
    if (
        bus_event.get("source") != "revgov.billing"
        or wanted is None
        or not isinstance(detail, dict)
        or not isinstance(detail.get("tenant_id"), str)
        or not isinstance(detail.get(wanted[0]), wanted[1])
    ):
        raise MalformedRequest(
            "not an invoice.lines_posted event with tenant_id and line_ids, or an invoice.paid event with tenant_id "
            "and invoice_id"
        )
    return detail


@dataclass(frozen=True)
class DueRefresh:
    """An accrual an event's lines changed, to be re-rated (`refresh_accrual`) once they are projected."""

    tenant: Tenant
    book: RebateBook
    partner_id: str
    period: Period
    event_id: str | None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.tenant.tenant_id, self.partner_id, self.period.name)

    def run(self, rt: Runtime) -> Accrual | None:
        return refresh_accrual(rt, self.tenant, self.book, self.partner_id, self.period, self.event_id)


def project_event(rt: Runtime, bus_event: dict[str, Any]) -> tuple[dict[str, Any], list[DueRefresh]]:
    """`accrue_from_event` without its refreshes: the event's lines projected (and retro-marked), and the accruals
    they changed. A handler holding several such events re-rates each accrual once, after the last of them (an accrual
    is recomputed from every projected line of its period, so one refresh after several projections is the refresh
    after each of them)."""
    detail = _event_detail(bus_event)
    tenant_id = detail["tenant_id"]
    try:
        tenant, rebates = book(rt, tenant_id)
    except (NotFound, RuleViolation) as why:  # offboarded meanwhile, or no programs: nothing accrues
        return {"status": "skipped", "reason": why.detail}, []
    if "line_ids" in detail:
        facts = repository.sales_facts(rt, tenant_id, [str(x) for x in detail["line_ids"]])
    else:
        facts = repository.invoice_sales_facts(rt, tenant_id, detail["invoice_id"])
        facts += credit_notes_against(rt, tenant_id, facts)
    lines, changed = project_all(rt, tenant_id, facts)
    mark_retro(rt, tenant_id, rebates, changed)
    # every accrual the event's lines fall in, changed or not: a redelivery after a failed re-rating (its lines
    # projected by the first delivery) must re-rate them
    due = [
        DueRefresh(tenant, rebates, pid, period, detail.get("event_id"))
        for pid, period in sorted(periods_of(rebates, lines))
    ]
    return {"status": "processed", "lines": len(changed)}, due


def accrue_from_event(rt: Runtime, bus_event: dict[str, Any]) -> dict[str, Any]:
    """The use case for `invoice.lines_posted` (project its lines) and `invoice.paid` (project the paid invoice's
    lines again, now paid): then refresh each touched accrual."""
    outcome, due = project_event(rt, bus_event)
    if outcome["status"] != "processed":
        return outcome
    refreshed = [refresh.run(rt) for refresh in due]
    return {**outcome, "accruals": [a for a in refreshed if a]}


def refresh_accrual(
    rt: Runtime, tenant: Tenant, book: RebateBook, partner_id: str, period: Period, source_event: str | None = None
) -> Accrual | None:
    """Re-rate one partner's period from its rebate lines and store it as the accrual (audited)."""
    if not book.programs_for(period.kind):
        return None
    return retry_on_conflict(
        lambda: _refresh_once(rt, tenant, book, partner_id, period, source_event),
        attempts=ATTEMPTS,
        exhausted=lambda: Conflict(f"the accrual of {partner_id} for {period.name} kept changing; it will be retried"),
    )


def _refresh_once(
    rt: Runtime, tenant: Tenant, book: RebateBook, partner_id: str, period: Period, source_event: str | None
) -> Accrual | None:
    record = repository.partner(rt, tenant.tenant_id, partner_id)
    if record is None:
        return None
    facts = facts_of_partner(tenant.policy, record, period, today(rt))
    current = repository.accrual(rt, tenant.tenant_id, period.name, partner_id)
    result = rate_partner(rt, tenant.tenant_id, book, period, partner_id, facts)
    accrual: Accrual = {
        "partner_id": partner_id,
        "period": period.name,
        "as_of": rt.clock.now_iso(),
        "policy_version": tenant.policy_version,
        "tier": facts.tier,
        "total": format_money(result.total(partner_id)),
        "programs": result.programs_view(partner_id),
        "line_count": int(sum(1 for m in result.ledger.month if period.first <= m <= period.last)),
        "findings": len(result.findings),
    }
    changes = _accrual_changes(tenant, accrual, source_event)
    changes.puts.append(repository.accrual_put(accrual, current))
    if not tenants.exists(rt, tenant.tenant_id):
        return None  # offboarded while this ran: write nothing into a deleted tenant
    rt.commit(tenant.tenant_id, changes)
    return accrual


def _accrual_changes(tenant: Tenant, accrual: Accrual, source_event: str | None) -> Changes:
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


def accruals(
    rt: Runtime, who: Principal, *, partner_id: str | None, period: str | None, limit: int, cursor: str | None
) -> dict[str, Any]:
    """Accruals of a period (the running quarter by default): a partner sees only its own."""
    book(rt, who.tenant_id)
    name = Period.parse(period).name if period else Period.containing(month_index(today(rt)), "quarter").name
    if who.role is Role.PARTNER:
        if partner_id not in (None, who.partner_id):
            return {"items": [], "next_cursor": None}
        partner_id = who.partner_id
    items, next_cursor = repository.accrual_page(rt, who.tenant_id, name, partner_id, limit, cursor)
    return {"items": [a for a in items if who.sees_partner(a["partner_id"])], "next_cursor": next_cursor}
