"""PA-2.2 / CPA-2.2 over HTTP, on the local stack's demo partners.

PA-2.2: "Before the Partner may quote, order, register deals or accrue any incentive, the following must be received
and verified in the Partner Portal ... Each document is recorded with the date received, the verifier and, where
applicable, its expiry date. A document that has expired is treated as not provided."
CPA-2.2: "No Partner may quote, order, register opportunities or accrue incentives until Contoso has received and
verified ... an expired document counts as missing."

The demo's active partner was onboarded at the demo program start (1 January of the year before the first start,
docs/onboarding.md), recorded as a backfill: it is current today, no approval is pretended, and the sample ERP events
bill for it; an order dated before its activation is held for channel ops (SOP-4.1). The partners waiting for
approval or documents may not quote or register deals.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

import clock_support
from billing_support import ErpSender, sample, wait_until, webhook_body
from support import assert_problem


def _seeded(keys: dict[str, Any], tenant_id: str, status: str) -> dict[str, Any]:
    return next(p for p in keys["tenants"][tenant_id]["partners"] if p["status"] == status)


@pytest.mark.parametrize("tenant_id", ["northwind", "contoso"])
def test_the_active_demo_partner_was_onboarded_at_the_program_start_and_is_current(api, keys, tenant_id):
    tenant = keys["tenants"][tenant_id]
    partner_id = _seeded(keys, tenant_id, "active")["partner_id"]
    staff = api.as_key(tenant["keys"]["channel_ops"]).get(f"/v1/partners/{partner_id}").json()
    recorded = date.fromisoformat(staff["backfill"]["recorded_at"][:10])
    assert staff["activated_at"] == f"{recorded.year - 1}-01-01T09:00:00Z"
    assert staff["status"] == "active" and staff["tier"] is not None
    # no approval is pretended: nobody in Revgov decided it then; the record says who recorded it and when
    assert staff["decision"]["approval_id"] is None and staff["decision"]["by"] == "backfill"
    assert {step["by"] for step in staff["history"]} == {"backfill"}
    assert staff["backfill"]["recorded_by"].startswith("admin:key_")
    # "A document that has expired is treated as not provided": what is on file today is current
    today = clock_support.today()
    for document in staff["documents"].values():
        assert document["recorded_by"] == "backfill" and date.fromisoformat(document["issued_at"]) <= today
        assert document["expires_at"] is None or date.fromisoformat(document["expires_at"]) >= today, document
    for certification in staff["certifications"].values():
        assert date.fromisoformat(certification["expires_at"]) >= today, certification
    # the partner reads its own record with the recorder as a team, never a staff key id
    own = api.as_key(tenant["keys"][partner_id]).get(f"/v1/partners/{partner_id}").json()
    assert own["backfill"]["recorded_by"] == "admin"
    assert api.as_key(tenant["admin_key"]).get("/v1/audit/verify").json()["valid"] is True


def _shipment(partner_id: str, day: date, n: str) -> dict[str, Any]:
    event = webhook_body(sample("shipment.confirmed"))
    return {**event, "id": f"NW-ERP-DEMO-{n}-{uuid.uuid4().hex[:8]}", "occurred_at": f"{day.isoformat()}T10:00:00Z",
            "data": {**event["data"], "partner_id": partner_id, "shipped_on": day.isoformat(),
                     "order_ref": f"SO-DEMO-{n}"}}


def test_the_sample_shipment_bills_for_the_demo_partner_and_one_before_its_activation_is_held(api, keys, stack):
    """The sample ERP shipment, two weeks back, bills for the demo partner (activated long before); the same dated
    the day before its activation is held (PA-2.2), one exception for channel_ops (SOP-4.1
    `onboarding_document_missing_or_expired`), no line."""
    tenant = keys["tenants"]["northwind"]
    partner_id = _seeded(keys, "northwind", "active")["partner_id"]
    admin = api.as_key(tenant["admin_key"])
    activated = date.fromisoformat(admin.get(f"/v1/partners/{partner_id}").json()["activated_at"][:10])
    erp = ErpSender(api.base_url, "northwind", tenant["webhook_secret"])
    sent = {}
    for n, day in (("recent", clock_support.today() - timedelta(days=14)), ("early", activated - timedelta(days=1))):
        answer = erp.post(_shipment(partner_id, day, n))
        assert answer.status_code == 202, answer.text
        sent[n] = answer.json()["event_id"]

    def status(event_id: str) -> str | None:
        return admin.get(f"/v1/events/{event_id}").json().get("status")

    wait_until(lambda: status(sent["recent"]) == "processed" and status(sent["early"]) == "failed", 30, what=sent)
    held = [e for e in admin.get("/v1/exceptions", status="open", limit=200).json()["items"]
            if e.get("subject", {}).get("id") == sent["early"]]
    assert [(e["category"], e["queue"]) for e in held] == [("onboarding_document_missing_or_expired", "channel_ops")]
    assert "PA-2.2" in str(held[0]["reasons"])
    # the recent one is billed (a line; received two weeks late, SOP-2.1's invoice SLA may note that), never held
    assert all(e["category"] != "onboarding_document_missing_or_expired"
               for e in admin.get("/v1/exceptions", status="open", limit=200).json()["items"]
               if e.get("subject", {}).get("id") == sent["recent"])
    finance = api.as_key(tenant["keys"]["finance"])
    recent = clock_support.today() - timedelta(days=14)
    drafts = finance.get("/v1/invoices", status="draft", partner_id=partner_id, period=recent.strftime("%Y-%m")).json()
    lines = [line for i in drafts["items"] for line in finance.get(f"/v1/invoices/{i['invoice_id']}").json()["lines"]]
    assert [line["sku"] for line in lines if sent["recent"] in line["event_ids"]] == ["NW-SW-24P", "NW-FW-200"]
    assert not any(sent["early"] in line["event_ids"] for line in lines)


@pytest.mark.parametrize("status", ["pending_approval", "pending_documents"])
def test_a_partner_not_yet_onboarded_may_not_quote_or_register_a_deal(api, keys, status):
    """PA-2.2: "Before the Partner may quote, order, register deals ..." the documents must be verified: the demo
    partner waiting for approval (or for documents) is denied a quote and refused a deal registration, and neither
    is an approval to chase."""
    tenant = keys["tenants"]["northwind"]
    partner_id = _seeded(keys, "northwind", status)["partner_id"]
    sales = api.as_key(tenant["keys"]["sales"])
    # the pending-documents demo partner is a Regional Reseller: its quotes name the customer's country (PA-2.6)
    customer = {"id": f"CUST-{uuid.uuid4().hex[:8]}", "name": "Early Customer", "country": "US"}
    quote = {"partner_id": partner_id, "quote_ref": f"Q-{uuid.uuid4().hex[:8]}", "customer": customer,
             "lines": [{"line_id": "1", "sku": "NW-SW-24P", "quantity": 1, "discount_percent": "0.00"}],
             "terms": {"payment_days": 30}}
    decided = sales.post("/v1/pricing/check", quote).json()
    assert decided["outcome"] == "deny", decided
    assert {"rule_id": "PRC-PARTNER-ONBOARDED", "clause": "PA-2.2"} in [
        {k: r.get(k) for k in ("rule_id", "clause")} for r in decided["reasons"]], decided["reasons"]
    close = (clock_support.today() + timedelta(days=60)).isoformat()
    deal = {"partner_id": partner_id, "customer": {**customer, "contact": "Dana Ortiz"},
            "family": "networking", "estimated_value": "1000.00",
            "expected_close": close}
    refused = assert_problem(sales.post("/v1/deals", deal), 422)
    assert any(f"is {status}" in r["message"] for r in refused["reasons"]), refused

