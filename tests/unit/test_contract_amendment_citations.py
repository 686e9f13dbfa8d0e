"""A contract clause changed outside a policy change names the policy rules that cite it.

STYLE / the team's standard: "A policy rule and the clause it cites must say the same thing; when they differ, the
clause wins." docs/policy.md "Policy as data": "Every rule carries an id and the contract clause it comes
from". docs/policy.md: a draft may
carry "the contract amendment it implements" so both take effect together. A legal or admin key may also amend a
clause directly (`POST /v1/contracts/{document}/amendments`, `PUT /v1/contracts/{document}`): found as a new MSP,
raising PA-6.3's margin floor from 12% to 15% that way was answered 200 with nothing saying that three rules still
enforce 12%. Since 1.57.1 a write that moves a figure a rule in force sets is refused (test_contract_figures_on_write);
a rewording that keeps the figures stands (the contract is the source of truth), and the answer and its audit record
name each rule citing a clause whose text changed, for review.

tenants/northwind/tenant.yaml: `margin_floor: {id: PRC-MARGIN-FLOOR, clause: PA-6.3, percent: "12"}` and
`below_cost: {id: PRC-BELOW-COST, clause: PA-6.3}` under `pricing`, `margin_floor: {id: RBT-MARGIN-FLOOR, clause:
PA-6.3, percent: "12"}` under `rebates`; no rule cites PA-1.1 (defined terms).
"""

from __future__ import annotations

from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.services import contracts

LEGAL = Principal("northwind", Role.LEGAL, "key_LEGALAMENDS0000000000000000")
PA_6_3_REWORDED = {"clause_id": "PA-6.3", "title": "Margin floor",
                   "text": "No quote line may be priced with a Line Margin under 12 percent unless Finance approves."}
CITING_PA_6_3 = [
    {"clause": "PA-6.3", "rule_id": "PRC-MARGIN-FLOOR", "path": "/policy/pricing/margin_floor"},
    {"clause": "PA-6.3", "rule_id": "PRC-BELOW-COST", "path": "/policy/pricing/below_cost"},
    {"clause": "PA-6.3", "rule_id": "RBT-MARGIN-FLOOR", "path": "/policy/rebates/margin_floor"},
]


def _sorted(rules: list[dict[str, str]]) -> list[dict[str, str]]:
    return sorted(rules, key=lambda r: r["rule_id"])


def test_amending_a_cited_clause_names_every_rule_citing_it_in_the_answer_and_the_audit_record():
    rt, _ = memory_runtime("2026-12-07T10:00:00.000Z")
    answer = contracts.amend_contract(rt, LEGAL, "PA", {"reason": "floor reworded", "clauses": [PA_6_3_REWORDED]})
    assert answer["status"] == "amended"
    assert _sorted(answer["policy_rules_to_review"]) == _sorted(CITING_PA_6_3)
    (record,) = [r for r in rt.store.iter_audit_records("northwind") if r["action"] == "contract.amended"]
    assert _sorted(record["inputs"]["policy_rules_to_review"]) == _sorted(CITING_PA_6_3)


def test_a_clause_no_rule_cites_and_an_unchanged_text_name_none():
    rt, _ = memory_runtime("2026-12-07T10:00:00.000Z")
    before = contracts.get_contract(rt, LEGAL, "PA")["contract"]["markdown"]
    terms = {"clause_id": "PA-1.1", "title": "Defined terms",
             "text": "In this Agreement, \"Partner\" means a reseller."}
    assert contracts.amend_contract(rt, LEGAL, "PA", {"reason": "terms", "clauses": [terms]})[
        "policy_rules_to_review"] == []
    again = contracts.put_contract(rt, LEGAL, "PA", {"name": "partner-agreement.md", "markdown": before})
    assert {r["rule_id"] for r in again["policy_rules_to_review"]} == set()  # PA-1.1 back: still cited by none
    same = contracts.put_contract(rt, LEGAL, "PA", {"name": "partner-agreement.md", "markdown": before})
    assert same["status"] == "unchanged" and same["policy_rules_to_review"] == []


def test_replacing_the_whole_document_names_the_rules_of_the_clauses_whose_text_changed():
    rt, _ = memory_runtime("2026-12-07T10:00:00.000Z")
    before = contracts.get_contract(rt, LEGAL, "PA")["contract"]["markdown"]
    reworded = before.replace("with a Line Margin below 12% without", "with a Line Margin under twelve percent without")
    assert reworded != before
    answer = contracts.put_contract(rt, LEGAL, "PA", {"name": "partner-agreement.md", "markdown": reworded})
    assert _sorted(answer["policy_rules_to_review"]) == _sorted(CITING_PA_6_3)
