"""Credit notes and returns through the signed ERP webhook (issue 24): the catalog's samples, sent against a billed
shipment line, become referenced credit_note lines on the partner's invoices; a malformed one is refused at the door
(400 problem+json) and changes nothing.

SOP-2.5: "An error is corrected by a credit note referencing the original invoice and lines ... Every credit note
states its reason code (billing error, return, ...)". The shipment sample bills 4 x NW-SW-24P at 1,250.00 (line 1);
the return sample takes 2 back on 9 Nov 2026 (2 x 1,250.00 = 2,500.00), the credit note sample credits one more
switch billed in error on 24 Nov (1,250.00): the November invoice is -3,750.00.
"""

from __future__ import annotations

import pytest

from billing_support import billing_tenant_in, sample, webhook_body
from support import assert_problem

pytestmark = pytest.mark.stack

SCENARIO_PARTNERS = "tests/scenarios/billing/erp-samples.json"


@pytest.fixture
def billing_tenant(api, operator, stack):
    yield from billing_tenant_in(api, operator, stack)


def _against(detail_type: str, invoice_id: str) -> dict:
    body = webhook_body(sample(detail_type))
    return {**body, "data": {**body["data"], "invoice_id": invoice_id, "line_no": 1}}


def test_the_return_and_credit_note_samples_credit_the_billed_line(billing_tenant):
    import json

    from support import ROOT

    tenant = billing_tenant
    tenant.add_partners(json.loads((ROOT / SCENARIO_PARTNERS).read_text())["partners"])
    shipped = tenant.send(webhook_body(sample("shipment.confirmed")))
    tenant.wait_for([shipped["event_id"]])
    (october,) = [i for i in tenant.invoices() if i["period"] == "2026-10"]
    line = october["lines"][0]
    assert (line["sku"], line["quantity"], line["amount"]) == ("NW-SW-24P", "4", "5000.00")
    before = tenant.finance.get(f"/v1/invoices/{october['invoice_id']}").json()

    for bad in (
        {**_against("return.received", october["invoice_id"]), "data": {"quantity": 0}},
        {**_against("credit_note.issued", october["invoice_id"]), "type": "credit_note.voided"},
    ):
        assert_problem(tenant.erp.post(bad), 400)
    bad_reason = _against("credit_note.issued", october["invoice_id"])
    bad_reason["data"]["reason"] = "because"
    problem = assert_problem(tenant.erp.post(bad_reason), 400)
    assert any(e["path"] == "/data/reason" for e in problem["errors"])
    assert [i["period"] for i in tenant.invoices()] == ["2026-10"]  # the refused ones changed nothing

    sent = [tenant.send(_against(name, october["invoice_id"])) for name in ("return.received", "credit_note.issued")]
    tenant.wait_for([s["event_id"] for s in sent])
    (november,) = [i for i in tenant.invoices() if i["period"] == "2026-11"]
    returned, noted = sorted(november["lines"], key=lambda x: x["number"])
    assert (returned["amount"], returned["quantity"], returned["detail"]["reason"]) == ("-2500.00", "2", "return")
    assert returned["service_period"] == {"start": "2026-11-09", "end": "2026-11-09"}
    assert (noted["amount"], noted["detail"]["reason"]) == ("-1250.00", "billing_error")
    assert returned["references_line"] == noted["references_line"] == line["line_id"]
    assert november["total"] == "-3750.00"
    assert tenant.finance.get(f"/v1/invoices/{october['invoice_id']}").json() == before  # never edited


def test_a_credit_note_above_10000_waits_for_finance_through_the_api(billing_tenant):
    # SOP-2.5: "Credit notes above USD 10,000.00 require approval by a member of the finance queue other than the
    # preparer." 10 x NW-SW-24P at 1,250.00 = 12,500.00 shipped; a credit note of 10,000.01 is held (no line) until
    # finance approves it through /v1/approvals; channel ops may not. Where it then posts (the open invoice of the
    # approval's month) depends on the day the test runs, so the line is found by what it references, not by month.
    import json

    from support import ROOT

    tenant = billing_tenant
    tenant.add_partners(json.loads((ROOT / SCENARIO_PARTNERS).read_text())["partners"])
    shipment = webhook_body(sample("shipment.confirmed"))
    shipment["data"] = {**shipment["data"], "lines": [{"sku": "NW-SW-24P", "quantity": 10}]}
    tenant.wait_for([tenant.send(shipment)["event_id"]])
    (october,) = [i for i in tenant.invoices() if i["period"] == "2026-10"]
    line = october["lines"][0]
    assert line["amount"] == "12500.00"

    big = _against("credit_note.issued", october["invoice_id"])
    big["data"] = {**big["data"], "amount": "10000.01", "quantity": 8, "prepared_by": "jdoe@northwind-erp"}
    for bad in ("", "x" * 121, "jdoe\u0007"):  # empty, too long, a control character: 400 at the door
        refused = {**big, "id": f"NW-ERP-BAD-{len(bad)}", "data": {**big["data"], "prepared_by": bad}}
        problem = assert_problem(tenant.erp.post(refused), 400)
        assert any(e["path"] == "/data/prepared_by" for e in problem["errors"]), problem
    assert [i["period"] for i in tenant.invoices()] == ["2026-10"]  # the refused ones changed nothing

    tenant.wait_for([tenant.send(big)["event_id"]])
    credit_lines = [x for i in tenant.invoices() for x in i["lines"] if x["kind"] == "credit_note"]
    assert credit_lines == []  # held, not posted
    pending = tenant.finance.get("/v1/approvals", status="pending", queue="finance", limit=50).json()["items"]
    (approval,) = [a for a in pending if a["category"] == "credit_note_approval"]
    assert approval["subject"]["kind"] == "credit_note" and approval["context"]["prepared_by"] == "jdoe@northwind-erp"
    assert any(r["clause"] == "SOP-2.5" for r in approval["reasons"])
    path = f"/v1/approvals/{approval['case_id']}/decision"
    assert_problem(tenant.channel_ops.post(path, {"outcome": "approved", "note": "ok"}), 403)
    assert_problem(tenant.finance.post(path, {"outcome": "approved", "note": "ok", "extra": 1}), 400)
    assert [x for i in tenant.invoices() for x in i["lines"] if x["kind"] == "credit_note"] == []
    decided = tenant.finance.post(path, {"outcome": "approved", "note": "checked against SO-2026-1001"})
    assert decided.status_code == 200, decided.text
    (note,) = [x for i in tenant.invoices() for x in i["lines"] if x["kind"] == "credit_note"]
    assert (note["amount"], note["references_line"]) == ("-10000.01", line["line_id"])
    assert note["detail"]["prepared_by"] == "jdoe@northwind-erp"
