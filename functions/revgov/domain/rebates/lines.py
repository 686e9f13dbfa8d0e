"""Rebate lines: what rebates read of a billed sales fact, with a credit note counted where its invoice line was.

A credit note reduces the revenue of the period of the invoice it is issued against, whenever it is issued
(PA-1.2, CPA-1.2), and follows that line's eligibility (family, kind, channel, promotions, discount, paid status):
so a rebate line carries the month, kind and attributes of the line it credits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from ..billing.invoices import erp_reference
from ..canonical import sha256_hex
from ..time import unix_seconds

# Credit notes that pay an incentive rather than credit what was invoiced: PA-7.8 / CPA-7.8 "Settlement is made by
# credit note" applied to the partner's account, and Invoiced Revenue is what was invoiced "for Products and
# Services" (PA-1.2 / CPA-1.2). The ERP books such a note against an invoice line; it reduces no Qualifying Revenue
# (else paying a rebate would lower the rebate, PA-7.10, and claw back part of every payment).
NOT_REVENUE_CREDITS = frozenset({"rebate_settlement"})


def is_revenue(fact: Mapping[str, Any]) -> bool:
    """Whether a sales fact counts in Qualifying Revenue: all do but a credit note paying an incentive."""
    return fact.get("credit_reason") not in NOT_REVENUE_CREDITS


# What billing's sales fact may carry beyond its fixed fields; absent today means the neutral value.
OPTIONAL_ATTRIBUTES = (
    "order_ref", "promotions", "discount_percent", "paid_on", "channel", "delivered_on", "mdf_funded", "customer_id",
    "invoiced_on", "referral_accepted_on", "decision_maker_contacted_on",
)  # fmt: skip
# What rating reads of a rebate line, in the order of a row (`rebate_row`).
FIELDS = (
    "line_id", "invoice_id", "partner_id", "family", "sku", "kind", "rule_kind", "channel", "net_cents",
    "cost_cents", "units_milli", "month_index", "day", "credited_day", "credited_line", "promotions",
    "discount_percent", "paid_on", "event_id", "order_ref", "delivered_day", "mdf_funded", "customer",
    "invoiced_day", "event_second", "accepted_day", "contacted_day",
)  # fmt: skip


# What a rebate line projected before a field existed reads as (the neutral value): not MDF-funded, no customer, its
# invoice date not known.
LATER_FIELDS = {
    "mdf_funded": False, "customer": None, "invoiced_day": -1, "event_second": -1, "accepted_day": -1,
    "contacted_day": -1,
}  # fmt: skip


def rebate_line(fact: Mapping[str, Any], credited: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The rebate line of one sales fact; `credited` is the sales fact of the line a credit note is issued against."""
    source = credited if credited is not None else fact
    line = {
        "line_id": fact["line_id"],
        "invoice_id": fact["invoice_id"],
        "partner_id": fact["partner_id"],
        "invoice_period": fact["period"],
        "month": source["period"],
        "kind": fact["kind"],
        "rule_kind": source["kind"],
        "family": fact.get("family") or source.get("family"),
        "sku": fact.get("sku") or source.get("sku"),
        "quantity": str(fact.get("quantity") or "0"),
        "net_amount": fact["net_amount"],
        "cost": fact.get("cost"),
        "service_date": fact["service_period"]["start"],
        "credited_line": credited["line_id"] if credited is not None else fact.get("references_line"),
        "credited_service_date": credited["service_period"]["start"] if credited is not None else None,
        "event_id": fact.get("event_id"),
        # compared by PA-7.7(d) as billing compares it (`erp_reference`): `SO-1` and ` so-1` are one order
        "order_ref": erp_reference(fact.get("order_ref") or (credited or {}).get("order_ref")),
        "promotions": list(source.get("promotions") or []),
        "discount_percent": source.get("discount_percent"),
        "paid_on": source.get("paid_on"),
        "channel": source.get("channel") or "resale",
        # The day the goods were delivered (of the credited line, for a credit note), when the ERP said so: where a
        # return window counted from delivery starts (CPA-7.5).
        "delivered_on": source.get("delivered_on"),
        # PA-7.1 / CPA-7.1: an MDF-funded purchase earns no incentive; a credit note is as MDF-funded as its line.
        "mdf_funded": source.get("mdf_funded") is True,
        # PA-8.1 / CPA-8.1: the referred customer (compared case-insensitively) and the day the invoice was issued
        # (the invoice date, once finalized): a commission's window counts from the customer's first invoice. A
        # credit note follows the line it credits, inside or outside the window with it.
        "customer_id": source.get("customer_id"),
        "customer": customer_key(source.get("customer_id")),
        "invoiced_on": source.get("invoiced_on"),
        # PA-7.1 / CPA-7.1: the time the ERP recorded the order (of the credited line, for a credit note), compared
        # with the partner's suspensions; absent for lines billed before it was kept (their day is compared)
        "event_at": source.get("event_at"),
        # PA-8.1 / CPA-8.1: the day the referral was accepted and (contoso) of the first contact with the customer's
        # decision maker, as the ERP states them on the referral line (a credit note: its line's)
        "referral_accepted_on": source.get("referral_accepted_on"),
        "decision_maker_contacted_on": source.get("decision_maker_contacted_on"),
    }
    # A credit note's line changes when the line it credits does (its invoice paid, say): both are in the hash.
    hashed = {k: v for k, v in fact.items() if k != "event_ids"}
    if credited is not None:
        hashed["credited"] = {k: line[k] for k in ("promotions", "discount_percent", "paid_on", "channel")}
        marks = ("mdf_funded", "customer_id", "invoiced_on", "referral_accepted_on", "decision_maker_contacted_on")
        hashed["credited"].update({k: line[k] for k in marks if line[k]})
    line["fact_hash"] = sha256_hex(hashed)[:16]
    return with_numbers(line)


def customer_key(customer_id: Any) -> str | None:
    """A customer id as rebates compare it: case-folded (deal registrations fold them the same way)."""
    return str(customer_id).casefold() if customer_id else None


def _cents(text: str) -> int:
    return int(Decimal(text) * 100)


def _ordinal(day: str | None) -> int:
    return date.fromisoformat(day).toordinal() if day else -1


def _second(at: str | None) -> int:
    return unix_seconds(at) if at else -1


def with_numbers(line: dict[str, Any]) -> dict[str, Any]:
    """The line with its amounts in integer cents, quantity in signed thousandths of a unit and dates as ordinals,
    worked out once when the line is projected, so rating reads numbers, never strings."""
    cents = _cents(line["net_amount"])
    quantity = abs(int(Decimal(line["quantity"]) * 1000))
    year, month = (int(x) for x in str(line["month"]).split("-"))
    return {
        **line,
        "net_cents": cents,
        "cost_cents": None if line["cost"] is None else _cents(line["cost"]),
        "units_milli": -quantity if cents < 0 else quantity,
        "month_index": year * 12 + month - 1,
        "day": _ordinal(line["service_date"]),
        "credited_day": _ordinal(line["credited_service_date"]),
        "delivered_day": _ordinal(line.get("delivered_on")),
        "invoiced_day": _ordinal(line.get("invoiced_on")),
        "event_second": _second(line.get("event_at")),
        "accepted_day": _ordinal(line.get("referral_accepted_on")),
        "contacted_day": _ordinal(line.get("decision_maker_contacted_on")),
    }


def rebate_row(line: Mapping[str, Any]) -> tuple[Any, ...]:
    """A rebate line as a row in FIELDS order: what the ledger and a per-line loop read."""
    return tuple(line[name] if name in line else LATER_FIELDS[name] for name in FIELDS)


def duplicate_keys(line: Mapping[str, Any]) -> list[str]:
    """What `_duplicates` compares a rebate line on beyond its line id, as text: its event's key and (a sale, not a
    credit) its order line's key. Two lines of one partner sharing a key are one thing billed twice (PA-7.7(d))."""
    what = tuple(line[k] for k in ("partner_id", "kind", "sku", "credited_line", "units_milli", "net_cents"))
    keys = []
    if line["event_id"] is not None:
        keys.append(repr(("event", line["event_id"], *what)))
    if line["order_ref"] is not None and line["net_cents"] >= 0:
        keys.append(repr(("order", line["order_ref"], line["day"], *what)))
    return keys
