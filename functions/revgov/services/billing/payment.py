"""invoice.paid: the ERP recorded the partner's payment of an issued invoice."""

from __future__ import annotations

from typing import Any

from ...domain import billing as core
from ...domain.errors import RuleViolation
from .exceptions import fail
from .posting import Outcome, Posting, record
from .repository import INVOICES, invoice_put


def invoice_paid(posting: Posting, partner: dict[str, Any]) -> Outcome:
    """The ERP recorded the partner's payment of an issued invoice: the invoice keeps the day it was paid, which
    programs with a `paid` basis read (commissions are paid on paid revenue, PA-8.2)."""
    data, book = posting.data, posting.book
    stored = posting.get(INVOICES, data["invoice_id"])
    if stored is None or stored.data["partner_id"] != partner["partner_id"]:
        problem = f"invoice {data['invoice_id']} is not an invoice of partner {partner['partner_id']}"
        return fail(posting, "rating_failure", problem, book.finalization)
    invoice = stored.data
    if invoice.get("paid_on"):
        return Outcome("processed", f"invoice {invoice['invoice_id']} was already paid on {invoice['paid_on']}")
    try:
        paid = core.mark_paid(
            invoice, paid_on=data["paid_on"], payment_ref=data.get("payment_ref"), rule=book.finalization
        )
    except RuleViolation as why:  # a draft: replayable once it is issued
        return fail(posting, "rating_failure", why.detail, book.finalization)
    posting.changes.puts.append(invoice_put(paid, stored.version))
    record(
        posting,
        "invoice.paid",
        "invoice.paid",
        invoice,
        f"paid on {data['paid_on']}",
        {
            "partner_id": invoice["partner_id"],
            "total": invoice["total"],
            "paid_on": data["paid_on"],
            "payment_ref": data.get("payment_ref"),
        },
        {"paid_on": data["paid_on"], "source_event_id": posting.event_id},
        rule_ids=(book.finalization.rule_id,),
        clauses=(book.finalization.clause,),
    )
    return Outcome("processed")
