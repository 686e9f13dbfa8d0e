"""A policy rule and the clause it cites say the same thing: every figure a rule sets is written in its clause, and
when they differ the clause wins (domain/clause_figures.py; docs/policy.md "Figures and their clauses").

Clauses the expectations come from (tenants/northwind/contracts/partner-agreement.md):
- PA-6.2 "The discount caps are:" ... "| Gold | 15% | 12% | 10% | 12% |" (networking, security, cloud-services,
  hardware): gold hardware is capped at 12%, so a rule saying 18 contradicts it.
- PA-6.3 "No quote line may be priced with a Line Margin below 12% without Finance approval".
- PA-11.2 "within 72 hours, of a security incident".
"""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from revgov.domain.clause_figures import NOT_CLAUSE_FIGURES, figure_problems, written_figures
from revgov.domain.contracts import parse_contract
from revgov.domain.errors import RuleViolation
from revgov.tenant_files import load_tenant_file

TENANTS = Path(__file__).resolve().parents[2] / "tenants"
GOLD_HARDWARE = "/policy/pricing/discount_caps/caps/gold/hardware"


def _tenant(tenant: str) -> tuple[dict[str, Any], dict[str, str]]:
    config = yaml.safe_load((TENANTS / tenant / "tenant.yaml").read_text())
    texts = {c.clause_id: c.text for doc in sorted((TENANTS / tenant / "contracts").glob("*.md"))
             for c in parse_contract(doc.read_text(), name=doc.name).clauses}  # fmt: skip
    return config["policy"], texts


def test_gold_hardware_cap_18_citing_pa_6_2_which_says_12_is_named_with_the_clause():
    policy, texts = _tenant("northwind")
    assert "| Gold | 15% | 12% | 10% | 12% |" in texts["PA-6.2"]  # the clause, as the contract states it
    policy["pricing"]["discount_caps"]["caps"]["gold"]["hardware"] = "18"
    (problem,) = figure_problems(policy, texts)
    assert problem.path == GOLD_HARDWARE
    assert "PRC-TIER-CAPS sets 18" in problem.message and "PA-6.2" in problem.message
    assert "| Gold | 15% | 12% | 10% | 12% |" in problem.message  # the clause quoted: it wins


def test_a_tabulated_figure_answers_to_its_own_cell_not_to_the_table():
    """PA-6.2's gold row writes 15% for networking and 12% for hardware: a gold hardware cap of 15 is in the table but
    not in its cell. SOP-4.1's matrix row "| margin_below_floor | finance | 16 |": 24 SLA hours is written in other
    rows of the matrix, not in this one."""
    policy, texts = _tenant("northwind")
    assert "| margin_below_floor | finance | 16 |" in texts["SOP-4.1"]
    policy["pricing"]["discount_caps"]["caps"]["gold"]["hardware"] = "15"
    policy["exception_routing"]["categories"]["margin_below_floor"]["sla_hours"] = 24
    assert [p.path for p in figure_problems(policy, texts)] == [
        "/policy/exception_routing/categories/margin_below_floor/sla_hours", GOLD_HARDWARE]


def test_the_loader_refuses_a_tenant_file_whose_rule_contradicts_its_clause(tmp_path):
    target = tmp_path / "northwind"
    (target / "contracts").mkdir(parents=True)
    for doc in (TENANTS / "northwind" / "contracts").glob("*.md"):
        (target / "contracts" / doc.name).write_text(doc.read_text())
    config = yaml.safe_load((TENANTS / "northwind" / "tenant.yaml").read_text())
    config["policy"]["pricing"]["discount_caps"]["caps"]["gold"]["hardware"] = "18"
    (target / "tenant.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(RuleViolation) as refused:
        load_tenant_file(target / "tenant.yaml")
    assert [e.path for e in refused.value.errors] == [GOLD_HARDWARE]


@pytest.mark.parametrize("tenant", ["northwind", "contoso"])
def test_every_figure_of_both_demo_policies_is_written_in_its_clause(tenant):
    policy, texts = _tenant(tenant)
    assert figure_problems(policy, texts) == []


@pytest.mark.parametrize(("tenant", "pointer", "value", "clause"), [
    # PA-6.3 "below 12%"; PA-11.2 "within 72 hours"; PA-7.2's volume tiers; SOP-4.2 "after twice the SLA"
    ("northwind", ("pricing", "margin_floor", "percent"), "13", "PA-6.3"),
    ("northwind", ("security_incidents", "notify_within_hours"), 48, "PA-11.2"),
    ("northwind", ("exception_routing", "escalation", "head_at_percent"), 300, "SOP-4.2"),
    ("northwind", ("partner_tiers", 2, "entitlements", "max_support_hours_per_quarter", "value"), 90, "PA-9.2"),
    # CPA-6.3 / COP-4.2 / CPA-9.2, contoso's own
    ("contoso", ("pricing", "margin_floor", "percent"), "11", "CPA-6.3"),
    ("contoso", ("exception_routing", "escalation", "head_at_percent"), 200, "COP-4.2"),
])  # fmt: skip
def test_a_changed_figure_of_either_demo_policy_is_named_by_its_pointer(tenant, pointer, value, clause):
    policy, texts = _tenant(tenant)
    node = policy
    for key in pointer[:-1]:
        node = node[key]
    node[pointer[-1]] = value
    found = figure_problems(policy, texts)
    assert [(p.path, clause in p.message) for p in found] == [("/policy/" + "/".join(map(str, pointer)), True)]


def test_a_figure_is_read_in_its_written_forms():
    numbers, percents = written_figures("a cap of twelve per cent, 30 days' notice, forty-five days, USD 5,000.00, "
                                        "50% of the fee, 7.5 percent, after twice the SLA, under PA-4.3")
    assert {Decimal(12), Decimal(30), Decimal(45), Decimal(5000), Decimal(50), Decimal("7.5"), Decimal(200)} <= numbers
    assert Decimal(4) not in numbers and Decimal("4.3") not in numbers  # a clause reference is not a figure
    assert {Decimal(12), Decimal(50), Decimal("7.5")} <= percents
    rule = {"id": "R", "clause": "X-1", "percent": "12", "share": "0.5", "days": 30, "amount": "5000.00"}
    assert figure_problems({"r": rule}, {"X-1": "twelve per cent; 50% share; 30 days; USD 5,000"}) == []
    assert [p.path for p in figure_problems({"r": rule}, {"X-1": "12 percent; half; 30 days; USD 5,000"})] \
        == ["/policy/r/share"]


def test_figures_passed_over_are_listed_with_a_reason_and_a_nested_rule_answers_to_its_own_clause():
    assert all(reason.strip() for reason in NOT_CLAUSE_FIGURES.values())
    policy = {"outer": {"id": "A", "clause": "X-1", "days": 30,
                        "inner": {"id": "B", "clause": "X-2", "days": 60}}}  # fmt: skip
    assert figure_problems(policy, {"X-1": "30 days", "X-2": "60 days"}) == []
    assert [p.path for p in figure_problems(policy, {"X-1": "60 days", "X-2": "30 days"})] == [
        "/policy/outer/days", "/policy/outer/inner/days"]
    # a clause the contracts lack is the existence check's problem, not a figure problem
    assert figure_problems(copy.deepcopy(policy), {}) == []


def test_a_draft_setting_gold_hardware_to_18_is_a_validation_problem_and_never_proposed():
    """PA-6.2's table: "| Gold | 15% | 12% | 10% | 12% |" (hardware the last column): 18 is a problem of the draft
    naming the figure and the clause, the proposal is refused (422) with the same pointer, and nothing changes."""
    from memory_store import memory_runtime
    from revgov.domain.access import Principal, Role
    from revgov.services import policy_drafts

    rt, _ = memory_runtime("2026-11-10T10:00:00.000Z")
    ops = Principal("northwind", Role.CHANNEL_OPS, "key_CHANNEL_OPS0000000000000000")
    draft = policy_drafts.create_draft(rt, ops, {"reason": "gold hardware 18"})
    policy_drafts.patch_policy(rt, ops, draft["draft_id"], {"operations": [
        {"op": "test", "path": "/pricing/discount_caps/caps/gold/hardware", "value": "12"},
        {"op": "replace", "path": "/pricing/discount_caps/caps/gold/hardware", "value": "18"}]})  # fmt: skip
    checked = policy_drafts.validate_draft(rt, ops, draft["draft_id"])
    assert checked["valid"] is False and [p["path"] for p in checked["problems"]] == [GOLD_HARDWARE]
    assert "PA-6.2" in checked["problems"][0]["message"] and "| Gold | 15% | 12% | 10% | 12% |" in \
        checked["problems"][0]["message"]
    with pytest.raises(RuleViolation) as refused:
        policy_drafts.propose(rt, ops, draft["draft_id"], {"effective_at": "2026-12-01T00:00:00.000Z"})
    assert [e.path for e in refused.value.errors] == [GOLD_HARDWARE]
    assert policy_drafts.get_draft(rt, ops, draft["draft_id"])["status"] == "draft"


def test_post_v1_tenants_refuses_a_policy_whose_figure_its_contract_does_not_write():
    """POST /v1/tenants with northwind's contracts and gold hardware 18: refused naming the figure (PA-6.2 says 12%)."""
    from memory_store import memory_runtime
    from revgov.domain.access import PLATFORM, Principal, Role
    from revgov.services import tenant_repository, tenants

    rt, _ = memory_runtime("2026-11-10T10:00:00.000Z")
    config = load_tenant_file(TENANTS / "northwind" / "tenant.yaml")
    config["tenant_id"] = "gold-eighteen"
    config["policy"]["pricing"]["discount_caps"]["caps"]["gold"]["hardware"] = "18"
    with pytest.raises(RuleViolation) as refused:
        tenants.create_tenant(rt, Principal(PLATFORM, Role.OPERATOR, "key_OPERATOR000000000000000000"), config)
    assert [e.path for e in refused.value.errors] == [GOLD_HARDWARE]
    assert tenant_repository.find(rt.store, "gold-eighteen") is None  # nothing provisioned
