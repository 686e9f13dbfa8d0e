"""Support cost against margin, the pure part: is an account's support time per dollar of net realized margin rising?

The KPI is support hours per revenue dollar (docs/kpis.md); "rising relative to net realized margin" is read as the
support hours an account takes per dollar of its net realized margin (the KPI's margin: net amount − cost of goods −
rebates) rising: hours per revenue dollar going up while the margin percent does not go up with it, or the margin
falling under steady support. Windows are Quarters, the period of the support allowance (PA-9.2 / CPA-9.2) and of the
quarterly rebates the net margin deducts.

The test. Under "no rise", the recent Quarter's hours are expected at the baseline's hours per margin dollar times
the recent margin. Hours are clumpy (tickets of several hours; busier Quarters), so their variance is modelled as
φ·μ + κ·μ² (a quasi-likelihood variance function, negative-binomial shaped), φ and κ fitted over every account's
baseline Quarters of the tenant. z = (recent hours − expected) / sd, the sd counting the baseline rate's own
uncertainty (a Wald test of the rate ratio); the confidence is Φ(z), one-sided.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from statistics import NormalDist
from typing import Any

from .kpis import MINOR, merge

MIN_RATIO = 2.0  # the recent hours per margin dollar at least this many times the baseline's: smaller is not a rise
MIN_RECENT_HOURS = Decimal(8)  # fewer support hours in the recent Quarter say nothing
MIN_BASELINE_HOURS = Decimal(24)  # fewer over the baseline Quarters: no rate to compare with (a few tickets)
MIN_DISPERSION_DF = 10  # degrees of freedom behind the tenant's dispersion; fewer: the test is not trusted
_NORMAL = NormalDist()


@dataclass(frozen=True)
class Window:
    """One account's Quarter: support hours logged, net invoiced revenue, net realized margin (after rebates)."""

    period: str
    hours: Decimal
    revenue: Decimal
    net_margin: Decimal


@dataclass(frozen=True)
class Dispersion:
    """The variance of a Quarter's hours around their mean μ = rate × margin: φ·μ + κ·μ² (tickets of several hours,
    and Quarters busier than others in proportion to the account's size)."""

    phi: float
    kappa: float
    df: int

    @property
    def trusted(self) -> bool:
        return self.df >= MIN_DISPERSION_DF and (self.phi > 0 or self.kappa > 0)

    def variance(self, mean: float) -> float:
        return max(self.phi, 0.0) * mean + max(self.kappa, 0.0) * mean * mean


@dataclass(frozen=True)
class SupportRise:
    recent_rate: float  # hours per 1,000 of net margin, recent Quarter
    baseline_rate: float  # ... baseline Quarters
    ratio: float
    z: float
    confidence: float  # one-sided: 1 − p of "support per margin dollar did not rise"
    recent_hours: Decimal
    baseline_hours: Decimal


def quarter_window(quarter: str, monthly: Iterable[Mapping[str, Any]], rebates_minor: int) -> Window:
    """An account's Quarter from its monthly KPI rollups and the rebates the Quarter deducts (docs/kpis.md: support
    hours per revenue dollar; net realized margin = net amount − cost of goods − rebates over the lines that carry a
    cost)."""
    total = merge(monthly)
    margin_minor = int(total["margin_revenue_minor"]) - int(total["cost_minor"]) - rebates_minor
    return Window(
        quarter,
        Decimal(int(total["support_minutes"])) / 60,
        Decimal(int(total["revenue_minor"])) / MINOR,
        Decimal(margin_minor) / MINOR,
    )


def _usable(windows: Sequence[Window]) -> list[Window]:
    return [w for w in windows if w.net_margin > 0]


def dispersion(baselines: Sequence[Sequence[Window]]) -> Dispersion:
    """φ and κ fitted over every account's baseline Quarters: the squared residual (h − r·m)², scaled by k / (k − 1)
    for the account's own rate r estimated from its k Quarters, over μ = r·m, regressed on μ (e²/μ ≈ φ + κ·μ).
    An account with fewer than two usable Quarters or no hours adds nothing."""
    rows: list[tuple[float, float]] = []  # (μ, scaled squared residual)
    df = 0
    for windows in baselines:
        usable = _usable(windows)
        hours = sum(float(w.hours) for w in usable)
        if len(usable) < 2 or hours <= 0:
            continue
        rate, scale = hours / sum(float(w.net_margin) for w in usable), len(usable) / (len(usable) - 1)
        rows += [(rate * float(w.net_margin), scale * (float(w.hours) - rate * float(w.net_margin)) ** 2)
                 for w in usable]
        df += len(usable) - 1
    rows = [(mean, residual / mean) for mean, residual in rows if mean > 0]  # e²/μ ≈ φ + κ·μ: every row counts
    if df < 2 or len(rows) < 2:
        return Dispersion(0.0, 0.0, df)
    n = len(rows)
    mean_x, mean_y = sum(x for x, _ in rows) / n, sum(y for _, y in rows) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in rows)
    kappa = sum((x - mean_x) * (y - mean_y) for x, y in rows) / sxx if sxx > 0 else 0.0
    phi = mean_y - kappa * mean_x
    if kappa < 0:  # no size effect: φ alone
        phi, kappa = mean_y, 0.0
    elif phi < 0:  # no ticket effect: κ alone
        phi, kappa = 0.0, sum(x * y for x, y in rows) / sum(x * x for x, _ in rows)
    return Dispersion(phi, kappa, df)


def support_rise(recent: Window, baseline: Sequence[Window], spread: Dispersion) -> SupportRise | None:
    """A rise of the recent Quarter's support hours per net margin dollar of at least MIN_RATIO × the baseline's,
    with its confidence; None when there is no such rise, too few recent hours, or no positive margin to measure
    against (`margin_not_positive` says whether that is the case)."""
    usable = _usable(baseline)
    if recent.net_margin <= 0 or not usable or recent.hours < MIN_RECENT_HOURS:
        return None
    if sum((w.hours for w in usable), Decimal(0)) < MIN_BASELINE_HOURS:
        return None
    h_r, m_r = float(recent.hours), float(recent.net_margin)
    h_b, m_b = sum(float(w.hours) for w in usable), sum(float(w.net_margin) for w in usable)
    recent_rate, base_rate = h_r / m_r, h_b / m_b
    ratio = recent_rate / base_rate if base_rate > 0 else math.inf
    if ratio < MIN_RATIO:
        return None
    expected = base_rate * m_r  # the recent hours if nothing changed
    # Var(h_r − r̂·m_r) = V(μ_r) + (m_r / m_b)² · Σ V(μ_i): the baseline rate is itself estimated
    noise = spread.variance(expected) + (m_r / m_b) ** 2 * sum(
        spread.variance(base_rate * float(w.net_margin)) for w in usable)
    z = (h_r - expected) / math.sqrt(noise) if noise > 0 else 10.0
    return SupportRise(
        recent_rate * 1000,
        base_rate * 1000,
        ratio,
        z,
        _NORMAL.cdf(z),
        recent.hours,
        sum((w.hours for w in usable), Decimal(0)),
    )


def margin_not_positive(recent: Window) -> bool:
    """Support logged against an account whose net realized margin is zero or negative: hours per margin dollar has
    no value, and a person must judge (escalated, never acted on)."""
    return recent.net_margin <= 0 and recent.hours >= MIN_RECENT_HOURS


def hours_per_revenue_dollar(window: Window) -> str | None:
    """The KPI (docs/kpis.md), 8 places, for the evidence."""
    if window.revenue <= 0:
        return None
    return f"{(window.hours / window.revenue).quantize(Decimal('0.00000001')):f}"


def allowance_use(hours: Decimal, allowance: Any) -> dict[str, str] | None:
    """The Quarter's hours against the tier's included hours (PA-9.2 / CPA-9.2): the share used (SOP-5.4 notifies at
    80 %, COP-5.4 at 75 % and 100 %) and the hours beyond the allowance (overage, billed only with the partner's
    written approval, or for severity 1 work where the agreement excepts it: CPA-9.2). None when the tier states no
    allowance."""
    if allowance is None or Decimal(str(allowance)) <= 0:
        return None
    included = Decimal(str(allowance))
    used = (hours * 100 / included).quantize(Decimal("0.01"))
    return {"included_hours": f"{included:f}", "used_percent": f"{used:f}",
            "beyond_allowance_hours": f"{max(Decimal(0), hours - included):.2f}"}
