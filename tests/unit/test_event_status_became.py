"""`GET /v1/events/{event_id}` says what an ERP event became, not only its status.

API.md, resources table, ERP events: "`GET /v1/events/{event_id}` (status and what it became)". The answer gave the
status and its reason; the invoice lines and exceptions the event became were found only from the other side (the
lines' `event_ids`, the exception's subject). Billing already knows them in the commit that settles the event (its
BILLED marker holds `line_ids` and `case_ids`): the event-log entry written in that same commit now names them.
In-memory engine, injected clock.
"""

from __future__ import annotations

from memory_store import Ledger
from revgov.services import events

P1 = "ptr_01JBNWPARTNER0000000000001"  # an active partner of the billing samples
WA = {"country": "US", "region": "US-WA", "postal_code": "98101"}


def test_a_billed_shipment_names_the_invoice_lines_it_became():
    ledger = Ledger("2026-10-06T12:00:00Z")
    shipment = {"partner_id": P1, "order_ref": "SO-NU5-1", "shipped_on": "2026-10-05", "tax_location": WA,
                "lines": [{"sku": "NW-SW-24P", "quantity": 2}, {"sku": "NW-FW-200", "quantity": 1}]}
    billed = ledger.bill("shipment.confirmed", shipment, occurred_at="2026-10-05T10:00:00Z")
    assert billed["status"] == "processed"
    invoice = ledger.invoice(P1, "2026-10")
    mine = [line["line_id"] for line in invoice["lines"] if billed["event_id"] in line["event_ids"]]
    assert len(mine) == 2
    status = events.get(ledger.rt, "northwind", billed["event_id"])
    assert status["status"] == "processed"
    assert status["became"] == {"invoice_lines": mine, "exceptions": []}


def test_an_event_held_as_an_exception_names_the_exception():
    ledger = Ledger("2026-10-06T12:00:00Z")
    unknown = {"partner_id": "ptr_01JBNWPARTNER00000000000ZZ", "order_ref": "SO-NU5-2", "shipped_on": "2026-10-05",
               "tax_location": WA, "lines": [{"sku": "NW-SW-24P", "quantity": 1}]}
    held = ledger.bill("shipment.confirmed", unknown, occurred_at="2026-10-05T10:00:00Z")
    status = events.get(ledger.rt, "northwind", held["event_id"])
    opened = [case["case_id"] for case in ledger.exceptions()
              if (case.get("subject") or {}).get("id") == held["event_id"]]
    assert len(opened) == 1
    assert status["became"] == {"invoice_lines": [], "exceptions": opened}


def test_a_held_event_replayed_still_names_the_exception_it_opened():
    # Found as a new ERP integrator (ninth round): docs/billing.md "`implausible_event` (the event is `failed` and can
    # be replayed once fixed)" and "Replay": `revgov events replay --status failed`. An event replayed while still
    # impossible answered "its exception is already open" and `became: {"exceptions": []}`: the exception the event
    # opened (one per event and category) was no longer named anywhere on the event.
    import copy

    from revgov.services import billing, erp

    ledger = Ledger("2026-10-06T12:00:00Z")
    ahead = {"partner_id": P1, "order_ref": "SO-NU9-FUT", "shipped_on": "2026-10-20", "tax_location": WA,
             "lines": [{"sku": "NW-SW-24P", "quantity": 1}]}
    held = ledger.receive("shipment.confirmed", ahead, occurred_at="2026-10-20T10:00:00Z")
    first = events.get(ledger.rt, "northwind", held["event_id"])
    assert first["status"] == "failed" and len(first["became"]["exceptions"]) == 1
    (opened,) = first["became"]["exceptions"]
    stored = ledger.rt.store.get("northwind", erp.INBOUND, held["event_id"])
    assert stored is not None
    replayed = copy.deepcopy(stored.data)
    replayed["detail"]["replay"] = 1
    billing.bill_erp_event(ledger.rt, replayed)
    again = events.get(ledger.rt, "northwind", held["event_id"])
    assert again["status"] == "failed"
    assert again["became"] == {"invoice_lines": [], "exceptions": [opened]}
    assert opened in again["reason"]
    assert [c["case_id"] for c in ledger.exceptions() if (c.get("subject") or {}).get("id") == held["event_id"]] == [
        opened]  # still one exception per event and category
