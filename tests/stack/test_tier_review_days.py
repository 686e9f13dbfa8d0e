"""The tier review read answers every review day it is asked about with a review or a problem, never a 5xx.

API.md: "422 valid JSON that breaks a rule ... A 5xx is a bug." Found by a new user trying the changelog's example
(`GET /v1/partners/{partner_id}/tier-review?on=YYYY-MM-DD`, 1.23.0) with far days on the demo partners: `on=0001-01-15`
(the January review reads the previous Program Year, year 0) and `on=9999-12-31&request=true` (an upgrade from the
next Billing Month, year 10000) answered 500, as did every contoso July or request day in year 1 (its trailing four
Quarters). A review day now lies from 1901-01-01 to 2999-12-31 (the Program Years a period can be named in,
domain.rebates.policy 1900-2999), like the what-if's days (1.20.0: "else a 422 naming /from or /to").
"""

from __future__ import annotations

from typing import Any

import pytest

from support import assert_problem

pytestmark = pytest.mark.stack

OUTSIDE = (
    {"on": "0001-01-15"}, {"on": "0001-07-01"}, {"on": "1900-07-01"}, {"on": "0001-03-01", "request": "true"},
    {"on": "3000-01-15"}, {"on": "9999-01-31"}, {"on": "9999-12-31", "request": "true"},
)  # fmt: skip
INSIDE = (
    {"on": "1901-01-01"}, {"on": "1901-07-01"}, {"on": "1901-01-01", "request": "true"},
    {"on": "2999-07-31"}, {"on": "2999-12-31", "request": "true"},
)  # fmt: skip


def _active(stack: Any, tenant_id: str) -> str:
    return next(p["partner_id"] for p in stack.info["tenants"][tenant_id]["partners"] if p["status"] == "active")


@pytest.mark.parametrize("tenant_id", ["northwind", "contoso"])
def test_review_days_outside_the_program_years_are_a_422_naming_on(stack: Any, api: Any, tenant_id: str) -> None:
    staff = api.as_key(stack.info["tenants"][tenant_id]["keys"]["channel_ops"])
    partner_id = _active(stack, tenant_id)
    for params in OUTSIDE:
        problem = assert_problem(staff.get(f"/v1/partners/{partner_id}/tier-review", **params), 422)
        assert problem["errors"] == [{"path": "/query/on", "message": "from 1901-01-01 to 2999-12-31"}], params
    for params in INSIDE:
        found = staff.get(f"/v1/partners/{partner_id}/tier-review", **params)
        assert found.status_code == 200, (params, found.text)
        assert found.json()["review_day"] == params["on"]
