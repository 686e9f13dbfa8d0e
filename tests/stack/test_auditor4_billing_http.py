"""Auditor 4: billing over HTTP with signed ERP events, both tenants' policies, figures computed by hand from the
clauses. A throwaway tenant per test; events are dated 2026-10 / 2026-11 (fixed, in the past), so nothing depends on
the day the test runs.
"""

from __future__ import annotations

from typing import Any

import pytest

import clock_support
from billing_support import billing_tenant_in, erp_event, usage_invoice_month

pytestmark = pytest.mark.stack

CT_PARTNER = "ptr_01JBCTAVD4HTTP00000000000A"
NW_PARTNER = "ptr_01JBNWPARTNER0000000000001"
CT_FAMILY_CERTS = ("cert-collab-associate", "cert-secops-analyst", "cert-data-engineer", "cert-devices-field")
CT_CERTS = {c: {"cert_id": c, "holder": "A. Auditor", "earned_at": "2025-01-01", "expires_at": "2029-12-31"}
            for c in CT_FAMILY_CERTS}  # fmt: skip


def _with_partner(tenants: Any, partner: dict[str, Any]) -> Any:
    made = next(tenants)
    made.add_partners([partner])
    yield made
    for _ in tenants:  # offboard it afterwards
        pass


@pytest.fixture
def contoso(api: Any, operator: Any, stack: Any) -> Any:
    partner = {"partner_id": CT_PARTNER, "legal_name": "Auditor HTTP GmbH", "partner_type": "msp", "status": "active",
               "tier": "elite", "country": "DE", "activated_at": "2025-01-01T00:00:00Z",
               "certifications": CT_CERTS}  # fmt: skip
    yield from _with_partner(billing_tenant_in(api, operator, stack, policy_of="contoso"), partner)


@pytest.fixture
def northwind(api: Any, operator: Any, stack: Any) -> Any:
    yield from _with_partner(billing_tenant_in(api, operator, stack), {
        "partner_id": NW_PARTNER, "legal_name": "Auditor NW Inc", "partner_type": "msp", "status": "active",
        "tier": "platinum", "country": "US"})  # fmt: skip


def _lines(tenant: Any, period: str, sku: str) -> list[dict[str, Any]]:
    return [ln for i in tenant.invoices() if i["period"] == period for ln in i["lines"] if ln.get("sku") == sku]


def test_cop_3_2_and_3_3_usage_sent_signed_is_rated_per_the_tables_on_next_months_invoice(contoso: Any) -> None:
    # COP-3.2: 25,001 DPU = 500 x 0.40 + 4,500 x 0.32 + 20,000 x 0.25 + 1 x 0.18 = 200.00 + 1,440.00 + 5,000.00 +
    # 0.18 = EUR 6,640.18, sent as two daily records of 12,500.5 DPU (summed to 25,001 first, COP-3.1, rated once,
    # COP-3.4). COP-3.1: storage is "the average stored volume over the month" from daily records: 10,000.2 GB stored
    # on 30 November only is 10,000.2 / 30 = 333.34 GB-month, rounded up to 334 = 334 x 0.05 = EUR 16.70 (COP-3.3).
    # CPA-10.2: "Usage-based services are billed in arrears for the previous Billing Month": November's usage is on
    # the December invoice, service period November. CPA-10.2 also: the workspace activated on 1 November is charged
    # the whole month in advance (EUR 600.00).
    activation = erp_event("subscription.activated", {"partner_id": CT_PARTNER, "subscription_id": "SUB-HTTP",
                           "sku": "CT-DATA-WORKSPACE", "quantity": 1, "activated_on": "2026-11-01",
                           "order_ref": "SO-HTTP"}, occurred_at="2026-11-01T08:00:00Z")  # fmt: skip
    contoso.wait_for([contoso.send(activation)["event_id"]])
    usage = [
        erp_event("usage.reported", {"partner_id": CT_PARTNER, "subscription_id": "SUB-HTTP", "metric": metric,
                  "quantity": quantity, "usage_date": day}, occurred_at=f"{day}T23:00:00Z")
        for metric, quantity, day in (("data_processing", "12500.5", "2026-11-10"),
                                      ("data_processing", "12500.5", "2026-11-11"),
                                      ("data_storage", "10000.2", "2026-11-30"))
    ]
    response = contoso.erp.post({"events": usage})
    assert response.status_code == 202, response.text
    contoso.wait_for([r["event_id"] for r in response.json()["results"]])
    # COP-3.1: "Records received up to 3 calendar days after month end are rated with that month; later records are
    # rated the following month as adjustments carrying their original service period": sent now (after 3 December
    # whenever the suite runs), November is rated by the next run, on its invoice (COP-7.1), service period November.
    billed = usage_invoice_month("2026-11", clock_support.now_iso(), "contoso")
    late = billed != "2026-12"
    (dpu,) = _lines(contoso, billed, "CT-DATA-DPU")
    kind = "usage_adjustment" if late else "usage"  # COP-3.1 "rated the following month as adjustments"
    assert (dpu["kind"], dpu["quantity"], dpu["amount"]) == (kind, "25001", "6640.18")
    assert dpu["service_period"] == {"start": "2026-11-01", "end": "2026-11-30"}
    (storage,) = _lines(contoso, billed, "CT-DATA-STORAGE")
    assert (storage["quantity"], storage["amount"]) == ("334", "16.70")
    assert all(("COP-3.1" in x["clauses"]) is late for x in (dpu, storage))
    (workspace,) = _lines(contoso, "2026-11", "CT-DATA-WORKSPACE")
    assert workspace["amount"] == "600.00"
    (usage_invoice,) = [i for i in contoso.invoices() if i["period"] == billed]
    assert usage_invoice["currency"] == "EUR"  # CPA-1.3: "All amounts are in euro (EUR)."


@pytest.mark.parametrize(
    ("field", "value"),
    [("quantity", "-1"), ("quantity", "1e3"), ("quantity", "1.0000001"), ("quantity", 5), ("usage_date", "2026-11-31"),
     ("metric", "")],
)
def test_bad_usage_records_are_refused_whole_and_change_nothing(contoso: Any, field: str, value: Any) -> None:
    # erp-event schema: a metered quantity is a decimal string of up to 6 places, never a JSON number; a real day.
    data = {"partner_id": CT_PARTNER, "subscription_id": "SUB-HTTP", "metric": "data_processing",
            "quantity": "10", "usage_date": "2026-11-10", field: value}  # fmt: skip
    response = contoso.erp.post(erp_event("usage.reported", data, occurred_at="2026-11-10T23:00:00Z"))
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert any(f"/data/{field}" in e["path"] for e in response.json()["errors"]), response.json()
    assert contoso.invoices() == []


def test_sop_2_1_a_shipment_recorded_days_after_it_shipped_is_an_invoice_sla_breach(northwind: Any) -> None:
    # SOP-2.1: "within 48 hours of the time the event occurred, as recorded by the source system, not the time it was
    # received ... at 48 hours it raises an invoice_sla_breach exception." SOP-4.1: invoice_sla_breach, finance, 4 h.
    # Shipped 2026-10-05, the ERP records it 2026-10-09: the line was due by 2026-10-08 00:00 at the latest.
    # 2 x NW-SW-24P at 1,250.00 = 2,500.00 on October's invoice, service period the ship day (PA-10.2).
    body = erp_event("shipment.confirmed", {"partner_id": NW_PARTNER, "order_ref": "SO-A4-LATE",
                     "shipped_on": "2026-10-05", "lines": [{"sku": "NW-SW-24P", "quantity": 2}]},
                     occurred_at="2026-10-09T10:00:00Z")  # fmt: skip
    northwind.wait_for([northwind.send(body)["event_id"]])
    (line,) = _lines(northwind, "2026-10", "NW-SW-24P")
    assert (line["amount"], line["service_period"]) == ("2500.00", {"start": "2026-10-05", "end": "2026-10-05"})
    breaches = [c for c in northwind.exceptions() if c["category"] == "invoice_sla_breach"]
    assert len(breaches) == 1 and breaches[0]["queue"] == "finance"


@pytest.mark.parametrize(
    ("detail_type", "field", "value"),
    [("shipment.confirmed", "lines/0/discount_percent", "100"),
     ("shipment.confirmed", "lines/0/discount_percent", "12.345"),
     ("shipment.confirmed", "lines/0/quantity", 0),
     ("shipment.confirmed", "shipped_on", "2026-02-30"),
     ("service.completed", "sow_value", "0.00"),
     ("service.completed", "sow_value", "1000.001"),
     ("service.completed", "accepted_on", "2026-10-32")],
)
def test_bad_billable_events_are_refused_whole_naming_the_field(northwind: Any, detail_type: str, field: str,
                                                                 value: Any) -> None:
    # A discount is "below 100" with at most 2 places; a quantity is at least 1; money has 2 places and is positive;
    # days are real days. Refused 400 problem+json naming the field; no invoice is opened.
    data: dict[str, Any] = (
        {"partner_id": NW_PARTNER, "order_ref": "SO-A4-BAD", "shipped_on": "2026-10-05",
         "lines": [{"sku": "NW-SW-24P", "quantity": 1}]}
        if detail_type == "shipment.confirmed"
        else {"partner_id": NW_PARTNER, "sow_ref": "SOW-A4-BAD", "service": "deployment", "family": "networking",
              "milestone": "kickoff", "sow_value": "1000.00", "accepted_on": "2026-10-05"}
    )  # fmt: skip
    target, *rest = field.split("/")
    if rest:
        data[target][int(rest[0])][rest[1]] = value
    else:
        data[target] = value
    response = northwind.erp.post(erp_event(detail_type, data, occurred_at="2026-10-05T10:00:00Z"))
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert any(f"/data/{field}" in e["path"] for e in response.json()["errors"]), response.json()
    assert northwind.invoices() == []
