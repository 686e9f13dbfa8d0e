"""PA-7.1 MDF-funded purchases and PA-8.1's referred customer through the signed ERP webhook and the event router.

PA-7.1: "Rebates are not earned on taxes, freight, pass-through fees, MDF-funded purchases or orders placed while the
Partner was suspended." PA-8.1: "the Partner earns a referral commission of 5.0% of the Distributor's Invoiced Revenue
from that Customer, net of credit notes, during the 12 months following the first invoice."

A throwaway tenant with northwind's policy and a Platinum partner. 240 MDF-funded switches (NW-SW-24P, USD 1,250.00:
300,000.00) and 100 others (125,000.00) in 2026-08: the Quarter's volume accrual is 1.0% x 125,000.00 = 1,250.00
(PA-7.2); with the funded ones it would be 2.0% x 425,000.00 = 8,500.00. A referral of 100 switches for customer
CUST-STACK-1, shipped last month (by the test clock) and accepted 10 days before (so the 180-day window of PA-8.1
holds whatever day the suite runs), invoiced and paid: the customer's first invoice is recorded (the invoice's
date) and the month's commission accrues 5.0% x 125,000.00 = 6,250.00. Offboarding removes the record with the rest.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

import clock_support
from billing_support import billing_tenant_in, erp_event, wait_until
from revgov.services.rebates import first_invoices
from support import ROOT, assert_problem

pytestmark = pytest.mark.stack

SWITCH = "NW-SW-24P"


@pytest.fixture
def northwind_tenant(api, operator, stack):
    yield from billing_tenant_in(api, operator, stack, policy_of="northwind")


def _program(tenant, partner_id: str, period: str, program_id: str) -> dict | None:
    items = tenant.finance.get("/v1/rebates/accruals", partner_id=partner_id, period=period).json()["items"]
    return next((p for p in (items[0]["programs"] if items else []) if p["program_id"] == program_id), None)


def test_an_mdf_funded_line_accrues_no_rebate_and_a_referred_customers_first_invoice_is_kept(northwind_tenant):
    tenant = northwind_tenant
    (partner,) = json.loads((ROOT / "tests/scenarios/billing/erp-samples.json").read_text())["partners"][:1]
    tenant.add_partners([partner])
    pid = partner["partner_id"]
    lines = [{"sku": SWITCH, "quantity": 240, "mdf_funded": True}, {"sku": SWITCH, "quantity": 100}]
    shipment = erp_event("shipment.confirmed", {"partner_id": pid, "order_ref": "SO-MDF-1", "shipped_on": "2026-08-05",
                                                "lines": lines}, occurred_at="2026-08-05T10:00:00Z")  # fmt: skip

    # bad input refused at the door, nothing billed: a non-boolean flag, a malformed customer id
    bad = json.loads(json.dumps(shipment))
    bad["data"]["lines"][0]["mdf_funded"] = "yes"
    assert_problem(tenant.erp.post(bad), 400)
    bad = json.loads(json.dumps(shipment))
    bad["data"]["customer_id"] = "../CUST"
    assert_problem(tenant.erp.post(bad), 400)
    assert tenant.invoices() == []

    tenant.wait_for([tenant.send(shipment)["event_id"]])
    (august,) = [i for i in tenant.invoices() if i["period"] == "2026-08"]
    assert [line["detail"].get("mdf_funded") for line in august["lines"]] == [True, None]
    wait_until(lambda: (_program(tenant, pid, "2026-Q3", "RBT-VOLUME") or {}).get("amount") == "1250.00", 60,
               what="the volume accrual without the MDF-funded switches")  # fmt: skip
    assert _program(tenant, pid, "2026-Q3", "RBT-VOLUME")["basis_revenue"] == "125000.00"

    today = clock_support.today()
    shipped = today.replace(day=1) - timedelta(days=10)  # last month: an ended month is finalized (SOP-2.2)
    accepted = shipped - timedelta(days=10)
    referral = erp_event("shipment.confirmed", {"partner_id": pid, "order_ref": "SO-REF-1",
                                                "shipped_on": shipped.isoformat(),
                                                "channel": "referral", "customer_id": "CUST-STACK-1",
                                                # PA-8.1: accepted, and first invoiced within 180 days of it
                                                "referral_accepted_on": accepted.isoformat(),
                                                "lines": [{"sku": SWITCH, "quantity": 100}]},
                         occurred_at=f"{shipped.isoformat()}T10:00:00Z")  # fmt: skip
    tenant.wait_for([tenant.send(referral)["event_id"]])
    (september,) = [i for i in tenant.invoices()
                    if i["period"] == shipped.isoformat()[:7] and i.get("billed_to") == "customer"]
    # PA-8.1: "the Distributor [...] invoices the Customer directly": the referral is on the Distributor's invoice to
    # CUST-STACK-1 (on the SQLite engine as on the others), not on the partner's
    assert (september["billed_to"], september["customer_id"]) == ("customer", "CUST-STACK-1")
    final = tenant.finance.post(f"/v1/invoices/{september['invoice_id']}/finalize")
    assert final.status_code == 200, final.text
    issued_on = final.json()["finalized_at"][:10]
    paid = erp_event("invoice.paid", {"partner_id": pid, "invoice_id": september["invoice_id"], "paid_on": issued_on,
                                      "payment_ref": "RCPT-STACK-1"}, occurred_at=f"{issued_on}T00:00:01Z")  # fmt: skip
    tenant.wait_for([tenant.send(paid)["event_id"]])
    # PA-8.2: commissions are paid "within 30 days after the end of the month in which the Customer paid the invoice":
    # the accrual is the payment month's
    paid_month = issued_on[:7]
    wait_until(lambda: (_program(tenant, pid, paid_month, "RBT-REFERRAL") or {}).get("amount") == "6250.00", 60,
               what="the referral commission accrual")  # fmt: skip
    stored = tenant.rt.store.get(tenant.tenant_id, first_invoices.FIRST_INVOICES, f"{pid}#cust-stack-1")
    assert stored is not None
    assert (stored.data["first_invoiced_on"], stored.data["invoice_id"]) == (issued_on, september["invoice_id"])
