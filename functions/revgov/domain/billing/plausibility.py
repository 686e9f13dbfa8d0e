"""Plausibility of an ERP event (PA-2.2): it cannot be true as sent, so it is held, not billed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..time import instant, iso, parse_day

# --- plausibility ----------------------------------------------------------------------------------------------
# The day each ERP event says its fact happened. A cancellation's effective day may lie ahead (SOP-2.4: "unless the
# Partner specifies a later date"), so it is not here.
FACT_DAYS = {
    "shipment.confirmed": "shipped_on",
    "subscription.activated": "activated_on",
    "service.completed": "accepted_on",
    "usage.reported": "usage_date",
    "support.logged": "performed_on",
    "invoice.paid": "paid_on",
    "credit_note.issued": "issued_on",
    "return.received": "returned_on",
}
# The events that may name the quote their order was placed on (PA-1.2 / PA-6.1 / CPA-6.1: priced on its day), and the
# day the order was fulfilled, which its acceptance precedes.
QUOTED_ORDER_DAYS = {"shipment.confirmed": "shipped_on", "subscription.activated": "activated_on"}
# PA-2.2 / CPA-2.2: no order before onboarding is verified; an approved partner stays billable when suspended
# (PA-13.2: orders already accepted are fulfilled) or terminated (PA-13.3: subscriptions run to their term).
BILLABLE_PARTNER_STATUSES = frozenset({"active", "suspended", "terminated"})


def implausible(
    detail_type: str,
    occurred_at: str,
    data: dict[str, Any],
    partner_status: str,
    *,
    now: datetime,
    tolerance: timedelta,
    quote_validity_days: int | None = None,
) -> str | None:
    """Why an ERP event cannot be true as sent, or None: it occurred in the future (beyond the clock tolerance),
    the fact it reports is dated after today or after the event itself, or its partner is not onboarded yet."""
    if partner_status not in BILLABLE_PARTNER_STATUSES:
        return (
            f"partner {data.get('partner_id')} is {partner_status}: a partner may not order before onboarding is "
            "verified"
        )
    occurred = instant(occurred_at)
    if occurred > now + tolerance:
        return f"it occurred at {occurred_at}, later than now ({iso(now)}) beyond the clock tolerance"
    if detail_type == "shipment.confirmed" and data.get("delivered_on"):
        delivered = parse_day(data["delivered_on"])
        if delivered < parse_day(data["shipped_on"]):
            return f"delivered_on {delivered} is before shipped_on {data['shipped_on']}"
        if delivered > occurred.date():
            return f"delivered_on {delivered} is after the event itself occurred ({occurred_at})"
    fulfilled = QUOTED_ORDER_DAYS.get(detail_type)
    if fulfilled and data.get("quoted_on") and data.get("order_accepted_on"):
        # PA-6.1 / CPA-6.1: an order is accepted on a quote already issued, and ships (or activates) once accepted
        quoted, accepted = parse_day(data["quoted_on"]), parse_day(data["order_accepted_on"])
        if accepted < quoted:
            return f"order_accepted_on {accepted} is before quoted_on {quoted}: an order is accepted on an issued quote"
        if accepted > parse_day(data[fulfilled]):
            return f"order_accepted_on {accepted} is after {fulfilled} {data[fulfilled]}"
        # PA-6.1: "A quote is valid for 30 days from its issue date" (CPA-6.1: 21): an order accepted later was not
        # accepted on that quote, so the quote's price is not its price
        if quote_validity_days is not None and accepted > quoted + timedelta(days=quote_validity_days):
            last = (quoted + timedelta(days=quote_validity_days)).isoformat()
            return (f"order_accepted_on {accepted} is after the quote of {quoted} lapsed (valid for "
                    f"{quote_validity_days} days, through {last})")
    field_name = FACT_DAYS.get(detail_type)
    if field_name and data.get(field_name):
        day = parse_day(data[field_name])
        if day > (now + tolerance).date():
            return f"{field_name} {day} is in the future"
        if day > occurred.date():
            return f"{field_name} {day} is after the event itself occurred ({occurred_at})"
    return None
