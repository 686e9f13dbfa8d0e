"""A generated partner history and a backtest of the threshold forecast against the naive rule.

Each partner has a level, a yearly trend, a seasonal shape of its own, monthly log-normal noise, and now and then
a lasting shift (lost or won a large customer). Thresholds sit around each partner's usual quarter, as rebate
levels do. The backtest stands at a day inside each test quarter, forecasts from what came before, and scores
P(miss) against what happened: Brier score and calibration, for the forecast and for "distance to threshold".
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
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


def backtest(
    partners: list[Partner], quarters: tuple[str, ...] = ("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"),
    days_in: tuple[int, ...] = (20, 45, 70), seed: int = 11,
) -> dict[str, Any]:
    rng = random.Random(seed)
    model: list[tuple[float, int]] = []
    naive: list[tuple[float, int]] = []
    for partner in partners:
        for name in quarters:
            period = Period.parse(name)
            actual = sum(partner.monthly[m] for m in period.months)
            history = {m: v for m, v in partner.monthly.items() if m < period.months[0]}
            for day in days_in:
                cutoff = period.first_day + timedelta(days=day - 1)
                to_date = _to_date(partner, period, cutoff, rng)
                projection = forecast.project(history, name, cutoff, to_date)
                for threshold in partner.thresholds:
                    missed = int(actual < threshold)
                    model.append((projection.p_miss(threshold), missed))
                    naive.append((forecast.naive_p_miss(to_date, threshold), missed))
    model_ece, table = forecast.calibration(model)
    naive_ece, _ = forecast.calibration(naive)
    return {
        "predictions": len(model),
        "miss_rate": sum(o for _, o in model) / len(model),
        "brier_model": forecast.brier(model),
        "brier_naive": forecast.brier(naive),
        "ece_model": model_ece,
        "ece_naive": naive_ece,
        "reliability": table,
    }
