"""Discount behaviour before churn, pure. Seed: "discount behavior that correlates with future churn"; the brief: only
"with an honest definition of churn from the product's data (partner terminated / no orders for N months)".
PA-13.3: termination; docs/kpis.md override rate: "Quotes checked in the period that needed an approval to go ahead ÷
quotes checked"."""

import pytest

from revgov.domain.agents_churn import Month, association, churn_month, fisher_one_sided, rising

TRADING = Month(100_000, 10, 1)
QUIET = Month(0, 0, 0)


def _months(first_year_month: tuple[int, int], values: list[Month]) -> dict[str, Month]:
    year, month = first_year_month
    out = {}
    for value in values:
        out[f"{year:04d}-{month:02d}"] = value
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def test_churn_is_a_termination_or_six_complete_quiet_months_after_trading():
    assert churn_month(_months((2026, 1), [TRADING] * 3), "2026-02", "2026-12") == "2026-02"  # PA-13.3 terminated
    quiet = _months((2026, 1), [TRADING] * 3 + [QUIET] * 6)
    assert churn_month(quiet, None, "2026-09") == "2026-04"  # the first of six quiet months
    assert churn_month(quiet, None, "2026-08") is None  # the sixth quiet month is not complete yet
    assert churn_month(_months((2026, 1), [TRADING] * 3 + [QUIET] * 5 + [TRADING]), None, "2026-12") is None
    assert churn_month(_months((2026, 1), [QUIET] * 9), None, "2026-12") is None  # never traded: never churned


def test_fishers_exact_test_on_the_tea_tasting_table():
    # Fisher (1935): 3 of 4 cups right, margins 4/4 of 8: P(X >= 3) = (C(4,3)C(4,1) + C(4,4)C(4,0)) / C(8,4) = 17/70
    assert fisher_one_sided(3, 1, 1, 3) == pytest.approx(17 / 70)
    assert fisher_one_sided(0, 4, 4, 0) == pytest.approx(1.0)


def test_a_rise_of_the_override_rate_over_the_last_three_months():
    # 6 months at 1 of 10 quotes needing an approval, then 3 at 8 of 10: a 70 point rise on 30 quotes
    months = _months((2026, 1), [TRADING] * 6 + [Month(100_000, 10, 8)] * 3)
    assert rising(months, "2026-09") and not rising(months, "2026-06")


def test_the_association_is_learned_from_the_tenants_history_and_only_then_established():
    # 2025-01 .. 2026-03 trading at 10 %, 2026-04 .. 06 at 80 %, then quiet from 2026-07: churned in 2026-07
    before_churn = [TRADING] * 15 + [Month(100_000, 10, 8)] * 3 + [QUIET] * 6
    churners = [(m := _months((2025, 1), before_churn), churn_month(m, None, "2026-12")) for _ in range(6)]
    stayers = [(m := _months((2025, 1), [TRADING] * 24), churn_month(m, None, "2026-12")) for _ in range(6)]
    found = association([*churners, *stayers], "2027-01")  # as-of months 2026-06, 2025-12, 2025-06
    assert churners[0][1] == "2026-07"
    # as-of 2026-06: the six churners rising, the six stayers not; as-of 2025-12 and 2025-06: everyone trading calmly
    assert (found.rising_churned, found.rising_stayed, found.other_churned, found.other_stayed) == (6, 0, 0, 6 + 24)
    assert found.established and found.relative_risk == float("inf")
    # the same rise where nobody churned afterwards: no link, nothing established
    no_churn = [(m := _months((2025, 1), [TRADING] * 15 + [Month(100_000, 10, 8)] * 3 + [TRADING] * 6), None)
                for _ in range(6)]
    unlinked = association([*no_churn, *stayers], "2027-01")
    assert unlinked.rising_churned == 0 and not unlinked.established
    assert association(stayers, "2027-01") is None  # nobody rising: nothing to learn from
