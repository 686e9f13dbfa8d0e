"""Support cost against margin, the pure part: is an account's support time per dollar of net realized margin rising?

The KPI is support hours per revenue dollar (docs/kpis.md); "rising relative to net realized margin" is read as the
support hours an account takes per dollar of its net realized margin (the KPI's margin: net amount − cost of goods −
rebates) rising: hours per revenue dollar going up while the margin percent does not go up with it, or the margin
falling under steady support. Windows are Quarters, the period of the support allowance (PA-9.2 / CPA-9.2) and of the
quarterly rebates the net margin deducts.

The test. Under "no rise", the recent Quarter's hours are the account's hours in proportion to its margin:
given the total hours T over the baseline and recent Quarters, the recent share has mean T·π (π = recent margin /
all margin) and, hours being clumpy (tickets of several hours), variance φ·T·π·(1 − π), where the dispersion φ is
estimated over every account's baseline Quarters of the tenant (Pearson χ² / degrees of freedom: a quasi-Poisson
score test for a rate ratio). z = (recent hours − T·π) / sd; the confidence is Φ(z), one-sided.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from statistics import NormalDist

MIN_RATIO = 1.5  # the recent hours per margin dollar at least this many times the baseline's: smaller is not a rise
MIN_RECENT_HOURS = Decimal(8)  # fewer support hours in the recent Quarter say nothing
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
    phi: float  # variance of hours over their mean, given margin (1: Poisson in hours)
    df: int

    @property
    def trusted(self) -> bool:
        return self.df >= MIN_DISPERSION_DF and self.phi > 0


@dataclass(frozen=True)
class SupportRise:
    recent_rate: float  # hours per 1,000 of net margin, recent Quarter
    baseline_rate: float  # ... baseline Quarters
    ratio: float
    z: float
    confidence: float  # one-sided: 1 − p of "support per margin dollar did not rise"
    recent_hours: Decimal
    baseline_hours: Decimal


def _usable(windows: Sequence[Window]) -> list[Window]:
    return [w for w in windows if w.net_margin > 0]


def dispersion(baselines: Sequence[Sequence[Window]]) -> Dispersion:
    """φ pooled over the accounts' baseline Quarters: Σ (h − r·m)² / (r·m) over Σ (Quarters − 1), r the account's
    own hours per margin dollar. An account with fewer than two usable Quarters or no hours adds nothing."""
    chi2, df = 0.0, 0
    for windows in baselines:
        usable = _usable(windows)
        hours = sum(float(w.hours) for w in usable)
        margin = sum(float(w.net_margin) for w in usable)
        if len(usable) < 2 or hours <= 0:
            continue
        rate = hours / margin
        chi2 += sum((float(w.hours) - rate * float(w.net_margin)) ** 2 / (rate * float(w.net_margin)) for w in usable)
        df += len(usable) - 1
    return Dispersion(chi2 / df if df else 0.0, df)


def support_rise(recent: Window, baseline: Sequence[Window], spread: Dispersion) -> SupportRise | None:
    """A rise of the recent Quarter's support hours per net margin dollar of at least MIN_RATIO × the baseline's,
    with its confidence; None when there is no such rise, too few recent hours, or no positive margin to measure
    against (`margin_not_positive` says whether that is the case)."""
    usable = _usable(baseline)
    if recent.net_margin <= 0 or not usable or recent.hours < MIN_RECENT_HOURS:
        return None
    h_r, m_r = float(recent.hours), float(recent.net_margin)
    h_b, m_b = sum(float(w.hours) for w in usable), sum(float(w.net_margin) for w in usable)
    recent_rate, base_rate = h_r / m_r, h_b / m_b
    ratio = recent_rate / base_rate if base_rate > 0 else math.inf
    if ratio < MIN_RATIO:
        return None
    total, share = h_r + h_b, m_r / (m_r + m_b)
    sd = math.sqrt(max(spread.phi, 1e-9) * total * share * (1 - share))
    z = (h_r - total * share) / sd if sd > 0 else 10.0
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
