"""Over HTTP: the review of an entitlement check (PA-14.2), an ownership change (PA-2.8) and a legal hold placed and
lifted by legal (docs/retention.md "Legal hold"): who may call each, on whose objects, and bad input.

PA-14.2: "A Partner may request human review of any automated decision within 30 days of being notified of it".
PA-2.8: "Screening is repeated at least once every 12 months and whenever ownership changes. A potential match is
routed to Legal, and no quote, order or incentive may be processed for the Partner while the match is unresolved."
PA-11.1: no partner's data to another (a rival's object is a 404). The day boundaries and due dates are in the unit
tests (tests/unit/test_automated_decision_reviews.py, test_ownership_changes.py, test_legal_holds.py)."""

import pytest

import clock_support
from security_support import make_party, offboard, quote_for
from support import assert_problem

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def party(api, operator, stack):
    made = make_party(api, operator, stack, "northwind")
    yield made
    offboard(operator, made)


def test_a_partner_requests_review_of_its_own_entitlement_check_and_reads_it(party):
    mine, rival = party.partners
    partner, other = party.partner_keys[mine], party.partner_keys[rival]
    body = {"kind": "entitlement_check", "entitlement": "premium_onboarding", "reason": "We hold the tier for it"}
    for bad, path in (({**body, "invoice_id": "inv_01JX0000000000000000000000"}, "/invoice_id"),
                      ({"kind": "entitlement_check", "reason": "x"}, "/entitlement"),
                      ({**body, "kind": "quote"}, "/kind"), ({**body, "reason": "   "}, "/reason")):
        problem = assert_problem(partner.post("/v1/review-requests", bad), 400)
        assert path in [e["path"] for e in problem["errors"]], problem
    assert_problem(other.post("/v1/review-requests", {**body, "partner_id": mine}), 404)
    assert_problem(party.by_role["finance"].post("/v1/review-requests", body), 403)
    made = partner.post("/v1/review-requests", body)
    assert made.status_code == 201, made.text
    review = made.json()
    assert (review["kind"], review["partner_id"], review["human_review"]["queue"]) == (
        "entitlement_check", mine, "customer_success")
    assert review["human_review"]["requested_by"] == "partner"
    path = f"/v1/review-requests/{review['review_id']}"
    assert partner.get(path).json()["review_id"] == review["review_id"]
    assert_problem(other.get(path), 404)
    assert_problem(partner.get("/v1/review-requests/rvw_01JX0000000000000000000000"), 404)
    assert party.by_role["viewer"].get(path).status_code == 200


def test_a_partner_tells_of_its_ownership_change_legal_is_asked_for_a_screening_and_quotes_are_not_held(party):
    mine, rival = party.partners
    partner = party.partner_keys[mine]
    today = clock_support.today().isoformat()  # the product's clock (dated runs)
    change = {"changed_on": today, "description": "Harbor Capital acquired 40% of the shares",
              "beneficial_owners": [{"name": "Harbor Capital LP", "share_percent": "40.00"}]}
    for bad in ({**change, "changed_on": "2026-13-01"}, {**change, "extra": 1},
                {**change, "beneficial_owners": [{"name": "X", "share_percent": "140"}]}):
        assert_problem(partner.post(f"/v1/partners/{mine}/ownership-changes", bad), 400)
    assert_problem(partner.post(f"/v1/partners/{rival}/ownership-changes", change), 404)
    assert_problem(party.by_role["finance"].post(f"/v1/partners/{mine}/ownership-changes", change), 403)
    told = partner.post(f"/v1/partners/{mine}/ownership-changes", change)
    assert told.status_code == 201, told.text
    assert told.json()["screening_due"]["since"] == today  # the demo screening on file is 20 days old
    assert told.json()["ownership_changes"][-1]["reported_by_role"] == "partner"
    exceptions = party.by_role["legal"].get("/v1/exceptions", queue="legal", status="open", limit=200).json()
    assert any(e.get("partner_id") == mine for e in exceptions["items"]), exceptions
    quoted = partner.post("/v1/pricing/check", quote_for(party, mine, discount="0.00"))
    assert quoted.status_code == 200 and quoted.json()["outcome"] == "allow", quoted.text


def test_legal_places_and_lifts_a_hold_once_and_no_other_role_may(party):
    mine, _ = party.partners
    legal = party.by_role["legal"]
    hold = {"partner_id": mine, "matter": "litigation", "reason": "Claim 26-CV-1042: preserve the records"}
    for role in ("admin", "finance", "channel_ops"):
        assert_problem(party.by_role[role].post("/v1/retention/legal-holds", hold), 403)
    assert_problem(party.partner_keys[mine].post("/v1/retention/legal-holds", hold), 403)
    assert_problem(legal.post("/v1/retention/legal-holds", {**hold, "matter": "whim"}), 400)
    assert_problem(legal.post("/v1/retention/legal-holds", {**hold, "partner_id": "ptr_01JX0000000000000000000000"}),
                   404)
    placed = legal.post("/v1/retention/legal-holds", hold)
    assert placed.status_code == 201, placed.text
    hold_id = placed.json()["hold_id"]
    held = party.admin.get("/v1/retention").json()["legal_holds"]
    assert any(h["partner_id"] == mine and hold_id in h["hold_ids"] for h in held), held
    lift = f"/v1/retention/legal-holds/{hold_id}/lift"
    assert_problem(party.admin.post(lift, {"reason": "tidy"}), 403)
    assert_problem(legal.post(lift, {}), 400)
    lifted = legal.post(lift, {"reason": "Settled"})
    assert lifted.status_code == 200 and lifted.json()["status"] == "lifted", lifted.text
    assert_problem(legal.post(lift, {"reason": "again"}), 409)
