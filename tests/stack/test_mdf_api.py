"""Market development funds over HTTP (PA-9.5): who may do what, and bad input.

PA-9.5: "Activities must be pre-approved by Channel Operations before they take place. Claims must be submitted within
90 days after the activity ends, with proof of execution and third-party invoices." PA-9.6: "Each Partner sees only
its own data." The arithmetic and the flow are specified in tests/unit/test_mdf.py.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from support import assert_problem, northwind_silver_partners

pytestmark = pytest.mark.stack
LEDGER = "/v1/partners/{}/mdf"
ACTIVITIES = "/v1/partners/{}/mdf/activities"
CLAIMS = "/v1/partners/{}/mdf/claims"


@pytest.fixture(scope="module")
def pair(stack: Any, api: Any) -> dict[str, Any]:
    return northwind_silver_partners(stack, api, ("Funds", "Rival"), "MDF")


def _today(stack: Any) -> date:
    return date.fromisoformat(stack.runtime.clock.now_iso()[:10])


def _body(today: date, **changed: Any) -> dict[str, Any]:
    return {"title": "Roadshow", "starts_on": (today + timedelta(days=10)).isoformat(),
            "ends_on": (today + timedelta(days=12)).isoformat(), "planned_amount": "1000.00", **changed}


def test_bad_mdf_requests_get_a_problem_naming_the_field_and_change_nothing(pair, stack):
    partner_id, own = pair["partners"][0]
    today = _today(stack)
    before = own.get(LEDGER.format(partner_id)).json()
    cases = [
        (_body(today, planned_amount="-5.00"), 400, "/planned_amount"),
        (_body(today, planned_amount="NaN"), 400, "/planned_amount"),
        (_body(today, planned_amount="1e9"), 400, "/planned_amount"),
        (_body(today, planned_amount=1000), 400, "/planned_amount"),
        (_body(today, planned_amount="99999999.99"), 422, "/planned_amount"),
        (_body(today, planned_amount="0.00"), 422, "/planned_amount"),
        (_body(today, ends_on=(today + timedelta(days=5)).isoformat()), 422, "/ends_on"),
        (_body(today, starts_on=today.isoformat()), 422, "/starts_on"),
        (_body(today, ends_on="2099-12-31"), 422, "/ends_on"),
        (_body(today, starts_on="2026-02-30"), 400, "/starts_on"),
        (_body(today, title="a\u202eb"), 400, "/title"),
        ({**_body(today), "status": "approved"}, 400, None),
    ]
    for body, status, path in cases:
        problem = assert_problem(own.post(ACTIVITIES.format(partner_id), body), status)
        if path:
            assert path in [e["path"] for e in problem.get("errors", [])], (body, problem)
    claims = [
        ({"activity_id": "mdfa_01JX0000000000000000000000", "amount": "10.00",
          "evidence": {"proof_of_execution": "dms://x", "invoices": []}}, 400),
        ({"activity_id": "mdfa_01JX0000000000000000000000", "amount": "10.00",
          "evidence": {"proof_of_execution": "dms://x", "invoices": ["A"]}}, 404),
        ({"activity_id": "not-an-id", "amount": "10.00",
          "evidence": {"proof_of_execution": "dms://x", "invoices": ["A"]}}, 400),
    ]
    for body, status in claims:
        assert_problem(own.post(CLAIMS.format(partner_id), body), status)
    assert own.get(LEDGER.format(partner_id)).json() == before


def test_a_partner_sees_and_asks_for_its_own_only_and_never_approves(pair, stack):
    partner_id, own = pair["partners"][0]
    rival_id, rival = pair["partners"][1]
    roles = pair["roles"]
    today = _today(stack)
    assert_problem(rival.get(LEDGER.format(partner_id)), 404)
    assert_problem(rival.post(ACTIVITIES.format(partner_id), _body(today)), 404)
    assert_problem(roles["finance"].post(ACTIVITIES.format(partner_id), _body(today)), 403)
    made = own.post(ACTIVITIES.format(partner_id), _body(today))
    assert made.status_code == 201, made.text
    activity = made.json()
    assert activity["requested_by"] == "partner" and activity["status"] == "requested"
    approve = f"{ACTIVITIES.format(partner_id)}/{activity['activity_id']}/approve"
    assert_problem(own.post(approve, {}), 403)  # "pre-approved by Channel Operations", never the partner
    assert_problem(roles["finance"].post(approve, {}), 403)
    # the activity under a rival's partner id does not exist
    assert_problem(roles["channel_ops"].post(f"{ACTIVITIES.format(rival_id)}/{activity['activity_id']}/approve", {}),
                   404)
    reject = f"{ACTIVITIES.format(partner_id)}/{activity['activity_id']}/reject"
    assert_problem(roles["channel_ops"].post(reject, {}), 422)  # a rejection says why
    approved = roles["channel_ops"].post(approve, {"reason": "in plan"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert_problem(roles["channel_ops"].post(approve, {}), 409)
    seen = own.get(LEDGER.format(partner_id)).json()
    assert seen["clause"] == "PA-9.5" and seen["activities"][0]["decided_by"] == "channel_ops"
    assert "key_" not in str(seen)
