"""KPI baselines: each KPI is shown beside its value for the period before the tenant went live (or a configured
baseline period). The seed: "Instrument every workflow with baseline and post-implementation metrics."."""

from datetime import date

from revgov.domain import kpis
from revgov.domain.kpis import Period


def test_a_month_is_compared_with_the_month_before_go_live():
    period, source = kpis.baseline_period(Period.parse("2026-11"), date(2026, 3, 17))
    assert (period.name, source) == ("2026-02", "before_go_live")


def test_a_quarter_is_compared_with_the_quarter_before_go_live_across_a_year_end():
    assert kpis.baseline_period(Period.parse("2026-Q4"), date(2026, 2, 1))[0].name == "2025-Q4"
    assert kpis.baseline_period(Period.parse("2026-Q4"), date(2026, 8, 31))[0].name == "2026-Q2"


def test_a_configured_baseline_period_wins():
    assert kpis.baseline_period(Period.parse("2026-11"), date(2026, 3, 17), "2025-Q3") == (
        Period.parse("2025-Q3"), "configured")


def test_each_kpi_keeps_its_fields_and_gains_its_baseline_beside_them():
    current = {"period": "2026-11", "overrides_and_approvals": {"quotes_checked": 10}, "currency": "USD"}
    before = {"period": "2026-02", "overrides_and_approvals": {"quotes_checked": 4}, "currency": "USD"}
    merged = kpis.with_baseline(current, before, Period.parse("2026-02"), "before_go_live", date(2026, 3, 17))
    assert merged["overrides_and_approvals"] == {"quotes_checked": 10,
                                                 "baseline": {"quotes_checked": 4, "period": "2026-02"}}
    assert merged["period"] == "2026-11" and merged["currency"] == "USD"
    assert merged["baseline"] == {"period": "2026-02", "months": ["2026-02"], "source": "before_go_live",
                                  "went_live_on": "2026-03-17"}
