"""The projection: billing's sales facts as rebate lines, and the markers of settled periods they change.

A credit note is projected into the period of the line it credits (`domain.rebates.lines.rebate_line`); a line that
lands in an already settled period marks it for the next run's retroactive adjustment (PA-7.10).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from ...domain.billing.overdue import issued_on
from ...domain.errors import Conflict
from ...domain.rebates.lines import is_revenue, rebate_line
from ...domain.rebates.policy import (
    MONTH,
    QUARTER,
    Period,
    RebateBook,
    line_periods,
    month_index,
    month_name,
    months_paid_from,
)
from ...domain.tenants import Tenant
from ...ports import Changes
from ...runtime import Runtime
from .. import tenants
from ..toolkit import retry_on_conflict
from . import first_invoices, repository
from .book import ATTEMPTS

CREDIT_MONTHS = 12  # months after a period in which credit notes against it are re-read at settlement
MAX_MARKED_LINES = 500  # line ids a retroactive marker keeps (the latest)


def _with_payments(rt: Runtime, tenant_id: str, facts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Facts with the day their invoice was paid (`paid_on`, set on the invoice by the ERP's invoice.paid), which
    a `paid` basis reads: a sales fact is written when its line is posted, long before the invoice is paid. A fact
    naming a customer, or sold through a commission's channel, also gets its invoice date once issued
    (`invoiced_on`): a commission's window from the customer's first invoice reads it (PA-8.1 / CPA-8.1), and so
    does the lapse of commissions not yet earned at termination (PA-13.3); other facts keep their shape (and hash)."""
    invoices = repository.invoices(rt, tenant_id, sorted({str(f["invoice_id"]) for f in facts}))
    completed = []
    for fact in facts:
        invoice = invoices.get(str(fact["invoice_id"]), {})
        # a commission's line (referral, sales agent) too: earned on its invoice, lapsing after a termination (PA-13.3)
        dated = fact.get("customer_id") or fact.get("channel", "resale") != "resale"
        issued = issued_on(invoice) if dated else None
        completed.append({**fact, "paid_on": fact.get("paid_on") or invoice.get("paid_on"),
                          **({"invoiced_on": issued.isoformat()} if issued else {})})
    return completed


def _with_invoice_lines(rt: Runtime, tenant_id: str, facts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Facts completed from billing's invoice lines with what rebates need and a sales fact may not carry yet:
    the order reference (to tell one order line invoiced twice) and the line a credit note credits."""
    keys = {}
    for fact in facts:
        invoice_id, _, number = str(fact["line_id"]).rpartition(".")
        if number.isdigit():
            keys[fact["line_id"]] = f"{invoice_id}#{int(number):05d}"
    lines = repository.invoice_lines(rt, tenant_id, sorted(set(keys.values())))
    completed = []
    for fact in facts:
        line = lines.get(keys.get(fact["line_id"], ""), {})
        completed.append(
            {
                **fact,
                "order_ref": fact.get("order_ref") or line.get("order_ref"),
                "references_line": fact.get("references_line") or line.get("references_line"),
                "credit_reason": _credit_reason(line),
            }
        )
    return completed


def _credit_reason(line: dict[str, Any]) -> str | None:
    """A credit note line's reason code (SOP-2.5 / COP-2.4), None for any other line."""
    return (line.get("detail") or {}).get("reason") if line.get("kind") == "credit_note" else None


def project(rt: Runtime, tenant_id: str, facts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Write the rebate line of each fact that is new or changed (a usage line re-rated); returns those lines.
    A credit note is projected into the period of the line it credits (`lines.rebate_line`)."""
    return project_all(rt, tenant_id, facts)[1]


def project_all(
    rt: Runtime, tenant_id: str, facts: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`project`, returning the rebate line of every fact and those of them it wrote."""
    lines, stored = rebate_lines(rt, tenant_id, facts)
    changed = [ln for ln in lines if stored.get(repository.line_key(ln), {}).get("fact_hash") != ln["fact_hash"]]
    return write(rt, tenant_id, lines, changed)


def rebate_lines(
    rt: Runtime, tenant_id: str, facts: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The rebate line of each fact that is revenue (not a credit note paying an incentive, `lines.is_revenue`), and
    those already projected (by `repository.line_key`)."""
    facts = [f for f in _with_invoice_lines(rt, tenant_id, facts) if is_revenue(f)]
    facts = _with_payments(rt, tenant_id, facts)
    references = sorted({str(f["references_line"]) for f in facts if f.get("references_line")})
    credited_facts = _with_payments(rt, tenant_id, repository.sales_facts(rt, tenant_id, references))
    credited = {str(f["line_id"]): f for f in credited_facts}
    lines = [rebate_line(fact, credited.get(str(fact.get("references_line")))) for fact in facts]
    first_invoices.record(rt, tenant_id, lines)  # before any rating reads them (PA-8.1 / CPA-8.1)
    return lines, repository.projected(rt, tenant_id, lines)


def write(
    rt: Runtime, tenant_id: str, lines: list[dict[str, Any]], changed: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Write the changed lines without sums: the running accruals of their periods are marked stale after them
    (re-rated in full at their next refresh, `running`)."""
    if changed and not tenants.exists(rt, tenant_id):
        return [], []  # offboarded while this ran: write nothing into a deleted tenant
    repository.commit_in_chunks(rt, tenant_id, [repository.projection_put(ln) for ln in changed])
    stale = sorted({(Period.containing(int(ln["month_index"]), kind).name, ln["partner_id"]) for ln in changed
                    for kind in (MONTH, QUARTER)}
                   | {(period.name, ln["partner_id"]) for ln in changed for period in _paid_periods(ln)})  # fmt: skip
    repository.commit_in_chunks(rt, tenant_id, [repository.stale_put(name, pid) for name, pid in stale])
    return lines, changed


def _paid_periods(line: dict[str, Any]) -> list[Period]:
    """The month of a paid line's payment (a commission earned when paid counts it there, PA-8.2 / CPA-8.2)."""
    paid_on = line.get("paid_on")
    return [Period.containing(month_index(date.fromisoformat(paid_on)), MONTH)] if paid_on else []


def periods_of(book: RebateBook, lines: list[dict[str, Any]]) -> dict[tuple[str, Period], list[str]]:
    """(partner, period) of every program kind the lines fall in -> those lines' ids: the invoice's periods, and
    the payment's for a kind with a program earned when paid (`policy.line_periods`)."""
    found: dict[tuple[str, Period], list[str]] = defaultdict(list)
    for ln in lines:
        for period in sorted(line_periods(book, ln), key=lambda p: (p.kind, p.first)):
            found[(ln["partner_id"], period)].append(ln["line_id"])
    return found


def mark_retro(rt: Runtime, tenant_id: str, book: RebateBook, changed: list[dict[str, Any]]) -> None:
    """A line that lands in an already settled period waits there for the next run's adjustment (PA-7.10)."""
    by_period: dict[Period, list[str]] = defaultdict(list)
    for (_, period), line_ids in periods_of(book, changed).items():
        by_period[period] += line_ids
    for period, line_ids in by_period.items():
        if repository.period_state(rt, tenant_id, period.name) is None:
            continue
        try:
            retry_on_conflict(
                lambda: _mark(rt, tenant_id, period, line_ids),  # noqa: B023 - called before the loop moves on
                attempts=ATTEMPTS,
                exhausted=lambda: Conflict(f"the retroactive marker of {period.name} kept changing"),  # noqa: B023
            )
        except Conflict:
            continue  # as ever: a marker that kept losing races is left to the writers that won them


def _mark(rt: Runtime, tenant_id: str, period: Period, line_ids: list[str]) -> None:
    stored = repository.retro_marker(rt, tenant_id, period.name)
    pending = stored.data if stored else {"period": period.name, "kind": period.kind, "line_ids": []}
    ids = list(dict.fromkeys([*pending["line_ids"], *line_ids]))[-MAX_MARKED_LINES:]
    marker = {**pending, "line_ids": ids, "updated_at": rt.clock.now_iso()}
    rt.store.commit(tenant_id, Changes(puts=[repository.retro_put(marker, stored)]))


def sync_months(book: RebateBook, period: Period, today: date) -> list[int]:
    """The billing months a settlement re-reads: the period's, its growth baseline's, the months after it where
    credit notes against it are invoiced (up to a year; later ones reach the projection through the events), and the
    months whose invoices may be paid in it for a commission earned when paid (`policy.months_paid_from`)."""
    months = set(period.months)
    if any(p.model == "growth" for p in book.programs_for(period.kind)):
        months |= set(period.year_before.months)
    months |= set(range(period.last + 1, min(month_index(today), period.last + CREDIT_MONTHS) + 1))
    return sorted(months | months_paid_from(book, period))


def sync(rt: Runtime, tenant: Tenant, book: RebateBook, period: Period, on: date) -> None:
    """Bring the projection level with billing's sales facts of the months a settlement of `period` re-reads
    (`sync_months`: a lagging or dead-lettered accrual must never make a settlement miss a line), and the first
    invoices of referred customers with the referral invoices of the months before it (`first_invoice_months`)."""
    facts = [f for m in sync_months(book, period, on) for f in repository.month_sales_facts(rt, tenant.tenant_id,
                                                                                            month_name(m))]
    mark_retro(rt, tenant.tenant_id, book, project(rt, tenant.tenant_id, facts))
    referred = [f for m in first_invoice_months(book, period)
                for f in repository.month_sales_facts(rt, tenant.tenant_id, month_name(m))
                if f.get("channel") == first_invoices.REFERRAL and f.get("customer_id")]
    rebate_lines(rt, tenant.tenant_id, referred)  # records their customers' first invoices; writes no line


def first_invoice_months(book: RebateBook, period: Period) -> list[int]:
    """The months before `period` whose referral invoices may be a customer's first one for a window of its programs
    (PA-8.1 / CPA-8.1): the longest window and one month more (an invoice is dated after its month ends), before the
    earliest month the period reads (for a commission earned when paid, the months whose invoices may be paid in it,
    PA-8.2 / CPA-8.2). Earlier first invoices were recorded when their lines were projected (their payment, their own
    period's run)."""
    months = max((p.first_invoice_window.months for p in book.programs_for(period.kind) if p.first_invoice_window),
                 default=0)
    earliest = min({period.first} | months_paid_from(book, period))
    return list(range(earliest - months - 1, period.first)) if months else []


def credit_notes_against(rt: Runtime, tenant_id: str, paid: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sales facts of the credit notes, on later invoices, already projected against the lines of a paid invoice:
    a credit note is as paid as the line it credits, so the payment re-rates them with the invoice's own lines
    (a settlement would, but a `paid` basis accrual must not count the line in full until then)."""
    credited = {str(f["line_id"]) for f in paid}
    projected = sorted({(f["partner_id"], f["period"]) for f in paid})  # credit notes sit in their line's month
    notes = [
        str(line["line_id"])
        for partner_id, month in projected
        for line in repository.partner_lines(rt, tenant_id, partner_id, month)
        if line.get("credited_line") in credited and line["line_id"] not in credited
    ]
    return repository.sales_facts(rt, tenant_id, notes)
