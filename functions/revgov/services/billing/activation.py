"""subscription.activated: the activation month prorated from the activation day (PA-10.3, SOP-2.3); events
parked for the subscription are re-applied after it."""

from __future__ import annotations

from typing import Any

from ...domain import billing as core
from ...domain.errors import Conflict, NotFound
from ...domain.time import parse_day, period_of
from ...ports import Changes
from ...runtime import Runtime
from .. import erp
from .exceptions import fail
from .lines import post_lines
from .posting import Outcome, Posting
from .repository import SUBSCRIPTIONS, subscription_put
from .subscription_records import not_theirs


def subscription_activated(posting: Posting, partner: dict[str, Any]) -> Outcome:
    data, book = posting.data, posting.book
    # priced on the activation day, or the quote's (PA-1.2 / PA-6.1 / CPA-6.1: `BillingPolicy.price_day`)
    priced_on, quoted = book.price_day(data, data["sku"], parse_day(data["activated_on"]))
    item = book.price(data["sku"], priced_on)
    if item is None or item.billing != "subscription":
        problem = f"SKU {data['sku']} is not a subscription of the price list on {priced_on.isoformat()}"
        return fail(posting, "unknown_partner_or_sku", problem, book.invoicing)
    if quoted is not None:  # the record keeps the day it was priced on: its later charges and credits read it
        data = {**data, "priced_on": priced_on.isoformat()}
    stored = posting.get(SUBSCRIPTIONS, data["subscription_id"])
    parked = stored.data.get("parked", []) if stored else []
    if stored is not None and (stored.data["status"] != "pending_activation" or not_theirs(posting, stored)):
        problem = (
            f"subscription {data['subscription_id']} is already {stored.data['status']} for partner "
            f"{stored.data['partner_id']}; a second activation is not billed"
        )
        return fail(posting, "rating_failure", problem, book.proration)
    draft = core.activation_draft(item, data, book)
    (line,) = post_lines(posting, partner["partner_id"], period_of(draft.service_period.start), [draft])
    # the parked events stay listed until release_parked re-applies them, right after this commit
    subscription = core.activated_subscription(item, data, line, parked=parked, event_id=posting.event_id)
    posting.changes.puts.append(subscription_put(subscription, stored))
    reason = f"re-applies {len(parked)} event(s) parked for the subscription" if parked else None
    return Outcome("processed", reason, posted=True)


def release_parked(rt: Runtime, tenant_id: str, subscription_id: str) -> int:
    """Put the events parked for a now active subscription back on the bus, 20 per commit.

    Runs after the activation's commit and again on every redelivery of it, so a crash in between loses nothing.
    """
    released = 0
    while True:
        stored = rt.store.get(tenant_id, SUBSCRIPTIONS, subscription_id)
        if stored is None or stored.data["status"] == "pending_activation" or not stored.data.get("parked"):
            return released
        batch = stored.data["parked"][:20]
        changes = Changes(puts=[subscription_put({**stored.data, "parked": stored.data["parked"][20:]}, stored)])
        for event_id in batch:
            try:
                again = erp.republish(rt, tenant_id, event_id, f"re-applied after the activation of {subscription_id}")
            except NotFound:  # kept for replay no longer (36 days): nothing left to re-apply
                continue
            changes.merge(again)
        try:
            rt.commit(tenant_id, changes)
        except Conflict:
            continue
        released += len(batch)
