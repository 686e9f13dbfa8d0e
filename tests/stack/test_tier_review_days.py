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
INSIDE = ({"on": "2999-07-31"}, {"on": "2999-12-31", "request": "true"})
# Inside the years but before the demo partners' activation (PA-3.6 / PA-13.1: no period of the partner's to review)
BEFORE_ACTIVATION = ({"on": "1901-01-01"}, {"on": "1901-07-01"}, {"on": "1901-01-01", "request": "true"})


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
    for params in BEFORE_ACTIVATION:
        problem = assert_problem(staff.get(f"/v1/partners/{partner_id}/tier-review", **params), 422)
        assert [e["path"] for e in problem["errors"]] == ["/query/on"], params


@pytest.mark.parametrize("tenant_id", ["northwind", "contoso"])
def test_a_review_day_before_the_partners_activation_is_a_422_naming_on_and_records_nothing(stack, api, tenant_id):
    """PA-3.6 / CPA-3.5: Channel Operations reviews a Partner's tier in the Program Year (January on the previous
    one, July, or a request between reviews); PA-13.1 / CPA-13.1: "This Agreement starts on the date the Partner is
    approved". A review on a day before the partner was activated has no period of the partner's: refused, 422
    naming `on`, on the read and on the recording; nothing recorded, nothing audited. The activation day is reviewed."""
    staff = api.as_key(stack.info["tenants"][tenant_id]["keys"]["channel_ops"])
    partner = next(p for p in stack.info["tenants"][tenant_id]["partners"] if p["status"] == "active")
    path = f"/v1/partners/{partner['partner_id']}"
    shown = staff.get(path).json()
    activated = shown["activated_at"][:10]
    day = f"{int(activated[:4]) - 1}-07-20"  # the July review of the year before its activation
    refused = assert_problem(staff.get(f"{path}/tier-review", on=day), 422)
    assert refused["errors"] == [{"path": "/query/on", "message": f"before the partner's activation on {activated}"}]
    asked = assert_problem(staff.get(f"{path}/tier-review", on=day, request="true"), 422)
    assert [e["path"] for e in asked["errors"]] == ["/query/on"]
    admin = api.as_key(stack.info["tenants"][tenant_id]["admin_key"])
    trail = admin.get("/v1/audit", subject=partner["partner_id"], limit=200).json()["items"]
    recorded = assert_problem(staff.post(f"{path}/tier-changes", {"on": day}), 422)
    assert recorded["errors"] == [{"path": "/on", "message": f"before the partner's activation on {activated}"}]
    after = staff.get(path).json()
    assert (after["tier"], after.get("tier_changes")) == (shown["tier"], shown.get("tier_changes"))
    assert admin.get("/v1/audit", subject=partner["partner_id"], limit=200).json()["items"] == trail
    on_the_day = staff.get(f"{path}/tier-review", on=activated, request="true")
    assert on_the_day.status_code == 200 and on_the_day.json()["review_day"] == activated, on_the_day.text
