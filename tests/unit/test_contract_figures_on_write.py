"""A contract written alone may not contradict a figure an active policy rule sets from it.

The team's standard: "A policy rule and the clause it cites must say the same thing; when they differ, the clause
wins." Since 1.56.2 a policy that sets a figure its clause does not write is refused (domain/clause_figures.py); the
contract side of the same link is checked here: `PUT /v1/contracts/{document}` or `POST …/amendments` that changes a
clause so a rule in force no longer finds its figure in it is a 422 naming each rule's figure by its JSON pointer, and
nothing changes. The way to change a figure is a policy draft that carries the amendment, so both take effect together
(docs/policy.md "Contract amendments with the policy change"). A rewording that keeps the figures is accepted and names
the rules to review, as before.

tenants/northwind/contracts/partner-agreement.md, PA-6.3: "No quote line may be priced with a Line Margin below 12%
without Finance approval, regardless of the discount applied. A line priced below Line Cost cannot be approved. [...]"
tenants/northwind/tenant.yaml: `margin_floor: {id: PRC-MARGIN-FLOOR, clause: PA-6.3, percent: "12"}` under `pricing`
and `margin_floor: {id: RBT-MARGIN-FLOOR, clause: PA-6.3, percent: "12"}` under `rebates`.
"""

from __future__ import annotations

import pytest

from memory_store import memory_runtime
from revgov.domain import contract_set
from revgov.domain.access import Principal, Role
from revgov.domain.errors import RuleViolation
from revgov.ports import Changes
from revgov.services import contracts

LEGAL = Principal("northwind", Role.LEGAL, "key_LEGALFIGURES000000000000000")
AT_15 = {"clause_id": "PA-6.3", "title": "Margin floor",
         "text": "No quote line may be priced with a Line Margin below 15% without Finance approval."}
FLOOR_POINTERS = {"/policy/pricing/margin_floor/percent", "/policy/rebates/margin_floor/percent"}


def _refusal(call) -> RuleViolation:
    with pytest.raises(RuleViolation) as refused:
        call()
    return refused.value


def _unchanged(rt, revision: int) -> None:
    assert contracts.get_contract(rt, LEGAL, "PA")["contract"]["revision"] == revision
    assert not [r for r in rt.store.iter_audit_records("northwind") if r["action"].startswith("contract.")
                and r["inputs"].get("revision", 0) > revision]


def test_an_amendment_moving_a_figure_alone_is_refused_naming_each_rule_figure():
    rt, _ = memory_runtime("2026-12-07T10:00:00.000Z")
    revision = contracts.get_contract(rt, LEGAL, "PA")["contract"]["revision"]
    refusal = _refusal(lambda: contracts.amend_contract(rt, LEGAL, "PA", {"reason": "15%", "clauses": [AT_15]}))
    errors = {e.path: e.message for e in refusal.errors}
    assert set(errors) == FLOOR_POINTERS
    assert "PRC-MARGIN-FLOOR sets 12" in errors["/policy/pricing/margin_floor/percent"]
    assert "RBT-MARGIN-FLOOR sets 12" in errors["/policy/rebates/margin_floor/percent"]
    assert "/v1/policy/drafts" in str(refusal)  # where the change goes instead
    _unchanged(rt, revision)


def test_a_replacement_moving_a_figure_alone_is_refused_and_a_rewording_keeping_it_is_not():
    rt, _ = memory_runtime("2026-12-07T10:00:00.000Z")
    stored = contracts.get_contract(rt, LEGAL, "PA")["contract"]
    before = stored["markdown"]
    raised = before.replace("with a Line Margin below 12% without", "with a Line Margin below 15% without")
    assert raised != before
    refusal = _refusal(lambda: contracts.put_contract(rt, LEGAL, "PA", {"name": stored["name"], "markdown": raised}))
    assert {e.path for e in refusal.errors} == FLOOR_POINTERS
    _unchanged(rt, stored["revision"])
    reworded = before.replace("with a Line Margin below 12% without", "with a Line Margin under 12 percent without")
    answer = contracts.put_contract(rt, LEGAL, "PA", {"name": stored["name"], "markdown": reworded})
    assert answer["status"] == "replaced"
    assert {"PRC-MARGIN-FLOOR", "RBT-MARGIN-FLOOR"} <= {r["rule_id"] for r in answer["policy_rules_to_review"]}


def test_a_figure_already_at_odds_before_the_write_does_not_block_an_unrelated_amendment():
    """Only what the write breaks is refused: a rule already behind its clause (a tenant stored before 1.56.2) is the
    policy's problem, named on its next draft, and does not hold every later amendment of another clause hostage."""
    rt, _ = memory_runtime("2026-12-07T10:00:00.000Z")
    stored = contracts.get_contract(rt, LEGAL, "PA")["contract"]
    raised = stored["markdown"].replace("with a Line Margin below 12% without", "with a Line Margin below 15% without")
    version = rt.store.get("northwind", contracts.CURRENT, "PA").version
    rt.commit("northwind", Changes(puts=contracts.contract_puts(
        None, contract_set.parse(stored["name"], raised), revision=stored["revision"] + 1, at=stored["updated_at"],
        by="key_PRE1562", action="replaced", reason="stored before 1.56.2", version=version)))
    terms = {"clause_id": "PA-1.1", "title": "Defined terms", "text": "\"Partner\" means a reseller."}
    assert contracts.amend_contract(rt, LEGAL, "PA", {"reason": "terms", "clauses": [terms]})["status"] == "amended"
