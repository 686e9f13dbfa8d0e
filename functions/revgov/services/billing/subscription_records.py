"""Subscription records as the ERP event kinds read them: whose they are, and events parked until an activation.

What a record keeps of its charges and credits (`charge_entry`, `posted_against_entry`) is pure: domain/billing.
"""

from __future__ import annotations

from ...domain.rules import Rule
from ...ports import Stored
from .exceptions import fail
from .posting import Outcome, Posting
from .repository import subscription_put


def not_theirs(posting: Posting, stored: Stored) -> bool:
    return bool(stored.data["partner_id"] != posting.data["partner_id"])


def refuse_foreign(posting: Posting, stored: Stored, rule: Rule) -> Outcome | None:
    """A subscription of another partner is not billed for this one: a rating failure citing `rule`; None if theirs."""
    if not not_theirs(posting, stored):
        return None
    problem = f"subscription {posting.data['subscription_id']} belongs to another partner"
    return fail(posting, "rating_failure", problem, rule)


def park(posting: Posting, stored: Stored | None) -> Outcome:
    """Usage or a cancellation of a subscription not activated yet: kept, and re-applied by its activation."""
    sub_id = posting.data["subscription_id"]
    waiting = (
        stored.data
        if stored
        else {
            "subscription_id": sub_id,
            "partner_id": posting.data["partner_id"],
            "status": "pending_activation",
            "parked": [],
        }
    )
    if posting.event_id not in waiting["parked"]:
        waiting = {**waiting, "parked": [*waiting["parked"], posting.event_id]}
        posting.changes.puts.append(subscription_put(waiting, stored))
    return Outcome("parked", f"waiting for subscription.activated of {sub_id}; applied when it arrives", done=False)
