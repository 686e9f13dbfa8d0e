"""credit_note.issued and return.received: the ERP's credit notes and returns against a charged line (SOP-2.5)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ...domain import billing as core
from ...domain.credit_reservations import with_held
from ...domain.errors import RuleViolation
from ...domain.money import format_money, parse_money
from ...domain.time import parse_day, period_of
from ...ports import Stored
from .. import credit_notes
from .exceptions import fail
from .lines import post_lines
from .posting import ACTOR, Outcome, Posting
from .repository import INVOICES, LINE_CREDITS, credited_against, line_credits_put, line_key, line_of


@dataclass(frozen=True)
class _Credit:
    """A credit note the ERP issued or a return it recorded, as it credits a line."""

    reason: str
    ref: str
    units: int
    amount: Callable[[dict[str, Any], core.Credited], Decimal]  # of the line, given what was credited of it before
    returned_on: date | None
    dated: date  # what decides the invoice month it goes on


def credit_note_issued(posting: Posting, partner: dict[str, Any]) -> Outcome:
    """The ERP issued a credit note against a line of one of the partner's invoices (a billing error, goodwill, a
    return...): it goes on the partner's draft invoice of the month it was issued, negative, referencing the line
    and stating its reason code (SOP-2.5); rebates count it in the credited line's period (PA-1.2), and a settled
    period is adjusted in the next settlement (PA-7.10)."""
    data = posting.data
    returned = parse_day(data["returned_on"]) if data.get("returned_on") else None
    credit = _Credit(
        reason=data["reason"],
        ref=data["credit_note_ref"],
        units=int(data.get("quantity") or 0),
        amount=lambda _line, _credited: parse_money(data["amount"]),
        returned_on=returned,
        dated=returned or parse_day(data["issued_on"]),
    )
    return _erp_credit(posting, partner["partner_id"], credit)


def return_received(posting: Posting, partner: dict[str, Any]) -> Outcome:
    """The ERP received shipped goods back: a credit note with reason code `return` for the units at the line's net
    unit price, dated the day they came back, so the SPIFF's return window can tell (PA-7.5: "not returned within
    30 days of shipment")."""
    data = posting.data
    returned = parse_day(data["returned_on"])
    units = int(data["quantity"])
    credit = _Credit(
        reason="return",
        ref=data["rma_ref"],
        units=units,
        amount=lambda line, credited: core.return_amount(line, units, credited),
        returned_on=returned,
        dated=returned,
    )
    return _erp_credit(posting, partner["partner_id"], credit)


def _erp_credit(posting: Posting, partner_id: str, credit: _Credit) -> Outcome:
    """Credit the line the event names, once per reference, for at most what is left of it; above the credit note
    limit it is held for finance (SOP-2.5 / COP-2.4) instead of posted."""
    rule = posting.book.credit_notes
    found = _charged_line(posting, partner_id)
    if isinstance(found, Outcome):
        return found
    line, key = found.data, line_key(found.data)
    marker = posting.get(LINE_CREDITS, key)
    record = marker.data if marker else core.new_line_credits(line["invoice_id"], int(line["number"]))
    if core.erp_reference(credit.ref) in {core.erp_reference(ref) for ref in record["refs"]}:  # `CN-7` is ` cn-7`
        return Outcome("processed", f"credit note {credit.ref} is already recorded against line {line['line_id']}")
    credited = credited_against(posting.rt, posting.tenant_id, line["invoice_id"], int(line["number"]))
    amount = credit.amount(line, credited)
    try:
        core.check_erp_credit(
            line, amount, credit.units, credited, reason=credit.reason, returned_on=credit.returned_on, rule=rule
        )
    except RuleViolation as why:
        return fail(posting, "rating_failure", why.detail, rule)
    returned_on = credit.returned_on and credit.returned_on.isoformat()
    detail = {"credit_note_ref": credit.ref, "units": credit.units, "returned_on": returned_on}
    updated = core.with_line_credit(record, amount, credit.units, credit.ref)
    if core.credit_note_needs_approval(amount, posting.book):
        outcome, hold_id = _hold(posting, partner_id, line, amount, credit, detail, key)
        updated = with_held(updated, amount, hold_id)  # reserved, not issued: the line still stands charged
    else:
        draft = core.credit_note_draft(
            line,
            amount,
            reason=credit.reason,
            rules=(rule,),
            detail=detail,
            units=credit.units,
            returned_on=credit.returned_on,
        )
        post_lines(posting, partner_id, period_of(credit.dated), [draft])
        outcome = Outcome("processed", posted=True)
    posting.changes.puts.append(line_credits_put(key, updated, marker, line["line_id"]))
    return outcome


def _charged_line(posting: Posting, partner_id: str) -> Stored | Outcome:
    """The line the event credits, on an invoice of its partner; or the exception saying why there is none."""
    data, rule = posting.data, posting.book.credit_notes
    invoice = posting.get(INVOICES, data["invoice_id"])
    number = int(data["line_no"])
    if invoice is None or invoice.data["partner_id"] != partner_id:
        problem = f"invoice {data['invoice_id']} is not an invoice of partner {partner_id}"
    elif (stored := line_of(posting.rt, posting.tenant_id, data["invoice_id"], number)) is None:
        problem = f"invoice {data['invoice_id']} has no line {number}"
    else:
        return stored
    return fail(posting, "rating_failure", problem, rule)


def _hold(
    posting: Posting,
    partner_id: str,
    line: dict[str, Any],
    amount: Decimal,
    credit: _Credit,
    detail: dict[str, Any],
    key: str,
) -> tuple[Outcome, str]:
    """SOP-2.5 / COP-2.4: above the limit, finance approves the credit before it is issued; the line's credits record
    reserves it meanwhile (and the hold's id, `held`). With the hold's id."""
    source = {
        "detail_type": posting.detail_type,
        "event_id": posting.event_id,
        "erp_event_id": posting.erp_event_id,
        "ref": credit.ref,
    }
    entry, approval = credit_notes.hold(
        posting.rt,
        posting.tenant,
        posting.book,
        partner_id=partner_id,
        line=line,
        amount=amount,
        reason=credit.reason,
        units=credit.units,
        returned_on=credit.returned_on,
        detail=detail,
        preparer=ACTOR,
        prepared_by=posting.data.get("prepared_by"),
        source=source,
        reserved={"collection": LINE_CREDITS, "key": key},
    )
    posting.changes.merge(approval)
    rule, limit = posting.book.credit_notes, posting.book.credit_note_approval_above
    return Outcome(
        "processed",
        f"credit note {credit.ref} of {format_money(amount)} is above {format_money(limit or amount)}: held for "
        f"finance approval {entry['approval_id']} ({rule.rule_id}, {rule.clause})",
        settles_sla=True,
    ), entry["hold_id"]
