"""Rebate and commission programs rated by the pure core, scenario by scenario, to the cent (tests/scenarios/rebates/).

Each scenario is also rated by the straightforward per-line loop of tests/rebates_support.py: the vectorized engine
must give the same amounts and find the same lines.
"""

from __future__ import annotations

import json

import pytest

from rebates_support import generated, scenario_book, scenario_lines, scenario_partners, settle_by_loop
from revgov import schemas
from revgov.domain.rebates.engine import rate_period
from revgov.domain.rebates.ledger import SalesLedger
from revgov.domain.rebates.lines import rebate_row
from revgov.domain.rebates.policy import Period, compile_rebates
from support import SCENARIOS

FILES = sorted((SCENARIOS / "rebates").glob("*.json"))


def _load(path):
    return json.loads(path.read_text())


def _rate(scenario):
    book = scenario_book(scenario)
    ledger = SalesLedger.from_lines(scenario_lines(scenario), book.exclusive_promotions)
    return book, rate_period(book, ledger, Period.parse(scenario["period"]), scenario_partners(scenario))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_the_scenario_policy_is_valid_policy(path):
    from rebates_support import scenario_policy

    rebates = scenario_policy(_load(path))["rebates"]
    assert schemas.problems("policy/rebates.schema.json", rebates) == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_each_program_pays_the_hand_checked_amount(path):
    scenario = _load(path)
    _, result = _rate(scenario)
    assert set(result.partner_ids) == set(scenario["expected"]), "partners with an amount"
    for partner_id, programs in scenario["expected"].items():
        views = {v["program_id"]: v for v in result.programs_view(partner_id)}
        assert set(views) == set(programs), partner_id
        for program_id, expected in programs.items():
            view = views[program_id]
            for field, value in expected.items():
                if field == "note":
                    continue
                got = view[field]
                if field in ("tier_reached", "next_tier"):
                    got = got["rule_id"] if got else None
                assert got == value, f"{partner_id} {program_id} {field}: {got} != {value} ({expected.get('note')})"
            assert view["rule_clause"] and view["clause"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_duplicates_and_leaks_are_found_line_by_line(path):
    scenario = _load(path)
    _, result = _rate(scenario)
    found = sorted((f.kind, f.line_id) for f in result.findings)
    assert found == sorted((f["kind"], f["line_id"]) for f in scenario["expected_findings"])
    assert all(f.rule.clause for f in result.findings)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_the_per_line_loop_agrees_with_the_vectorized_engine(path):
    scenario = _load(path)
    book, result = _rate(scenario)
    payable, found = settle_by_loop(
        book,
        [rebate_row(x) for x in scenario_lines(scenario)],
        Period.parse(scenario["period"]),
        scenario_partners(scenario),
    )
    assert {p: {k: f"{v:f}" for k, v in amounts.items()} for p, amounts in result.payable.items()} == payable
    assert {(f.kind, f.line_id) for f in result.findings} == found


def test_every_counted_line_is_traced_to_its_rule_and_every_excluded_line_to_the_rule_that_excluded_it():
    scenario = _load(SCENARIOS / "rebates" / "caps_and_exclusivity.json")
    _, result = _rate(scenario)
    traces = result.traces("I")
    assert [row[0] for row in traces["counted"]["RBT-VOLUME"]["lines"]] == ["I1"]
    assert traces["counted"]["RBT-VOLUME"]["rule_id"] == "RBT-VOLUME-T1"
    assert [row[0] for row in traces["counted"]["RBT-HW-SPIFF"]["lines"]] == ["I2"]
    excluded = {key: [row[0] for row in entry["lines"]] for key, entry in traces["excluded"].items()}
    assert excluded["RBT-EXCLUSIVE-PROMOTION:RBT-VOLUME"] == ["I2"]
    assert traces["excluded"]["RBT-EXCLUSIVE-PROMOTION:RBT-VOLUME"]["clause"] == "PA-6.5"


def test_the_vectorized_engine_and_the_loop_agree_on_generated_sales_with_every_feature():
    from rebates_support import tenant_policy

    book = compile_rebates(tenant_policy("northwind"))
    lines, partners, _ = generated(6000, 40, seed=11, duplicates=30)
    # the generated paid lines were paid on 2026-10-01: the commissions are 2026-10's (PA-8.2, "the month in which the
    # Customer paid the invoice"); 2026-08 rates the months' other lines (none earn) against the loop
    for period in ("2026-Q3", "2026-10", "2026-08"):
        ledger = SalesLedger.from_lines(lines, book.exclusive_promotions)
        result = rate_period(book, ledger, Period.parse(period), partners)
        payable, found = settle_by_loop(book, [rebate_row(x) for x in lines], Period.parse(period), partners)
        assert {p: {k: f"{v:f}" for k, v in a.items()} for p, a in result.payable.items()} == payable, period
        assert {(f.kind, f.line_id) for f in result.findings} == found, period
        assert payable or period == "2026-08"  # the generated quarter and payment month do pay something


def test_planted_duplicates_are_all_found_and_nothing_else_is_called_a_duplicate():
    from rebates_support import tenant_policy

    book = compile_rebates(tenant_policy("northwind"))
    lines, partners, planted = generated(50_000, 200, seed=3, duplicates=600)
    ledger = SalesLedger.from_lines(lines, book.exclusive_promotions)
    result = rate_period(book, ledger, Period.parse("2026-Q3"), partners)
    duplicates = {(f.kind, f.line_id) for f in result.findings if f.category == "duplicate_rebate"}
    assert len(planted) == 600
    assert planted - duplicates == set(), "missed"
    assert duplicates - planted == set(), "false alarms"
    assert sum(1 for f in result.findings if f.category == "duplicate_rebate") == 600


@pytest.mark.parametrize("name", ["0000-Q1", "1899-12", "3000-01", "2026-Q5", "2026-13", "2026-00", "26-Q1", "2026"])
def test_a_period_is_a_quarter_or_a_month_of_a_program_year(name):
    from revgov.domain.errors import RuleViolation

    with pytest.raises(RuleViolation):
        Period.parse(name)


def test_periods_name_their_months_and_the_same_period_a_year_before():
    q3 = Period.parse("2026-Q3")
    assert (q3.start.isoformat(), q3.end.isoformat(), q3.year_before.name, q3.following.name) == (
        "2026-07-01",
        "2026-09-30",
        "2025-Q3",
        "2026-Q4",
    )
    assert Period.parse("2026-02").end.isoformat() == "2026-02-28" and Period.parse("2024-02").end.day == 29
