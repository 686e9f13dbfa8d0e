"""shipment.confirmed: shipped goods at list price less discount, one line per SKU, in the month they shipped."""

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
    post_lines(posting, partner["partner_id"], period_of(shipped), core.shipment_drafts(book, data))
    return Outcome("processed", posted=True)
