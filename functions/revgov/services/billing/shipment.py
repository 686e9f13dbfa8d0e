"""shipment.confirmed: shipped goods at list price less discount, one line per SKU, in the month they shipped (or
were delivered, where the policy bills their family on delivery: CPA-10.2)."""

from __future__ import annotations

from typing import Any

from ...domain import billing as core
from ...domain.time import parse_day, period_of
from .exceptions import fail
from .lines import post_lines
from .posting import Outcome, Posting


def shipment_confirmed(posting: Posting, partner: dict[str, Any]) -> Outcome:
    data, book = posting.data, posting.book
    shipped = parse_day(data["shipped_on"])
    unknown = [x["sku"] for x in data["lines"] if getattr(book.price(x["sku"], shipped), "billing", None) != "shipment"]
    if unknown:
        problem = f"SKU {', '.join(unknown)} is not a shipment item of the price list on {shipped.isoformat()}"
        return fail(posting, "unknown_partner_or_sku", problem, book.invoicing)
    by_month: dict[str, list[core.LineDraft]] = {}
    for draft in core.shipment_drafts(book, data):  # shipped lines in the month shipped, delivered ones (CPA-10.2) in
        by_month.setdefault(period_of(draft.service_period.start), []).append(draft)  # the month delivered
    for month, drafts in by_month.items():
        post_lines(posting, partner["partner_id"], month, drafts)
    return Outcome("processed", posted=True)
