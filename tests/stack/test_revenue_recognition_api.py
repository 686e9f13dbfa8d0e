"""Revenue recognition over HTTP: `GET /v1/revenue/recognition` and `GET /v1/invoices/{id}/recognition` on the running
stack, from the catalog's ERP samples billed through the signed webhook.

IFRS 15.31 (ASC 606-10-25-23): revenue is recognised "when (or as) the entity satisfies a performance obligation by
transferring a promised good or service ... to a customer". The samples (tests/scenarios/billing/erp-samples.json):
October's invoice of partner 1 bills two shipments on 5 October (5,000.00 + 3,400.00, control transfers on shipment:
PA-10.2 "Hardware ... billed on shipment or delivery"), the subscription activated on 10 October (220.00, ratably over
10-31 October) less its cancellation credit (-110.00 over 21-31 October) and a milestone accepted on 22 October
(5,000.00); partner 2's an overage of support hours worked on 28 October (375.00). October's usage (1,220.00) is billed
later: PA-10.2 "Usage-based services are billed in arrears for the previous Billing Month", on November's invoice when
received by SOP-3.1's cut-off, and otherwise (the suite sends it when it runs) "rated in the next run as an adjustment
carrying [its] original service period" (`usage_invoice_month`); it was consumed, and is earned, in October --
unbilled (a contract asset) at October's end and until the month that bills it.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

import clock_support
from billing_support import billing_tenant_in, erp_event, sample, usage_invoice_month, webhook_body
from support import ROOT, assert_problem

pytestmark = pytest.mark.stack

SAMPLES = json.loads((ROOT / "tests/scenarios/billing/erp-samples.json").read_text())
PARTNER_1, PARTNER_2 = (p["partner_id"] for p in SAMPLES["partners"][:2])
PATH = "/v1/revenue/recognition"


@pytest.fixture
def billed(api, operator, stack):
    """A tenant with northwind's policy and the six billing samples billed."""
    for tenant in billing_tenant_in(api, operator, stack):
        tenant.add_partners(SAMPLES["partners"])
        sent = [tenant.send(webhook_body(sample(name))) for name in SAMPLES["samples"]]
        tenant.wait_for([s["event_id"] for s in sent])
        yield tenant


def _usage_month() -> str:
    """The invoice month October's usage sample went on, sent when the suite runs (SOP-3.1 cut-off)."""
    return usage_invoice_month("2026-10", clock_support.now_iso())


def _all_items(api, **query):
    items, cursor = [], None
    while True:
        page = api.get(PATH, limit=2, **query, **({"cursor": cursor} if cursor else {})).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def test_october_recognises_what_was_delivered_in_october_whatever_month_bills_it(billed):
    october = billed.finance.get(PATH, period="2026-10")
    assert october.status_code == 200, october.text
    body = october.json()
    # 5,000.00 + 3,400.00 + 220.00 - 110.00 + 5,000.00 + 375.00 + 1,220.00 (usage consumed in October)
    assert body["recognised"] == "15105.00" and body["currency"] == "USD"
    assert body["billed"] == "13885.00"  # October's invoices: 13,510.00 and 375.00
    assert body["opening"] == {"deferred": "0.00", "unbilled": "0.00"}
    assert body["closing"] == {"deferred": "0.00", "unbilled": "1220.00"}
    items = _all_items(billed.finance, period="2026-10")
    assert sum(Decimal(i["recognised"]) for i in items) == Decimal("15105.00")  # the pages add up to the total
    assert len({i["line_id"] for i in items}) == len(items) == 7
    # SOP-3.1: usage received after the cut-off is "rated in the next run as an adjustment carrying [its] original
    # service period": the October sample sent now is usage on November's invoice by 5 November, an adjustment later
    kind = "usage" if _usage_month() == "2026-11" else "usage_adjustment"
    methods = {i["kind"]: i["method"]["name"] for i in items}
    assert methods == {
        "shipment": "point_in_time", "subscription": "over_time", "credit": "over_time", "milestone": "point_in_time",
        "support_overage": "point_in_time", kind: "as_consumed",
    }  # fmt: skip
    (usage,) = [i for i in items if i["kind"] == kind]
    assert usage["invoice_period"] == _usage_month()
    assert usage["balance"] == {"opening": "0.00", "closing": "-1220.00"}


def test_the_month_that_bills_october_usage_and_a_quarter_sums_its_months(billed):
    month = _usage_month()  # November's when received by the cut-off; later, the next run's (SOP-3.1)
    november = billed.finance.get(PATH, period="2026-11").json()
    billed_in_november = "1220.00" if month == "2026-11" else "0.00"
    assert (november["recognised"], november["billed"]) == ("0.00", billed_in_november)
    assert november["opening"] == {"deferred": "0.00", "unbilled": "1220.00"}
    assert november["closing"] == {"deferred": "0.00", "unbilled": "0.00" if month <= "2026-11" else "1220.00"}
    later = billed.finance.get(PATH, period=month).json()
    assert (later["billed"], later["closing"]["unbilled"]) == ("1220.00", "0.00")
    quarter = billed.admin.get(PATH, period="2026-Q4").json()
    assert quarter["months"] == ["2026-10", "2026-11", "2026-12"]
    assert [m["recognised"] for m in quarter["recognised_by_month"]] == ["15105.00", "0.00", "0.00"]
    in_quarter = month <= "2026-12"
    assert (quarter["recognised"], quarter["billed"]) == ("15105.00", "15105.00" if in_quarter else "13885.00")
    assert quarter["closing"] == {"deferred": "0.00", "unbilled": "0.00" if in_quarter else "1220.00"}


def test_one_partner_only_its_own_lines(billed):
    second = billed.finance.get(PATH, period="2026-10", partner_id=PARTNER_2).json()
    assert second["scope"] == {"partner_id": PARTNER_2} and second["recognised"] == "375.00"
    assert {i["partner_id"] for i in second["items"]} == {PARTNER_2}
    first = billed.finance.get(PATH, period="2026-10", partner_id=PARTNER_1).json()
    assert first["recognised"] == "14730.00"
    unknown = "ptr_" + "0" * 26
    assert_problem(billed.finance.get(PATH, period="2026-10", partner_id=unknown), 404)


def test_a_credit_note_for_an_issued_month_reverses_in_the_month_it_is_issued(billed):
    # IFRS 15.88: a change of the transaction price for an obligation already satisfied is "a reduction of revenue, in
    # the period in which the transaction price changes". The return (9 November, 2 x 1,250.00) and the billing-error
    # credit note (24 November, 1,250.00) of the 5 October shipment go on November's invoice: November takes -3,750.00,
    # October (issued) is not restated.
    october_before = billed.finance.get(PATH, period="2026-10").json()
    (invoice,) = [i for i in billed.invoices() if i["period"] == "2026-10" and i["partner_id"] == PARTNER_1]
    assert billed.finance.post(f"/v1/invoices/{invoice['invoice_id']}/finalize").status_code == 200
    credits = []
    for name in ("return.received", "credit_note.issued"):
        body = webhook_body(sample(name))
        against = {**body["data"], "invoice_id": invoice["invoice_id"], "line_no": 1}
        credits.append(billed.send({**body, "data": against}))
    billed.wait_for([c["event_id"] for c in credits])
    october_after = billed.finance.get(PATH, period="2026-10").json()
    assert october_after["recognised"] == october_before["recognised"] == "15105.00"
    november = billed.finance.get(PATH, period="2026-11").json()
    assert november["recognised"] == "-3750.00"
    reversals = [i for i in november["items"] if i["kind"] == "credit_note"]
    assert {i["references_line"] for i in reversals} == {f"{invoice['invoice_id']}.1"}
    assert {i["method"]["name"] for i in reversals} == {"reversal"}


def test_an_invoice_schedule_sums_each_line_and_reads_like_the_period(billed):
    (later,) = [i for i in billed.invoices() if i["period"] == _usage_month()]  # the invoice of October's usage
    answer = billed.finance.get(f"/v1/invoices/{later['invoice_id']}/recognition")
    assert answer.status_code == 200, answer.text
    (usage,) = answer.json()["lines"]
    assert usage["schedule"] == [{"month": "2026-10", "recognised": "1220.00", "balance": "-1220.00"}]
    (october,) = [i for i in billed.invoices() if i["period"] == "2026-10" and i["partner_id"] == PARTNER_1]
    lines = billed.admin.get(f"/v1/invoices/{october['invoice_id']}/recognition").json()["lines"]
    for line in lines:
        assert sum(Decimal(m["recognised"]) for m in line["schedule"]) == Decimal(line["amount"])
    unknown = "inv_" + "0" * 26
    assert_problem(billed.finance.get(f"/v1/invoices/{unknown}/recognition"), 404)


def test_only_finance_and_admin_read_the_books(billed, api):
    # The distributor's deferred revenue is its own books: a partner key (even for its own invoice) and other staff
    # roles are refused, whatever the id, so a refusal says nothing of whether the invoice exists.
    (october,) = [i for i in billed.invoices() if i["period"] == "2026-10" and i["partner_id"] == PARTNER_1]
    minted = billed.admin.post("/v1/keys", {"role": "partner", "partner_id": PARTNER_1, "label": "p"}).json()
    partner = api.as_key(minted["key"])
    sales = api.as_key(billed.admin.post("/v1/keys", {"role": "sales", "label": "s"}).json()["key"])
    for caller in (partner, sales, billed.channel_ops):
        assert_problem(caller.get(PATH, period="2026-10"), 403)
        assert_problem(caller.get(f"/v1/invoices/{october['invoice_id']}/recognition"), 403)
    assert partner.get(f"/v1/invoices/{october['invoice_id']}").status_code == 200  # its invoice it still reads


BAD_QUERIES = [
    ({}, "/query/period"),
    ({"period": "2026-13"}, "/query/period"),
    ({"period": "2026-Q5"}, "/query/period"),
    ({"period": "2026-10-01"}, "/query/period"),
    ({"period": "9999-12"}, "/query/period"),
    ({"period": "2026-10", "partner_id": "nobody"}, "/query/partner_id"),
    ({"period": "2026-10", "cursor": "not-a-line"}, "/query/cursor"),
    ({"period": "2026-10", "limit": "0"}, "/query/limit"),
    ({"period": "2026-10", "as_of": "2026-10-31"}, "/query/as_of"),
    ({"cursor": "garbage"}, "/query/cursor"),  # named beside the missing period
]


def test_a_bad_query_is_a_problem_naming_the_parameter(api, operator, stack):
    for tenant in billing_tenant_in(api, operator, stack):
        for query, path in BAD_QUERIES:
            problem = assert_problem(tenant.finance.get(PATH, **query), 400)
            assert any(e["path"] == path for e in problem["errors"]), (query, problem)
        assert_problem(tenant.finance.get("/v1/invoices/inv_nope/recognition"), 404)


def test_a_contoso_device_is_revenue_of_the_month_it_was_delivered(api, operator, stack):
    # CPA-10.2: "devices are billed on delivery": control of a laptop shipped 29 September and delivered 2 October
    # transfers on delivery (IFRS 15.38), so October earns it, not September; billing dates the line on that day.
    for tenant in billing_tenant_in(api, operator, stack, policy_of="contoso"):
        partner = {**SAMPLES["partners"][0], "tier": "authorized"}
        tenant.add_partners([partner])
        data = {"partner_id": partner["partner_id"], "order_ref": "SO-REV-1", "shipped_on": "2026-09-29",
                "delivered_on": "2026-10-02", "lines": [{"sku": "CT-DEV-LAPTOP14", "quantity": 2}]}  # fmt: skip
        sent = tenant.send(erp_event("shipment.confirmed", data, occurred_at="2026-10-02T10:00:00Z"))
        tenant.wait_for([sent["event_id"]])
        (invoice,) = tenant.invoices()
        (line,) = invoice["lines"]
        assert invoice["period"] == "2026-10" and line["service_period"]["start"] == "2026-10-02"
        assert tenant.finance.get(PATH, period="2026-09").json()["recognised"] == "0.00"
        october = tenant.finance.get(PATH, period="2026-10").json()
        assert october["recognised"] == line["amount"] and october["currency"] == "EUR"
        assert october["items"][0]["method"]["name"] == "point_in_time"
