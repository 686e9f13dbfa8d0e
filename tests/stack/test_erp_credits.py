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
