"""A contoso device is billed on its delivery, never on the day it shipped (reviewer finding 2, docs/clause-audit.md).
In-memory engine, fixed clock.

CPA-10.2: "Usage-based services are billed in arrears for the previous Billing Month; devices are billed on delivery."
CPA-10.6: "Each billable event, including device delivery, subscription activation and milestone acceptance, must be
invoiced within 48 hours of the event". COP-2.1: "The contractual invoice SLA is 48 hours from the time a device
delivery, subscription activation or milestone acceptance occurred, as recorded by the source system, to the posting
of the corresponding line". PA-10.2 (northwind): "Hardware and perpetual licences are billed on shipment or delivery."

The ERP reports the delivery with `delivered_on` on `shipment.confirmed` (docs/billing.md): a shipment confirmed
before delivery waits; the same shipment sent again, under a new ERP id, with its proof-of-delivery day bills it.
"""

from __future__ import annotations

from typing import Any

from memory_store import Ledger
from revgov.ports import Changes, Put
from revgov.services import billing, erp, tenants

PARTNER = "ptr_01JBCTDVCEWA1T000000000001"
SHIPPED = {"partner_id": PARTNER, "order_ref": "SO-WAIT-1", "shipped_on": "2026-11-30",
           "lines": [{"sku": "CT-DEV-LAPTOP14", "quantity": 2}]}  # fmt: skip


def _ledger(at: str) -> Ledger:
    ledger = Ledger(at, tenant="contoso")
    certs = {"cert-devices-field": {"cert_id": "cert-devices-field", "holder": "A. Waiter", "earned_at": "2025-01-01",
                                    "expires_at": "2027-12-31"}}  # fmt: skip
    partner = {"partner_id": PARTNER, "legal_name": "Wait Devices GmbH", "partner_type": "reseller",
               "status": "active", "tier": "authorized", "country": "DE", "activated_at": "2025-01-01T00:00:00Z",
               "certifications": certs}  # fmt: skip
    ledger.rt.store.commit("contoso", Changes(puts=[Put("PARTNER", PARTNER, partner)]))
    return ledger


def _lines(ledger: Ledger, period: str) -> list[dict[str, Any]]:
    try:
        return [ln for ln in ledger.invoice(PARTNER, period)["lines"] if ln.get("sku") == "CT-DEV-LAPTOP14"]
    except AssertionError:
        return []


def _breaches(ledger: Ledger) -> list[dict[str, Any]]:
    return [c for c in ledger.exceptions() if c["category"] == "invoice_sla_breach"]


def test_cpa_10_2_a_device_shipped_without_a_delivery_day_is_not_billed_on_the_ship_day():
    """"devices are billed on delivery": shipped 30 November, delivery not reported: no line in November nor December,
    and no SLA breach days later (COP-2.1: the clock starts when the delivery occurred)."""
    ledger = _ledger("2026-11-30T18:00:00Z")
    bus_event = {"source": "revgov.erp", "detail-type": "shipment.confirmed",
                 "detail": {"tenant_id": "contoso", "event_id": "evt_01KBWA1TDE11VERY000000000A", "replay": 0,
                            "occurred_at": "2026-11-30T17:00:00Z", "erp_event_id": "ERP-WAIT-1", "data": SHIPPED}}
    tenant, _ = tenants.load_tenant(ledger.rt, "contoso")  # the watch the webhook starts on receipt (SOP-2.1)
    ledger.rt.store.commit("contoso", Changes(puts=erp._sla_watch(tenant, bus_event)))
    answer = billing.bill_erp_event(ledger.rt, bus_event)
    assert answer["status"] == "processed", answer
    assert "CPA-10.2" in answer["reason"] and "delivery" in answer["reason"]
    assert _lines(ledger, "2026-11") == [] and _lines(ledger, "2026-12") == []
    assert ledger.rt.store.get("contoso", erp.SLA_WATCH, "evt_01KBWA1TDE11VERY000000000A") is None
    ledger.clock.set("2026-12-10T00:00:00Z")
    billing.sweep_sla(ledger.rt, "contoso")
    assert _breaches(ledger) == []


def test_cpa_10_2_the_delivery_bills_the_waiting_device_on_the_delivery_day():
    """The delivery reported on 2 December (the shipment sent again with `delivered_on`, a new ERP id): one line of
    2 x EUR 1,150.00 = 2,300.00 (CPA-6.1 price list) on December's invoice, service period the delivery day, citing
    CPA-10.2; posted within 48 hours of the delivery: no breach (COP-2.1)."""
    ledger = _ledger("2026-11-30T18:00:00Z")
    ledger.bill("shipment.confirmed", SHIPPED, occurred_at="2026-11-30T17:00:00Z")
    ledger.clock.set("2026-12-03T09:00:00Z")
    delivered = {**SHIPPED, "delivered_on": "2026-12-02"}
    answer = ledger.bill("shipment.confirmed", delivered, occurred_at="2026-12-03T08:00:00Z")
    assert answer["status"] == "processed", answer
    assert _lines(ledger, "2026-11") == []
    (line,) = _lines(ledger, "2026-12")
    assert (line["amount"], line["service_period"]) == ("2300.00", {"start": "2026-12-02", "end": "2026-12-02"})
    assert "CPA-10.2" in line["clauses"] and "BILL-ON-DELIVERY" in line["rule_ids"]
    assert _breaches(ledger) == []


def test_cop_2_1_the_sla_runs_from_the_delivery_not_from_the_shipment():
    """COP-2.1 "48 hours from the time a device delivery [...] occurred": delivered 2 December (by 23:59:59 at the
    latest), posted 5 December 09:00: 57 hours later, a breach; the shipment itself (30 November) never breached."""
    ledger = _ledger("2026-11-30T18:00:00Z")
    ledger.bill("shipment.confirmed", SHIPPED, occurred_at="2026-11-30T17:00:00Z")
    ledger.clock.set("2026-12-05T09:00:00Z")
    delivered = {**SHIPPED, "delivered_on": "2026-12-02"}
    ledger.bill("shipment.confirmed", delivered, occurred_at="2026-12-05T08:00:00Z")
    (breach,) = _breaches(ledger)
    assert breach["context"]["due_at"] == "2026-12-05T00:00:00.000Z"


def test_pa_10_2_northwind_still_bills_hardware_on_the_day_shipped():
    """PA-10.2 "billed on shipment or delivery": northwind's policy bills on shipment, delivery reported or not."""
    ledger = Ledger("2026-12-02T12:00:00Z")
    shipment = {"partner_id": "ptr_01JBNWPARTNER0000000000001", "order_ref": "SO-NW-SHIP", "shipped_on": "2026-11-30",
                "lines": [{"sku": "NW-SRV-R2", "quantity": 1}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", shipment, occurred_at="2026-11-30T10:00:00Z")["status"] == "processed"
    (line,) = [ln for ln in ledger.invoice("ptr_01JBNWPARTNER0000000000001", "2026-11")["lines"]
               if ln.get("sku") == "NW-SRV-R2"]  # fmt: skip
    assert line["service_period"] == {"start": "2026-11-30", "end": "2026-11-30"}
