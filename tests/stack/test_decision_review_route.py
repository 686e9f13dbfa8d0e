"""POST /v1/decisions/{decision_id}/review-requests over HTTP: who may call it, on whose decision, and bad input.

PA-14.2: "A Partner may request human review of any automated decision within 30 days of being notified of it; the
review is completed within 10 business days." PA-11.1: the Distributor does not disclose one Partner's data to another
(a rival's decision is a 404). SOP-4.3: the requester never decides its own case. The day-30 / day-31 boundary and the
hand-counted due dates are in tests/unit/test_decision_reviews.py (a fixed clock)."""

import pytest

from security_support import make_party, offboard, quote_for
from support import assert_problem

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def party(api, operator, stack):
    made = make_party(api, operator, stack, "northwind")
    yield made
    offboard(operator, made)


def test_a_partner_requests_review_of_its_own_automated_quote_check_and_reads_the_result(party):
    mine, rival = party.partners
    partner = party.partner_keys[mine]
    checked = partner.post("/v1/pricing/check", quote_for(party, mine, discount="0.00"))
    assert checked.status_code == 200 and checked.json()["status"] == "final", checked.text
    decision_id = checked.json()["decision_id"]
    path = f"/v1/decisions/{decision_id}/review-requests"
    for bad in ({}, {"reason": "   "}, {"reason": "x", "extra": 1}, {"reason": "a\u202eb"}, {"reason": 5}):
        assert_problem(partner.post(path, bad), 400)
    assert_problem(party.partner_keys[rival].post(path, {"reason": "not mine"}), 404)
    assert_problem(party.by_role["finance"].post(path, {"reason": "x"}), 403)
    assert_problem(partner.post("/v1/decisions/dec_01JX0000000000000000000000/review-requests", {"reason": "x"}), 404)
    requested = partner.post(path, {"reason": "the customer is a public hospital: the public-sector price applies"})
    assert requested.status_code == 200, requested.text
    review = requested.json()["human_review"]
    assert (review["status"], review["clause"], review["queue"]) == ("open", "PA-14.2", "channel_ops")
    assert review["requested_by"] == "partner"  # a partner reads roles, never key ids
    assert_problem(partner.post(path, {"reason": "again"}), 409)
    decided = party.by_role["channel_ops"].post(f"/v1/approvals/{review['approval_id']}/decision",
                                                {"outcome": "approved", "note": "list price, no discount: correct"})
    assert decided.status_code == 200, decided.text
    read = partner.get(f"/v1/decisions/{decision_id}").json()
    assert (read["outcome"], read["human_review"]["status"]) == ("allow", "confirmed")
    assert read["human_review"]["decided_by"] == "channel_ops"
    assert_problem(partner.post(path, {"reason": "once more"}), 422)  # a person has now confirmed it
