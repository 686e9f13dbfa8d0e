"""Revenue recognition read from the stored invoices (no table of its own): a period's recognised revenue and contract
balances with a page of its lines, and one invoice's schedule (`domain/billing/recognition.py` decides)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from ...domain.billing import recognition as core
from ...domain.errors import FieldError, MalformedRequest
from ...domain.kpis import Period
from ...domain.time import add_months, instant, period_of
from ...runtime import Runtime
from .. import tenants
from ..partners import load_partner
from ..toolkit import lookup_pages, pages
from .repository import INVOICE_KEYS, INVOICES, invoice_lines, load_invoice

# Lines are read from the invoices of the months around the period: a line billed up to 12 months before it can still
# be earning in it (a service period billed in advance), and one billed up to 12 months after it can be earning in it
# (usage billed in arrears, PA-10.2 / CPA-10.2; an event found after its month's invoice was issued, PA-10.7). Every
# line billing posts today has a service period within one Billing Month, so the bound loses nothing it produces.
REACH_MONTHS = 12
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
    first = period_of(add_months(target.first_day, -REACH_MONTHS))
    last = min(period_of(add_months(target.last_day, REACH_MONTHS)), max(period_of(today), target.months[-1]))
    return first, last


def _invoices(rt: Runtime, tenant_id: str, partner_id: str | None, window: tuple[str, str]) -> Iterator[dict[str, Any]]:
    """The headers of the invoices (draft and issued) whose Billing Month lies in the window, one partner's or all."""
    first, last = window
    if partner_id:
        keys = [s.data["invoice_id"] for s in pages(rt.store, tenant_id, INVOICE_KEYS, prefix=f"{partner_id}#")]
        found = rt.store.get_many([(tenant_id, INVOICES, invoice_id) for invoice_id in keys]) if keys else {}
        yield from (s.data for s in found.values() if first <= s.data["period"] <= last)
        return
    for year in range(int(first[:4]), int(last[:4]) + 1):
        for status in ("draft", "finalized"):
            for listed in lookup_pages(rt.store, tenant_id, f"{INVOICES}#{status}", prefix=f"{year:04d}-"):
                if first <= listed.data["period"] <= last:
                    yield listed.data


def _lines(rt: Runtime, tenant_id: str, invoices: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    found = [(invoice, line) for invoice in invoices for line in invoice_lines(rt, tenant_id, invoice["invoice_id"])]
    return sorted(found, key=lambda pair: (pair[0]["invoice_id"], int(pair[1]["number"])))


def _line_view(line: dict[str, Any], rec: core.RecognitionLine) -> dict[str, Any]:
    """What every recognition answer says of a line: what it is, its amount and service period, and its method."""
    return {
        "line_id": rec.line_id,
        "kind": rec.kind,
        "description": line.get("description"),
        "amount": line["amount"],
        "service_period": line["service_period"],
        "references_line": rec.references_line,
        "method": core.method_of(rec),
    }


def _item(invoice: dict[str, Any], line: dict[str, Any], rec: core.RecognitionLine, share: dict[str, Any]) -> Any:
    where = {"invoice_id": invoice["invoice_id"], "invoice_period": invoice["period"],
             "invoice_status": invoice["status"], "partner_id": rec.partner_id}  # fmt: skip
    return {**_line_view(line, rec), **where, **share}


def _query(period: str | None, cursor: str | None) -> Period:
    """The period asked for; a missing or bad period and a cursor of no line of this list are named together."""
    errors: list[FieldError] = []
    target: Period | None = None
    try:
        target = Period.parse(period or "")
    except ValueError:
        errors.append(FieldError("/query/period", "required: a month (2026-11) or a quarter (2026-Q4)"))
    if cursor is not None and not _CURSOR.match(cursor):
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
    window = _window(target, instant(rt.clock.now_iso()).date())
    read = _lines(rt, tenant_id, list(_invoices(rt, tenant_id, partner_id, window)))
    recs = [core.RecognitionLine.of(line, invoice["period"]) for invoice, line in read]
    items = []
    after = (cursor.split(".")[0], int(cursor.split(".")[1])) if cursor else None
    for (invoice, line), rec in zip(read, recs, strict=True):
        if after and (invoice["invoice_id"], int(line["number"])) <= after:
            continue
        share = core.line_in_period(rec, target.months)
        if share is not None:
            items.append(_item(invoice, line, rec, share))
            if len(items) > limit:
                break
    more = len(items) > limit
    return {
        "period": target.name,
        "months": list(target.months),
        "currency": tenant.currency,
        "scope": {"partner_id": partner_id},
        "as_of": rt.clock.now_iso(),
        "basis": BASIS,
        **core.period_totals(recs, target.months),
        "items": items[:limit],
        "next_cursor": items[limit - 1]["line_id"] if more else None,
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
