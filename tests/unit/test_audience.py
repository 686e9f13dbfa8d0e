"""A partner's view of a pricing decision, from the clauses (PA-5.5, PA-11.1, PA-6.1 "for internal review")."""

from revgov.domain import audience
from revgov.domain.audience import partner_decision, partner_invoice

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


def test_a_partner_reads_its_invoice_without_line_cost_or_who_at_the_distributor_acted():
    """PA-1.2 / PA-6.1: the Line Cost is the Distributor's own; and as everywhere a partner reads a record, who acted
    reads as the team (`finance`), never one of the Distributor's keys or staff: a credit note's preparer named by the
    ERP (free text, a person) is not shown at all."""
    invoice = {
        "invoice_id": "inv_1", "finalized_by": "finance:key_AbC123",
        "lines": [{"line_id": "l1", "amount": "-250.00", "cost": "-180.00",
                   "detail": {"prepared_by": "Jane Doe (AR clerk)", "approved_by": "finance:key_ZZ9",
                              "credit_note_approval_id": "apr_1", "reason": "returned"}}],
    }  # fmt: skip
    shown = partner_invoice(invoice)
    line = shown["lines"][0]
    assert "cost" not in line and "prepared_by" not in line["detail"]
    assert line["detail"]["approved_by"] == "finance" and shown["finalized_by"] == "finance"
    assert line["detail"]["reason"] == "returned" and line["amount"] == "-250.00"
    assert invoice["lines"][0]["detail"]["prepared_by"] == "Jane Doe (AR clerk)"  # the staff record is untouched


def test_an_actor_field_naming_several_deciders_reads_as_their_teams():
    # PA-11.1 / CPA-11.1 keep the distributor's own information (which of its keys acted) from the partner; an upheld
    # rebate-dispute appeal is decided "jointly by the head of Finance and Legal" (SOP-6.3), and its resolution names
    # both deciders in one text: each reads as its team, no key id survives
    upheld = {"resolution": {"by": "finance:key_01JX000000000000000000FIN1 and legal:key_01JX00000000000000000LEGAL"}}
    assert audience.actors_as_roles(upheld) == {"resolution": {"by": "finance and legal"}}
