"""The threshold forecast: its projection, its probabilities, and its backtest against the naive rule."""

from datetime import date

from forecast_backtest import backtest, generate
from revgov.domain import forecast


def _flat(months, value):
    return {f"{2025 + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}": value for m in range(1, months + 1)}


def test_a_steady_partner_is_projected_at_its_run_rate_with_an_interval_around_it():
    history = _flat(21, 10_000.0)  # 2025-01 .. 2026-09
    p = forecast.project(history, "2026-Q4", date(2026, 11, 15), to_date=15_000.0)
    assert 28_000 < p.expected < 32_000 and p.low < p.expected < p.high
    assert p.p_miss(20_000) < 0.01 and p.p_miss(60_000) > 0.99
    assert p.p_miss(p.expected * 0.9) < 0.5 < p.p_miss(p.expected * 1.1)
    assert p.p_miss(14_000) == 0.0  # already reached


def test_probabilities_rise_with_the_threshold():
    p = forecast.project(_flat(21, 10_000.0), "2026-Q4", date(2026, 10, 20), to_date=6_000.0)
    misses = [p.p_miss(t) for t in range(10_000, 60_000, 5_000)]
    assert misses == sorted(misses)


def test_an_ended_period_is_what_it_was():
    p = forecast.project(_flat(12, 10_000.0), "2026-Q1", date(2026, 5, 1), to_date=31_000.0)
    assert p.elapsed_fraction == 1 and p.p_miss(30_000) == 0.0 and p.p_miss(32_000) == 1.0


def test_seasonality_comes_from_the_partners_own_years():
    history = {f"{y}-{m:02d}": (20_000.0 if m == 12 else 10_000.0) for y in (2024, 2025) for m in range(1, 13)}
    indices = forecast.seasonal_indices(history)
    assert indices[12] > 1.5 and abs(indices[6] - indices[7]) < 1e-9


def test_the_naive_rule_is_the_share_still_to_go():
    assert forecast.naive_p_miss(25_000, 100_000) == 0.75 and forecast.naive_p_miss(120_000, 100_000) == 0.0


def test_the_forecast_beats_distance_to_threshold_on_the_backtest_and_is_calibrated():
    result = backtest(generate(80, seed=3), seed=4)
    assert result["brier_model"] < 0.6 * result["brier_naive"], result
    assert result["ece_model"] < 0.05, result
