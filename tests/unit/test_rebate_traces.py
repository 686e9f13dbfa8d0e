"""Complete rebate traces (issue 23): every sales line of a settled period appears in each program's trace, counted
with the rule that rated it or excluded with the rule that excluded it -- a partition of the period's lines.

docs/rebates.md promises "the trace of every line: counted per program with the rule that rated it, or excluded with
the rule that excluded it"; PA-7.8: the statement lists "the rule and clause references used".
"""

from __future__ import annotations

import json
from collections import Counter

from rebates_support import scenario_book, scenario_lines, scenario_partners
from revgov.domain.rebates.engine import rate_period
from revgov.domain.rebates.ledger import SalesLedger
from revgov.domain.rebates.policy import Period
from support import SCENARIOS

SCENARIO = json.loads((SCENARIOS / "rebates_traces" / "seven_lines.json").read_text())


def _rated():
    book = scenario_book(SCENARIO)
    ledger = SalesLedger.from_lines(scenario_lines(SCENARIO), book.exclusive_promotions)
    return rate_period(book, ledger, Period.parse(SCENARIO["period"]), scenario_partners(SCENARIO))


def _per_program(traces):
    programs: dict[str, Counter] = {}
    for program_id, entry in traces["counted"].items():
        programs.setdefault(program_id, Counter()).update(row[0] for row in entry["lines"])
    for entry in traces["excluded"].values():
        programs.setdefault(entry["program_id"], Counter()).update(row[0] for row in entry["lines"])
    return programs


def test_each_programs_trace_is_a_partition_of_the_periods_lines():
    result = _rated()
    traces = result.traces("K")
    in_period = Counter(
        row["id"] for row in SCENARIO["lines"] if row["month"].startswith("2026-0") and row["month"] >= "2026-07"
    )
    assert sum(in_period.values()) == 7  # K0 is last year's baseline, not a line of the period
    programs = _per_program(traces)
    assert set(programs) == set(result.ratings), "every rated program has a trace"
    for program_id, traced in programs.items():
        assert traced == in_period, f"{program_id}: traced {dict(traced)}, the period has {dict(in_period)}"
    for entry in [*traces["counted"].values(), *traces["excluded"].values()]:
        assert entry["rule_id"] and entry["clause"]


def test_a_line_sold_above_the_spiff_maximum_discount_is_excluded_from_the_spiff_with_its_rule():
    # PA-7.5: "Units shipped under a special pricing approval with a combined discount above 25% do not earn the
    # SPIFF." K5 was sold at 26%.
    traces = _rated().traces("K")
    assert "K5" not in [row[0] for row in traces["counted"].get("RBT-HW-SPIFF", {}).get("lines", [])]
    entry = traces["excluded"]["RBT-HW-SPIFF.max_discount_percent:RBT-HW-SPIFF"]
    assert [row[0] for row in entry["lines"]] == ["K5"]
    assert (entry["rule_id"], entry["clause"], entry["program_id"]) == ("RBT-HW-SPIFF", "PA-7.5", "RBT-HW-SPIFF")
    assert [row[0] for row in traces["counted"]["RBT-HW-SPIFF"]["lines"]] == ["K2"]


def test_lines_excluded_for_other_reasons_name_their_rule():
    traces = _rated().traces("K")
    excluded = {key: [row[0] for row in e["lines"]] for key, e in traces["excluded"].items()}
    # PA-7.7(a): "revenue on lines carrying an exclusive promotion is excluded from the volume rebate"
    assert excluded["RBT-EXCLUSIVE-PROMOTION:RBT-VOLUME"] == ["K3"]
    # PA-7.7(c): "revenue on which a referral or sales agent commission is paid ... is excluded from all rebates"
    assert "K4" in excluded["RBT-VOLUME.channel:RBT-VOLUME"]
    # PA-7.7(d): "no line may earn the same incentive twice": the same line id sent twice counts once
    assert excluded["RBT-NO-DOUBLE-COUNT:RBT-VOLUME"] == ["K1"]
