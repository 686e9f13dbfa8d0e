"""subscription.cancelled: every charged month credited for the full days after the effective day (PA-10.4, SOP-2.4)."""

from __future__ import annotations

from datetime import date
from typing import Any

from ...domain import billing as core
from ...domain.billing import ServicePeriod
from ...domain.catalog import CatalogItem
from ...domain.errors import RuleViolation
from ...domain.money import format_money
from ...domain.time import parse_day, parse_instant
from .. import credit_notes
from .posting import Outcome, Posting
from .repository import SUBSCRIPTIONS, subscription_put
from .subscription_records import park, refuse_foreign


def subscription_cancelled(posting: Posting, partner: dict[str, Any]) -> Outcome:
    data, book = posting.data, posting.book
    stored = posting.get(SUBSCRIPTIONS, data["subscription_id"])
    if stored is None or stored.data["status"] == "pending_activation":
        return park(posting, stored)
    sub = stored.data
    if (refused := refuse_foreign(posting, stored, book.cancellation)) is not None:
        return refused
    if sub["status"] == "cancelled":
        return Outcome("processed", f"subscription already cancelled effective {sub['cancelled_on']}; no new credit")
    item = book.subscription_item(sub)
    if item is None:  # the subscription was billed from this item; a price list without it is a policy error
        raise RuleViolation(f"SKU {sub['sku']} of subscription {sub['subscription_id']} is not on the price list")
    effective_on, moved = effective_day(posting, "cancellation")
    credited, held = _credit_charged_months(posting, sub, item, effective_on)
    cancelled = {
        **sub,
        "status": "cancelled",
        "cancelled_on": effective_on.isoformat(),
        "credits": [c["line_id"] for c in credited],
        "credited": [*sub.get("credited", []), *(core.posted_against_entry(c) for c in credited)],
        "held": [*sub.get("held", []), *held],
    }
    posting.changes.puts.append(subscription_put(cancelled, stored))
    nothing = None if credited or held else "nothing billed after the effective day; no credit"
    said = [x for x in (moved, credit_notes.held_note(held, book) or nothing) if x]
    return Outcome("processed", "; ".join(said) or None)


def effective_day(posting: Posting, kind: str) -> tuple[date, str | None]:
    """The day the event's cancellation or reduction takes effect at the end of, and why it is not the one given:
    SOP-2.4 / COP-2.3, a day before the request (the event's `occurred_at`, as the source system recorded it) is the
    request's day."""
    given, book = parse_day(posting.data["effective_on"]), posting.book
    requested_on = parse_instant(posting.occurred_at).date()
    effective = book.takes_effect(kind, given, requested_on)
    if effective == given or book.effective_day is None:
        return given, None
    return effective, (f"effective_on {given.isoformat()} is before the request of {requested_on.isoformat()}: it "
                       f"takes effect at the end of {effective.isoformat()} ({book.effective_day.rule_id}, "
                       f"{book.effective_day.clause})")


def _credit_charged_months(
    posting: Posting, sub: dict[str, Any], item: CatalogItem, effective_on: date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Each month charged gets its credit for the full days after the effective day, posted (the lines) or, above the
    credit note limit, held for finance (the held entries)."""
    data, book = posting.data, posting.book
    # a day moved to the request's (SOP-2.4 / COP-2.3): the credit cites that rule too
    moved = (book.effective_day,) if book.effective_day and effective_on != parse_day(data["effective_on"]) else ()
    credited: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    for billed in sub["billed"]:
        period = ServicePeriod.from_dict(billed["service_period"])
        monthly = core.monthly_price_in_force(sub, period.start)  # a renewed term's price once approved
        credit = core.cancellation_credit(monthly, effective_on, period)
        if credit is None:
            continue
        draft = core.cancellation_draft(
            sub,
            credit,
            name=item.name,
            family=item.family,
            effective_on=effective_on.isoformat(),
            unit_price=core.unit_price_in_force(sub, period.start) if sub.get("renewals") else item.list_price,
            rules=(item.rule, book.cancellation, *moved),
            order_ref=data.get("order_ref") or sub.get("order_ref"),
            references_line=billed["line_id"],
            detail={
                "subscription_id": sub["subscription_id"],
                "days": credit.days,
                "days_in_month": credit.divisor,
                "monthly_price": format_money(monthly),
            },
        )
        lines, kept = credit_notes.post_or_hold(posting, sub, draft, billed)
        credited, held = credited + lines, held + kept
    return credited, held
