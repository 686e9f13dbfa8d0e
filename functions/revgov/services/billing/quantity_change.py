"""subscription.changed: a quantity change prorated both ways over the months already charged (PA-10.3, PA-10.4)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from ...domain import billing as core
from ...domain.billing import ServicePeriod
from ...domain.money import format_money
from ...domain.time import parse_day
from .. import credit_notes
from .cancellation import effective_day
from .exceptions import fail
from .posting import Outcome, Posting
from .repository import SUBSCRIPTIONS, subscription_put
from .subscription_records import not_theirs, park

CHANGED = "subscription.changed"


def ordered_increase(posting: Posting) -> str | None:
    """The day a `subscription.changed` orders more units (its `effective_on`): an increase is an order for the added
    units (PA-10.3 "Quantity increases during a period are prorated in the same way" as an activation), so the holds
    on new orders hold it as they hold an activation. None for another kind, a reduction, or a subscription not on
    file or not activated yet (its use case parks or refuses it; a parked record has no quantity)."""
    if posting.detail_type != CHANGED:
        return None
    stored = posting.get(SUBSCRIPTIONS, str(posting.data["subscription_id"]))
    if stored is None or "quantity" not in stored.data or int(posting.data["quantity"]) <= int(stored.data["quantity"]):
        return None
    return str(posting.data["effective_on"])


def subscription_changed(posting: Posting, partner: dict[str, Any]) -> Outcome:
    """A quantity change of an active subscription, effective on a day: every month already charged from that day
    on gets the difference prorated both ways (an increase charged from its effective day, PA-10.3; a reduction
    credited for the full days after it, PA-10.4, SOP-2.4), each referencing the month's charge; the months charged
    later are charged at the new quantity. A plan change is a cancellation and an activation."""
    data, book = posting.data, posting.book
    stored = posting.get(SUBSCRIPTIONS, data["subscription_id"])
    if stored is None or stored.data["status"] == "pending_activation":
        return park(posting, stored)
    sub = stored.data
    problem = None
    effective, moved = data["effective_on"], None
    if int(data["quantity"]) < int(sub["quantity"]):  # a reduction takes effect no earlier than its request (SOP-2.4)
        day, moved = effective_day(posting, "reduction")
        effective = day.isoformat()
    last = (sub.get("changes") or [{}])[-1].get("effective_on")
    if not_theirs(posting, stored):
        problem = f"subscription {data['subscription_id']} belongs to another partner"
    elif sub["status"] != "active":
        problem = f"subscription {data['subscription_id']} is {sub['status']}; its quantity cannot change"
    elif effective < sub["activated_on"] or (last and effective < last):
        problem = f"a change effective {effective} comes before the activation or the last change ({last})"
    if problem:
        return fail(posting, "rating_failure", problem, book.proration)
    before, after = int(sub["quantity"]), int(data["quantity"])
    if before == after:
        return Outcome("processed", f"the quantity is already {after}; nothing to prorate")
    unit = core.unit_price_of(sub)
    item = book.subscription_item(sub)
    unit_cost = Decimal(sub.get("unit_cost") or (item.unit_cost if item else 0))
    posted: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    for charge in sub["billed"]:
        period = ServicePeriod.from_dict(charge["service_period"])  # a renewed term's month: its approved price
        prorated = core.quantity_change(core.unit_price_in_force(sub, period.start), before, after,
                                        parse_day(effective), period)
        if prorated is None:
            continue
        draft = core.quantity_change_draft(sub, item, unit_cost, before, after, prorated, book, charge["line_id"])
        if moved and book.effective_day:  # the day moved to the request's: the credit cites that rule too
            draft = replace(draft, rules=(*draft.rules, book.effective_day))
        lines, kept = credit_notes.post_or_hold(posting, sub, draft, charge)  # an increase is never held
        posted, held = posted + lines, held + kept
    change = {"effective_on": effective, "from_quantity": before, "to_quantity": after, "event_id": posting.event_id}
    updated = {
        **sub,
        "quantity": after,
        "monthly_price": format_money(unit * after),
        "monthly_cost": format_money(unit_cost * after),
        "changes": [*(sub.get("changes") or []), change],
        "adjusted": [*(sub.get("adjusted") or []), *(core.posted_against_entry(x) for x in posted)],
        "held": [*(sub.get("held") or []), *held],
    }
    posting.changes.puts.append(subscription_put(updated, stored))
    nothing = None if posted or held else "no month charged yet is affected; later months use the quantity"
    said = [x for x in (moved, credit_notes.held_note(held, book) or nothing) if x]
    return Outcome("processed", "; ".join(said) or None)
