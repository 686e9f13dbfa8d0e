"""An auditor's black-box billing and SPIFF cases over HTTP, written from Northwind's contracts alone.

A throwaway tenant with northwind's policy; the ERP's events go through the signed webhook and the answers are read
back through /v1/invoices and /v1/rebates/accruals. Dates are fixed in the events (2026-10 and 2026-11), so nothing
depends on the day the test runs.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from billing_support import billing_tenant_in, sample, wait_until, webhook_body
from support import ROOT

pytestmark = pytest.mark.stack

PARTNER = "ptr_01JBNWPARTNER0000000000001"  # tests/scenarios/billing/erp-samples.json: an active platinum partner


@pytest.fixture
def tenant(api: Any, operator: Any, stack: Any) -> Any:
    made = yield from billing_tenant_in(api, operator, stack)
    return made


def _ship(tenant: Any, erp_id: str, lines: list[dict[str, Any]], shipped_on: str = "2026-10-05") -> dict[str, Any]:
    partners = json.loads((ROOT / "tests/scenarios/billing/erp-samples.json").read_text())["partners"]
    tenant.add_partners(partners)
    body = webhook_body(sample("shipment.confirmed"))
    body["id"] = erp_id
    body["occurred_at"] = f"{shipped_on}T14:20:00Z"
    body["data"] = {**body["data"], "lines": lines, "shipped_on": shipped_on, "order_ref": f"SO-{erp_id}"}
    tenant.wait_for([tenant.send(body)["event_id"]])
    (invoice,) = [i for i in tenant.invoices() if i["period"] == shipped_on[:7]]
    return dict(invoice)


def _credit(tenant: Any, invoice_id: str, erp_id: str, amount: str, quantity: int) -> None:
    body = webhook_body(sample("credit_note.issued"))
    body["id"] = erp_id
    body["data"] = {**body["data"], "invoice_id": invoice_id, "line_no": 1, "amount": amount, "quantity": quantity,
                    "prepared_by": "auditor@northwind-erp"}
    tenant.wait_for([tenant.send(body)["event_id"]])


# SOP-2.5: "Credit notes above USD 10,000.00 require approval by a member of the finance queue other than the
# preparer." A credit note of exactly USD 10,000.00 is not above the limit: it posts at once, no approval opened.
# 10 x NW-SW-24P at 1,250.00 = 12,500.00 shipped; 8 switches credited at 1,250.00 = 10,000.00.
def test_sop_2_5_a_credit_note_of_exactly_the_limit_posts_without_approval(tenant):
    october = _ship(tenant, "AUD-SHP-1", [{"sku": "NW-SW-24P", "quantity": 10}])
    assert october["lines"][0]["amount"] == "12500.00"
    _credit(tenant, october["invoice_id"], "AUD-CN-1", "10000.00", 8)
    notes = [x for i in tenant.invoices() for x in i["lines"] if x["kind"] == "credit_note"]
    assert [n["amount"] for n in notes] == ["-10000.00"]
    pending = tenant.finance.get("/v1/approvals", status="pending", queue="finance", limit=50).json()["items"]
    assert [a for a in pending if a["category"] == "credit_note_approval"] == []


# PA-7.5: "All Partners ... earn a sales performance incentive (SPIFF) of USD 40.00 per unit for units of hardware
# Product Family items flagged as SPIFF-eligible in the price list, invoiced in the Quarter and not returned within
# 30 days of shipment." 10 x NW-SRV-R2 (SPIFF-eligible, 5,200.00) shipped 2026-10-05; 1 returned on 2026-11-04 (30
# days after shipment: within 30 days, it earns nothing); 1 returned on 2026-11-05 (31 days: not within, it still
# earns). Units earning: 10 - 1 = 9; SPIFF 9 x 40.00 = 360.00. (One unit per return keeps each credit note at
# 5,200.00, under SOP-2.5's USD 10,000.00 approval limit, so both post at once.)
def test_pa_7_5_units_returned_within_30_days_of_shipment_earn_no_spiff(tenant):
    october = _ship(tenant, "AUD-SHP-2", [{"sku": "NW-SRV-R2", "quantity": 10}])
    for erp_id, returned_on, quantity in (("AUD-RMA-30", "2026-11-04", 1), ("AUD-RMA-31", "2026-11-05", 1)):
        body = webhook_body(sample("return.received"))
        body["id"] = erp_id
        body["occurred_at"] = f"{returned_on}T16:20:00Z"
        body["data"] = {**body["data"], "invoice_id": october["invoice_id"], "line_no": 1, "quantity": quantity,
                        "returned_on": returned_on, "rma_ref": f"RMA-{erp_id}"}
        tenant.wait_for([tenant.send(body)["event_id"]])
    def accrual() -> dict[str, Any]:
        answer = tenant.finance.get("/v1/rebates/accruals", partner_id=PARTNER, period="2026-Q4")
        assert answer.status_code == 200, answer.text
        items = answer.json()["items"]
        return dict(items[0]) if items else {}

    # accruals follow the billed lines asynchronously: wait until the shipment and both returns are counted
    wait_until(lambda: accrual().get("line_count") == 3, 60, what="the shipment and both returns accrued")
    programs = accrual()["programs"]
    (spiff,) = [p for p in programs if p["program_id"] == "RBT-HW-SPIFF"]
    assert (spiff["units"], spiff["amount"]) == (9, "360.00"), spiff
