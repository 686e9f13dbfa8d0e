"""The KPI core: periods, the fold and its merge, percentiles from buckets, the figures' rounding. No fakes."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from revgov.domain import kpis
from revgov.domain.kpis import Delta, Period, Threshold


def test_a_quarter_is_its_three_months_and_a_month_is_itself():
    assert Period.parse("2026-Q4").months == ("2026-10", "2026-11", "2026-12")
    assert Period.parse("2026-02").days == 28 and Period.parse("2026-Q1").days == 90
    for bad in ("2026-13", "2026-Q0", "26-Q1", "2026-1"):
        with pytest.raises(ValueError):
            Period.parse(bad)
    assert kpis.shift_month("2026-01", -1) == "2025-12" and kpis.shift_month("2026-12", 1) == "2027-01"


def test_cycle_times_go_in_hourly_buckets_to_48_hours_then_coarser():
    assert [kpis.cycle_bucket(h) for h in (0, 0.2, 1, 1.01, 47.9, 48, 48.5, 700, 721)] == [
        "1", "1", "1", "2", "48", "48", "54", "720", "inf"]


def test_percentiles_are_the_upper_edge_of_the_bucket_at_the_nearest_rank():
    cycle = {"5": 1, "11": 1, "30": 1, "60": 1}
    assert kpis.percentile_hours(cycle, 0.5) == 11 and kpis.percentile_hours(cycle, 0.9) == 60
    assert kpis.percentile_hours({}, 0.5) is None
    assert kpis.percentile_hours({"inf": 3}, 0.5) is None


def test_a_sale_without_cost_counts_in_revenue_but_not_in_the_margin_base():
    rollup = kpis.empty("2026-11", "all")
    rollup = kpis.apply(rollup, kpis.sales_delta(Decimal("5000.00"), Decimal("3600.00"), "p1", new_line=True),
                        per_partner=True)
    rollup = kpis.apply(rollup, kpis.sales_delta(Decimal("3000.00"), None, "p2", new_line=True), per_partner=True)
    figures = kpis.margin(rollup)
    assert figures["revenue"] == "8000.00" and figures["margin_base_revenue"] == "5000.00"
    assert figures["net_margin"] == "1400.00" and figures["net_margin_percent"] == "28.00"
    assert rollup["partners"] == {"p1": 500000, "p2": 300000} and rollup["lines"] == 2


def test_net_realized_margin_subtracts_rebates_settled_for_closed_periods_and_accrued_for_open_ones():
    quarter = Period.parse("2026-Q4")
    assert kpis.rebate_periods_within(quarter, {"quarter", "month"}) == ["2026-10", "2026-11", "2026-12", "2026-Q4"]
    assert kpis.rebate_periods_within(Period.parse("2026-11"), {"quarter", "month"}) == ["2026-11"]
    assert kpis.rebate_periods_within(Period.parse("2026-11"), {"quarter"}) == []
    periods = [
        kpis.RebatePeriod("2026-10", {"p1": {"RBT-SALES-AGENT": "720.00"}}, {"p1": "999.00"}),  # settled wins
        kpis.RebatePeriod("2026-11", None, {"p1": "15.50", "p2": "0.00"}),  # open: the accrual
        kpis.RebatePeriod("2026-Q4", None, {"p1": "1092.00", "p3": "300.00"}),
    ]
    assert [p.source for p in periods] == ["settled", "accrued", "accrued"]
    rebates = kpis.rebates_by_partner(periods)
    assert rebates == {"p1": 182750, "p2": 0, "p3": 30000}  # 720.00 + 15.50 + 1,092.00 = 1,827.50
    rollup = kpis.empty("2026-10", "tier:silver")
    rollup = kpis.apply(rollup, kpis.sales_delta(Decimal("100000.00"), Decimal("80000.00"), "p1", new_line=True),
                        per_partner=True)
    figures = kpis.margin(rollup, sum(rebates.get(p, 0) for p in rollup["partners"]))
    # 100,000.00 - 80,000.00 - 1,827.50 = 18,172.50, 18.1725% -> 18.17
    assert (figures["rebates_deducted"], figures["net_margin"], figures["net_margin_percent"]) == (
        "1827.50",
        "18172.50",
        "18.17",
    )


def test_ratios_round_half_even_and_are_none_without_a_denominator():
    rollup = {**kpis.empty("2026-11", "all"), "quotes": 3, "overrides": 2, "billed_events": 4, "exceptions": 1}
    assert kpis.override_and_approval(rollup)["override_rate_percent"] == "66.67"
    assert kpis.override_and_approval(rollup)["approval_rate_percent"] is None
    assert kpis.compliance(rollup)["per_100_transactions"] == "14.29"
    assert kpis.support_economics(kpis.empty("2026-11", "all"))["hours_per_revenue_dollar"] is None


def test_attainment_counts_each_threshold_over_the_partners_it_applies_to():
    silver = Threshold("TIER-SILVER", "Silver", "pace", Decimal("20833.33"), "PA-3.3", "tier_commitment",
                       frozenset({"silver"}))
    (row,) = kpis.attainment([silver], {"a": 2_100_000, "b": 1_020_000}, {"a": "silver", "b": "silver", "c": "gold"})
    assert (row["partners"], row["reached"], row["reached_percent"]) == (2, 1, "50.00")
    # a: 21,000.00 / 20,833.33 = 100.80 %, b: 10,200.00 / 20,833.33 = 48.96 %; the median of two is their mean
    # (100.80 + 48.96) / 2 = 74.88 % (c is gold: not measured against Silver's pace)
    assert row["median_attainment_percent"] == "74.88"


amounts = st.lists(st.integers(min_value=-10**9, max_value=10**9), min_size=1, max_size=30)


@given(amounts, st.integers(min_value=1, max_value=5))
def test_folding_facts_in_any_grouping_gives_the_same_rollup(values, groups):
    deltas = [Delta(revenue_minor=v, lines=1, cycle_events=1, cycle_bucket=kpis.cycle_bucket(abs(v) % 900),
                    partner_id=f"p{abs(v) % 3}") for v in values]
    one = kpis.empty("2026-11", "all")
    for d in deltas:
        one = kpis.apply(one, d, per_partner=True)
    parts = []
    for g in range(groups):
        part = kpis.empty("2026-11", "all")
        for d in deltas[g::groups]:
            part = kpis.apply(part, d, per_partner=True)
        parts.append(part)
    merged = kpis.merge(parts)
    assert {k: merged[k] for k in kpis.COUNTERS} == {k: one[k] for k in kpis.COUNTERS}
    assert merged["cycle"] == one["cycle"]
    assert {p: v for p, v in merged["partners"].items() if v} == {p: v for p, v in one["partners"].items() if v}
