"""What subscription records keep of their charges and credits, and events parked until an activation."""

from __future__ import annotations

from typing import Any

from ...ports import Stored
from .posting import Outcome, Posting
from .repository import subscription_put


def charge_entry(line: dict[str, Any], month: str) -> dict[str, Any]:
    """What a subscription record keeps of a month charged in advance: the line, its invoice and amount."""
    return {
        "month": month,
        "line_id": line["line_id"],
        "invoice_id": line["invoice_id"],
        "amount": line["amount"],
        "service_period": line["service_period"],
    }


def posted_against_entry(line: dict[str, Any]) -> dict[str, Any]:
    """What a subscription record keeps of a line posted against a month already charged (a cancellation credit, a
    quantity change): the line, its invoice and amount, and the charge it references."""
    return {
        "month": line["service_period"]["start"][:7],
        "line_id": line["line_id"],
        "invoice_id": line["invoice_id"],
        "amount": line["amount"],
        "service_period": line["service_period"],
        "references_line": line["references_line"],
    }


def not_theirs(posting: Posting, stored: Stored) -> bool:
    return bool(stored.data["partner_id"] != posting.data["partner_id"])


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
