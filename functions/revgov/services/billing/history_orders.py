"""An ERP order the history import already brought (docs/history.md) is not billed again when its live event comes.

SOP-2.2 / COP-2.2: "Billable events are posted to the open invoice for the month in which they occurred [...] An
issued invoice is immutable" ("issued invoices are never changed"); SOP-2.5 / COP-2.4 correct an issued invoice by
credit note and corrected charge only. A month before go-live is the ERP's, brought as history: its invoice holds the
ERP's lines, each with its order (`order_ref`). A live order event (`posting.ORDERS`) of that partner-month whose
order and every SKU are on a line the history wrote (`detail.import_id`; only an invoice the history made, `imported`,
or took rows onto, `history_imports`, is read) is that same billable event: settled,
nothing posted, saying which import holds it. An order the month does not hold is billed as before (a late event of a
finalized month: the corrected charge on the next open invoice, SOP-2.5). The other order, event first then import,
is the import's (services/history.py: the row of an order billed live is recorded as that live line)."""

from __future__ import annotations

from typing import Any

from ...domain.billing import erp_reference
from ...domain.time import parse_day, period_of
from .posting import ORDER_DAYS, ORDERS, Outcome, Posting
from .repository import INVOICE_KEYS, INVOICES, invoice_lines


def invoiced_by_history(posting: Posting, partner: dict[str, Any]) -> Outcome | None:
    """The settlement of an order event whose order the history import already invoiced, or None to bill it."""
    data = posting.data
    order = erp_reference(data.get("order_ref"))
    day = data.get(ORDER_DAYS.get(posting.detail_type, ""))
    if posting.detail_type not in ORDERS or order is None or not day:
        return None
    skus = {str(ln["sku"]) for ln in data.get("lines") or []} or {str(data.get("sku"))}
    period = period_of(parse_day(str(day)))
    pointer = posting.get(INVOICE_KEYS, f"{partner['partner_id']}#{period}")
    if pointer is None:
        return None
    invoice_id = str(pointer.data["invoice_id"])
    header = posting.get(INVOICES, invoice_id)
    if header is None or not (header.data.get("imported") or header.data.get("history_imports")):
        return None  # no history in that month: its lines are not read (one read per order event, not a page)
    held = [ln for ln in invoice_lines(posting.rt, posting.tenant_id, invoice_id)
            if (ln.get("detail") or {}).get("import_id") and erp_reference(ln.get("order_ref")) == order
            and not ln.get("references_line")]  # fmt: skip
    if not held or not skus <= {str(ln.get("sku")) for ln in held}:
        return None
    found = held[0]["detail"]
    reason = (f"not billed again: order {data['order_ref']} of {period} is on the ERP's invoice "
              f"{found.get('erp_invoice_ref')} (line {found.get('erp_line_ref')}) brought by history import "
              f"{found['import_id']} on invoice {invoice_id}: one billable event, posted once to the "
              f"month it occurred (SOP-2.2; an issued invoice is corrected only under SOP-2.5)")
    return Outcome("processed", reason, settles_sla=True)
