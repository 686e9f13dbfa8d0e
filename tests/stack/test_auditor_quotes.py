"""An auditor's black-box quote cases over HTTP, written from Northwind's contract alone (never from the code).

Price list (tenants/northwind/tenant.yaml, PA-6.1 "Products are quoted from the Distributor's price list in force on
the quote date"): NW-NET-MGMT 99.00 (cost 35.00), NW-RTR-EDGE 2,100.00 (cost 1,470.00), all networking. The partners
are fresh active Silver resellers (PA-6.2: Silver networking cap 10%). No promotion is used, so no case depends on the
day the test runs (promotions have end dates). Each expectation is computed by hand in the comment beside it.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from test_idempotency_api import close_date

from support import northwind_silver_partners

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def nw(stack: Any, api: Any) -> dict[str, Any]:
    return northwind_silver_partners(stack, api, ("Quoter",), "Auditor")


def _check(nw: dict[str, Any], lines: list[tuple[str, int, str]], **extra: Any) -> dict[str, Any]:
    partner_id, own_key = nw["partners"][0]
    body = {
        "partner_id": partner_id,
        "quote_ref": f"AUD-{uuid.uuid4().hex[:8]}",
        "customer": extra.pop("customer", None) or {"id": f"CUST-{uuid.uuid4().hex[:8]}", "name": "Audit Customer"},
        "lines": [
            {"line_id": str(n + 1), "sku": sku, "quantity": qty, "discount_percent": pct}
            for n, (sku, qty, pct) in enumerate(lines)
        ],
        "terms": {"payment_days": 30},
        **extra,
    }
    answer = own_key.post("/v1/pricing/check", body)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


# PA-1.3: "Monetary calculations are performed with exact decimal arithmetic and rounded once, at line level, to two
# decimal places using round-half-to-even. Percentages are applied to the unrounded base and the result is rounded at
# line level."
@pytest.mark.parametrize(
    ("qty", "pct", "net_total"),
    [
        (1, "2.50", "96.52"),  # 99.00 x 0.975 = 96.525 -> half-even 96.52 (half-up would give 96.53)
        (3, "7.50", "274.72"),  # 297.00 x 0.925 = 274.725 -> 274.72 (unit rounded first: 91.58 x 3 = 274.74)
        (5, "3.30", "478.66"),  # 495.00 x 0.967 = 478.665 -> 478.66 (unit first: 95.733 -> 95.73 x 5 = 478.65)
    ],
)
def test_pa_1_3_the_line_is_rounded_once_half_even(nw, qty, pct, net_total):
    line = _check(nw, [("NW-NET-MGMT", qty, pct)])["lines"][0]
    assert line["net_total"] == net_total


# PA-6.2: "The combined discount on a quote line ... may not exceed the Partner's discount cap for its tier and the
# line's Product Family without approval under PA-6.6" (Silver networking: 10%). PA-6.6 (a): "a combined discount
# above the Partner's tier cap ... requires Channel Operations approval". NW-NET-MGMT keeps its margin far above 12%
# at these discounts (99.00 x 0.8999 = 89.09; (89.09 - 35.00) / 89.09 = 60.7%), so the cap alone decides.
@pytest.mark.parametrize(
    ("pct", "outcome", "roles"),
    [("10.00", "allow", []), ("10.01", "approval_required", ["channel_ops"])],
)
def test_pa_6_2_the_tier_cap_is_not_exceeded_at_exactly_the_cap(nw, pct, outcome, roles):
    checked = _check(nw, [("NW-NET-MGMT", 1, pct)])
    assert (checked["outcome"], sorted(checked["approver_roles"])) == (outcome, roles)


# PA-6.6 (b): "a combined discount above 25% of List Price requires Finance approval, in addition to any approval
# required under (a)". 25.00% is not above 25%: Channel Operations only (above the 10% cap). 25.01%: both.
# Margins: 99.00 x 0.7499 = 74.24, (74.24 - 35.00) / 74.24 = 52.9% -- above the 12% floor of PA-6.3 in both cases.
@pytest.mark.parametrize(
    ("pct", "roles"),
    [("25.00", ["channel_ops"]), ("25.01", ["channel_ops", "finance"])],
)
def test_pa_6_6_b_finance_only_above_25_percent(nw, pct, roles):
    checked = _check(nw, [("NW-NET-MGMT", 1, pct)])
    assert checked["outcome"] == "approval_required" and sorted(checked["approver_roles"]) == roles


# PA-6.4: "The combined discount on any line may not exceed 30% of List Price; a line above 30% cannot be approved
# under this Agreement". 30.00% is not above 30% (approvals: ops for the cap, finance above 25%); 30.01% is denied.
def test_pa_6_4_thirty_percent_may_be_approved_above_it_never(nw):
    at_limit = _check(nw, [("NW-NET-MGMT", 1, "30.00")])
    assert at_limit["outcome"] == "approval_required"
    assert sorted(at_limit["approver_roles"]) == ["channel_ops", "finance"]
    assert at_limit["lines"][0]["net_total"] == "69.30"  # 99.00 x 0.70
    above = _check(nw, [("NW-NET-MGMT", 1, "30.01")])
    assert above["outcome"] == "deny"


# PA-6.3: "No quote line may be priced with a Line Margin below 12% without Finance approval ... and is assessed on
# each line separately, not on the quote as a whole." NW-RTR-EDGE at 21%: 2,100.00 x 0.79 = 1,659.00,
# margin (1,659.00 - 1,470.00) / 1,659.00 = 11.39% < 12% -> Finance (and Channel Ops: 21% > 10% cap). The quote as a
# whole (plus 100 x NW-NET-MGMT at 0%: 9,900.00 on 3,500.00 cost) has a margin of 57%: the line still needs Finance.
# At 20%: 1,680.00, margin 210.00 / 1,680.00 = 12.5% -> no Finance (21% < 25% too), Channel Ops only.
def test_pa_6_3_margin_floor_is_per_line(nw):
    mixed = _check(nw, [("NW-NET-MGMT", 100, "0"), ("NW-RTR-EDGE", 1, "21.00")])
    assert mixed["outcome"] == "approval_required"
    assert sorted(mixed["approver_roles"]) == ["channel_ops", "finance"]
    assert mixed["totals"]["net_total"] == "11559.00"  # 9,900.00 + 1,659.00
    above_floor = _check(nw, [("NW-RTR-EDGE", 1, "20.00")])
    assert sorted(above_floor["approver_roles"]) == ["channel_ops"]


# PA-6.3: "A line priced below Line Cost cannot be approved." NW-RTR-EDGE at 30%: 2,100.00 x 0.70 = 1,470.00 is
# exactly the Line Cost, not below it (margin 0%: Finance and Channel Ops approvals, not a denial); NW-NET-MGMT
# cannot go below cost within 30% (99.00 x 0.70 = 69.30 > 35.00).
def test_pa_6_3_a_line_at_cost_is_not_below_cost(nw):
    at_cost = _check(nw, [("NW-RTR-EDGE", 1, "30.00")])
    assert at_cost["lines"][0]["net_total"] == "1470.00"
    assert at_cost["outcome"] == "approval_required"
    assert sorted(at_cost["approver_roles"]) == ["channel_ops", "finance"]


# PA-5.6 with PA-6.4: "Discount components on a line (a discretionary discount requested by the Partner, the
# registration discount under PA-5.6 and any promotions) combine additively ... and the total is applied to List
# Price." PA-6.2: "The cap applies to the total of all discount components on the line, including the registration
# discount". With the partner's approved registration (5%), 6% discretionary is 11% > 10%: Channel Operations;
# 99.00 x 0.89 = 88.11. 5% discretionary is exactly 10%: allowed, 99.00 x 0.90 = 89.10.
def test_pa_6_4_the_registration_discount_stacks_additively_under_the_cap(nw, stack):
    partner_id, own_key = nw["partners"][0]
    customer = {"id": f"CUST-{uuid.uuid4().hex[:8]}", "name": "Registered Customer"}
    deal = own_key.post("/v1/deals", {
        "partner_id": partner_id, "customer": {**customer, "contact": "Dana Ortiz"}, "family": "networking",
        "estimated_value": "5000.00", "expected_close": close_date(stack),
    }).json()
    decided = nw["roles"]["channel_ops"].post(f"/v1/approvals/{deal['approval_id']}/decision", {"outcome": "approved"})
    assert decided.status_code == 200, decided.text
    over = _check(nw, [("NW-NET-MGMT", 1, "6.00")], customer=customer, deal_registration_id=deal["deal_id"])
    line = over["lines"][0]
    assert (line["combined_discount_percent"], line["net_total"]) == ("11.00", "88.11")
    assert over["outcome"] == "approval_required" and over["approver_roles"] == ["channel_ops"]
    within = _check(nw, [("NW-NET-MGMT", 1, "5.00")], customer=customer, deal_registration_id=deal["deal_id"])
    assert (within["outcome"], within["lines"][0]["net_total"]) == ("allow", "89.10")


# PA-6.1: "Products are quoted from the Distributor's price list in force on the quote date." A SKU that is not on it
# cannot be quoted: refused, naming the line, citing PA-6.1, and nothing is decided.
def test_pa_6_1_a_sku_off_the_price_list_is_refused_naming_the_line(nw):
    partner_id, own_key = nw["partners"][0]
    body = {
        "partner_id": partner_id,
        "customer": {"id": f"CUST-{uuid.uuid4().hex[:8]}", "name": "Audit Customer"},
        "lines": [{"line_id": "1", "sku": "NW-NET-MGMT", "quantity": 1},
                  {"line_id": "2", "sku": "NW-NOT-ON-THE-LIST", "quantity": 1}],
    }
    before = nw["rt"].store.audit_head("northwind")
    answer = own_key.post("/v1/pricing/check", body)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["clause"] == "PA-6.1" and [e["path"] for e in problem["errors"]] == ["/lines/1/sku"]
    assert nw["rt"].store.audit_head("northwind") == before


# PA-6.1: "Each quote line states the Product Family, List Price, each discount component, Net Price and, for
# internal review, Line Margin." Staff see the Line Margin; the partner's own answer states the rest, not the margin.
# NW-NET-MGMT at 5%: 99.00 x 0.95 = 94.05; margin (94.05 - 35.00) / 94.05 = 62.79%.
def test_pa_6_1_the_line_margin_is_for_internal_review(nw):
    mine = _check(nw, [("NW-NET-MGMT", 1, "5.00")])
    line = mine["lines"][0]
    assert (line["family"], line["list_price"], line["net_total"]) == ("networking", "99.00", "94.05")
    assert line["discount_components"] == [{"source": "discretionary", "percent": "5.00"}]
    assert line.get("margin_percent") is None
    staff = nw["roles"]["finance"].get(f"/v1/decisions/{mine['decision_id']}").json()
    assert staff["result"]["lines"][0]["margin_percent"] == "62.79"
