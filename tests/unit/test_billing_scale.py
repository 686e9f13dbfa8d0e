"""#17 "Invoices that scale": what billing writes per event stays one size however much the partner's month holds.

SOP-3.4 (northwind): "Usage is billed monthly in arrears" and a month is re-rated as a whole each time more usage is
reported, so one usage line (and its month's usage record) is rewritten by every report of the month. They name the
latest events only (`LINE_EVENT_IDS`); each posting's audit record names its own event, so the trail stays whole.
"""

from __future__ import annotations

import json

from memory_store import Ledger
from revgov.domain.billing.invoices import LINE_EVENT_IDS
from revgov.services import billing

P1 = "ptr_01JBNWPARTNER0000000000001"


def _usage_ledger() -> Ledger:
    ledger = Ledger("2026-10-20T12:00:00Z")
    ledger.bill("subscription.activated", {"partner_id": P1, "subscription_id": "SUB-S1", "sku": "NW-CLOUD-PLATFORM",
                "quantity": 1, "activated_on": "2026-10-01", "order_ref": "SO-S1"},
                occurred_at="2026-10-01T09:00:00Z")  # fmt: skip
    return ledger


def _report(ledger: Ledger, n: int) -> None:
    ledger.bill("usage.reported", {"partner_id": P1, "subscription_id": "SUB-S1", "metric": "cloud_compute",
                "quantity": "10", "usage_date": "2026-10-15"}, occurred_at="2026-10-15T23:30:00Z",
                erp_id=f"ERP-USG-{n}")  # fmt: skip


def _usage_record(ledger: Ledger) -> dict:
    stored = ledger.rt.store.get(ledger.tenant_id, billing.USAGE, f"{P1}#cloud_compute#2026-10")
    assert stored is not None
    return stored.data


def test_a_usage_line_rewritten_by_every_report_stays_one_size():
    ledger = _usage_ledger()
    sizes = []
    for n in range(LINE_EVENT_IDS + 30):
        _report(ledger, n)
        sizes.append(len(json.dumps(_usage_record(ledger))))
    invoice = ledger.invoice(P1, "2026-11")  # billed in arrears, on November's draft (SOP-3.4)
    (line,) = [ln for ln in invoice["lines"] if ln["kind"] == "usage"]
    assert line["detail"]["metered_quantity"] == str(10 * (LINE_EVENT_IDS + 30))  # every report counted
    assert len(line["event_ids"]) == len(line["erp_event_ids"]) == LINE_EVENT_IDS
    assert line["erp_event_ids"][-1] == f"ERP-USG-{LINE_EVENT_IDS + 29}"  # the latest, in order
    assert line["erp_event_ids"][0] == "ERP-USG-30"
    assert len(_usage_record(ledger)["event_ids"]) == LINE_EVENT_IDS
    assert sizes[-1] == sizes[LINE_EVENT_IDS]  # no longer growing with the month's reports


def test_every_report_is_still_named_by_its_own_audit_record():
    ledger = _usage_ledger()
    for n in range(LINE_EVENT_IDS + 5):
        _report(ledger, n)
    audited = {
        entry.data["inputs"].get("erp_event_id")
        for entry in ledger.rt.store.query(ledger.tenant_id, "AUDIT", limit=1000).items
        if entry.data.get("action") == "invoice_lines.posted"
    }
    assert {f"ERP-USG-{n}" for n in range(LINE_EVENT_IDS + 5)} <= audited


def test_the_draft_invoice_header_does_not_grow_with_its_lines():
    # A draft invoice is a header plus line items stored on their own: the header written per shipment keeps a
    # count and a total, never the lines.
    ledger = Ledger("2026-10-20T12:00:00Z")
    sizes = []
    for n in range(300):
        ledger.bill("shipment.confirmed", {"partner_id": P1, "order_ref": f"SO-{n}", "shipped_on": "2026-10-05",
                    "lines": [{"sku": "NW-SW-24P", "quantity": 1}]}, occurred_at="2026-10-05T10:00:00Z")  # fmt: skip
        pointer = ledger.rt.store.get(ledger.tenant_id, billing.INVOICE_KEYS, f"{P1}#2026-10")
        assert pointer is not None
        header = ledger.rt.store.get(ledger.tenant_id, billing.INVOICES, pointer.data["invoice_id"])
        assert header is not None
        sizes.append(len(json.dumps(header.data)))
    assert header.data["line_count"] == 300
    assert max(sizes[10:]) - min(sizes[10:]) <= 4  # digits of the count and the total only
