"""Issue #19: rule-level reach inside `pricing`. The summed what-if skips the evaluation of a stored decision the
draft's changed rules cannot reach; its figures must stay those of replaying every decision one by one.

Source of truth: the one-by-one replay (`GET …/whatif/{decision_id}`, services.policy_whatif.whatif_decision, which
always evaluates the whole stored decision under the draft). docs/policy.md: "`GET …/whatif/{decision_id}` is the row
the summary sums for one decision, so the figures can be checked one by one". The rules whose reach is confined:
- PA-6.2 "Discounts on Products ... are capped by tier" (`pricing.discount_caps.caps`, per tier and family): a cap
  cell changed for one tier and family can change only quotes priced at that tier with a line of that family;
- PA-6.4 promotions "apply only to quotes issued" with their code (`pricing.promotions`, by code): a promotion
  added, removed or changed can change only quotes that carry its code;
- PA-6.3 "The Net Price of each quote line must preserve a gross margin of at least 12% over Line Cost" (the floor):
  lowered, it can change only quotes that had a line under the old floor; raised, only quotes with a line whose
  margin lies between the two floors.
Random drafts (seeded) mix these with routing changes and with rules whose reach is everything; on the in-memory
engine and on SQLite. The clock is injected.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest
from test_policy_whatif_fast import CHANNEL_OPS, FINANCE, WINDOW, _history, _one_by_one, _runtime

from revgov.domain import policy_whatif as domain
from revgov.services import policy_drafts, policy_whatif, pricing

_FLOORS = ("0", "5", "8", "10", "11.5", "11.99", "12.01", "13", "14", "16", "20", "30")
_CELLS = [("platinum", "networking"), ("platinum", "hardware"), ("platinum", "security"),
          ("registered", "hardware"), ("registered", "networking"), ("gold", "networking")]
_CAPS = ("0", "2", "4", "7", "10", "13", "15", "18", "21", "25")
_ROUTING = {"op": "replace", "path": "/exception_routing/categories/margin_below_floor/queue", "value": "legal"}
_EVERYTHING = {"op": "replace", "path": "/pricing/finance_approval/above_percent", "value": "12"}
_PROMOTIONS = [  # northwind's promotions (tenant.yaml): 0 NET-REFRESH-26, 1 SEC-BUNDLE-26, 2 HW-CLEARANCE-Q4, ...
    {"op": "replace", "path": "/pricing/promotions/0/percent", "value": "6"},
    {"op": "replace", "path": "/pricing/promotions/1/families", "value": ["security"]},
    {"op": "replace", "path": "/pricing/promotions/2/ends_on", "value": "2026-11-11"},
    {"op": "remove", "path": "/pricing/promotions/3"},
    {"op": "replace", "path": "/pricing/promotions/4/percent", "value": "9"},  # SPRING-NET-26: no quote carries it
    {"op": "add", "path": "/pricing/promotions/-", "value": {
        "id": "PROMO-NEW", "clause": "PA-6.4", "code": "NEW-26", "percent": "5", "families": ["networking"],
        "starts_on": "2026-01-01", "ends_on": "2026-12-31"}},
]


def _random_draft(chance: random.Random, n: int) -> list[dict[str, Any]]:
    operations = []
    if n % 3 != 1:
        operations.append({"op": "replace", "path": "/pricing/margin_floor/percent", "value": chance.choice(_FLOORS)})
    if n % 3 != 0:
        for tier, family in chance.sample(_CELLS, chance.randint(1, 3)):
            operations.append({"op": "replace", "path": f"/pricing/discount_caps/caps/{tier}/{family}",
                               "value": chance.choice(_CAPS)})
    if n % 4 == 2 or chance.random() < 0.3:
        picked = chance.sample(_PROMOTIONS, chance.randint(1, 2))
        operations += sorted(picked, key=lambda op: op["op"] == "remove")  # indices as listed: the removal last
    if chance.random() < 0.3:
        operations.append(_ROUTING)
    if n % 7 == 6:  # now and then a rule whose reach is every decision, beside the confined ones
        operations.append(_EVERYTHING)
    return operations


def _counting(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    calls = {"n": 0}

    def counted(*args: Any) -> Any:
        calls["n"] += 1
        return pricing.evaluate(*args)

    monkeypatch.setattr(policy_whatif, "evaluate", counted)
    return calls


@pytest.mark.parametrize("engine", ["memory", "sqlite"])
def test_random_drafts_of_caps_and_margin_floor_sum_to_the_one_by_one_replay(engine, tmp_path, monkeypatch):
    rt, clock = _runtime(engine, tmp_path)
    inside = _history(rt, clock, monkeypatch)
    monkeypatch.setattr(policy_whatif, "_MEMO_MAX", 0)  # every reached decision evaluated: the count is the reach
    calls = _counting(monkeypatch)
    chance = random.Random(1906)
    skipped = 0
    for n in range(16):
        operations = _random_draft(chance, n)
        draft = policy_drafts.create_draft(rt, CHANNEL_OPS, {"reason": f"random draft {n}"})
        policy_drafts.patch_policy(rt, CHANNEL_OPS, draft["draft_id"], {"operations": operations})
        calls["n"] = 0
        report = policy_whatif.whatif(rt, FINANCE, draft["draft_id"], WINDOW)
        evaluated = calls["n"]
        expected = _one_by_one(rt, draft["draft_id"], inside)
        assert {k: v for k, v in report.items() if k in expected} == expected, operations
        assert evaluated <= len(inside)
        if _EVERYTHING in operations:
            assert evaluated == len(inside), operations
        skipped += len(inside) - evaluated
    assert skipped > 0  # the reach did skip decisions (and the figures stayed those of the full replay)


def _one_change(tmp_path: Any, monkeypatch: pytest.MonkeyPatch, path: str,
                value: str) -> tuple[Any, list[str], dict[str, Any], int]:
    """The history, a what-if of a draft making one change (every reached decision evaluated, counted), and the check
    that its figures are the one-by-one replay's: the runtime, the decisions, the report and the evaluations."""
    rt, clock = _runtime("memory", tmp_path)
    inside = _history(rt, clock, monkeypatch)
    draft = policy_drafts.create_draft(rt, CHANNEL_OPS, {"reason": path})
    policy_drafts.patch_policy(rt, CHANNEL_OPS, draft["draft_id"], {"operations": [
        {"op": "replace", "path": path, "value": value}]})
    monkeypatch.setattr(policy_whatif, "_MEMO_MAX", 0)
    calls = _counting(monkeypatch)
    report = policy_whatif.whatif(rt, FINANCE, draft["draft_id"], WINDOW)
    evaluated = calls["n"]
    assert {k: v for k, v in report.items() if k in (e := _one_by_one(rt, draft["draft_id"], inside))} == e
    return rt, inside, report, evaluated


def test_a_cap_changed_for_a_tier_nobody_quoted_at_evaluates_nothing(tmp_path, monkeypatch):
    """PA-6.2: the history quotes only platinum and registered partners; a gold cap reaches none of them."""
    _, _, report, evaluated = _one_change(tmp_path, monkeypatch, "/pricing/discount_caps/caps/gold/networking", "3")
    assert evaluated == 0 and report["outcome_changed"] == 0


def test_a_cap_cell_evaluates_only_quotes_of_its_tier_with_a_line_of_its_family(tmp_path, monkeypatch):
    """PA-6.2, per tier and family: the platinum hardware cap reaches platinum quotes with a hardware line only."""
    rt, inside, _, evaluated = _one_change(tmp_path, monkeypatch, "/pricing/discount_caps/caps/platinum/hardware", "3")
    stored = [policy_whatif.decisions.load(rt, FINANCE, d)[0]["inputs"] for d in inside]
    platinum = [i for i in stored if i["partner"]["tier"] == "platinum"]
    hardware = [i for i in platinum if "hardware" in domain.line_families(i)]
    assert 0 < evaluated == len(hardware) < len(platinum)


def test_a_changed_promotion_evaluates_only_quotes_that_carry_its_code(tmp_path, monkeypatch):
    """PA-6.4: a promotion applies to a quote that carries its code; NET-REFRESH-26 at 6% reaches only those."""
    rt, inside, report, evaluated = _one_change(tmp_path, monkeypatch, "/pricing/promotions/0/percent", "6")
    carrying = [d for d in inside if "NET-REFRESH-26" in policy_whatif.decisions.load(rt, FINANCE, d)[0]["inputs"]
                ["quote"].get("promotions", [])]
    assert 0 < evaluated == len(carrying) < len(inside)
    assert report["net_total"]["change"] != "0.00"  # the deeper promotion lowers those quotes' net


def test_a_promotion_no_quote_carries_evaluates_nothing(tmp_path, monkeypatch):
    _, _, report, evaluated = _one_change(tmp_path, monkeypatch, "/pricing/promotions/4/percent", "9")
    assert evaluated == 0 and report["net_total"]["change"] == "0.00"


def test_a_lowered_floor_evaluates_only_decisions_that_had_a_line_under_the_old_floor(tmp_path, monkeypatch):
    """PA-6.3 floor 12% → 5%: a quote without a `margin_below_floor` approval had every line at 12% or more."""
    rt, inside, _, evaluated = _one_change(tmp_path, monkeypatch, "/pricing/margin_floor/percent", "5")
    below = sum(1 for d in inside if domain.MARGIN_CATEGORY in policy_whatif.decisions.load(rt, FINANCE, d)[0]
                ["result"]["approval_categories"])
    assert 0 < evaluated == below < len(inside)


@pytest.mark.parametrize(("was", "now", "margins", "categories", "reached"), [
    ("12", "5", ["3.00"], ["margin_below_floor"], True),  # had a line under 12%
    ("12", "5", ["12.00", "40.00"], [], False),  # every line at or above the old floor
    ("12", "16", ["16.01", "40.00"], [], False),  # clear of both floors
    ("12", "16", ["15.99"], [], True),  # between the floors: gains the finding
    ("12", "16", ["11.99"], ["margin_below_floor"], True),  # a hundredth under the old floor: rounding slack
    ("12", "16", ["16.00"], [], True),  # at the new floor, shown rounded: slack keeps it reached
    ("12", "16", ["-8.00"], [], False),  # below cost: the floor never applies (domain.pricing._below_cost)
])
def test_the_margin_floor_reach_by_line_margin(was, now, margins, categories, reached):
    reach = domain.Reach(floor=(Decimal(was), Decimal(now)))
    lines = [{"margin_percent": m} for m in margins]
    assert reach.reaches("silver", categories, lines) is reached
    assert reach.reaches("silver", categories, None) is (reached if Decimal(now) < Decimal(was) else True)


def test_reach_of_a_policy_change_names_the_tiers_and_floors_it_touches():
    base = {"pricing": {"margin_floor": {"id": "F", "percent": "12"},
                        "discount_caps": {"id": "C", "caps": {"gold": {"networking": "15"}, "silver": {"x": "8"}}},
                        "stacking": {"mode": "additive"}}, "certifications": []}

    def changed(**pricing: Any) -> dict[str, Any]:
        return {**base, "pricing": {**base["pricing"], **pricing}}

    assert domain.reach(base, base).nothing
    assert domain.reach(base, changed(margin_floor={"id": "F", "percent": "10"})).floor == (Decimal(12), Decimal(10))
    assert domain.reach(base, changed(margin_floor={"id": "F2", "percent": "12"})).nothing  # its id alone
    caps = domain.reach(base, changed(discount_caps={"id": "C", "caps": {"gold": {"networking": "9"},
                                                                         "silver": {"x": "8"}}}))
    assert caps.tiers == {"gold"} and caps.cells == {("gold", "networking")} and caps.floor is None
    assert not caps.everything and not caps.codes
    new_family = domain.reach(base, changed(discount_caps={"id": "C", "caps": {"gold": {"networking": "15", "y": "1"},
                                                                               "silver": {"x": "8"}}}))
    assert new_family.cells == {("gold", "y")}  # a cell only the draft has: "no discount cap" was a finding
    promos = [{"code": "A", "percent": "3"}, {"code": "B", "percent": "4"}]
    with_promos = changed(promotions=promos)
    moved = domain.reach(with_promos, {**with_promos, "pricing": {**with_promos["pricing"], "promotions": [
        promos[1], {"code": "A", "percent": "5"}, {"code": "C", "percent": "1"}]}})
    assert (moved.codes, moved.cells, moved.everything) == ({"A", "C"}, frozenset(), False)  # reordered B: alike
    inputs = {"partner": {"tier": "gold"}, "quote": {"lines": [{"sku": "S"}], "promotions": ["B"]},
              "catalog": {"items": {"S": {"family": "networking"}}}}
    assert not moved.reaches("gold", [], None, inputs) and moved.reaches("gold", [], None, None)
    assert moved.reaches("gold", [], None, {**inputs, "quote": {**inputs["quote"], "promotions": ["C"]}})
    assert caps.reaches("gold", [], None, inputs) and not new_family.reaches("gold", [], None, inputs)
    assert domain.reach(base, changed(stacking={"mode": "compounding"})).everything
    assert domain.reach(base, changed(discount_caps={"id": "C2", "caps": base["pricing"]["discount_caps"]["caps"]})
                        ).everything
    assert domain.reach(base, {**base, "certifications": [{"product_family": "x"}]}).everything
