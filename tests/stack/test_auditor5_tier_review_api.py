"""Auditor 5 over HTTP: the tier review read (PA-3.6 / PA-3.7) and the registration's customer location (PA-2.6).

PA-3.6: "Channel Operations reviews every Partner's tier once per Program Year, by 31 January, using Annual Revenue for
the previous Program Year and the certifications valid on the review date." PA-3.7: "The Distributor gives 30 days'
written notice and the downgrade takes effect on the first day of the next Quarter after the notice period ends."
PA-3.3: Silver "requires an annual commitment of USD 250,000.00". Every review day is explicit, derived from the test
clock's year Y (never a fixed year, so the test holds in any year): fresh Silver resellers with no invoice in Y have
Annual Revenue USD 0.00 for it, so the January Y+1 review (on Y+1-01-20) moves them to Registered (no commitment, no
certification) after notice ending Y+1-02-19 (30 days), from Y+1-04-01 (the next Quarter's first day).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

import clock_support
from support import assert_problem, northwind_silver_partners

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def pair(stack: Any, api: Any) -> dict[str, Any]:
    return northwind_silver_partners(stack, api, ("Reviewed", "Rival"), "TierReview")


def _next_year() -> int:
    """Y+1: the year of the first annual review after the partners' activation (this year on the test clock)."""
    return clock_support.today().year + 1


def test_pa_3_6_the_january_review_of_a_silver_partner_without_revenue(pair: dict[str, Any]):
    (partner_id, _mine), _ = pair["partners"]
    ops = pair["roles"]["channel_ops"]
    year = _next_year()
    found = ops.get(f"/v1/partners/{partner_id}/tier-review", on=f"{year}-01-20")
    assert found.status_code == 200, found.text
    body = found.json()
    assert (body["review"], body["clause"], body["basis"], body["revenue"], body["tier"]) == (
        "annual", "PA-3.6", {"from": f"{year - 1}-01-01", "to": f"{year - 1}-12-31"}, "0.00", "silver")
    assert (body["outcome"], body["qualified_tier"], body["notice_ends"], body["effective_on"]) == (
        "downgrade", "registered", f"{year}-02-19", f"{year}-04-01")
    assert [r["clause"] for r in body["reasons"]] == ["PA-3.7", "PA-3.3"]
    request = ops.get(f"/v1/partners/{partner_id}/tier-review", on=f"{year}-03-10", request="true")
    assert request.status_code == 200 and request.json()["review"] == "request"
    assert request.json()["outcome"] == "unchanged"  # a request never downgrades
    assert ops.get(f"/v1/partners/{partner_id}").json()["tier"] == "silver"  # read only: nothing recorded


def test_the_tier_review_is_staff_only_and_bad_days_are_problems(pair: dict[str, Any]):
    (partner_id, mine), (rival_id, _) = pair["partners"]
    ops, year = pair["roles"]["channel_ops"], _next_year()
    assert_problem(mine.get(f"/v1/partners/{partner_id}/tier-review", on=f"{year}-01-20"), 403)
    assert_problem(ops.get("/v1/partners/ptr_01JX0000000000000000000099/tier-review", on=f"{year}-01-20"),
                   404)
    for params, status in (({"on": f"{year}-02-30"}, 400), ({"on": f"{year}0120"}, 400), ({"on": f"{year}-03-15"}, 422),
                           ({"on": f"{year}-01-20", "request": "maybe"}, 400),
                           ({"on": f"{year}-01-20", "x": "1"}, 400)):
        problem = assert_problem(ops.get(f"/v1/partners/{rival_id}/tier-review", **params), status)
        if status == 422:
            assert problem["errors"] == [{"path": "/query/on", "message": "not a day of a tier review"}]


def test_pa_2_6_a_registration_may_state_the_customer_location_in_iso_form(pair: dict[str, Any]):
    (partner_id, mine), _ = pair["partners"]
    body = {"partner_id": partner_id, "family": "networking", "estimated_value": "84000.00",
            "expected_close": (clock_support.today() + timedelta(days=45)).isoformat(),
            "customer": {"id": f"US-EIN-{uuid.uuid4().hex[:8]}", "name": "Harbor Logistics", "contact": "Dana Ortiz"}}
    for bad in ("us-wa", "USA", "US-", "US-WASH", ""):
        assert_problem(mine.post("/v1/deals", {**body, "customer": {**body["customer"], "country": bad}}), 400)
    made = mine.post("/v1/deals", {**body, "customer": {**body["customer"], "country": "US-WA"}})
    assert made.status_code == 201, made.text  # a Reseller is not limited to a territory (PA-2.1)
    assert made.json()["customer"]["country"] == "US-WA"
