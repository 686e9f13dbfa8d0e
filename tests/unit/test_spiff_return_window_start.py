"""Where the SPIFF's return window starts (issue 24, auditor's finding): at delivery for contoso, at shipment for
northwind, as each contract says. Expectations are computed by hand from the clauses, quoted.

CPA-7.5: "Partners earn a SPIFF of EUR 15.00 per unit for devices Product Family items marked SPIFF-eligible in the
price list, invoiced in the Quarter and not returned within 14 days of delivery."
PA-7.5: "... a sales performance incentive (SPIFF) of USD 40.00 per unit for units of hardware Product Family items
flagged as SPIFF-eligible in the price list, invoiced in the Quarter and not returned within 30 days of shipment."

The ERP reports the delivery day (proof of delivery) as `delivered_on` on shipment.confirmed. A unit whose delivery
is not known at rating has not earned under CPA-7.5: whether it is "not returned within 14 days of delivery" cannot
be known before it is delivered. The in-memory runtime and a fixed clock: nothing depends on today's date.
"""

from __future__ import annotations

import pytest

from memory_store import Ledger
from rebate_runs import settle_approved
from revgov.domain.access import Principal, Role
from revgov.domain.errors import MalformedRequest
from revgov.services import rebates

P1 = "ptr_01JBNWPARTNER0000000000001"
LAPTOP = "CT-DEV-LAPTOP14"  # contoso devices, SPIFF-eligible
SERVER = "NW-SRV-R2"  # northwind hardware, SPIFF-eligible


def _ship(ledger: Ledger, sku: str, quantity: int, shipped: str, order: str, delivered: str | None) -> dict:
    ledger.clock.set(f"{delivered or shipped}T12:00:00Z")
    data = {"partner_id": P1, "order_ref": order, "shipped_on": shipped, "lines": [{"sku": sku, "quantity": quantity}]}
    if delivered:
        data["delivered_on"] = delivered
    answer = ledger.bill("shipment.confirmed", data, occurred_at=f"{delivered or shipped}T10:00:00Z")
    assert answer["status"] == "processed", answer
    return ledger.invoice(P1, shipped[:7])


def _return(ledger: Ledger, invoice: dict, units: int, on: str, rma: str) -> None:
    ledger.clock.set(f"{on}T17:00:00Z")
    data = {"partner_id": P1, "rma_ref": rma, "invoice_id": invoice["invoice_id"], "line_no": 1, "quantity": units,
            "returned_on": on}  # fmt: skip
    assert ledger.bill("return.received", data, occurred_at=f"{on}T16:00:00Z")["status"] == "processed"


def _spiff(ledger: Ledger, program_id: str) -> dict:
    ledger.clock.set("2026-10-05T09:00:00Z")
    finance = Principal(ledger.tenant_id, Role.FINANCE, "key_fin")
    _, settled = settle_approved(ledger.rt, finance, {"period": "2026-Q3", "run": 1})
    statement = rebates.get_settlement(ledger.rt, finance, settled["settlement_id"], P1)["statement"]
    return next(ln for ln in statement["lines"] if ln["program_id"] == program_id)


def test_cpa_7_5_counts_the_14_days_from_delivery_not_shipment():
    # CPA-7.5 "not returned within 14 days of delivery". 10 laptops shipped 1 Aug 2026, delivered 5 Aug.
    # 2 back on 19 Aug: 14 days after delivery (within; 18 days after shipment, so counting from shipment would pay).
    # 3 back on 20 Aug: 15 days after delivery (not within: they still earn).
    # SPIFF units 10 - 2 = 8 -> 8 x EUR 15.00 = EUR 120.00.
    ledger = Ledger("2026-08-01T10:00:00Z", tenant="contoso")
    august = _ship(ledger, LAPTOP, 10, "2026-08-01", "SO-D1", "2026-08-05")
    assert august["lines"][0]["detail"]["delivered_on"] == "2026-08-05"
    _return(ledger, august, 2, "2026-08-19", "RMA-D1")
    _return(ledger, august, 3, "2026-08-20", "RMA-D2")
    spiff = _spiff(ledger, "RBT-DEVICES-SPIFF")
    assert spiff["amount"] == "120.00"


def test_cpa_7_5_units_not_yet_delivered_have_not_earned():
    # CPA-7.5: a unit earns if "invoiced in the Quarter and not returned within 14 days of delivery"; CPA-10.2
    # "devices are billed on delivery". 6 laptops shipped and delivered 3 Aug (none returned): 6 units; 4 shipped
    # 25 Sep with no delivery reported by the end of the Quarter are not invoiced yet (changed for reviewer finding
    # 2, docs/clause-audit.md: they used to be invoiced on the ship day and held), so not counted.
    # SPIFF 6 x EUR 15.00 = EUR 90.00.
    ledger = Ledger("2026-08-03T10:00:00Z", tenant="contoso")
    _ship(ledger, LAPTOP, 6, "2026-08-03", "SO-D2", "2026-08-03")
    ledger.clock.set("2026-09-25T12:00:00Z")
    waiting = {"partner_id": P1, "order_ref": "SO-D3", "shipped_on": "2026-09-25",
               "lines": [{"sku": LAPTOP, "quantity": 4}]}  # fmt: skip
    assert "delivered_on" in ledger.bill("shipment.confirmed", waiting, occurred_at="2026-09-25T10:00:00Z")["reason"]
    with pytest.raises(AssertionError, match="no invoice"):  # nothing else was billed in September
        ledger.invoice(P1, "2026-09")
    spiff = _spiff(ledger, "RBT-DEVICES-SPIFF")
    assert spiff["amount"] == "90.00"


def test_pa_7_5_still_counts_the_30_days_from_shipment_whatever_the_delivery_day():
    # PA-7.5 "not returned within 30 days of shipment". 10 servers shipped 3 Aug 2026, delivered 10 Aug.
    # 1 back on 2 Sep: 30 days after shipment (within). 2 back on 3 Sep: 31 days after shipment (not within), though
    # only 24 days after delivery. SPIFF units 10 - 1 = 9 -> 9 x USD 40.00 = USD 360.00.
    ledger = Ledger("2026-08-03T10:00:00Z")
    august = _ship(ledger, SERVER, 10, "2026-08-03", "SO-N1", "2026-08-10")
    _return(ledger, august, 1, "2026-09-02", "RMA-N1")
    _return(ledger, august, 2, "2026-09-03", "RMA-N2")
    assert _spiff(ledger, "RBT-HW-SPIFF")["amount"] == "360.00"


def test_each_tenant_cites_where_its_window_starts():
    from revgov.domain.rebates.policy import compile_rebates
    from revgov.tenant_files import load_tenant_file
    from support import ROOT

    def program(tenant: str, program_id: str):  # type: ignore[no-untyped-def]
        config = load_tenant_file(ROOT / "tenants" / tenant / "tenant.yaml")
        return next(p for p in compile_rebates(config["policy"]).programs if p.program_id == program_id)

    contoso, northwind = program("contoso", "RBT-DEVICES-SPIFF"), program("northwind", "RBT-HW-SPIFF")
    assert (contoso.return_window_days, contoso.return_window_from, contoso.return_window_rule.clause) == (
        14, "delivery", "CPA-7.5")  # fmt: skip
    assert (northwind.return_window_days, northwind.return_window_from, northwind.return_window_rule.clause) == (
        30, "shipment", "PA-7.5")  # fmt: skip


@pytest.mark.parametrize(
    ("delivered", "occurred", "why"),
    [
        ("2026-07-31", "2026-08-05T10:00:00Z", "before shipped_on"),  # delivered before it shipped
        ("2026-08-06", "2026-08-05T10:00:00Z", "after the event itself occurred"),  # reported before it happened
    ],
)
def test_an_impossible_delivery_day_is_held_not_billed(delivered, occurred, why):
    ledger = Ledger("2026-08-05T12:00:00Z", tenant="contoso")
    data = {"partner_id": P1, "order_ref": "SO-X", "shipped_on": "2026-08-01", "delivered_on": delivered,
            "lines": [{"sku": LAPTOP, "quantity": 1}]}  # fmt: skip
    answer = ledger.bill("shipment.confirmed", data, occurred_at=occurred)
    assert answer["status"] == "failed" and why in answer["reason"], answer
    assert [c["category"] for c in ledger.exceptions()] == ["implausible_event"]


def test_a_malformed_delivery_day_is_refused_at_the_door():
    from revgov import schemas

    body = {"id": "ERP-1", "type": "shipment.confirmed", "occurred_at": "2026-08-05T10:00:00Z",
            "data": {"partner_id": P1, "order_ref": "SO-X", "shipped_on": "2026-08-01", "delivered_on": "2026-13-01",
                     "lines": [{"sku": LAPTOP, "quantity": 1}]}}  # fmt: skip
    with pytest.raises(MalformedRequest):
        schemas.validate("events/erp-event.schema.json", body, what="ERP event")
