"""Accruals: billing's events projected as they arrive, and each touched partner's period re-rated as its accrual."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...domain.access import Principal, Role
from ...domain.errors import Conflict, MalformedRequest, NotFound, RuleViolation
from ...domain.rebates.policy import Period, RebateBook, month_index
from ...domain.tenants import Tenant
from ...runtime import Runtime
from .. import tenants
from ..toolkit import retry_on_conflict
from . import repository, running
from .accrual_record import accrual_changes, accrual_of
from .book import ATTEMPTS, book, facts_of, today
from .projection import credit_notes_against, mark_retro, periods_of, rebate_lines, write
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
    """`accrue_from_event` without its full re-ratings: the event's new lines added to their accruals' running sums in
    one commit (`running.advance`); where that is not exact, its lines projected (and retro-marked) and the accruals
    they fall in returned, to be re-rated. A handler holding several such events re-rates each accrual once, after
    the last of them (an accrual is recomputed from every projected line of its period, so one refresh after several
    projections is the refresh after each of them)."""
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
    lines, changed, added = retry_on_conflict(
        lambda: _advance(rt, tenant, rebates, facts, detail.get("event_id")),
        attempts=ATTEMPTS,
        exhausted=lambda: Conflict(f"the accruals of event {detail.get('event_id')} kept changing; it will be retried"),
    )
    if added:
        return {"status": "processed", "lines": len(changed)}, []
    lines, changed = write(rt, tenant_id, lines, changed)
    mark_retro(rt, tenant_id, rebates, changed)
    # every accrual the event's lines fall in, changed or not: a redelivery after a failed re-rating (its lines
    # projected by the first delivery) must re-rate them
    due = [
        DueRefresh(tenant, rebates, pid, period, detail.get("event_id"))
        for pid, period in sorted(periods_of(rebates, lines))
    ]
    return {"status": "processed", "lines": len(changed)}, due


def _advance(
    rt: Runtime, tenant: Tenant, rebates: RebateBook, facts: list[dict[str, Any]], event_id: str | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], bool]:
    """The event's rebate lines, those new or changed, and whether the new ones were committed with their sums."""
    lines, stored = rebate_lines(rt, tenant.tenant_id, facts)
    changed = [ln for ln in lines if stored.get(repository.line_key(ln), {}).get("fact_hash") != ln["fact_hash"]]
    if any(repository.line_key(ln) in stored for ln in changed):  # a line counted before changed: re-rate in full
        return lines, changed, False
    return lines, changed, running.advance(rt, tenant, rebates, changed, event_id)


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
    facts = facts_of(rt, tenant, record, period, today(rt))
    current = repository.accrual(rt, tenant.tenant_id, period.name, partner_id)
    result, sums = running.full_sums(rt, tenant, book, period, facts)
    in_period = int(sum(1 for m in result.ledger.month if period.first <= m <= period.last))
    accrual = accrual_of(
        tenant, facts, result, line_count=in_period, findings=len(result.findings), now=rt.clock.now_iso()
    )
    changes = accrual_changes(tenant, accrual, source_event)
    changes.puts += [repository.accrual_put(accrual, current), *sums]
    if not tenants.exists(rt, tenant.tenant_id):
        return None  # offboarded while this ran: write nothing into a deleted tenant
    rt.commit(tenant.tenant_id, changes)
    return accrual


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
