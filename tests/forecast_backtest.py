"""A generated partner history and a backtest of the threshold forecast against the naive rule.

Each partner has a level, a yearly trend, a seasonal shape of its own, monthly log-normal noise, and now and then
a lasting shift (lost or won a large customer). Thresholds sit around each partner's usual quarter, as rebate
levels do. The backtest stands at a day inside each test quarter, forecasts from what came before, and scores
P(miss) against what happened: Brier score and calibration, for the forecast and for "distance to threshold".

The forecast's parameters were chosen on that generated history. The held-out evaluation is real: 148 monthly retail
turnover series of the Australian Bureau of Statistics (tests/forecast_data/, see its SOURCE.md), each series a
partner, backtested with the same design and scoring (`real_backtest`).
"""

from __future__ import annotations

import csv
import math
import random
import statistics
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from revgov.domain import forecast
from revgov.domain.kpis import Period, month_bounds


@dataclass(frozen=True)
class Partner:
    monthly: dict[str, float]  # month -> invoiced revenue
    thresholds: list[float]


def _months(first_year: int, years: int) -> list[str]:
    return [f"{y:04d}-{m:02d}" for y in range(first_year, first_year + years) for m in range(1, 13)]


def generate(partners: int = 300, *, years: int = 3, first_year: int = 2024, seed: int = 7) -> list[Partner]:
    rng = random.Random(seed)
    generated = []
    for _ in range(partners):
        level = math.exp(rng.uniform(math.log(20_000), math.log(600_000)))
        trend = rng.gauss(0.08, 0.15)  # yearly growth
        amplitude = rng.uniform(0.0, 0.35)
        phase = rng.uniform(0, 2 * math.pi)
        noise = rng.uniform(0.08, 0.35)
        monthly: dict[str, float] = {}
        shift = 0.0
        for i, month in enumerate(_months(first_year, years)):
            if rng.random() < 0.02:
                shift += rng.gauss(0, 0.35)
            season = 1 + amplitude * math.sin(2 * math.pi * int(month[5:]) / 12 + phase)
            mean = level * (1 + trend) ** (i / 12) * season * math.exp(shift)
            monthly[month] = max(0.0, mean * math.exp(rng.gauss(-noise * noise / 2, noise)))
        usual_quarter = 3 * level * (1 + trend) ** (years - 1)
        thresholds = sorted(usual_quarter * f for f in (rng.uniform(0.6, 0.95), rng.uniform(0.95, 1.15),
                                                        rng.uniform(1.15, 1.6)))
        generated.append(Partner(monthly, thresholds))
    return generated


def _to_date(partner: Partner, period: Period, cutoff: date, rng: random.Random) -> float:
    """Invoiced by `cutoff`: whole months before it, and the elapsed share of its month with daily noise."""
    total = 0.0
    for month in period.months:
        first, last = month_bounds(month)
        if cutoff >= last:
            total += partner.monthly[month]
        elif cutoff >= first:
            share = ((cutoff - first).days + 1) / ((last - first).days + 1)
            total += partner.monthly[month] * min(1.0, max(0.0, share * math.exp(rng.gauss(0, 0.15))))
    return total


@dataclass
class _Run:
    """Every (P(miss), missed) pair of a backtest, for the forecast and the naive rule, with its standing day; and
    per projection its day, the log-spread of the volume still to come it estimated, and log(actual / projected)."""

    model: list[tuple[float, int]] = field(default_factory=list)
    naive: list[tuple[float, int]] = field(default_factory=list)
    day: list[int] = field(default_factory=list)
    projections: list[tuple[int, float, float]] = field(default_factory=list)


def _predict(
    partners: list[Partner], quarters: tuple[str, ...], days_in: tuple[int, ...], rng: random.Random, run: _Run,
) -> None:
    """Stand at each day of each quarter, forecast from what came before and record (P(miss), missed) pairs."""
    for partner in partners:
        for name in quarters:
            period = Period.parse(name)
            actual = sum(partner.monthly[m] for m in period.months)
            history = {m: v for m, v in partner.monthly.items() if m < period.months[0]}
            for day in days_in:
                cutoff = period.first_day + timedelta(days=day - 1)
                to_date = _to_date(partner, period, cutoff, rng)
                projection = forecast.project(history, name, cutoff, to_date)
                error = math.log(max(actual, 1.0) / max(projection.expected, 1.0))
                run.projections.append((day, projection.sigma, error))
                for threshold in partner.thresholds:
                    missed = int(actual < threshold)
                    run.model.append((projection.p_miss(threshold), missed))
                    run.naive.append((forecast.naive_p_miss(to_date, threshold), missed))
                    run.day.append(day)


def _on_day(run: _Run, day: int) -> dict[str, Any]:
    model = [pair for pair, d in zip(run.model, run.day, strict=True) if d == day]
    naive = [pair for pair, d in zip(run.naive, run.day, strict=True) if d == day]
    sigmas = [sigma for d, sigma, _ in run.projections if d == day]
    errors = [error for d, _, error in run.projections if d == day]
    return {"n": len(model), "brier_model": forecast.brier(model), "brier_naive": forecast.brier(naive),
            "median_sigma": statistics.median(sigmas), "mean_log_error": statistics.fmean(errors),
            "sd_log_error": statistics.pstdev(errors)}


def _score(run: _Run) -> dict[str, Any]:
    model_ece, table = forecast.calibration(run.model)
    naive_ece, _ = forecast.calibration(run.naive)
    return {
        "predictions": len(run.model),
        "miss_rate": sum(o for _, o in run.model) / len(run.model),
        "brier_model": forecast.brier(run.model),
        "brier_naive": forecast.brier(run.naive),
        "ece_model": model_ece,
        "ece_naive": naive_ece,
        "reliability": table,
        # per standing day: Brier of both, the forecast's median log-spread of what remains, and the error of its
        # projection, log(actual / projected): mean (bias; > 0 is a projection too low) and standard deviation
        "by_day": {day: _on_day(run, day) for day in sorted(set(run.day))},
    }


def backtest(
    partners: list[Partner], quarters: tuple[str, ...] = ("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"),
    days_in: tuple[int, ...] = (20, 45, 70), seed: int = 11,
) -> dict[str, Any]:
    run = _Run()
    _predict(partners, quarters, days_in, random.Random(seed), run)
    return _score(run)


# --- the real, held-out data ---------------------------------------------------------------------------------
REAL_DATA = Path(__file__).parent / "forecast_data" / "aus_retail_2014_2018.csv"
REAL_YEARS = (2016, 2017, 2018)  # test years; each is forecast from the 24 months before it, as the generated one


@dataclass(frozen=True)
class Series:
    state: str
    industry: str
    series_id: str
    monthly: dict[str, float]  # month -> turnover in AUD (the file's $ million x 1,000,000)


def load_real(path: Path = REAL_DATA) -> tuple[list[str], list[Series]]:
    """The months the file's header claims, and each series with its value for every one of them."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    months = header[3:]
    series = [
        Series(row[0], row[1], row[2],
               {month: float(value) * 1_000_000 for month, value in zip(months, row[3:], strict=True)})
        for row in body
    ]
    return months, series


def real_partners(series: list[Series], year: int, seed: int = 7) -> list[Partner]:
    """One partner per series for test year `year`: its 24 months before the year and the year itself, and three
    thresholds around its usual quarter (the mean quarter of the year before, as a rebate level set from last
    year's volume) drawn from the same ranges as the generated partners'."""
    rng = random.Random(seed * 10_000 + year)
    first = f"{year - 2:04d}-01"
    last = f"{year:04d}-12"
    partners = []
    for one in series:
        monthly = {m: v for m, v in one.monthly.items() if first <= m <= last}
        usual_quarter = sum(v for m, v in monthly.items() if m.startswith(f"{year - 1:04d}-")) / 4
        thresholds = sorted(usual_quarter * f for f in (rng.uniform(0.6, 0.95), rng.uniform(0.95, 1.15),
                                                        rng.uniform(1.15, 1.6)))
        partners.append(Partner(monthly, thresholds))
    return partners


def real_backtest(
    series: list[Series] | None = None, years: tuple[int, ...] = REAL_YEARS, days_in: tuple[int, ...] = (20, 45, 70),
    seed: int = 11,
) -> dict[str, Any]:
    """The same backtest on the real series: each test year's 4 quarters, standing at the same days, same scoring.
    The data is monthly: inside the month a day stands in, the share invoiced so far is drawn as for the generated
    partners (elapsed share of the month with the same daily noise)."""
    if series is None:
        _, series = load_real()
    rng = random.Random(seed)
    run = _Run()
    for year in years:
        quarters = tuple(f"{year:04d}-Q{q}" for q in range(1, 5))
        _predict(real_partners(series, year), quarters, days_in, rng, run)
    return {**_score(run), "series": len(series), "years": years}
