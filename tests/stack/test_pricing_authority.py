"""Decisions a distributor can trust, over HTTP: the price list prices every line, a partner reads only its own
view, and a quote of the documented maximum size is decided, stored, audited and replayed.

Expectations come from the contracts (quoted beside each) and the demo price list of tenants/northwind/tenant.yaml.
"""

import uuid
from datetime import timedelta

import pytest

import clock_support
from support import assert_problem, northwind_silver_partners


def _in_60_days() -> str:
    """A close date inside northwind's 180-day registration window (PA-5.1), counted from the product's today."""
    return (clock_support.today() + timedelta(days=60)).isoformat()

PRICE_LIST = {  # tenants/northwind/tenant.yaml, billing.price_list (PA-6.1)
    "NW-SW-24P": ("networking", "1250.00", "900.00"),
    "NW-RTR-EDGE": ("networking", "2100.00", "1470.00"),
    "NW-NET-MGMT": ("networking", "99.00", "35.00"),
}


@pytest.fixture(scope="module")
def nw(stack, api):
    """Northwind's staff keys and two fresh active silver partners, each with its own partner key."""
    return northwind_silver_partners(stack, api, ("Winner", "Loser"), "Authority")


def _quote(partner_id, lines, customer=None):
    return {
        "partner_id": partner_id,
        "quote_ref": f"Q-{uuid.uuid4().hex[:8]}",
        "customer": {"id": customer or f"CUST-{uuid.uuid4().hex[:8]}", "name": "Authority Customer"},
        "lines": lines,
        "terms": {"payment_days": 30},
    }


def _head(nw):
    return nw["rt"].store.audit_head("northwind")


# --- 1. the price list is the authority ---------------------------------------------------------------------------
# PA-1.2: "'List Price' means the price of an item in the Distributor's price list in force on the quote date ...
# 'Line Cost' means the Distributor's standard landed cost recorded in the price list for the item."
@pytest.mark.parametrize(
    ("field", "value"), [("list_price", "1.00"), ("unit_cost", "1.00"), ("family", "hardware")]
)
def test_a_caller_that_sets_its_own_price_cost_or_family_is_refused_naming_the_field(nw, field, value):
    partner_id, own_key = nw["partners"][0]
    before = _head(nw)
    for caller in (own_key, nw["roles"]["sales"]):
        line = {"line_id": "1", "sku": "NW-SW-24P", "quantity": 2, "discount_percent": "5.00", field: value}
        problem = assert_problem(caller.post("/v1/pricing/check", _quote(partner_id, [line])), 400)
        assert problem["errors"][0]["path"] == f"/lines/0/{field}" and field in problem["errors"][0]["message"]
    assert _head(nw) == before  # nothing decided, nothing audited


def test_price_cost_and_family_come_from_the_price_list_in_force_on_the_quote_date(nw):
    partner_id, own_key = nw["partners"][0]
    lines = [{"line_id": str(n), "sku": sku, "quantity": 3} for n, sku in enumerate(PRICE_LIST)]
    checked = own_key.post("/v1/pricing/check", _quote(partner_id, lines)).json()
    for line in checked["lines"]:
        family, list_price, _ = PRICE_LIST[line["sku"]]
        assert (line["family"], line["list_price"]) == (family, list_price)
    staff = nw["roles"]["finance"].get(f"/v1/decisions/{checked['decision_id']}").json()
    for line in staff["result"]["lines"]:
        _, list_price, unit_cost = PRICE_LIST[line["sku"]]
        # staff see the Line Cost: 3 x the price list's unit cost
        assert line["cost_total"] == f"{3 * float(unit_cost):.2f}"
    assert staff["inputs"]["catalog"]["version"].startswith("cat_")
    replay = nw["roles"]["finance"].get(f"/v1/decisions/{checked['decision_id']}/replay").json()
    assert replay["identical"] is True


# PA-6.3: "A line priced below Line Cost cannot be approved." The honest request for 35% off NW-SW-24P
# (1250.00 x 0.65 = 812.50 < 900.00 cost) is denied, whatever the caller would have liked the cost to be.
def test_a_below_cost_line_is_denied_from_the_price_list_cost(nw):
    partner_id, own_key = nw["partners"][0]
    line = {"line_id": "1", "sku": "NW-SW-24P", "quantity": 1, "discount_percent": "29.00"}
    checked = own_key.post("/v1/pricing/check", _quote(partner_id, [line])).json()
    # 1250.00 x 0.71 = 887.50 < 900.00: below Line Cost
    assert checked["outcome"] == "deny" and "PRC-BELOW-COST" in {r["rule_id"] for r in checked["reasons"]}


# PA-6.1: "Products are quoted from the Distributor's price list". A SKU not on it cannot be priced or allowed.
def test_an_unknown_sku_is_a_422_naming_each_line_and_changes_nothing(nw):
    partner_id, own_key = nw["partners"][0]
    before = _head(nw)
    lines = [
        {"line_id": "ok", "sku": "NW-SW-24P", "quantity": 1},
        {"line_id": "ghost", "sku": "NW-SW-48P", "quantity": 1},
    ]
    problem = assert_problem(own_key.post("/v1/pricing/check", _quote(partner_id, lines)), 422)
    assert [e["path"] for e in problem["errors"]] == ["/lines/1/sku"]
    assert "ghost" in problem["errors"][0]["message"] and "NW-SW-48P" in problem["errors"][0]["message"]
    # no clause routes an off-list item to an approval (PA-1.1 "Products" are the listed items): refused, citing it
    assert problem["clause"] == "PA-6.1" and problem["rule_id"] == "PRC-PRICE-LIST-ONLY"
    assert _head(nw) == before


# --- 3. views by audience -------------------------------------------------------------------------------------------
def _walk(value):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key, inner
            yield from _walk(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _walk(inner)


# PA-5.5: "the rejected Partner is told the date on which the conflicting exclusivity period ends but not the
# identity of the other Partner." PA-11.1: "The Distributor does not disclose one Partner's pricing, registrations,
# rebates or Customers to another Partner". PA-6.1: each quote line states "for internal review, Line Margin".
def test_a_losing_partner_reads_no_rival_and_no_cost_or_margin_by_any_route(nw, api):
    (winner_id, winner), (loser_id, loser) = nw["partners"]
    ops, finance = nw["roles"]["channel_ops"], nw["roles"]["finance"]
    customer = f"CUST-{uuid.uuid4().hex[:8]}"
    deal = winner.post("/v1/deals", {
        "partner_id": winner_id, "customer": {"id": customer, "name": "Contested Co", "contact": "Dana Ortiz"},
        "family": "networking",
        "estimated_value": "50000.00", "expected_close": _in_60_days(),
    }).json()
    ops.post(f"/v1/approvals/{deal['approval_id']}/decision", {"outcome": "approved", "note": "first"})

    # 9% off NW-RTR-EDGE: 2100.00 x 0.91 = 1911.00, margin (1911 - 1470) / 1911 = 23.08%; and a thin line:
    # 27% off NW-SW-24P: 1250.00 x 0.73 = 912.50, margin (912.50 - 900) / 912.50 = 1.37% (below the 12% floor)
    lines = [
        {"line_id": "1", "sku": "NW-RTR-EDGE", "quantity": 1, "discount_percent": "9.00"},
        {"line_id": "2", "sku": "NW-SW-24P", "quantity": 1, "discount_percent": "27.00"},
    ]
    checked = loser.post("/v1/pricing/check", _quote(loser_id, lines, customer))
    assert checked.status_code == 200
    decision_id = checked.json()["decision_id"]
    seen = {
        "check": checked.json(),
        "decision": loser.get(f"/v1/decisions/{decision_id}").json(),
        "explain": loser.get(f"/v1/decisions/{decision_id}/explain").json(),
        "copilot": loser.post(
            "/v1/copilot/ask", {"question": "Why was this quote not allowed, and who holds the registration?",
                                "decision_id": decision_id}
        ).json(),
    }
    assert seen["explain"].get("explanation"), seen["explain"]
    staff = finance.get(f"/v1/decisions/{decision_id}").json()
    assert staff["inputs"]["rivals"]["networking"]["partner_id"] == winner_id  # staff keep the whole record
    assert {"deal_registration_conflict", "margin_below_floor"} <= set(staff["result"]["approval_categories"])
    for route, body in seen.items():
        text = str(body)
        assert winner_id not in text and deal["deal_id"] not in text, route
        assert "rivals" not in text and "registration_id" not in text, route
        keys = {key for key, _ in _walk(body)}
        assert not keys & {"unit_cost", "cost_total", "margin_percent"}, route
        assert "900.00" not in text and "1470.00" not in text, route  # the price list's unit costs
    # the partner is still told why (rule and clause), and when the other exclusivity ends (PA-5.5)
    reasons = {r["rule_id"]: r for r in seen["decision"]["result"]["reasons"]}
    assert "PRC-CHANNEL-CONFLICT" in reasons and "PRC-MARGIN-FLOOR" in reasons
    assert reasons["PRC-MARGIN-FLOOR"]["clause"] == "PA-6.3"


# --- 4. records that fit ---------------------------------------------------------------------------------------------
def test_a_quote_of_the_documented_maximum_of_1000_lines_is_decided_stored_audited_and_replayed(nw):
    """API.md / the request schema: "Quote lines (at most 1000)". Every line is 5% off NW-SW-24P for a silver
    partner: within the 10% networking cap (PA-6.2), margin (1187.50 - 900.00) / 1187.50 = 24.21% above the 12%
    floor (PA-6.3): allow. Net total 1000 x 1250.00 x 0.95 = 1187500.00."""
    partner_id, _ = nw["partners"][0]
    sales, admin = nw["roles"]["sales"], nw["roles"]["admin"]
    lines = [{"line_id": str(n), "sku": "NW-SW-24P", "quantity": 1, "discount_percent": "5.00"} for n in range(1000)]
    checked = sales.post("/v1/pricing/check", _quote(partner_id, lines))
    assert checked.status_code == 200, checked.text[:500]
    body = checked.json()
    assert body["outcome"] == "allow" and body["totals"]["net_total"] == "1187500.00" and len(body["lines"]) == 1000
    stored = sales.get(f"/v1/decisions/{body['decision_id']}").json()
    assert stored["result"] == {k: v for k, v in stored["result"].items()} and len(stored["result"]["lines"]) == 1000
    assert stored["result"]["totals"] == body["totals"] and len(stored["inputs"]["quote"]["lines"]) == 1000
    replay = nw["roles"]["finance"].get(f"/v1/decisions/{body['decision_id']}/replay").json()
    assert replay["identical"] is True
    trail = admin.get("/v1/audit", subject=body["decision_id"]).json()["items"]
    assert trail[0]["action"] == "pricing.checked" and trail[0]["outcome"] == "allow"
    assert admin.get("/v1/audit/verify").json()["valid"] is True
