"""Discount behaviour that precedes churn, the pure part: measured on the tenant's own history, never assumed.

Churn, from the product's data: a partner terminated (PA-13.3 / CPA-13.3; the month of its step into `terminated`),
or one that had invoiced revenue and then none for QUIET_MONTHS complete months in a row (the first quiet month).
Discount behaviour: the partner's override rate (quotes needing an approval to go ahead, docs/kpis.md) rising over its
last 3 months against the 6 before (`agents.override_drift`, at NOTICE confidence or more).

The association is learned per tenant: at as-of months 7, 13 and 19 months back (outcome windows that do not
overlap), each partner then trading counts once per as-of month into a 2 × 2 table (rising or not × churned within
the next 6 months or not). Fisher's exact test, one-sided (rising → more churn), gives the association's confidence;
the relative risk its size. Only when the tenant's history shows a significant (≥ ASSOCIATION) and large (relative
risk ≥ MIN_RELATIVE_RISK) association does a partner rising now become a finding, with the table as evidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from math import comb

from .agents import override_drift
from .kpis import shift_month

QUIET_MONTHS = 6
HORIZON = 6  # churn within this many months after the as-of month counts
AS_OF_BACK = (7, 13, 19)  # months back of each learning as-of month (outcomes observable, windows apart)
NOTICE = 0.75  # an override-rate rise at least this sure is "rising"
ASSOCIATION = 0.95
MIN_RELATIVE_RISK = 2.0
MIN_EXPOSED = 3  # rising partner-months in the history below which nothing is learned


@dataclass(frozen=True)
class Month:
    revenue_minor: int
    quotes: int
    overrides: int


@dataclass(frozen=True)
class Association:
    rising_churned: int
    rising_stayed: int
    other_churned: int
    other_stayed: int
    relative_risk: float  # inf when no other partner churned
    confidence: float  # 1 − Fisher's one-sided p

    @property
    def established(self) -> bool:
        return self.confidence >= ASSOCIATION and self.relative_risk >= MIN_RELATIVE_RISK

    def as_dict(self) -> dict[str, object]:
        rr = None if self.relative_risk == float("inf") else round(self.relative_risk, 3)
        return {"rising_churned": self.rising_churned, "rising_stayed": self.rising_stayed,
                "other_churned": self.other_churned, "other_stayed": self.other_stayed, "relative_risk": rr,
                "confidence": round(self.confidence, 4), "test": "Fisher's exact test, one-sided"}


def churn_month(months: Mapping[str, Month], terminated_month: str | None, last_complete: str) -> str | None:
    """The month the partner churned, or None: its termination month, else the first of QUIET_MONTHS complete months
    without invoiced revenue after a month with revenue (ending no later than `last_complete`)."""
    if terminated_month is not None:
        return terminated_month
    traded, quiet, start = False, 0, None
    for month in sorted(months):
        if month > last_complete:
            break
        if months[month].revenue_minor > 0:
            traded, quiet, start = True, 0, None
        elif traded:
            quiet, start = quiet + 1, start or month
            if quiet >= QUIET_MONTHS:
                return start
    return None


def rising(months: Mapping[str, Month], as_of: str) -> bool:
    """The override rate of the 3 months to `as_of` risen against the 6 before (a drift at NOTICE or more)."""
    recent = [months.get(shift_month(as_of, -i), Month(0, 0, 0)) for i in range(3)]
    base = [months.get(shift_month(as_of, -i), Month(0, 0, 0)) for i in range(3, 9)]
    drift = override_drift(sum(m.quotes for m in recent), sum(m.overrides for m in recent),
                           sum(m.quotes for m in base), sum(m.overrides for m in base))
    return drift is not None and drift.confidence >= NOTICE


def _trading(months: Mapping[str, Month], as_of: str) -> bool:
    return any(months.get(shift_month(as_of, -i), Month(0, 0, 0)).revenue_minor > 0 for i in range(3))


def fisher_one_sided(a: int, b: int, c: int, d: int) -> float:
    """P(X ≥ a) for the top-left cell of a 2 × 2 table with fixed margins (hypergeometric)."""
    row, col, n = a + b, a + c, a + b + c + d
    total = comb(n, col)
    return sum(comb(row, k) * comb(n - row, col - k) for k in range(a, min(row, col) + 1)) / total


def association(
    partners: Sequence[tuple[Mapping[str, Month], str | None]], this_month: str
) -> Association | None:
    """The 2 × 2 table over the learning as-of months; None when fewer than MIN_EXPOSED rising partner-months."""
    cells = [0, 0, 0, 0]
    last_complete = shift_month(this_month, -1)
    for months, churned in partners:
        for back in AS_OF_BACK:
            as_of = shift_month(this_month, -back)
            if (churned is not None and churned <= as_of) or not _trading(months, as_of):
                continue
            later = churned is not None and churned <= shift_month(as_of, HORIZON) and churned <= last_complete
            cells[(0 if rising(months, as_of) else 2) + (0 if later else 1)] += 1
    a, b, c, d = cells
    if a + b < MIN_EXPOSED:
        return None
    rate_other = c / (c + d) if c + d else 0.0
    risk = (a / (a + b)) / rate_other if rate_other > 0 else float("inf")
    return Association(a, b, c, d, risk, 1 - fisher_one_sided(a, b, c, d))
