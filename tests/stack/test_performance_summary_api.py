"""`GET /v1/partners/{partner_id}/performance-summary` over HTTP: who reads what, and bad input.

Fresh Northwind Silver resellers with no invoice yet. PA-3.3: Silver "requires an annual commitment of USD
250,000.00" (a Quarter's share: 62,500.00); PA-7.2: the quarterly volume rebate starts at "USD 100,000.00"; PA-9.2:
"Silver 40 hours" of support per Quarter. PA-11.1: "The Distributor does not disclose one Partner's pricing,
registrations, rebates or Customers to another Partner": a rival's summary is a 404.
"""

from __future__ import annotations

from typing import Any

import pytest

import clock_support
from support import assert_problem, northwind_silver_partners

pytestmark = pytest.mark.stack


def _quarter() -> str:
    """The quarter of the stack's today, read when a test runs (never at collection: an earlier test of the worker
    may have moved the shared clock into the next quarter, tests/stack/test_billing.py)."""
    today = clock_support.today()
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


@pytest.fixture(scope="module")
def pair(stack: Any, api: Any) -> dict[str, Any]:
    return northwind_silver_partners(stack, api, ("Summarized", "Rival"), "Summary")


def _values(body: dict[str, Any]) -> dict[str, str]:
    return {f["fact_id"]: f["value"] for f in body["facts"]}


def test_a_silver_partner_reads_its_own_quarter_from_the_contract_numbers(pair: dict[str, Any]):
    (partner_id, mine), _ = pair["partners"]
    before = _quarter()  # the default is the current quarter: the clock may cross a quarter's end during the call
    answer = mine.get(f"/v1/partners/{partner_id}/performance-summary")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    values = _values(body)
    assert body["period"] in {before, _quarter()}
    assert (body["audience"], values["revenue.to_date"]) == ("partner", "0.00")
    assert (values["threshold.TIER-SILVER.next"], values["threshold.RBT-VOLUME.next"]) == ("62500.00", "100000.00")
    assert (values["support.used"], values["support.entitled"]) == ("0.00", "40")
    assert not [s for s in body["sentences"] if s["staff_only"]] and "tier.review_day" not in values
    assert body["draft_message"]["status"] == "draft" and "key_" not in body["draft_message"]["body"]


def test_staff_read_the_tier_outlook_and_a_rival_key_gets_a_404(pair: dict[str, Any]):
    (partner_id, _), (rival_id, rival) = pair["partners"]
    staff = pair["roles"]["channel_ops"].get(f"/v1/partners/{partner_id}/performance-summary", period=_quarter())
    assert staff.status_code == 200, staff.text
    assert "tier_review" in {s["topic"] for s in staff.json()["sentences"]}  # PA-3.6: the next review's finding
    problem = assert_problem(rival.get(f"/v1/partners/{partner_id}/performance-summary"), 404)
    unknown = assert_problem(rival.get("/v1/partners/ptr_01JX0000000000000000000099/performance-summary"), 404)
    assert problem["detail"].replace(partner_id, "X") == unknown["detail"].replace("ptr_01JX0000000000000000000099",
                                                                                 "X")
    assert rival.get(f"/v1/partners/{rival_id}/performance-summary").status_code == 200


@pytest.mark.parametrize("period", ["2026-11", "2026-Q5", "26-Q1", "2026-q1", "2026-Q1 ", "2026-Q1x"])
def test_a_period_that_is_not_a_quarter_is_a_400_naming_it(pair: dict[str, Any], period: str):
    (partner_id, mine), _ = pair["partners"]
    problem = assert_problem(mine.get(f"/v1/partners/{partner_id}/performance-summary", period=period), 400)
    assert [e["path"] for e in problem["errors"]] == ["/query/period"]
