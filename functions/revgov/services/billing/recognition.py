"""Revenue recognition read from the stored invoices (no table of its own): a period's recognised revenue and contract
balances with a page of its lines, and one invoice's schedule (`domain/billing/recognition.py` decides)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from ...domain.billing import recognition as core
from ...domain.errors import FieldError, MalformedRequest
from ...domain.kpis import Period
from ...domain.money import format_money
from ...domain.time import add_months, instant, parse_day, period_of
from ...runtime import Runtime
from .. import tenants
from ..partners import load_partner
from ..toolkit import lookup_pages
from .repository import INVOICES, LINES, SALES_FACTS, invoice_lines, load_invoice

# A period's lines are read from the sales facts (one per invoice line, listed by the invoice's Billing Month: one
# lookup per month, no query per invoice) of the months around it: a line billed up to 12 months before it can still be
# earning in it (a service period billed in advance), and one billed up to 12 months after it can be earning in it
# (usage billed in arrears, PA-10.2 / CPA-10.2; an event found after its month's invoice was issued, PA-10.7). Every
# line billing posts today has a service period ending within its invoice's month (an imported history subscription
# line, one day, may follow its invoice date: docs/billing.md "Revenue recognition").
REACH_MONTHS = 12
CREDIT_KINDS = frozenset({"credit", "credit_note"})  # the lines that reference the line they credit
_CURSOR = re.compile(r"^inv_[0-9A-HJKMNP-TV-Z]{26}\.[0-9]{1,6}$")
BASIS = (
    "IFRS 15.31 / ASC 606-10-25-23: revenue is recognised when (or as) each performance obligation is satisfied: "
    "shipments at a point in time (the day shipped or delivered), milestones on acceptance, subscriptions ratably by "
    "day over their service period, usage in its usage period, credit notes against the credited line's schedule "
    "from the month they are issued (IFRS 15.88). Cents by largest remainder; balances are billed less recognised "
    "per contract position at a month's end (deferred: a contract liability; unbilled: a contract asset). Computed "
    "from the lines posted so far: a line posted later for a past month (usage in arrears, a late event) moves it."
)


def _window(target: Period, today: date) -> tuple[str, str]:
    """The invoice months read for `target`: up to next month's, where a usage record received after its cut-off is
    posted when received after the cut-off day of this month (SOP-3.1 / COP-3.1 "rated in the next run")."""
    first = period_of(add_months(target.first_day, -REACH_MONTHS))
    upcoming = period_of(add_months(today, 1))
    last = min(period_of(add_months(target.last_day, REACH_MONTHS)), max(upcoming, target.months[-1]))
    return first, last


def _months(first: str, last: str) -> list[str]:
    months, day = [], parse_day(f"{first}-01")
    while period_of(day) <= last:
        months.append(period_of(day))
        day = add_months(day, 1)
    return months


def _number(line_id: str) -> tuple[str, int]:
    invoice_id, number = line_id.split(".")
    return invoice_id, int(number)


def _line_refs(tenant_id: str, line_ids: list[str]) -> list[tuple[str, str, str]]:
    return [(tenant_id, LINES, f"{invoice_id}#{number:05d}") for invoice_id, number in map(_number, line_ids)]


def _read(rt: Runtime, refs: list[tuple[str, str, str]], key: str) -> dict[str, dict[str, Any]]:
    """The documents of `refs` that exist, read 100 at a time, by their field `key`."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(refs), 100):
        found.update({s.data[key]: s.data for s in rt.store.get_many(refs[start : start + 100]).values()})
    return found


def _recognition_lines(
    rt: Runtime, tenant_id: str, partner_id: str | None, window: tuple[str, str]
) -> list[core.RecognitionLine]:
    """Every line billed in the window (one partner's or all), in invoice and line order, from the month's sales facts;
    the credits' lines are read for the line each one credits (the fact does not name it)."""
    facts = [s.data for month in _months(*window) for s in lookup_pages(rt.store, tenant_id, f"{SALES_FACTS}#{month}")]
    facts = sorted((f for f in facts if partner_id in (None, f["partner_id"])), key=lambda f: _number(f["line_id"]))
    credits = _read(rt, _line_refs(tenant_id, [f["line_id"] for f in facts if f["kind"] in CREDIT_KINDS]), "line_id")
    credited = {line_id: line.get("references_line") for line_id, line in credits.items()}
    return [
        core.RecognitionLine.of(
            {**fact, "amount": fact["net_amount"], "references_line": credited.get(fact["line_id"])}, fact["period"]
        )
        for fact in facts
    ]


def _line_view(line: dict[str, Any], rec: core.RecognitionLine) -> dict[str, Any]:
    """What every recognition answer says of a line: what it is, its amount and service period, and its method."""
    return {
        "line_id": rec.line_id,
        "kind": rec.kind,
        "description": line.get("description"),
        "amount": format_money(rec.amount),
        "service_period": rec.service_period.as_dict(),
        "references_line": rec.references_line,
        "method": core.method_of(rec),
    }


def _items(rt: Runtime, tenant_id: str, page: list[tuple[core.RecognitionLine, dict[str, Any]]]) -> list[Any]:
    """The page's lines as the list answers them, with their invoice (its month and status) and description."""
    lines = _read(rt, _line_refs(tenant_id, [rec.line_id for rec, _ in page]), "line_id")
    invoice_ids = sorted({_number(rec.line_id)[0] for rec, _ in page})
    headers = _read(rt, [(tenant_id, INVOICES, invoice_id) for invoice_id in invoice_ids], "invoice_id")
    items = []
    for rec, share in page:
        line, invoice = lines.get(rec.line_id), headers.get(_number(rec.line_id)[0])
        if line is None or invoice is None:  # a fact whose line or invoice cannot be read: left out, not half answered
            continue
        where = {"invoice_id": invoice["invoice_id"], "invoice_period": invoice["period"],
                 "invoice_status": invoice["status"], "partner_id": rec.partner_id}  # fmt: skip
        items.append({**_line_view(line, rec), **where, **share})
    return items


def _query(period: str | None, cursor: str | None) -> Period:
    """The period asked for; a missing or bad period and a cursor of no line of this list are named together."""
    errors: list[FieldError] = []
    target: Period | None = None
    try:
        target = Period.parse(period or "")
    except ValueError:
        errors.append(FieldError("/query/period", "required: a month (2026-11) or a quarter (2026-Q4)"))
    if cursor is not None and not _CURSOR.fullmatch(cursor):
        errors.append(FieldError("/query/cursor", "not a cursor of this list"))
    if target is None or errors:
        raise MalformedRequest("; ".join(e.message for e in errors), errors=errors)
    return target


def period_recognition(
    rt: Runtime, tenant_id: str, period: str | None, *, partner_id: str | None, limit: int, cursor: str | None
) -> dict[str, Any]:
    """The period's recognised revenue, what was billed in it and the contract balances at its opening and closing
    (over every line), with one page of the lines that recognise, are billed or carry a balance in it."""
    target = _query(period, cursor)
    tenant, _ = tenants.load_tenant(rt, tenant_id)
    if partner_id:
        load_partner(rt, tenant_id, partner_id)  # an unknown partner is a 404, not an empty period
    recs = _recognition_lines(rt, tenant_id, partner_id, _window(target, instant(rt.clock.now_iso()).date()))
    after = _number(cursor) if cursor else None
    page: list[tuple[core.RecognitionLine, dict[str, Any]]] = []
    for rec in recs:
        share = None if after and _number(rec.line_id) <= after else core.line_in_period(rec, target.months)
        if share is not None:
            page.append((rec, share))
            if len(page) > limit:
                break
    return {
        "period": target.name,
        "months": list(target.months),
        "currency": tenant.currency,
        "scope": {"partner_id": partner_id},
        "as_of": rt.clock.now_iso(),
        "basis": BASIS,
        **core.period_totals(recs, target.months),
        "items": _items(rt, tenant_id, page[:limit]),
        "next_cursor": page[limit - 1][0].line_id if len(page) > limit else None,
    }


def invoice_recognition(rt: Runtime, tenant_id: str, invoice_id: str) -> dict[str, Any]:
    """One invoice's lines, each with its method and full schedule: per month recognised and the balance after."""
    header, _ = load_invoice(rt, tenant_id, invoice_id)
    lines = []
    for line in invoice_lines(rt, tenant_id, invoice_id):
        rec = core.RecognitionLine.of(line, header["period"])
        lines.append({**_line_view(line, rec), "number": line["number"], "schedule": core.line_schedule(rec)})
    return {
        "invoice_id": invoice_id,
        "partner_id": header["partner_id"],
        "period": header["period"],
        "status": header["status"],
        "currency": header["currency"],
        "total": header["total"],
        "basis": BASIS,
        "lines": lines,
    }
