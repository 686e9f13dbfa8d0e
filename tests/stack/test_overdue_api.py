"""GET /v1/billing/overdue over HTTP: who reads what, and every bad input a clear problem+json that changes nothing.

PA-10.8: "Where any amount is more than 30 days overdue, new orders are placed on credit hold". PA-6.7: "net 30 days
from the invoice date". PA-11.1: the Distributor does not disclose one Partner's data to another.

The sample shipment (4 x NW-SW-24P = 5,000.00) is billed and its invoice issued; the test then dates the issue 70
days back (the stack cannot wait 40 days), so the invoice fell due 40 days ago: 40 days overdue, on credit hold.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

import clock_support
from billing_support import billing_tenant_in, sample, webhook_body
from revgov.ports import Changes
from revgov.services.billing import INVOICES, invoice_put
from support import ROOT, Api, assert_problem

pytestmark = pytest.mark.stack

PARTNERS = json.loads((ROOT / "tests/scenarios/billing/erp-samples.json").read_text())["partners"]
PATH = "/v1/billing/overdue"


@pytest.fixture
def billing_tenant(api, operator, stack):
    yield from billing_tenant_in(api, operator, stack)


def _overdue_invoice(tenant: Any, api: Api) -> tuple[str, Api, Api]:
    tenant.add_partners(PARTNERS)
    tenant.wait_for([tenant.send(webhook_body(sample("shipment.confirmed")))["event_id"]])
    (october,) = [i for i in tenant.invoices() if i["period"] == "2026-10"]
    issued = tenant.finance.post(f"/v1/invoices/{october['invoice_id']}/finalize")
    assert issued.status_code == 200, issued.text
    stored = tenant.rt.store.get(tenant.tenant_id, INVOICES, october["invoice_id"])
    back = (clock_support.now() - timedelta(days=70)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    dated = {**stored.data, "finalized_at": back}
    tenant.rt.store.commit(tenant.tenant_id, Changes(puts=[invoice_put(dated, stored.version)]))
    keys = []
    for partner in PARTNERS:
        minted = tenant.admin.post("/v1/keys", {"role": "partner", "partner_id": partner["partner_id"], "label": "p"})
        assert minted.status_code == 201, minted.text
        keys.append(api.as_key(minted.json()["key"]))
    return october["invoice_id"], keys[0], keys[1]


def test_a_partner_reads_its_own_overdue_invoice_and_hold_and_never_a_rivals(billing_tenant, api) -> None:
    invoice_id, own, rival = _overdue_invoice(billing_tenant, api)
    owner = PARTNERS[0]["partner_id"]
    mine = own.get(PATH)
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["partner_id"] == owner and body["clause"] == "PA-10.8"
    [row] = body["invoices"]
    assert (row["invoice_id"], row["days_overdue"]) == (invoice_id, 40)
    assert body["credit_hold"] is not None and body["credit_hold"]["invoice_ids"] == [invoice_id]
    assert Decimal(row["late_payment"]["interest"]) > 0
    # the rival: its own statement is empty; naming the owner is a 404, and nothing of the owner's is in the answer
    theirs = rival.get(PATH)
    assert theirs.status_code == 200 and theirs.json()["invoices"] == [] and invoice_id not in theirs.text
    assert_problem(rival.get(PATH, partner_id=owner), 404)
    # staff read any partner's, naming it
    staff = billing_tenant.finance.get(PATH, partner_id=owner)
    assert staff.status_code == 200 and staff.json()["invoices"][0]["invoice_id"] == invoice_id


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({}, 400, "/query/partner_id"),  # staff must name the partner
        ({"partner_id": "ptr_../../etc"}, 400, "/query/partner_id"),
        ({"partner_id": "ptr_01JBNWPARTNER0000000000009"}, 404, None),  # no such partner
        ({"partner_id": "ptr_01JBNWPARTNER0000000000001", "as_of": "2026-02-30"}, 400, "/query/as_of"),
        ({"partner_id": "ptr_01JBNWPARTNER0000000000001", "as_of": "２０２６-01-01"}, 400, "/query/as_of"),
        ({"partner_id": "ptr_01JBNWPARTNER0000000000001", "as_of": "2026-1-1"}, 400, "/query/as_of"),
        ({"partner_id": "ptr_01JBNWPARTNER0000000000001", "as_of": "tomorrow"}, 400, "/query/as_of"),
        ({"partner_id": "ptr_01JBNWPARTNER0000000000001", "limit": "5"}, 400, "/query/limit"),  # not a parameter
    ],
)
def test_bad_inputs_are_problems_naming_the_field(billing_tenant, query, status, field) -> None:
    billing_tenant.add_partners(PARTNERS)
    problem = assert_problem(billing_tenant.finance.get(PATH, **query), status)
    if field is not None:
        assert any(e["path"] == field for e in problem.get("errors", [])), problem


def test_a_day_after_today_is_refused(billing_tenant) -> None:
    billing_tenant.add_partners(PARTNERS)
    tomorrow = (clock_support.today() + timedelta(days=1)).isoformat()
    problem = assert_problem(
        billing_tenant.finance.get(PATH, partner_id=PARTNERS[0]["partner_id"], as_of=tomorrow), 400
    )
    assert problem["errors"][0]["path"] == "/query/as_of"


def test_finance_prepares_a_charge_another_approves_it_and_the_partner_reads_its_own(billing_tenant, api) -> None:
    """SOP-4.3: "A requester can never approve their own request." PA-11.1: a rival reads nothing of it."""
    invoice_id, own, rival = _overdue_invoice(billing_tenant, api)
    charges = f"{PATH}/charges"
    assert_problem(own.post(charges, {"invoice_id": invoice_id}), 403)  # a partner never charges itself
    prepared = billing_tenant.finance.post(charges, {"invoice_id": invoice_id})
    assert prepared.status_code == 201, prepared.text
    charge = prepared.json()
    assert charge["status"] == "pending_approval" and Decimal(charge["interest"]) > 0
    assert_problem(billing_tenant.finance.post(charges, {"invoice_id": invoice_id}), 409)  # one open per invoice
    decided = billing_tenant.finance.post(f"/v1/approvals/{charge['approval_id']}/decision",
                                          {"outcome": "approved", "note": "mine"})  # fmt: skip
    assert decided.status_code == 403, decided.text  # its preparer
    other = api.as_key(billing_tenant.admin.post("/v1/keys", {"role": "finance", "label": "f2"}).json()["key"])
    decided = other.post(f"/v1/approvals/{charge['approval_id']}/decision", {"outcome": "approved", "note": "ok"})
    assert decided.status_code == 200, decided.text
    read = own.get(f"{charges}/{charge['charge_id']}")
    assert read.status_code == 200 and read.json()["status"] == "issued"
    assert "key_" not in read.json()["prepared_by"]  # a partner reads the team, never a staff key id
    assert_problem(rival.get(f"{charges}/{charge['charge_id']}"), 404)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 400, "/invoice_id"),
        ({"invoice_id": "inv_../../x"}, 400, "/invoice_id"),
        ({"invoice_id": "inv_01JX0000000000000000000009"}, 404, None),
        ({"invoice_id": "inv_01JX0000000000000000000009", "through": "２０２６-01-01"}, 400, "/through"),
        ({"invoice_id": "inv_01JX0000000000000000000009", "through": 20260101}, 400, "/through"),
        ({"invoice_id": "inv_01JX0000000000000000000009", "amount": "10.00"}, 400, "/amount"),  # server-owned
        ({"invoice_id": "inv_01JX0000000000000000000009", "partner_id": "ptr_01JBNWPARTNER0000000000001"}, 400,
         "/partner_id"),
    ],
)
def test_bad_charge_bodies_are_problems_naming_the_field(billing_tenant, body, status, field) -> None:
    problem = assert_problem(billing_tenant.finance.post(f"{PATH}/charges", body), status)
    if field is not None:
        assert any(e["path"] == field for e in problem.get("errors", [])), problem
    assert_problem(billing_tenant.finance.get(f"{PATH}/charges/lpc_01JX0000000000000000000009"), 404)
