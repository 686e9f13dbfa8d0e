"""CPA-7.5's return window counted from delivery, through the signed ERP webhook (issue 24, auditor's finding).

CPA-7.5: "Partners earn a SPIFF of EUR 15.00 per unit for devices Product Family items marked SPIFF-eligible in the
price list, invoiced in the Quarter and not returned within 14 days of delivery."

A throwaway tenant with contoso's policy. The ERP confirms 10 laptops (CT-DEV-LAPTOP14, devices, SPIFF-eligible)
shipped 1 Aug 2026 and delivered 5 Aug (`delivered_on`, proof of delivery), and 4 more shipped 25 Sep with no
delivery reported yet. Returns: 2 on 19 Aug (14 days after delivery: within; 18 days after shipment), 3 on 20 Aug
(15 days after delivery: not within, they still earn). SPIFF units 10 - 2 = 8 -> 8 x EUR 15.00 = EUR 120.00; the 4
undelivered units are not invoiced yet (CPA-10.2 "devices are billed on delivery"; reviewer finding 2,
docs/clause-audit.md: they used to be invoiced on the ship day and reported as awaiting delivery), so none awaits.
"""

from __future__ import annotations

import json

import pytest

from billing_support import billing_tenant_in, erp_event, wait_until
from support import ROOT, assert_problem

pytestmark = pytest.mark.stack

LAPTOP = "CT-DEV-LAPTOP14"


@pytest.fixture
def contoso_tenant(api, operator, stack):
    yield from billing_tenant_in(api, operator, stack, policy_of="contoso")


def _spiff(tenant, partner_id: str) -> dict | None:
    items = tenant.finance.get("/v1/rebates/accruals", partner_id=partner_id, period="2026-Q3").json()["items"]
    programs = items[0]["programs"] if items else []
    return next((p for p in programs if p["program_id"] == "RBT-DEVICES-SPIFF"), None)


def test_a_return_within_14_days_of_delivery_takes_the_spiff_back_and_undelivered_units_wait(contoso_tenant):
    tenant = contoso_tenant
    (partner,) = json.loads((ROOT / "tests/scenarios/billing/erp-samples.json").read_text())["partners"][:1]
    partner = {**partner, "tier": "authorized"}
    tenant.add_partners([partner])
    pid = partner["partner_id"]

    def ship(shipped: str, delivered: str | None, quantity: int, order: str) -> dict:
        data = {"partner_id": pid, "order_ref": order, "shipped_on": shipped,
                "lines": [{"sku": LAPTOP, "quantity": quantity}]}  # fmt: skip
        if delivered:
            data["delivered_on"] = delivered
        return erp_event("shipment.confirmed", data, occurred_at=f"{delivered or shipped}T10:00:00Z")

    # bad input, refused at the door (400) or held as implausible, never billed
    bad = ship("2026-08-01", "2026-08-05", 10, "SO-BAD")
    bad["data"]["delivered_on"] = "05/08/2026"
    assert_problem(tenant.erp.post(bad), 400)
    early = tenant.send(ship("2026-08-01", "2026-08-05", 1, "SO-EARLY") | {"occurred_at": "2026-08-02T10:00:00Z"})
    tenant.wait_for([early["event_id"]], statuses=("failed",))
    assert tenant.invoices() == []

    shipped = [tenant.send(ship("2026-08-01", "2026-08-05", 10, "SO-D1")),
               tenant.send(ship("2026-09-25", None, 4, "SO-D2"))]  # fmt: skip
    tenant.wait_for([s["event_id"] for s in shipped])
    (august,) = [i for i in tenant.invoices() if i["period"] == "2026-08"]
    assert august["lines"][0]["detail"]["delivered_on"] == "2026-08-05"
    returns = [
        tenant.send(erp_event("return.received", {"partner_id": pid, "rma_ref": rma, "invoice_id": august["invoice_id"],
                                                  "line_no": 1, "quantity": units, "returned_on": on},
                              occurred_at=f"{on}T16:00:00Z"))
        for units, on, rma in ((2, "2026-08-19", "RMA-D1"), (3, "2026-08-20", "RMA-D2"))
    ]  # fmt: skip
    tenant.wait_for([r["event_id"] for r in returns])

    wait_until(lambda: (_spiff(tenant, pid) or {}).get("amount") == "120.00", 60, what="the SPIFF accrual")
    spiff = _spiff(tenant, pid)
    assert spiff is not None and spiff["units"] == 8
    window = {"days": 14, "from": "delivery", "rule_id": "RBT-DEVICES-SPIFF-RETURN-WINDOW", "clause": "CPA-7.5"}
    assert spiff["detail"]["return_window"] == window
    assert spiff["detail"]["units_awaiting_delivery"] == 0
    assert [i["period"] for i in tenant.invoices()] == ["2026-08"]  # nothing invoiced in September
