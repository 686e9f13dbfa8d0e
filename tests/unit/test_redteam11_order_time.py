"""Red team, eleventh round: when the ERP says when an order was accepted (`order_accepted_on`, API 1.53.0), PA-7.1's
"orders placed while the Partner was suspended" reads that day, not the shipment's time.

PA-7.1: "Rebates are not earned on [...] orders placed while the Partner was suspended." PA-13.2: the Distributor
"may suspend a Partner from new quotes, orders [...] Orders already accepted are fulfilled". The rebate engine
compares the time the ERP recorded the order's event (`event_at`) with the suspension, the shipment's time being "the
latest it can have been placed" (tests/unit/test_same_day_suspension_rebates.py) while the order's own time was not
reported. Since 1.53.0 it is: an order accepted before a suspension and shipped during it (fulfilled, as PA-13.2
says) earned nothing, and one accepted during the suspension and shipped after the lift earned. Now a line of an
order whose acceptance day the ERP states keeps as its order time the latest instant of that day (no later than the
event): the suspension is compared with when the order was placed. In-memory engine, fixed clock.
"""

from __future__ import annotations

from test_same_day_suspension_rebates import HISTORY, P1, _suspended_orders  # the same partner and suspension

from memory_store import Ledger
from revgov.services import rebates

# HISTORY: suspended 2026-10-05T14:00:00Z, lifted 2026-10-20T09:00:00Z


def _ship(ledger: Ledger, order: str, day: str, at: str, accepted_on: str | None, status: str = "processed") -> None:
    data = {"partner_id": P1, "order_ref": order, "shipped_on": day, "lines": [{"sku": "NW-SW-24P", "quantity": 10}]}
    if accepted_on:
        data |= {"quoted_on": accepted_on, "order_accepted_on": accepted_on}
    ledger.clock.set(at)
    assert ledger.bill("shipment.confirmed", data, occurred_at=at)["status"] == status
    if status != "processed":
        return
    event = ledger.rt.publisher.published[-1]
    bus_event = {"source": event["source"], "detail-type": event["detail_type"], "detail": event["detail"]}
    outcome, due = rebates.project_event(ledger.rt, bus_event)
    assert outcome["status"] == "processed", outcome
    for refresh in due:
        refresh.run(ledger.rt)


def test_pa_7_1_the_suspension_is_compared_with_the_day_the_order_was_accepted() -> None:
    ledger = Ledger("2026-10-01T08:00:00Z")
    ledger.add_partners([{**ledger.partners[0], "history": HISTORY}])
    # accepted 1 October, before the suspension; shipped during it (PA-13.2: fulfilled): placed before, earns
    _ship(ledger, "SO-ACCEPTED-BEFORE", "2026-10-12", "2026-10-12T10:00:00Z", "2026-10-01")
    # accepted 12 October, during the suspension; shipped after the lift: placed during it, so not billed at all
    # (PA-13.2 suspends "new [...] orders": held, tests/unit/test_order_accepted_during_suspension.py), nor earning
    _ship(ledger, "SO-ACCEPTED-DURING", "2026-10-25", "2026-10-25T10:00:00Z", "2026-10-12", "failed")
    # accepted on the suspension's day (its time not stated): the latest it can have been placed is that evening,
    # during it, as a shipment's own time is read when no acceptance is stated: held the same way
    _ship(ledger, "SO-ACCEPTED-THAT-DAY", "2026-10-26", "2026-10-26T10:00:00Z", "2026-10-05", "failed")
    # accepted on the lift day: the latest it can have been, after 09:00, earns
    _ship(ledger, "SO-ACCEPTED-LIFT-DAY", "2026-10-27", "2026-10-27T10:00:00Z", "2026-10-20")
    # no acceptance stated: the shipment's time, as before (during the suspension: nothing)
    _ship(ledger, "SO-NO-ACCEPTANCE", "2026-10-13", "2026-10-13T10:00:00Z", None)
    assert _suspended_orders(ledger) == ["SO-NO-ACCEPTANCE"]
