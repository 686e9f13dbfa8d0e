"""Auditor 5 over HTTP: the tier review read (PA-3.6 / PA-3.7) and the registration's customer location (PA-2.6).

PA-3.6: "Channel Operations reviews every Partner's tier once per Program Year, by 31 January, using Annual Revenue for
the previous Program Year and the certifications valid on the review date." PA-3.7: "The Distributor gives 30 days'
written notice and the downgrade takes effect on the first day of the next Quarter after the notice period ends."
PA-3.3: Silver "requires an annual commitment of USD 250,000.00". Every review day is explicit (never today's date):
fresh Silver resellers with no invoice in 2026 have Annual Revenue USD 0.00 for it, so the January 2027 review moves
them to Registered (no commitment, no certification) after notice ending 2027-02-19, from 2027-04-01.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from support import assert_problem, northwind_silver_partners

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def pair(stack: Any, api: Any) -> dict[str, Any]:
    return northwind_silver_partners(stack, api, ("Reviewed", "Rival"), "TierReview")


def test_pa_3_6_the_january_review_of_a_silver_partner_without_revenue(pair: dict[str, Any]):
    (partner_id, _mine), _ = pair["partners"]
    ops = pair["roles"]["channel_ops"]
    found = ops.get(f"/v1/partners/{partner_id}/tier-review", on="2027-01-20")
    assert found.status_code == 200, found.text
    body = found.json()
    assert (body["review"], body["clause"], body["basis"], body["revenue"], body["tier"]) == (
        "annual", "PA-3.6", {"from": "2026-01-01", "to": "2026-12-31"}, "0.00", "silver")
    assert (body["outcome"], body["qualified_tier"], body["notice_ends"], body["effective_on"]) == (
        "downgrade", "registered", "2027-02-19", "2027-04-01")
    assert [r["clause"] for r in body["reasons"]] == ["PA-3.7", "PA-3.3"]
    request = ops.get(f"/v1/partners/{partner_id}/tier-review", on="2027-03-10", request="true")
    assert request.status_code == 200 and request.json()["review"] == "request"
    assert request.json()["outcome"] == "unchanged"  # a request never downgrades
    assert ops.get(f"/v1/partners/{partner_id}").json()["tier"] == "silver"  # read only: nothing recorded


def test_the_tier_review_is_staff_only_and_bad_days_are_problems(pair: dict[str, Any]):
    (partner_id, mine), (rival_id, _) = pair["partners"]
    ops = pair["roles"]["channel_ops"]
    assert_problem(mine.get(f"/v1/partners/{partner_id}/tier-review", on="2027-01-20"), 403)
    assert_problem(ops.get("/v1/partners/ptr_01JX0000000000000000000099/tier-review", on="2027-01-20"),
                   404)
    for params, status in (({"on": "2027-02-30"}, 400), ({"on": "20270120"}, 400), ({"on": "2027-03-15"}, 422),
                           ({"on": "2027-01-20", "request": "maybe"}, 400), ({"on": "2027-01-20", "x": "1"}, 400)):
        problem = assert_problem(ops.get(f"/v1/partners/{rival_id}/tier-review", **params), status)
        if status == 422:
            assert problem["errors"] == [{"path": "/query/on", "message": "not a day of a tier review"}]


def test_pa_2_6_a_registration_may_state_the_customer_location_in_iso_form(pair: dict[str, Any]):
    (partner_id, mine), _ = pair["partners"]
    body = {"partner_id": partner_id, "family": "networking", "estimated_value": "84000.00",
            "expected_close": "2027-01-15",
            "customer": {"id": f"US-EIN-{uuid.uuid4().hex[:8]}", "name": "Harbor Logistics", "contact": "Dana Ortiz"}}
    for bad in ("us-wa", "USA", "US-", "US-WASH", ""):
        assert_problem(mine.post("/v1/deals", {**body, "customer": {**body["customer"], "country": bad}}), 400)
    made = mine.post("/v1/deals", {**body, "customer": {**body["customer"], "country": "US-WA"}})
    assert made.status_code == 201, made.text  # a Reseller is not limited to a territory (PA-2.1)
    assert made.json()["customer"]["country"] == "US-WA"
