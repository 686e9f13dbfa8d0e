"""Red team, ninth round: what an ERP (or whoever holds its signing secret) can bill twice through the
duplicate-shipment check that landed in 1.44 (`shipment_ref`, PA-10.1 / CPA-10.1).

PA-10.1: "Each invoice line identifies the billable event (shipment, activation, subscription period, usage, milestone
or adjustment), the service period where applicable, the order reference and the Product Family." The contract of the
ERP event (schemas/events/shipment.confirmed.schema.json, `shipment_ref`): "A shipment is billed once whatever ERP id it
comes under: known by partner, order_ref and shipment_ref, or without shipment_ref by shipped_on and its SKUs and
quantities [...]. Parts of a split shipment carry different shipment_refs, or differ in day or quantities; the same
shipment sent again (other than with its delivered_on) is not billed again"; `lines`: "What shipped, one entry per
SKU". docs/billing.md: an ERP that learns the delivery "sends the shipment again, under a new ERP id [...] with the same
order_ref and its delivered_on". PA-6.1's price list: NW-SRV-R2 USD 5,200.00, NW-FW-200 USD 3,400.00.

Each test failed before its fix (the second event was billed: 27,600.00 instead of 13,800.00). A fixed clock; the
in-memory runtime (tests/memory_store.Ledger), as tests/unit/test_shipment_billed_once.py.
"""

from __future__ import annotations

from memory_store import Ledger

PARTNER = "ptr_01JBNWPARTNER0000000000001"
ONCE = "13800.00"  # 2 x 5,200.00 + 1 x 3,400.00


def _shipment(**more: object) -> dict:
    return {"partner_id": PARTNER, "order_ref": "SO-RT9-1", "shipped_on": "2026-10-20",
            "lines": [{"sku": "NW-SRV-R2", "quantity": 2}, {"sku": "NW-FW-200", "quantity": 1}], **more}  # fmt: skip


def _send(ledger: Ledger, data: dict, erp_id: str, occurred_at: str = "2026-10-20T15:00:00Z") -> dict:
    return ledger.receive("shipment.confirmed", data, occurred_at=occurred_at, erp_id=erp_id)


def _october(ledger: Ledger) -> str:
    return str(ledger.invoice(PARTNER, "2026-10")["total"])


def _duplicates(ledger: Ledger) -> list[dict]:
    return [e for e in ledger.exceptions() if e["category"] == "duplicate_shipment"]


def test_the_delivery_report_naming_its_delivery_note_bills_nothing_more():
    """The ERP confirmed the shipment at goods issue without a delivery note number and reports the delivery with it
    (`delivered_on` and `shipment_ref`): the same shipment (same order, day, SKUs and quantities; it carries no
    *different* shipment_ref, the first carried none). The report was keyed on the ref alone, found no shipment and
    billed every line a second time."""
    ledger = Ledger("2026-10-23T16:00:00Z")
    assert _send(ledger, _shipment(), "NW-ERP-RT9-DLV-1")["status"] == "processed"
    report = _send(ledger, _shipment(delivered_on="2026-10-22", shipment_ref="DN-RT9-1"), "NW-ERP-RT9-DLV-2",
                   occurred_at="2026-10-22T18:00:00Z")
    assert report["status"] == "processed", report
    assert _october(ledger) == ONCE and not _duplicates(ledger)
    # the report again, under its ref: a repeat of the same delivery note, held
    again = _send(ledger, _shipment(delivered_on="2026-10-22", shipment_ref="DN-RT9-1"), "NW-ERP-RT9-DLV-3",
                  occurred_at="2026-10-22T18:00:00Z")
    assert again["status"] == "failed", again
    assert _october(ledger) == ONCE and len(_duplicates(ledger)) == 1


def test_the_same_shipment_sent_again_with_its_ref_added_is_held():
    ledger = Ledger("2026-10-20T16:00:00Z")
    assert _send(ledger, _shipment(), "NW-ERP-RT9-ADD-1")["status"] == "processed"
    second = _send(ledger, _shipment(shipment_ref="DN-RT9-2"), "NW-ERP-RT9-ADD-2")
    assert second["status"] == "failed" and "NW-ERP-RT9-ADD-1" in second["reason"], second
    assert _october(ledger) == ONCE and len(_duplicates(ledger)) == 1


def test_the_same_shipment_sent_again_without_its_ref_is_held():
    """The other way round: a ref-less repeat of a shipment first sent with its delivery note number carries no other
    ref and differs neither in day nor in quantities, so it is no other part of the order."""
    ledger = Ledger("2026-10-20T16:00:00Z")
    assert _send(ledger, _shipment(shipment_ref="DN-RT9-3"), "NW-ERP-RT9-DROP-1")["status"] == "processed"
    second = _send(ledger, _shipment(), "NW-ERP-RT9-DROP-2")
    assert second["status"] == "failed" and "NW-ERP-RT9-DROP-1" in second["reason"], second
    assert _october(ledger) == ONCE and len(_duplicates(ledger)) == 1
    # parts that do carry their own refs are still billed part by part (test_shipment_billed_once)
    assert _send(ledger, _shipment(shipment_ref="DN-RT9-4"), "NW-ERP-RT9-DROP-3")["status"] == "processed"
    assert _october(ledger) == "27600.00"


def test_one_sku_spread_over_two_lines_is_the_same_shipment():
    """`lines`: "one entry per SKU"; the identity is "its SKUs and quantities": 2 units of NW-SRV-R2 sent as 1 + 1
    shipped the same units on the same day. Keyed on the list of lines as sent, it was another shipment and billed."""
    ledger = Ledger("2026-10-20T16:00:00Z")
    assert _send(ledger, _shipment(), "NW-ERP-RT9-SPLIT-1")["status"] == "processed"
    spread = _shipment(lines=[{"sku": "NW-SRV-R2", "quantity": 1}, {"sku": "NW-FW-200", "quantity": 1},
                              {"sku": "NW-SRV-R2", "quantity": 1}])  # fmt: skip
    second = _send(ledger, spread, "NW-ERP-RT9-SPLIT-2")
    assert second["status"] == "failed", second
    assert _october(ledger) == ONCE and len(_duplicates(ledger)) == 1
