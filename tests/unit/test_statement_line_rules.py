"""A settlement statement line lists each rule it used once (PA-7.8 / CPA-7.8).

PA-7.8: "The settlement statement lists, per program, [...] the amount payable, with the rule and clause references
used." A reference is used once however many roles it plays: the hardware SPIFF (RBT-HW-SPIFF, PA-7.5) is both the
program and the per-unit rule that rated it, and a reviewer saw it listed twice in the line's `rules`.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from rebates_support import tenant_policy
from revgov.domain.rebates.listing import zero_view
from revgov.domain.rebates.policy import Period, compile_rebates
from revgov.domain.rebates.settlement import statement_line
from revgov.domain.rules import Rule


def _pairs(line):
    return [(r["rule_id"], r["clause"]) for r in line["rules"]]


def test_the_spiff_line_names_its_rule_once():
    book = compile_rebates(tenant_policy("northwind"))
    spiff = next(p for p in book.programs if p.program_id == "RBT-HW-SPIFF")
    line = statement_line("settlement", Period.parse("2026-Q4"), zero_view(spiff), Decimal("0.00"))
    assert _pairs(line) == [("RBT-HW-SPIFF", "PA-7.5")]


def test_an_adjustment_line_keeps_each_distinct_rule_once_in_order():
    book = compile_rebates(tenant_policy("northwind"))
    spiff = next(p for p in book.programs if p.program_id == "RBT-HW-SPIFF")
    retro = Rule("RBT-RETRO", "PA-7.10")
    line = statement_line("adjustment", Period.parse("2026-Q4"), zero_view(spiff), Decimal("40.00"),
                          rules=(retro, retro, Rule("RBT-HW-SPIFF", "PA-7.5")))  # fmt: skip
    assert _pairs(line) == [("RBT-HW-SPIFF", "PA-7.5"), ("RBT-RETRO", "PA-7.10")]


@pytest.mark.parametrize("tenant", ["northwind", "contoso"])
def test_no_program_line_repeats_a_rule(tenant):
    book = compile_rebates(tenant_policy(tenant))
    for program in book.programs:
        pairs = _pairs(statement_line("settlement", Period.parse("2026-Q4"), zero_view(program), Decimal("0.00")))
        assert len(pairs) == len(set(pairs)), (program.program_id, pairs)
