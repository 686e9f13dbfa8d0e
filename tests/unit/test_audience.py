"""A partner's view of a pricing decision, from the clauses (PA-5.5, PA-11.1, PA-6.1 "for internal review")."""

from revgov.domain.audience import partner_decision

WORDING = {"PRC-MARGIN-FLOOR": "the line margin is below the floor; Finance reviews the line"}
DECISION = {
    "decision_id": "dec_X",
    "partner_id": "ptr_LOSER",
    "inputs": {
        "quote": {"lines": [{"line_id": "1", "sku": "NW-SW-24P", "quantity": 1, "unit_cost": "900.00"}]},
        "catalog": {"version": "cat_1", "items": {"NW-SW-24P": {"sku": "NW-SW-24P", "family": "networking",
                                                                "list_price": "1250.00", "unit_cost": "900.00"}}},
        "rivals": {"networking": {"registration_id": "dl_WINNER", "partner_id": "ptr_WINNER"}},
    },
    "result": {
        "lines": [{"line_id": "1", "net_total": "912.50", "cost_total": "900.00", "margin_percent": "1.37",
                   "findings": [{"rule_id": "PRC-MARGIN-FLOOR", "clause": "PA-6.3",
                                 "message": "line margin 1.37% is below the 12.00% floor"}]}],
        "totals": {"net_total": "912.50", "cost_total": "900.00", "margin_percent": "1.37"},
        "findings": [],
        "reasons": [{"rule_id": "PRC-MARGIN-FLOOR", "clause": "PA-6.3",
                     "message": "line margin 1.37% is below the 12.00% floor"},
                    {"rule_id": "PRC-CHANNEL-CONFLICT", "clause": "PA-5.5",
                     "message": "the customer is registered to another partner for networking until 2027-01-01"}],
    },
}


def test_a_partner_view_drops_rivals_costs_and_margins_and_keeps_rules_clauses_and_the_end_date():
    seen = partner_decision(DECISION, WORDING)
    text = str(seen)
    assert "ptr_WINNER" not in text and "dl_WINNER" not in text and "rivals" not in seen["inputs"]
    assert "900.00" not in text and "1.37" not in text
    assert seen["result"]["totals"] == {"net_total": "912.50"}
    assert seen["inputs"]["catalog"]["items"]["NW-SW-24P"]["list_price"] == "1250.00"
    reasons = {r["rule_id"]: r for r in seen["result"]["reasons"]}
    assert reasons["PRC-MARGIN-FLOOR"] == {"rule_id": "PRC-MARGIN-FLOOR", "clause": "PA-6.3",
                                           "message": WORDING["PRC-MARGIN-FLOOR"]}
    assert "until 2027-01-01" in reasons["PRC-CHANNEL-CONFLICT"]["message"]  # PA-5.5: the date, not the identity
    assert DECISION["inputs"]["rivals"]  # the stored record is untouched
