"""Partner volume forecasts: a seasonal run-rate with an interval from the partner's own history, and the
probability of missing each threshold. Pure and deterministic: history, the period and the as-of day are handed in.

Method (stated in every answer as `METHOD`):
1. Seasonality: each calendar month's index is its revenue over its year's monthly mean, averaged over the years
   of history and shrunk toward 1 (weight years/(years+1)); with under 12 months of history every index is 1.
2. Level: the deseasonalized mean of the last 3 complete months, blended with the deseasonalized pace of the
   period so far (weight = the share of the period elapsed), both in log space.
3. Projection: revenue to date + level × the seasonal indices of what remains of the period.
4. Spread: the standard deviation of the partner's monthly log residuals around its own rolling level, shrunk
   toward a pooled prior of 0.25 when history is short; the remaining volume is log-normal with that spread scaled
   to the remaining months, plus the uncertainty of the level itself.
5. P(miss threshold T) = P(to date + remaining < T); the 80% interval is the 10th and 90th percentiles.
The naive rule it is compared with: P(miss) = max(0, T − to date) / T ("distance to threshold").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from statistics import NormalDist
from typing import Any

from .kpis import Period, month_bounds, month_of, shift_month

METHOD = (
    "seasonal run-rate: revenue to date + the partner's deseasonalized level (last 3 complete months blended with "
    "the period's pace) x the seasonal indices of the remaining days; log-normal interval from the partner's own "
    "monthly residuals (shrunk to a pooled prior when history is short)"
)
PRIOR_SIGMA = 0.25
PRIOR_WEIGHT = 4.0  # months of pooled evidence the prior is worth
MIN_SIGMA = 0.03
Z80 = 1.2815515655446004
_NORMAL = NormalDist()


@dataclass(frozen=True)
class Projection:
    period: str
    as_of: date
    elapsed_fraction: float
    to_date: float
    expected: float
    low: float  # 10th percentile
    high: float  # 90th percentile
    mu: float  # log-mean of the remaining volume (nan when nothing remains)
    sigma: float  # log-sd of the remaining volume
    history_months: int

    def p_miss(self, threshold: float) -> float:
        """Probability that the period ends below `threshold`."""
        gap = threshold - self.to_date
        if gap <= 0:
            return 0.0
        if self.elapsed_fraction >= 1 or math.isnan(self.mu):
            return 1.0
        return _NORMAL.cdf((math.log(gap) - self.mu) / self.sigma)


def naive_p_miss(to_date: float, threshold: float) -> float:
    """The rule of thumb: the share of the threshold still to go."""
    if threshold <= 0:
        return 0.0
    return min(1.0, max(0.0, (threshold - to_date) / threshold))


def _log(value: float) -> float:
    return math.log(max(value, 1.0))


def seasonal_indices(history: Mapping[str, float]) -> dict[int, float]:
    """Calendar month (1-12) -> index; 1.0 each without a full year of history."""
    by_year: dict[int, dict[int, float]] = {}
    for month, revenue in history.items():
        year, number = (int(part) for part in month.split("-"))
        by_year.setdefault(year, {})[number] = revenue
    ratios: dict[int, list[float]] = {}
    for months in by_year.values():
        if len(months) < 12:
            continue
        mean = sum(months.values()) / 12
        if mean <= 0:
            continue
        for number, revenue in months.items():
            ratios.setdefault(number, []).append(max(revenue, 0.0) / mean)
    indices = {}
    for number in range(1, 13):
        seen = ratios.get(number, [])
        if not seen:
            indices[number] = 1.0
            continue
        weight = len(seen) / (len(seen) + 1)
        indices[number] = weight * (sum(seen) / len(seen)) + (1 - weight)
    mean_index = sum(indices.values()) / 12
    return {number: value / mean_index for number, value in indices.items()}


def _residual_sigma(months: Sequence[str], history: Mapping[str, float], season: Mapping[int, float]) -> float:
    """Spread of deseasonalized monthly log revenue around the mean of the 3 months before it."""
    logs = [_log(history[m] / season[int(m[5:])]) for m in months]
    residuals = [logs[i] - sum(logs[i - 3 : i]) / 3 for i in range(3, len(logs))]
    n = len(residuals)
    own = sum(r * r for r in residuals) / n if n else 0.0
    variance = (n * own + PRIOR_WEIGHT * PRIOR_SIGMA**2) / (n + PRIOR_WEIGHT)
    return max(MIN_SIGMA, math.sqrt(variance))


def project(history: Mapping[str, float], period: str, as_of: date, to_date: float) -> Projection:
    """Project the period's volume from the partner's monthly history (complete months before the period start
    or before `as_of`, whichever is earlier) and what it has invoiced in the period up to `as_of`."""
    target = Period.parse(period)
    start, end = target.first_day, target.last_day
    cutoff = min(max(as_of, date.fromordinal(start.toordinal() - 1)), end)
    elapsed_days = max(0, (cutoff - start).days + 1)
    elapsed = elapsed_days / target.days
    last_complete = shift_month(month_of(start), -1)
    months = sorted(m for m in history if m <= last_complete)
    season = seasonal_indices({m: history[m] for m in months})
    if elapsed >= 1:
        return Projection(period, as_of, 1.0, to_date, to_date, to_date, to_date, math.nan, 0.0, len(months))
    remaining_weight = 0.0  # seasonal months of revenue still to come
    elapsed_weight = 0.0
    for month in target.months:
        first, last = month_bounds(month)
        days = (last - first).days + 1
        done = min(days, max(0, (cutoff - first).days + 1))
        elapsed_weight += season[int(month[5:])] * done / days
        remaining_weight += season[int(month[5:])] * (days - done) / days
    recent = months[-3:]
    sigma_month = _residual_sigma(months, history, season) if months else PRIOR_SIGMA
    if recent:
        level_log = sum(_log(history[m] / season[int(m[5:])]) for m in recent) / len(recent)
        level_var = sigma_month**2 / len(recent)
    else:
        level_log, level_var = math.nan, math.inf
    if elapsed_weight > 0 and to_date > 0:
        pace_log = _log(to_date / elapsed_weight)
        pace_var = sigma_month**2 / max(elapsed_weight, 1e-9)
        if math.isnan(level_log):
            level_log, level_var = pace_log, pace_var
        else:  # inverse-variance blend of the history's level and this period's pace
            w = (1 / pace_var) / (1 / pace_var + 1 / level_var)
            level_log = w * pace_log + (1 - w) * level_log
            level_var = 1 / (1 / pace_var + 1 / level_var)
    if math.isnan(level_log):  # no history, nothing invoiced yet: nothing to project from
        return Projection(period, as_of, elapsed, to_date, to_date, to_date, math.inf, math.nan, 0.0, 0)
    noise_var = sigma_month**2 / max(remaining_weight, 1.0)
    sigma = math.sqrt(noise_var + level_var)
    mean_remaining = math.exp(level_log + level_var / 2) * remaining_weight
    mu = math.log(max(mean_remaining, 1e-9)) - sigma**2 / 2
    low = to_date + math.exp(mu - Z80 * sigma)
    high = to_date + math.exp(mu + Z80 * sigma)
    return Projection(
        period, as_of, elapsed, to_date, to_date + mean_remaining, low, high, mu, sigma, len(months)
    )


def describe(projection: Projection, thresholds: Sequence[tuple[dict[str, Any], float]]) -> dict[str, Any]:
    """The answer: projection, interval, and P(miss) per threshold, rounded for the wire."""
    return {
        "period": projection.period,
        "as_of": projection.as_of.isoformat(),
        "method": METHOD,
        "elapsed_percent": round(projection.elapsed_fraction * 100, 1),
        "history_months": projection.history_months,
        "to_date": f"{projection.to_date:.2f}",
        "projected": f"{projection.expected:.2f}",
        "interval_80": {"low": f"{projection.low:.2f}", "high": f"{projection.high:.2f}"}
        if math.isfinite(projection.high)
        else None,
        "thresholds": [
            {
                **info,
                "p_miss": round(projection.p_miss(amount), 4),
                "naive_p_miss": round(naive_p_miss(projection.to_date, amount), 4),
            }
            for info, amount in thresholds
        ],
    }


# --- backtest ----------------------------------------------------------------------------------------------
def brier(pairs: Sequence[tuple[float, int]]) -> float:
    return sum((p - o) ** 2 for p, o in pairs) / len(pairs)


def calibration(pairs: Sequence[tuple[float, int]], bins: int = 10) -> tuple[float, list[dict[str, Any]]]:
    """Expected calibration error and the reliability table (mean predicted vs observed, per probability bin)."""
    table: list[dict[str, Any]] = []
    ece = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        members = [(p, o) for p, o in pairs if lo <= p < hi or (b == bins - 1 and p == 1.0)]
        if not members:
            continue
        predicted = sum(p for p, _ in members) / len(members)
        observed = sum(o for _, o in members) / len(members)
        ece += len(members) / len(pairs) * abs(predicted - observed)
        table.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": len(members), "predicted": predicted, "observed": observed})
    return ece, table
