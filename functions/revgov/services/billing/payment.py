"""invoice.paid: the ERP recorded the partner's payment of an issued invoice."""

from __future__ import annotations

from typing import Any

from ...domain import billing as core
from ...domain.audit import AuditEntry
from ...domain.errors import RuleViolation
from ...ports import DomainEvent
from .exceptions import fail
from .posting import ACTOR, Outcome, Posting
from .repository import INVOICES, invoice_put


def invoice_paid(posting: Posting, partner: dict[str, Any]) -> Outcome:
    """The ERP recorded the partner's payment of an issued invoice: the invoice keeps the day it was paid, which
    programs with a `paid` basis read (commissions are paid on paid revenue, PA-8.2)."""
    data, book = posting.data, posting.book
    stored = posting.get(INVOICES, data["invoice_id"])
    if stored is None or stored.data["partner_id"] != partner["partner_id"]:
        return fail(
            posting,
            "rating_failure",
            f"invoice {data['invoice_id']} is not an invoice of partner {partner['partner_id']}",
            partner_id=partner["partner_id"],
            rules=(book.finalization,),
        )
    invoice = stored.data
    if invoice.get("paid_on"):
        return Outcome("processed", f"invoice {invoice['invoice_id']} was already paid on {invoice['paid_on']}")
    try:
        paid = core.mark_paid(
            invoice, paid_on=data["paid_on"], payment_ref=data.get("payment_ref"), rule=book.finalization
        )
    except RuleViolation as why:  # a draft: replayable once it is issued
        return fail(posting, "rating_failure", why.detail, partner_id=partner["partner_id"], rules=(book.finalization,))
    posting.changes.puts.append(invoice_put(paid, stored.version))
    posting.changes.audit.append(
        AuditEntry(
            actor=ACTOR,
            action="invoice.paid",
            subject=invoice["invoice_id"],
            outcome=f"paid on {data['paid_on']}",
            inputs={
                "event_id": posting.event_id,
                "erp_event_id": posting.erp_event_id,
                "partner_id": invoice["partner_id"],
                "total": invoice["total"],
                "paid_on": data["paid_on"],
                "payment_ref": data.get("payment_ref"),
            },
            policy_version=posting.tenant.policy_version,
            rule_ids=(book.finalization.rule_id,),
            clauses=(book.finalization.clause,),
        )
    )
    posting.changes.events.append(
        DomainEvent(
            "revgov.billing",
            "invoice.paid",
            {
                "invoice_id": invoice["invoice_id"],
                "partner_id": invoice["partner_id"],
                "period": invoice["period"],
                "total": invoice["total"],
                "paid_on": data["paid_on"],
                "source_event_id": posting.event_id,
            },
        )
    )
    return Outcome("processed")
