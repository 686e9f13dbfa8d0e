"""PA-12.1 / CPA-12.1 over HTTP on the local stack: a partner reads the records relating to it.

PA-12.1: "The Distributor keeps an audit trail of every automated decision and approval under this Agreement and
provides the Partner, on request, with the records relating to the Partner." CPA-12.1: "Contoso keeps an audit trail of
every automated decision and approval and provides the Partner with its own records on request." PA-11.1 / CPA-11.1:
neither party's confidential information reaches a third party, so what a partner reads names no rival and no staff
key. API.md: bad input is a problem+json naming the field; a cursor is valid only for the list that minted it.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest

import clock_support
from support import assert_problem, northwind_silver_partners, scenario

pytestmark = pytest.mark.stack
QUOTES = scenario("pricing/http.json")
KEY_ID = re.compile(r"key_[0-9A-HJKMNP-TV-Z]{26}")


@pytest.fixture(scope="module")
def trail(stack: Any, api: Any) -> dict[str, Any]:
    """Two fresh northwind partners: the rival holds an approved registration for a customer; the partner then
    quotes that customer (its decision's inputs name the rival's registration: PRC-CHANNEL-CONFLICT)."""
    made = northwind_silver_partners(stack, api, ("Trail", "Rival"), "AUD")
    (mine, own), (rival, theirs) = made["partners"]
    ops = made["roles"]["channel_ops"]
    customer = f"CUST-{uuid.uuid4().hex[:8]}"
    deal = theirs.post("/v1/deals", {
        "partner_id": rival, "customer": {"id": customer, "name": "Harbor Logistics", "contact": "Dana Ortiz"},
        "family": "networking", "estimated_value": "84000.00",
        "expected_close": (clock_support.today() + timedelta(days=60)).isoformat()}).json()  # fmt: skip
    assert ops.post(f"/v1/approvals/{deal['approval_id']}/decision", {"outcome": "approved"}).status_code == 200
    body = {**QUOTES["within_cap"], "partner_id": mine, "customer": {"id": customer, "name": customer}}
    checked = own.post("/v1/pricing/check", body).json()
    assert "PRC-CHANNEL-CONFLICT" in {r["rule_id"] for r in checked["reasons"]}, checked
    return {**made, "mine": mine, "own": own, "rival": rival, "theirs": theirs, "decision": checked["decision_id"],
            "deal": deal["deal_id"]}  # fmt: skip


def _every(client: Any, **query: Any) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        page = client.get("/v1/audit", limit=3, **query, **({"cursor": cursor} if cursor else {}))
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if not cursor:
            return items


def test_a_partner_reads_its_own_records_and_nothing_of_a_rival_or_of_staff_keys(trail, stack):
    own, mine, rival = trail["own"], trail["mine"], trail["rival"]
    records = _every(own)  # a partner key: its own partner's records, whether or not it names itself
    assert [r["seq"] for r in records] == sorted(r["seq"] for r in records)  # oldest first, one page after another
    assert [r["record_id"] for r in records] == [r["record_id"] for r in _every(own, partner_id=mine)]
    actions = {r["action"] for r in records}
    assert {"partner.applied", "partner.activated", "key.created", "pricing.checked", "approval.opened"} <= actions
    checked = next(r for r in records if r["action"] == "pricing.checked" and r["subject"] == trail["decision"])
    assert checked["partner_id"] == mine and checked["partner_view"] is True
    assert not {"hash", "inputs_hash", "prev_hash"} & set(checked)  # no oracle for a guessed unit cost
    assert "PRC-CHANNEL-CONFLICT" in checked["rule_ids"]
    # the stored record names the rival's registration in its inputs; what the partner reads never does
    staff = _every(trail["roles"]["finance"], partner_id=mine)
    stored = next(r for r in staff if r["record_id"] == checked["record_id"])
    assert rival in json.dumps(stored) and "partner_view" not in stored
    text = json.dumps(records)
    assert rival not in text and trail["deal"] not in text and "rivals" not in checked["inputs"]
    assert not KEY_ID.search(text), KEY_ID.findall(text)[:3]  # neither staff keys nor its own key ids
    assert {r["actor"] for r in records} <= {"partner", "sales", "channel_ops", "admin", "finance", "system", "staff"}
    assert all(r["partner_id"] == mine for r in records if "partner_id" in r)
    # the rival's own trail does not hold the partner's quote
    assert checked["record_id"] not in {r["record_id"] for r in _every(trail["theirs"])}


def test_another_partners_id_is_a_404_and_a_partner_key_never_lists_by_subject(trail):
    own = trail["own"]
    assert_problem(own.get("/v1/audit", partner_id=trail["rival"]), 404)
    assert_problem(own.get("/v1/audit", partner_id="ptr_01JX0000000000000000000000"), 404)
    assert_problem(own.get("/v1/audit", subject=trail["decision"]), 403)
    assert_problem(own.get("/v1/audit/verify"), 403)


def test_staff_list_one_partners_records_which_name_it_under_the_chains_hash(trail, stack):
    finance, mine = trail["roles"]["finance"], trail["mine"]
    records = _every(finance, partner_id=mine)
    assert records and all(r.get("partner_id") == mine and r["hash"] and r["inputs_hash"] for r in records)
    assert KEY_ID.search(json.dumps(records))  # staff keep who acted, for the audit
    assert_problem(finance.get("/v1/audit", partner_id="ptr_01JX0000000000000000000000"), 404)
    # the rival's registration, its approval and the decision on it (PA-12.1 "every automated decision and approval")
    theirs = _every(finance, partner_id=trail["rival"])
    decided = {(r["action"], r["subject"]) for r in theirs}
    assert ("deal.registered", trail["deal"]) in decided and ("deal.approved", trail["deal"]) in decided
    assert {"approval.opened", "approval.approved"} <= {r["action"] for r in theirs}
    assert finance.get("/v1/audit/verify").json()["valid"] is True
    assert_problem(trail["roles"]["sales"].get("/v1/audit", partner_id=mine), 403)


@pytest.mark.parametrize("query, status", [
    ({"partner_id": "ptr_x"}, 400), ({"partner_id": "../x"}, 400),
    ({"partner_id": "PTR_01JX0000000000000000000000"}, 400),
    ({"limit": "-1"}, 400), ({"limit": "abc"}, 400), ({"limit": "1e9"}, 400), ({"cursor": "garbage"}, 400),
    ({"cursor": "eyJwayI6IngifQ"}, 400),
])  # fmt: skip
def test_bad_input_is_a_problem_naming_the_field(trail, query, status):
    for client in (trail["own"], trail["roles"]["finance"]):
        assert_problem(client.get("/v1/audit", **({"partner_id": trail["mine"]} | query)), status)


def test_a_cursor_minted_for_another_partners_list_or_the_whole_chain_is_refused(trail):
    finance, mine, rival = trail["roles"]["finance"], trail["mine"], trail["rival"]
    theirs = finance.get("/v1/audit", partner_id=rival, limit=1).json()["next_cursor"]
    chain = finance.get("/v1/audit", limit=1).json()["next_cursor"]
    mine_cursor = finance.get("/v1/audit", partner_id=mine, limit=1).json()["next_cursor"]
    assert theirs and chain and mine_cursor
    for cursor in (theirs, chain):
        problem = assert_problem(finance.get("/v1/audit", partner_id=mine, cursor=cursor), 400)
        assert "/query/cursor" in [e["path"] for e in problem.get("errors", [])]
        assert_problem(trail["own"].get("/v1/audit", cursor=cursor), 400)
    assert_problem(finance.get("/v1/audit", cursor=mine_cursor), 400)
    assert_problem(finance.get("/v1/audit", subject=trail["decision"], partner_id=mine), 400)
