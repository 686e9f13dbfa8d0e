"""GET /v1/decisions (#20's partner view of its quotes): summaries of decisions, a partner key only ever its own.

The contract: API.md "the tenant comes only from the authenticated principal" and DESIGN.md's partner audience (a
partner never reads a rival's quote, cost or margin); #20: a partner sees "its quotes and deals ... in the portal"."""

import pytest

from security_support import make_party, offboard, quote_for
from support import assert_problem

COST_FIELDS = ("cost_total", "margin_percent", "unit_cost", "inputs", "result", "findings", "reasons")


@pytest.fixture(scope="module")
def party(api, operator, stack):
    made = make_party(api, operator, stack, "northwind")
    yield made
    offboard(operator, made)


def _check(party, partner_id: str) -> dict:
    checked = party.by_role["sales"].post("/v1/pricing/check", quote_for(party, partner_id, discount="5.00"))
    assert checked.status_code == 200, checked.text
    return checked.json()


def test_a_partner_lists_its_own_decisions_newest_first_and_never_another_partners(party):
    mine, rival = party.partners
    first, second = _check(party, mine), _check(party, mine)
    theirs = _check(party, rival)
    partner = party.partner_keys[mine]
    listed = partner.get("/v1/decisions").json()
    ids = [d["decision_id"] for d in listed["items"]]
    assert ids[:2] == [second["decision_id"], first["decision_id"]], ids  # newest first
    assert theirs["decision_id"] not in ids and all(d["partner_id"] == mine for d in listed["items"])
    # asking for the rival by id answers as an id no one holds (SECURITY.md "Partner keys and `?partner_id=`")
    assert_problem(partner.get("/v1/decisions", partner_id=rival), 404)
    assert [d["decision_id"] for d in partner.get("/v1/decisions", partner_id=mine).json()["items"]] == ids
    item = listed["items"][0]
    assert item["kind"] == "pricing" and item["subject"]["kind"] == "quote"
    assert item["net_total"] == second["totals"]["net_total"] and item["outcome"] == second["outcome"]
    # a summary: nothing of cost or margin, nor the inputs behind the decision
    assert not [f for f in COST_FIELDS if f in item], item
    # the rival's decision read by id answers like one that does not exist
    assert_problem(partner.get(f"/v1/decisions/{theirs['decision_id']}"), 404)


def test_staff_list_one_partners_decisions_or_the_tenants(party):
    mine, rival = party.partners
    made = _check(party, rival)
    finance = party.by_role["finance"]
    one = finance.get("/v1/decisions", partner_id=rival).json()["items"]
    assert one[0]["decision_id"] == made["decision_id"] and {d["partner_id"] for d in one} == {rival}
    every = finance.get("/v1/decisions", limit=100).json()["items"]
    assert {mine, rival} <= {d["partner_id"] for d in every}


def test_pages_follow_the_cursor_without_repeating(party):
    mine = party.partners[0]
    for _ in range(3):
        _check(party, mine)
    partner = party.partner_keys[mine]
    seen, cursor = [], None
    while True:
        page = partner.get("/v1/decisions", limit=2, **({"cursor": cursor} if cursor else {})).json()
        seen += [d["decision_id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) >= 3


@pytest.mark.parametrize("query", [{"partner_id": "ptr_x"}, {"partner_id": "../x"}, {"limit": "0"},
                                   {"limit": "abc"}, {"cursor": "forged"}])
def test_bad_queries_are_refused(party, query):
    assert_problem(party.partner_keys[party.partners[0]].get("/v1/decisions", **query), 400)
