"""Red team, ninth round: ERP subscription events out of order against the holds added for PA-2.8 / CPA-2.3 (an
ordered increase is held like an order, `quantity_change.ordered_increase`, red team 7).

The ERP's events reach Revgov in any order (SOP-3.1: events are "deduplicated by event id", not sequenced); the
contract of `subscription.changed` and `subscription.cancelled` before the activation is documented in
services/billing/subscription_records.park: "kept, and re-applied by its activation". A fixed clock, the in-memory
runtime (tests/memory_store.Ledger).
"""

from __future__ import annotations

from memory_store import Ledger

P1 = "ptr_01JBNWPARTNER0000000000001"


def _change(ledger: Ledger, quantity: int, erp_id: str) -> dict:
    return ledger.bill("subscription.changed", {"partner_id": P1, "subscription_id": "SUB-RT9-1", "quantity": quantity,
                                                "effective_on": "2026-11-12"},
                       occurred_at="2026-11-12T08:00:00Z", erp_id=erp_id)  # fmt: skip


def test_a_second_change_before_the_activation_is_parked_not_a_handler_crash():
    """The first change of a subscription not activated yet parks it (a `pending_activation` record, no quantity);
    a second one read the parked record's `quantity` in the screening / VAT hold's test of an increase and raised
    KeyError: the event was retried until it was dead-lettered, and its quantity change never billed (PA-10.3 /
    PA-10.4). Now it is parked beside the first, both applied by the activation."""
    ledger = Ledger("2026-11-12T12:00:00Z")
    assert _change(ledger, 3, "NW-ERP-RT9-CHG-1")["status"] == "parked"
    second = _change(ledger, 5, "NW-ERP-RT9-CHG-2")
    assert second["status"] == "parked", second
    from revgov.services.billing import SUBSCRIPTIONS

    parked = ledger.rt.store.get("northwind", SUBSCRIPTIONS, "SUB-RT9-1")
    assert parked is not None and len(parked.data["parked"]) == 2, parked
