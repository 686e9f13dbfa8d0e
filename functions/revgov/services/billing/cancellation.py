"""subscription.cancelled: every charged month credited for the full days after the effective day (PA-10.4, SOP-2.4)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ...domain import billing as core
from ...domain.billing import LineDraft, ServicePeriod
from ...domain.errors import RuleViolation
from ...domain.money import round_money
from ...domain.time import parse_day
from .. import credit_notes
from .exceptions import fail
from .posting import Outcome, Posting
from .repository import SUBSCRIPTIONS, subscription_put
from .subscription_records import not_theirs, park, posted_against_entry


def subscription_cancelled(posting: Posting, partner: dict[str, Any]) -> Outcome:
    data, book = posting.data, posting.book
    stored = posting.get(SUBSCRIPTIONS, data["subscription_id"])
    if stored is None or stored.data["status"] == "pending_activation":
        return park(posting, stored)
    sub = stored.data
    if not_theirs(posting, stored):
        return fail(
            posting,
            "rating_failure",
            f"subscription {data['subscription_id']} belongs to another partner",
            partner_id=partner["partner_id"],
            rules=(book.cancellation,),
        )
    if sub["status"] == "cancelled":
        return Outcome("processed", f"subscription already cancelled effective {sub['cancelled_on']}; no new credit")
    effective_on = parse_day(data["effective_on"])
    item = book.price(sub["sku"], parse_day(sub["activated_on"]))
    if item is None:  # the subscription was billed from this item; a price list without it is a policy error
        raise RuleViolation(f"SKU {sub['sku']} of subscription {sub['subscription_id']} is not on the price list")
    credited: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    for billed in sub["billed"]:
        credit = core.cancellation_credit(
            Decimal(sub["monthly_price"]), effective_on, ServicePeriod.from_dict(billed["service_period"])
        )
        if credit is None:
            continue
        draft = LineDraft(
            kind="credit",
            description=f"Credit: {item.name} after {data['effective_on']}, {credit.days}/{credit.divisor} days",
            family=item.family,
            sku=item.sku,
            quantity=Decimal(sub["quantity"]),
            unit_price=item.list_price,
            amount=-credit.amount,
            cost=-round_money(Decimal(sub["monthly_cost"]) * credit.days / credit.divisor),
            service_period=credit.period,
            order_ref=data.get("order_ref") or sub.get("order_ref"),
            rules=(item.rule, book.cancellation),
            references_line=billed["line_id"],
            detail={
                "subscription_id": sub["subscription_id"],
                "days": credit.days,
                "days_in_month": credit.divisor,
                "monthly_price": sub["monthly_price"],
            },
            channel=sub.get("channel") or "resale",
        )
        lines, kept = credit_notes.post_or_hold(posting, sub, draft, billed)
        credited, held = credited + lines, held + kept
    posting.changes.puts.append(
        subscription_put(
            {
                **sub,
                "status": "cancelled",
                "cancelled_on": data["effective_on"],
                "credits": [c["line_id"] for c in credited],
                "credited": [*sub.get("credited", []), *(posted_against_entry(c) for c in credited)],
                "held": [*sub.get("held", []), *held],
            },
            stored,
        )
    )
    nothing = None if credited or held else "nothing billed after the effective day; no credit"
    return Outcome("processed", credit_notes.held_note(held) or nothing)
