"""A partner's open balance: the invoices it still owes on a day (PA-7.8 / CPA-7.8 "no open balance").

What counts, from the invoices and credit notes Revgov holds: an invoice issued (finalized) on or before the day, not
paid on or before it (a payment is for the whole invoice, docs/billing.md), whose net total is above what credit
notes, returns and upheld invoice disputes credited of its lines (a credit note waiting for approval is no credit
yet, SOP-2.5). An invoice whose total is 0.00 or less owes nothing. Amounts are net, as the lines are credited;
the Distributor's direct invoices to referred customers are not the partner's (billing's repository leaves them out).
Pure: the service reads the partner's issued invoices and what was credited of each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from ..money import format_money
from .overdue import issued_on, paid_on

ZERO = Decimal("0.00")


def open_invoices(
    invoices: Iterable[Mapping[str, Any]], credited: Mapping[str, Decimal], on: date
) -> list[dict[str, Any]]:
    """The invoices still owed on `on`, by invoice id: {invoice_id, period, issued_on, total, credited, outstanding}.
    `credited`: invoice id -> what issued credit notes took back of its lines (missing: nothing)."""
    found = []
    for invoice in sorted(invoices, key=lambda i: str(i["invoice_id"])):
        issued, paid = issued_on(invoice), paid_on(invoice)
        if issued is None or issued > on or (paid is not None and paid <= on):
            continue
        total = Decimal(str(invoice["total"]))
        taken = credited.get(invoice["invoice_id"], ZERO)
        if total - taken <= ZERO:
            continue
        found.append({
            "invoice_id": invoice["invoice_id"],
            "period": invoice.get("period"),
            "issued_on": issued.isoformat(),
            "total": format_money(total),
            "credited": format_money(taken),
            "outstanding": format_money(total - taken),
        })
    return found
