"""Lines on draft invoices: find the partner's draft for a month (or the next one not issued), append or re-rate
lines, and record each touched invoice with its audit record and domain event."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ...domain import billing as core
from ...domain.billing import LineDraft
from ...domain.billing.sales_tax import located
from ...domain.errors import Conflict, RuleViolation
from ...domain.time import next_period
from ...ports import Put, Stored
from .posting import Posting, order_time, record
from .repository import INVOICE_KEYS, INVOICES, LINES, fact_put, invoice_put, line_key

# PA-8.1 / CPA-8.1 (a referral: "invoices the Customer directly") and PA-8.2 (a sales agent's listed account: "the
# Distributor's Invoiced Revenue [...] from the listed accounts"): the Distributor's own sale to the Customer; its
# lines go on the Distributor's invoice to that Customer, never on the partner's (PA-1.2 / CPA-1.2).
DIRECT_CHANNELS = core.DIRECT_CHANNELS


def invoice_key(partner_id: str, period: str, customer: str | None = None) -> str:
    """The INVOICE_KEYS pointer of the partner's invoice of a month, or (`customer`, "" when the ERP named none) of the
    Distributor's direct invoice of that month to a customer the partner referred: outside the partner's prefix, so
    its listing never reads one."""
    return f"{partner_id}#{period}" if customer is None else f"direct#{partner_id}#{customer}#{period}"


def draft_invoice(posting: Posting, partner_id: str, period: str, customer: str | None = None) -> dict[str, Any]:
    """The partner's draft invoice for the month (or, with `customer`, the Distributor's direct invoice to the
    customer it referred), or for the first later month whose invoice is not finalized (an event found after its
    month's invoice was issued goes on the next one: the late-event rule)."""
    asked = invoice_key(partner_id, period, customer)
    if asked in posting.by_month:
        return posting.invoices[posting.by_month[asked]][0]
    for _ in range(120):
        key = invoice_key(partner_id, period, customer)
        pointer = posting.get(INVOICE_KEYS, key)
        if pointer is None:
            header = core.new_invoice(
                invoice_id=posting.rt.ids.new("inv"),
                partner_id=partner_id,
                period=period,
                currency=posting.tenant.currency,
                opened_at=posting.now,
                customer_id=customer or None,
                direct=customer is not None,
            )
            posting.changes.puts.append(
                Put(
                    INVOICE_KEYS,
                    key,
                    {"invoice_id": header["invoice_id"], "partner_id": partner_id, "period": period},
                    must_be_absent=True,
                )
            )
            posting.invoices[header["invoice_id"]] = (header, None)
            posting.touched.add(header["invoice_id"])
            break
        invoice_id = pointer.data["invoice_id"]
        if invoice_id not in posting.invoices:
            stored = posting.get(INVOICES, invoice_id)
            if stored is None:
                raise Conflict(f"invoice {invoice_id} is not readable yet")
            posting.invoices[invoice_id] = (stored.data, stored.version)
        header = posting.invoices[invoice_id][0]
        if header["status"] == "draft":
            break
        period = next_period(period)
    else:  # pragma: no cover - ten years of finalized invoices ahead of an event
        raise RuleViolation(f"no draft invoice can take a line for partner {partner_id}")
    used = invoice_key(partner_id, header["period"], customer)
    posting.by_month[asked] = posting.by_month[used] = header["invoice_id"]
    return header


def billed_customer(channel: str | None, customer_id: Any) -> str | None:
    """Whom a sale of `channel` is invoiced to: None, the partner; a referral or a sales agent's listed account, the
    customer the Distributor invoices directly (its id, "" when the ERP named none)."""
    return str(customer_id or "") if channel in DIRECT_CHANNELS else None


def _billed_customer(posting: Posting, draft: LineDraft) -> str | None:
    """None: the line is the partner's. A referral or sales agent line: the customer the Distributor invoices
    directly, as the ERP named it ("" when it named none). A credit note of one credits whom the credited line's invoice
    billed (SOP-2.5 "a credit note referencing the original invoice and lines"): the customer of a direct invoice, or
    the partner of a referral line posted on its own invoice before direct invoicing (1.46.1), who was billed for it."""
    if draft.channel not in DIRECT_CHANNELS:
        return None
    credited = draft.detail.get("credited_invoice_id")
    if credited:
        header = posting.invoices[credited][0] if credited in posting.invoices else None
        stored = None if header is not None else posting.get(INVOICES, str(credited))
        header = header if header is not None else (stored.data if stored is not None else {})
        if not header:
            return ""
        return str(header.get("customer_id") or "") if core.billed_to_customer(header) else None
    return billed_customer(draft.channel, draft.detail.get("customer_id"))


def _located(posting: Posting, draft: LineDraft) -> LineDraft:
    """The line with the ship-to or service location its event reported (PA-10.1: its sales tax is calculated on it);
    a line crediting another mirrors that line's tax and keeps none of its own."""
    where = located(posting.data)
    if not where or draft.references_line or "tax_location" in draft.detail:
        return draft
    return replace(draft, detail={**draft.detail, **where})


def _ordered_at(posting: Posting, draft: LineDraft) -> LineDraft:
    """The line with its order's time (`posting.order_time`), which PA-7.1 / CPA-7.1 compare with a suspension."""
    at = None if draft.references_line else order_time(posting.detail_type, posting.occurred_at, posting.data)
    return draft if at is None else replace(draft, detail={**draft.detail, "event_at": at})


def post_lines(posting: Posting, partner_id: str, period: str, drafts: list[LineDraft]) -> list[dict[str, Any]]:
    """Append lines to the partner's draft invoice for `period` (referral and sales agent lines to the Distributor's
    direct invoice of their customer, PA-8.1 / CPA-8.1, PA-8.2); each with its sales fact and audit record."""
    billed_to: dict[str | None, list[LineDraft]] = {}
    for draft in drafts:
        billed_to.setdefault(_billed_customer(posting, draft), []).append(draft)
    return [line for customer, same in billed_to.items() for line in _post(posting, partner_id, period, same, customer)]


def _post(
    posting: Posting, partner_id: str, period: str, drafts: list[LineDraft], customer: str | None
) -> list[dict[str, Any]]:
    drafts = [_ordered_at(posting, _located(posting, d)) for d in drafts]
    header = draft_invoice(posting, partner_id, period, customer)
    if header["period"] != period:
        drafts = [replace(d, rules=(*d.rules, posting.book.late_events)) for d in drafts]
    updated, lines = core.add_lines(
        header, drafts, event_id=posting.event_id, erp_event_id=posting.erp_event_id, posted_at=posting.now
    )
    posting.invoices[header["invoice_id"]] = (updated, posting.invoices[header["invoice_id"]][1])
    posting.touched.add(header["invoice_id"])
    for line in lines:
        posting.changes.puts += [Put(LINES, line_key(line), line, must_be_absent=True), fact_put(updated, line)]
    posting.lines += lines
    return lines


def rerate_line(posting: Posting, line_stored: Stored, draft: LineDraft) -> dict[str, Any]:
    draft = _located(posting, draft)
    invoice_id = line_stored.data["invoice_id"]
    header = posting.invoices[invoice_id][0]
    updated, line = core.rerate_line(
        header, line_stored.data, draft, event_id=posting.event_id, erp_event_id=posting.erp_event_id, at=posting.now
    )
    posting.invoices[invoice_id] = (updated, posting.invoices[invoice_id][1])
    posting.touched.add(invoice_id)
    posting.changes.puts += [
        Put(LINES, line_key(line), line, expected_version=line_stored.version),
        fact_put(updated, line),
    ]
    posting.lines.append({**line, "rerated": True})
    return line


def record_lines(posting: Posting, invoice: dict[str, Any], lines: list[dict[str, Any]]) -> None:
    """One audit record and one domain event per invoice an event touched, naming each line and the event.

    One per invoice rather than per line keeps a 40-line shipment inside one DynamoDB transaction (100 items).
    """
    if not lines:
        return
    rule_ids = dict.fromkeys(r for line in lines for r in line["rule_ids"])
    clauses = dict.fromkeys(c for line in lines for c in line["clauses"])
    entries = [
        {
            "line_id": line["line_id"],
            "kind": line["kind"],
            "sku": line["sku"],
            "quantity": line["quantity"],
            "amount": line["amount"],
            "service_period": line["service_period"],
            "references_line": line["references_line"],
            "rerated": bool(line.get("rerated")),
        }
        for line in lines
    ]
    record(
        posting,
        "invoice_lines.posted",
        "invoice.lines_posted",
        invoice,
        f"{len(lines)} line(s), total {invoice['total']}",
        {"detail_type": posting.detail_type, "partner_id": invoice["partner_id"], "lines": entries},
        {"line_ids": [line["line_id"] for line in lines], "source_event_id": posting.event_id},
        rule_ids=rule_ids,
        clauses=clauses,
    )


def stage_invoices(posting: Posting) -> None:
    """Every invoice the posting touched, with the audit record and domain event of its lines, into the commit."""
    for invoice_id in sorted(posting.touched):
        header, version = posting.invoices[invoice_id]
        posting.changes.puts.append(invoice_put(header, version))
        record_lines(posting, header, [line for line in posting.lines if line["invoice_id"] == invoice_id])
