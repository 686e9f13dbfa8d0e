"""shipment.confirmed: shipped goods at list price less discount, one line per SKU, in the month they shipped (or
were delivered, where the policy bills their family on delivery: CPA-10.2).

CPA-10.2 "devices are billed on delivery": a line of a family the policy bills on delivery, confirmed shipped without
its delivery day, is not billed on the ship day. It waits (`AWAITING_DELIVERY`, per partner and order) and no invoice
SLA runs for it (COP-2.1: "48 hours from the time a device delivery [...] occurred"). The ERP reports the delivery by
sending the shipment again under a new ERP id with `delivered_on`: its lines of those families are billed on the
delivery day, and lines of other families the first confirmation already billed on shipment are not billed twice."""

from __future__ import annotations

from typing import Any

from ...domain import billing as core
from ...domain.time import parse_day, period_of
from ...ports import Delete
from .exceptions import fail
from .lines import post_lines
from .posting import Outcome, Posting
from .repository import AWAITING_DELIVERY, put_over


def shipment_confirmed(posting: Posting, partner: dict[str, Any]) -> Outcome:
    data, book = posting.data, posting.book
    shipped = parse_day(data["shipped_on"])
    unknown = [x["sku"] for x in data["lines"] if getattr(book.price(x["sku"], shipped), "billing", None) != "shipment"]
    if unknown:
        problem = f"SKU {', '.join(unknown)} is not a shipment item of the price list on {shipped.isoformat()}"
        return fail(posting, "unknown_partner_or_sku", problem, book.invoicing)
    key = f"{partner['partner_id']}#{data['order_ref']}"
    awaited = posting.get(AWAITING_DELIVERY, key)
    delivered = bool(data.get("delivered_on"))
    before = set(awaited.data["billed_skus"]) if awaited is not None else set()
    waiting: list[core.LineDraft] = []
    billed: list[core.LineDraft] = []
    for draft in core.shipment_drafts(book, data):
        if draft.family in book.delivery_families:
            (billed if delivered else waiting).append(draft)
        elif not (delivered and draft.sku in before):  # billed on shipment by the first confirmation
            billed.append(draft)
    by_month: dict[str, list[core.LineDraft]] = {}
    for draft in billed:  # shipped lines in the month shipped, delivered ones (CPA-10.2) in the month delivered
        by_month.setdefault(period_of(draft.service_period.start), []).append(draft)
    for month, same_month in by_month.items():
        post_lines(posting, partner["partner_id"], month, same_month)
    cited = f"{book.delivery_billing.clause} {book.delivery_billing.rule_id}" if book.delivery_billing else "policy"
    if delivered or not waiting:
        reason = None
        if awaited is not None and delivered:
            posting.changes.deletes.append(Delete(AWAITING_DELIVERY, key))
            reason = f"the delivery of order {data['order_ref']}, shipped {awaited.data['shipped_on']} ({cited})"
        return Outcome("processed", reason, posted=bool(billed), settles_sla=not billed)
    record = {
        "partner_id": partner["partner_id"],
        "order_ref": data["order_ref"],
        "shipped_on": data["shipped_on"],
        "event_id": posting.event_id,
        "erp_event_id": posting.erp_event_id,
        "skus": [d.sku for d in waiting],
        "billed_skus": sorted(before | {d.sku for d in billed if d.sku}),
    }
    posting.changes.puts.append(put_over(AWAITING_DELIVERY, key, record, awaited))
    reason = (f"{len(waiting)} line(s) billed on delivery ({cited}: devices are billed on delivery) wait for their "
              "delivery: not billed on the ship day; send the shipment again under a new ERP id with delivered_on")
    return Outcome("processed", reason, posted=bool(billed), settles_sla=not billed)
