"""Red-team probes of invoices and invoice-line disputes as a hostile or careless caller would send them.

SOP-6.1: a Partner disputes an invoice line; "where the line was wrong, a credit note is issued under SOP-2.5".
schemas/api/invoice-dispute.schema.json: a dispute is for at most "the whole line less what was already credited";
SOP-2.5 credit notes correct an issued line; a line is never credited more than it charged (the ERP's credit notes
are refused beyond what is left of the line: services/billing/credits.py, "for at most what is left of it").
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from billing_support import billing_tenant_in, issued_october, sample, webhook_body
from support import ROOT, Api, assert_problem

pytestmark = pytest.mark.stack

PARTNERS = json.loads((ROOT / "tests/scenarios/billing/erp-samples.json").read_text())["partners"]


@pytest.fixture
def billing_tenant(api, operator, stack):
    yield from billing_tenant_in(api, operator, stack)


def _issued_october(tenant: Any, api: Api) -> tuple[dict[str, Any], Api, Api]:
    """The sample shipment billed (line 1: 4 x NW-SW-24P = 5,000.00) on October's invoice, issued by finance; a
    partner key for its partner and one for the rival."""
    return issued_october(tenant, api)


def _credited(tenant: Any, line_id: str) -> Decimal:
    notes = [x for i in tenant.invoices() for x in i["lines"] if x.get("references_line") == line_id]
    return -sum((Decimal(x["amount"]) for x in notes), Decimal(0))


def test_an_upheld_dispute_never_credits_a_line_beyond_what_it_charged(billing_tenant, api) -> None:
    """The partner disputes all of line 1 (5,000.00); while the dispute is open the ERP credits the same line in
    full (a credit note the ERP may issue: nothing of the line is credited yet). Finance then upholds the dispute:
    the line must not end up credited 10,000.00 for a 5,000.00 charge. Either the decision credits only what is
    left (nothing) or it is refused; whichever, the line is credited at most 5,000.00."""
    tenant = billing_tenant
    october, own, _ = _issued_october(tenant, api)
    line = october["lines"][0]
    assert line["amount"] == "5000.00"
    filed = own.post(f"/v1/invoices/{october['invoice_id']}/disputes",
                     {"line_no": 1, "amount": "5000.00", "reason": "the switches were never delivered"})  # fmt: skip
    assert filed.status_code == 201, filed.text
    erp_credit = webhook_body(sample("credit_note.issued"))
    erp_credit["data"] = {**erp_credit["data"], "invoice_id": october["invoice_id"], "line_no": 1,
                          "amount": "5000.00", "quantity": 4, "issued_on": "2026-11-24"}  # fmt: skip
    tenant.wait_for([tenant.send(erp_credit)["event_id"]])
    assert _credited(tenant, line["line_id"]) == Decimal("5000.00")
    tenant.finance.post(f"/v1/approvals/{filed.json()['approval_id']}/decision",
                        {"outcome": "approved", "note": "not delivered"})  # fmt: skip
    assert _credited(tenant, line["line_id"]) <= Decimal("5000.00")


def test_a_partner_key_reads_and_disputes_only_its_own_invoices(billing_tenant, api) -> None:
    """API.md: another partner's object answers 404 ("never confirm it exists"), a partner's view carries no Line
    Cost (PA-1.2), and `partner_id` in a query never widens what a partner key reads."""
    tenant = billing_tenant
    october, own, rival = _issued_october(tenant, api)
    invoice_id = october["invoice_id"]
    assert_problem(rival.get(f"/v1/invoices/{invoice_id}"), 404)
    dispute = {"line_no": 1, "amount": "1.00", "reason": "probe"}
    assert_problem(rival.post(f"/v1/invoices/{invoice_id}/disputes", dispute), 404)
    # another partner's id in the filter: the same 404 as an id no one holds (SECURITY.md "Partner keys and ...")
    assert_problem(rival.get("/v1/invoices", status="finalized", partner_id=october["partner_id"]), 404)
    mine = own.get(f"/v1/invoices/{invoice_id}").json()
    assert all("cost" not in x for x in mine["lines"]) and mine["finalized_by"] == "finance"
    filed = own.post(f"/v1/invoices/{invoice_id}/disputes", dispute).json()
    assert_problem(rival.get(f"/v1/invoice-disputes/{filed['dispute_id']}"), 404)
    assert_problem(own.post(f"/v1/approvals/{filed['approval_id']}/decision", {"outcome": "approved"}), 403)
    # a second dispute on the same line while the first is open, and hostile bodies: refused, nothing filed
    assert own.post(f"/v1/invoices/{invoice_id}/disputes", dispute).status_code == 409
    hostile: list[dict[str, Any]] = [
        {"line_no": 0}, {"line_no": "1"}, {"line_no": 1.5}, {"amount": "-1.00"}, {"amount": "NaN"}, {"amount": 1},
        {"partner_id": october["partner_id"]}, {"status": "upheld"}, {"reason": ""},
    ]
    for bad in hostile:
        assert_problem(own.post(f"/v1/invoices/{invoice_id}/disputes", {**dispute, **bad}), 400)
    assert_problem(own.post(f"/v1/invoices/{invoice_id}/disputes", {**dispute, "line_no": 99}), 404)
    assert_problem(own.post(f"/v1/invoices/{invoice_id}/finalize"), 403)
    pending = tenant.finance.get("/v1/approvals", status="pending", queue="finance").json()["items"]
    assert [a["case_id"] for a in pending] == [filed["approval_id"]]


def test_an_order_dated_before_the_partner_was_onboarded_is_held_not_billed(billing_tenant) -> None:
    """PA-2.2: "Before the Partner may quote, order, register deals or accrue any incentive, the following must be
    received and verified in the Partner Portal"; services/billing/onboarding_hold.py holds such an order instead of
    billing it. A partner activated on 2026-08-01 cannot have had goods shipped on its order on 2026-05-12, nor in
    1999: the event is held as an exception citing PA-2.2 (SOP-4.1: `onboarding_document_missing_or_expired`, queue
    channel_ops), and no invoice is opened for a month before the partner existed."""
    tenant = billing_tenant
    partner = {**PARTNERS[0], "activated_at": "2026-08-01T09:00:00Z"}
    tenant.add_partners([partner])
    sent = []
    for n, day in enumerate(("2026-05-12", "1999-01-05")):
        event = webhook_body(sample("shipment.confirmed"))
        event = {**event, "id": f"NW-ERP-EARLY-{n}", "occurred_at": f"{day}T10:00:00Z",
                 "data": {**event["data"], "shipped_on": day}}  # fmt: skip
        sent.append(tenant.send(event)["event_id"])
    tenant.wait_for(sent, statuses=("processed", "failed", "exception"))
    assert [i["period"] for i in tenant.invoices()] == []
    held = [e for e in tenant.exceptions() if "PA-2.2" in json.dumps(e)]
    assert len(held) >= 1, tenant.exceptions()
    assert sorted((e["category"], e["queue"]) for e in held) == [("onboarding_document_missing_or_expired",
                                                                  "channel_ops")] * 2, held


def test_a_cursor_from_another_partners_list_is_refused(billing_tenant, api) -> None:
    """API.md: lists page with `?cursor=`; a partner reads only its own invoices (404/nothing for another's). A
    cursor minted for partner A's list and sent by partner B's key must not page B into A's invoices: it is refused
    (400), and A's own cursor pages A on."""
    tenant = billing_tenant
    _, own, rival = _issued_october(tenant, api)
    november = webhook_body(sample("shipment.confirmed"))
    november = {**november, "id": "NW-ERP-NOV-1", "occurred_at": "2026-11-05T10:00:00Z",
                "data": {**november["data"], "shipped_on": "2026-11-05", "order_ref": "SO-2026-1101"}}  # fmt: skip
    tenant.wait_for([tenant.send(november)["event_id"]])
    first = own.get("/v1/invoices", status="draft", limit=1).json()  # October's pointer first, then November's
    assert first["next_cursor"], first
    assert_problem(rival.get("/v1/invoices", status="draft", limit=1, cursor=first["next_cursor"]), 400)
    rest = own.get("/v1/invoices", status="draft", limit=1, cursor=first["next_cursor"]).json()
    assert [i["period"] for i in first["items"] + rest["items"]] == ["2026-11"]
    staff = tenant.finance.get("/v1/invoices", status="finalized", limit=200).json()
    assert [i["period"] for i in staff["items"]] == ["2026-10"]


def test_an_invoice_dispute_upheld_without_a_reason_is_refused(billing_tenant, api) -> None:
    """SOP-6.3 (Dispute outcomes): "A dispute is decided as upheld, partially upheld or rejected. Every decision
    states the reason, the amounts before and after"; the approvals queue asks a note of a rejection only, so
    upholding an invoice dispute's approval without one must be refused (422) and decide nothing."""
    tenant = billing_tenant
    october, own, _ = _issued_october(tenant, api)
    filed = own.post(f"/v1/invoices/{october['invoice_id']}/disputes",
                     {"line_no": 1, "amount": "100.00", "reason": "one switch arrived broken"}).json()  # fmt: skip
    assert_problem(tenant.finance.post(f"/v1/approvals/{filed['approval_id']}/decision", {"outcome": "approved"}), 422)
    assert own.get(f"/v1/invoice-disputes/{filed['dispute_id']}").json()["status"] == "open"
