"""The month-end close watcher (issue 24): SOP-2.1 "The monthly invoice must be finalised and issued within 48 hours
after the end of the Billing Month." Drafts past that deadline become exceptions for finance citing the clause, one
per finding, refreshed (not duplicated) on later runs; events parked past the window alert too.

The use cases run on the in-memory DocumentStore with a fixed clock: nothing depends on today's date.
"""

from __future__ import annotations

from typing import Any

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.ports import Changes, Put
from revgov.services import billing, cases, erp, month_close

P1 = "ptr_01JBNWPARTNER0000000000001"
P2 = "ptr_01JBNWPARTNER0000000000002"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")


def _ship(ledger: Ledger, partner: str, on: str) -> None:
    answer = ledger.bill(
        "shipment.confirmed",
        {
            "partner_id": partner,
            "order_ref": f"SO-{on}",
            "shipped_on": on,
            "lines": [{"sku": "NW-SW-24P", "quantity": 1}],
        },
        occurred_at=f"{on}T09:00:00Z",
    )
    assert answer["status"] == "processed", answer


def _close_cases(ledger: Ledger) -> list[dict[str, Any]]:
    return [c for c in ledger.exceptions() if c["requested_by"] == month_close.ACTOR]


def test_the_deadline_is_48_hours_after_the_end_of_the_billing_month():
    # SOP-2.1: "within 48 hours after the end of the Billing Month"
    assert month_close._iso(month_close.issue_deadline("2026-10", 48)) == "2026-11-03T00:00:00Z"
    assert month_close._iso(month_close.issue_deadline("2028-02", 48)) == "2028-03-03T00:00:00Z"  # 29 Feb 2028


def test_a_draft_of_an_ended_month_past_its_deadline_is_one_exception_for_finance_refreshed_later():
    ledger = Ledger("2026-10-12T10:00:00Z")
    _ship(ledger, P1, "2026-10-12")
    _ship(ledger, P2, "2026-10-12")
    october = ledger.invoice(P1, "2026-10")
    ledger.clock.set("2026-11-02T23:59:00Z")  # within 48 h of the month's end (1 Nov 00:00): not late
    assert month_close.watch(ledger.rt, "northwind")["opened"] == 0
    billing.finalize_invoice(ledger.rt, FINANCE, ledger.invoice(P2, "2026-10")["invoice_id"])  # P2 issued in time
    ledger.clock.set("2026-11-03T00:01:00Z")  # 48 h passed: partner 1's draft is late
    assert month_close.watch(ledger.rt, "northwind")["opened"] == 1
    (case,) = _close_cases(ledger)
    assert (case["category"], case["queue"], case["partner_id"]) == ("invoice_sla_breach", "finance", P1)
    assert case["subject"] == {"kind": "invoice", "id": october["invoice_id"]}
    assert ("BILL-INVOICE-SLA", "SOP-2.1") in [(r["rule_id"], r["clause"]) for r in case["reasons"]]
    assert case["context"]["issue_by"] == "2026-11-03T00:00:00Z"
    ledger.clock.set("2026-11-03T06:01:00Z")
    again = month_close.watch(ledger.rt, "northwind")
    assert (again["opened"], again["refreshed"]) == (0, 1)  # updated rather than duplicated
    (case,) = _close_cases(ledger)
    assert case["context"]["hours_late"] == 6.0 and case["seen_count"] == 2


def test_a_draft_of_0_00_is_never_issued_so_it_is_not_late_and_the_current_month_is_not_watched():
    # SOP-2.2: "Invoices with a total of USD 0.00 are not issued."
    ledger = Ledger("2026-10-12T10:00:00Z")
    _ship(ledger, P1, "2026-10-12")
    stored = ledger.rt.store.get("northwind", billing.INVOICES, ledger.invoice(P1, "2026-10")["invoice_id"])
    assert stored is not None  # e.g. a shipment and its full credit note: nothing to issue
    zero = billing.invoice_put({**stored.data, "total": "0.00"}, stored.version)
    ledger.rt.store.commit("northwind", Changes(puts=[zero]))
    ledger.clock.set("2026-11-20T10:00:00Z")
    _ship(ledger, P2, "2026-11-20")  # November has not ended: its draft is not late
    assert month_close.watch(ledger.rt, "northwind") == {"opened": 0, "refreshed": 0, "looked_at": 2}


def test_a_closed_exception_is_not_reopened_for_the_same_finding():
    ledger = Ledger("2026-10-12T10:00:00Z")
    _ship(ledger, P1, "2026-10-12")
    ledger.clock.set("2026-11-04T00:00:00Z")
    month_close.watch(ledger.rt, "northwind")
    (case,) = _close_cases(ledger)
    cases.decide_case(ledger.rt, FINANCE, "exception", case["case_id"], "resolved", "issued late, partner informed")
    ledger.clock.set("2026-11-05T00:00:00Z")
    assert month_close.watch(ledger.rt, "northwind") == {"opened": 0, "refreshed": 0, "looked_at": 1}
    assert len(_close_cases(ledger)) == 1


def test_an_event_parked_past_the_window_alerts_once():
    # issue 24: "an event parked forever (a cancellation for another partner's subscription) never alerts";
    # SOP-2.1: events are posted "within 48 hours of the time the event occurred".
    ledger = Ledger("2026-10-12T10:00:00Z")
    data = {"partner_id": P1, "subscription_id": "SUB-NEVER", "effective_on": "2026-10-20"}
    answer = ledger.bill("subscription.cancelled", data, occurred_at="2026-10-12T09:00:00Z")
    assert answer["status"] == "parked", answer
    event_id = answer["event_id"]
    bus_event = {"detail-type": "subscription.cancelled", "detail": {"event_id": event_id, "data": data}}
    ledger.rt.store.commit("northwind", Changes(puts=[Put(erp.INBOUND, event_id, bus_event)]))
    ledger.clock.set("2026-10-14T08:59:00Z")  # 47:59 h after it occurred
    assert month_close.watch(ledger.rt, "northwind")["opened"] == 0
    ledger.clock.set("2026-10-14T09:01:00Z")
    assert month_close.watch(ledger.rt, "northwind")["opened"] == 1
    (case,) = _close_cases(ledger)
    # SOP-4.1: "An item that matches no category goes to channel_ops for triage within 8 hours."
    assert (case["category"], case["queue"], case["partner_id"]) == ("subscription_mismatch", "channel_ops", P1)
    assert case["context"]["subscription_id"] == "SUB-NEVER" and case["subject"]["id"] == event_id
    assert {r["clause"] for r in case["reasons"]} >= {"SOP-2.1", "SOP-2.2"}
    ledger.clock.set("2026-10-20T09:01:00Z")
    assert month_close.watch(ledger.rt, "northwind")["opened"] == 0
    assert len(_close_cases(ledger)) == 1
