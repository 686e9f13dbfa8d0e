"""Red team, twelfth round, over HTTP in a tenant of its own: probes of what the last session added that held.

API.md: bad input is a problem (RFC 9457) naming the field, nothing changed, never a 500; "404 not found (also for
another tenant's or partner's object: never confirm it exists)". Each probe below is answered as documented:
- `GET /v1/contracts/{document}?revision=` (API 1.57.0: "404 when the document never had it"; pattern
  `^[1-9][0-9]{0,5}$`): zero, negative, decimal, exponent, full-width, huge or repeated values are a 400 naming
  `/query/revision`; a revision only another tenant's document has is this document's 404.
- `POST /v1/{approvals|exceptions}/{id}/assign` (1.57.0: "a live key of the queue's role"): a partner key, another
  tenant's key and a key no one has are one and the same 422 naming `/assignee` (the detail differs only by the id).
- A partner key on the customers' tax records (1.60.0: staff only) is a 403 whatever the customer, so the answer
  says nothing of which customers have records.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

import clock_support
from security_support import Party, make_party, offboard, random_id
from support import assert_problem

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def party(api: Any, operator: Any, stack: Any) -> Any:
    made = make_party(api, operator, stack, "northwind")
    yield made
    offboard(operator, made)


@pytest.fixture(scope="module")
def other(api: Any, operator: Any, stack: Any) -> Any:
    made = make_party(api, operator, stack, "northwind")
    yield made
    offboard(operator, made)


def test_contract_revision_probes(party: Party) -> None:
    legal = party.by_role["legal"]
    (document,) = [d["document"] for d in legal.get("/v1/contracts").json()["items"] if d["document"] == "PA"]
    path = f"/v1/contracts/{document}"
    assert legal.get(path, revision="1").status_code == 200
    for bad in ("0", "-1", "1.0", "1e3", "01", "\uff11", "9999999", " 1", "1 ", "1\n", "", "1,2"):
        problem = assert_problem(legal.get(path, revision=bad), 400)
        assert [e["path"] for e in problem["errors"]] == ["/query/revision"], (bad, problem)
    repeated = legal.request("GET", f"{path}?revision=1&revision=2")
    assert repeated.status_code in (200, 400, 404) and repeated.status_code != 500
    assert_problem(legal.get(path, revision="999"), 404)  # no revision 999 here, whoever else has one
    # PUT /v1/contracts/{document}: "A document code is 2 to 5 capital letters: any other path names no contract"
    assert_problem(legal.get(f"{path}%0A"), 404)


def _deal_approval(party: Party) -> dict[str, Any]:
    """A registration's review (PA-5.1: channel ops reviews it), registered by the party's sales key."""
    families = sorted({c["product_family"] for c in party.policy.get("certifications", [])}
                      | set(party.policy["deal_registration"]["eligibility"].get("certification_exempt_families", [])))
    for family in families:
        deal = party.by_role["sales"].post("/v1/deals", {
            "partner_id": party.partners[0], "family": family, "estimated_value": "50000.00",
            "customer": {"id": f"CUST-{uuid.uuid4().hex[:8]}", "name": "Deal Customer", "contact": "Dana Ortiz"},
            "expected_close": (clock_support.today() + timedelta(days=45)).isoformat()})  # fmt: skip
        if deal.status_code == 201:
            return {"approval_id": deal.json()["approval_id"]}
    raise AssertionError("no family the partner may register")


def test_assign_to_a_partner_another_tenants_or_an_unknown_key_is_one_422(party: Party, other: Party) -> None:
    approval = _deal_approval(party)
    queue_role = party.admin.get(f"/v1/approvals/{approval['approval_id']}").json()["queue"]
    member = party.by_role[queue_role]
    path = f"/v1/approvals/{approval['approval_id']}/assign"
    partner_key = next(k for k in party.objects["key"] if k not in party.key_ids.values())
    answers = {}
    for name, key_id in (("partner", partner_key), ("other tenant", other.key_ids[queue_role]),
                         ("unknown", random_id("key"))):  # fmt: skip
        problem = assert_problem(member.post(path, {"assignee": key_id}), 422)
        assert [e["path"] for e in problem["errors"]] == ["/assignee"], name
        answers[name] = (problem["title"], problem["detail"].replace(key_id, "<id>"), problem["errors"])
    assert answers["partner"] == answers["other tenant"] == answers["unknown"]
    assert not party.admin.get(f"/v1/approvals/{approval['approval_id']}").json().get("assignee")


def test_a_partner_key_reads_no_customers_tax_records(party: Party) -> None:
    key = party.partner_keys[party.partners[0]]
    for customer in ("CUST-1", "cust-1", "CUST-NEVER", "bad id"):
        for record in ("vat-validations", "tax-exemptions"):
            assert_problem(key.get(f"/v1/customers/{customer}/{record}"), 403)
            assert_problem(key.post(f"/v1/customers/{customer}/{record}", {}), 403)


def test_idempotency_key_on_the_bank_transfer_request(party: Party) -> None:
    """API.md: "the same key and body return the first response [...]; the same key with another body is a 422";
    keys are scoped to the API key that sent them (edge/idempotency.py), so a rival's same key is its own request."""
    mine, rival = party.partners
    key = f"rt12-{uuid.uuid4().hex}"
    path = f"/v1/partners/{mine}/bank-transfer-request"
    first = party.partner_keys[mine].post(path, {"note": "first"}, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    again = party.partner_keys[mine].post(path, {"note": "first"}, headers={"Idempotency-Key": key})
    assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (201, "true")
    assert again.json() == first.json()
    other = party.partner_keys[mine].post(path, {"note": "another body"}, headers={"Idempotency-Key": key})
    assert_problem(other, 422)
    theirs = party.partner_keys[rival].post(f"/v1/partners/{rival}/bank-transfer-request", {"note": "first"},
                                            headers={"Idempotency-Key": key})  # fmt: skip
    assert theirs.status_code == 201 and theirs.json()["partner_id"] == rival  # not the replay of mine
    assert party.partner_keys[mine].get(path).json()["note"] == "first"
