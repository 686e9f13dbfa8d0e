"""KPIs from rollups: mergeable per-period counters that facts fold into, and the figures computed from them.

Pure. A rollup is one JSON document per tenant, billing month and scope (`all`, `tier:<tier>`, `partner:<id>`):
integer counters (money in minor units, support time in minutes) and a fixed-bucket histogram of invoice cycle
times, so any set of rollups merges by addition and a quarter is three months merged. The definitions of every
figure are in docs/kpis.md; `kpi_definitions.DEFINITIONS` is the same text, served with the OpenAPI operation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from .billing.invoices import DIRECT_CHANNELS
from .rebates.lines import NOT_REVENUE_CREDITS

MINOR = 100  # every tenant currency has 2 decimal places (DESIGN: rounding half-even at 2 places)
ALL = "all"
_PERIOD = re.compile(r"^([0-9]{4})-(?:(0[1-9]|1[0-2])|Q([1-4]))$")

# Invoice cycle time buckets, in hours: hourly up to 48 h (the invoice SLA), then coarser. A value goes in the
# first bucket whose upper edge is >= it; "inf" holds the rest. p50/p90 report the upper edge of the bucket that
# holds the percentile, so within the SLA a percentile is exact to the hour.
CYCLE_EDGES: tuple[int, ...] = (
    *range(1, 49),
    54, 60, 66, 72, 84, 96, 120, 144, 168, 216, 264, 336, 504, 720,
)
OVERFLOW = "inf"

COUNTERS = (
    "revenue_minor",  # Σ net amount of sales facts (credits negative), minor units
    "margin_revenue_minor",  # Σ net amount of the facts that carry a cost
    "cost_minor",  # Σ cost of those facts
    "lines",  # sales facts counted
    "billed_events",  # ERP events that posted at least one invoice line (each once)
    "cycle_events",  # fulfilments or activations whose first line was posted (each once)
    "support_minutes",  # support time logged (support.logged), minutes
    "quotes",  # pricing checks
    "overrides",  # pricing checks that needed an approval to go ahead
    "approvals_decided",  # pricing approvals decided
    "approvals_approved",  # ... of which approved
    "exceptions",  # exceptions opened (any category, any opener)
    "leakage_requests",  # out_of_scope_service exceptions opened (SOP-5.3 / COP-5.3 service leakage)
    "leakage_minutes",  # ... the support time they name, minutes
    "sla_breaches",  # invoice_sla_breach exceptions opened (SOP-2.1 / COP-2.1: "counts in the invoice timeliness KPI")
)


def empty(period: str, scope: str) -> dict[str, Any]:
    return {"period": period, "scope": scope, **dict.fromkeys(COUNTERS, 0), "cycle": {}, "partners": {}}


# --- periods -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """A billing month (2026-11) or a quarter (2026-Q4): the months it covers and its first and last day."""

    name: str
    months: tuple[str, ...]

    @classmethod
    def parse(cls, name: str) -> Period:
        match = _PERIOD.fullmatch(name)
        if not match:
            raise ValueError(f"a period is a month (2026-11) or a quarter (2026-Q4), not {name!r}")
        year, month, quarter = match.groups()
        if month:
            return cls(name, (name,))
        first = (int(quarter) - 1) * 3 + 1
        return cls(name, tuple(f"{year}-{m:02d}" for m in range(first, first + 3)))

    @property
    def first_day(self) -> date:
        return month_bounds(self.months[0])[0]

    @property
    def last_day(self) -> date:
        return month_bounds(self.months[-1])[1]

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


def month_bounds(month: str) -> tuple[date, date]:
    year, number = (int(part) for part in month.split("-"))
    first = date(year, number, 1)
    following = date(year + number // 12, number % 12 + 1, 1)
    return first, date.fromordinal(following.toordinal() - 1)


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def shift_month(month: str, by: int) -> str:
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


# --- folding facts into a rollup ---------------------------------------------------------------------------
def minor(amount: Decimal) -> int:
    """Money (already rounded to cents by billing) as integer minor units."""
    return int((amount * MINOR).to_integral_value(rounding=ROUND_HALF_EVEN))


def cycle_bucket(hours: float) -> str:
    for edge in CYCLE_EDGES:
        if hours <= edge:
            return str(edge)
    return OVERFLOW


@dataclass(frozen=True)
class Delta:
    """What one fact adds to (or, for a re-rated line, moves in) the rollups of its month and scopes."""

    revenue_minor: int = 0
    margin_revenue_minor: int = 0
    cost_minor: int = 0
    lines: int = 0
    billed_events: int = 0
    cycle_events: int = 0
    support_minutes: int = 0
    quotes: int = 0
    overrides: int = 0
    approvals_decided: int = 0
    approvals_approved: int = 0
    exceptions: int = 0
    leakage_requests: int = 0
    leakage_minutes: int = 0
    sla_breaches: int = 0
    cycle_bucket: str | None = None
    partner_id: str | None = None  # revenue also goes to this partner's entry in the tier and `all` maps

    @property
    def is_zero(self) -> bool:
        return self.cycle_bucket is None and not any(getattr(self, c) for c in COUNTERS)


@dataclass(frozen=True)
class Credit:
    """What a credit note line credits: its reason code (SOP-2.5 / COP-2.4) and whether the credited line carried a
    cost of goods (then the credit gives back margin-bearing revenue)."""

    reason: str | None
    credited_has_cost: bool


def counted_amounts(net_amount: Decimal, cost: Decimal | None, credit: Credit | None = None) -> tuple[int, int, int]:
    """What a sales fact counts, in minor units: (revenue, margin base revenue, cost of goods).

    A line without a cost of goods (milestones, support overage) counts in revenue only. A credit note that pays an
    incentive (a rebate settlement, PA-7.8 / CPA-7.8 "Settlement is made by credit note") counts nowhere: it is not
    an amount invoiced "for Products and Services" (PA-1.2 / CPA-1.2) and the rebate is deducted once, as
    `rebates_deducted`. Any other credit note against a line that carried a cost counts in the margin base too
    (negative), with the cost of the units it takes back (none when no unit comes back)."""
    if credit is not None and credit.reason in NOT_REVENUE_CREDITS:
        return 0, 0, 0
    revenue = minor(net_amount)
    in_base = cost is not None or (credit is not None and credit.credited_has_cost)
    return revenue, revenue if in_base else 0, minor(cost) if cost is not None else 0


def sales_delta(
    net_amount: Decimal, cost: Decimal | None, partner_id: str | None, *, new_line: bool, credit: Credit | None = None
) -> Delta:
    """A sales fact's net amount and cost (cost None: a service line with no cost of goods; it counts in revenue
    but not in the margin base); `credit`: what a credit note line credits (`counted_amounts`)."""
    revenue, base, cost_minor = counted_amounts(net_amount, cost, credit)
    return Delta(
        revenue_minor=revenue,
        margin_revenue_minor=base,
        cost_minor=cost_minor,
        lines=1 if new_line else 0,
        partner_id=partner_id,
    )


def apply(rollup: dict[str, Any], delta: Delta, *, per_partner: bool) -> dict[str, Any]:
    """The rollup with `delta` added. `per_partner`: keep the revenue per partner (tier and `all` scopes)."""
    updated = {**rollup, **{c: int(rollup.get(c, 0)) + getattr(delta, c) for c in COUNTERS}}
    if delta.cycle_bucket is not None:
        cycle = dict(rollup.get("cycle", {}))
        cycle[delta.cycle_bucket] = int(cycle.get(delta.cycle_bucket, 0)) + 1
        updated["cycle"] = cycle
    if per_partner and delta.partner_id and delta.revenue_minor:
        partners = dict(rollup.get("partners", {}))
        partners[delta.partner_id] = int(partners.get(delta.partner_id, 0)) + delta.revenue_minor
        updated["partners"] = partners
    return updated


def merge(rollups: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Rollups of several months (or scopes) added up."""
    total: dict[str, Any] = {**dict.fromkeys(COUNTERS, 0), "cycle": {}, "partners": {}}
    for rollup in rollups:
        for counter in COUNTERS:
            total[counter] += int(rollup.get(counter, 0))
        for bucket, count in rollup.get("cycle", {}).items():
            total["cycle"][bucket] = total["cycle"].get(bucket, 0) + int(count)
        for partner_id, revenue in rollup.get("partners", {}).items():
            total["partners"][partner_id] = total["partners"].get(partner_id, 0) + int(revenue)
    return total


# --- figures -----------------------------------------------------------------------------------------------
def percentile_hours(cycle: Mapping[str, int], q: float) -> int | None:
    """The upper edge of the bucket holding the q-th value (nearest rank); None without data or past the last edge
    (then `overflow` says so)."""
    count = sum(int(c) for c in cycle.values())
    if count == 0:
        return None
    rank = max(1, math.ceil(q * count))
    seen = 0
    for edge in CYCLE_EDGES:
        seen += int(cycle.get(str(edge), 0))
        if seen >= rank:
            return edge
    return None


def _money(minor_units: int) -> str:
    return f"{Decimal(minor_units) / MINOR:.2f}"


def _ratio(numerator: Decimal, denominator: Decimal, places: int) -> str | None:
    if denominator == 0:
        return None
    quantum = Decimal(1).scaleb(-places)
    return f"{(numerator / denominator).quantize(quantum, rounding=ROUND_HALF_EVEN):f}"


@dataclass(frozen=True)
class RebatePeriod:
    """One rebate or commission period inside the KPI period: per partner, what its settlement runs made payable
    (once settled: `settled` is partner -> program -> amount) or else what is accrued (partner -> total, and
    `accrued_programs` partner -> program -> amount). PA-7.10 / CPA-7.10 ("adjusts the next settlement", "Settled
    Quarters are not reopened"): a settled period keeps what its own runs settled (`settled` less `adjusted_later`)
    and carries the earlier periods' differences its runs paid."""

    name: str
    settled: Mapping[str, Mapping[str, str]] | None
    accrued: Mapping[str, str]
    adjusted_later: Mapping[str, str] = field(default_factory=dict)
    carried: Mapping[str, str] = field(default_factory=dict)
    accrued_programs: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return "settled" if self.settled is not None else "accrued"

    def per_partner(self, leaving_out: Collection[str] = ()) -> dict[str, int]:
        """Minor units per partner; `leaving_out`: programs whose amounts are not counted (`of_programs`). The
        adjustments of a settled period name no program: they stay counted."""
        if self.settled is None:
            own: dict[str, int] = {p: minor(Decimal(total)) for p, total in self.accrued.items()}
        else:
            own = {p: sum(minor(Decimal(a)) for a in programs.values()) for p, programs in self.settled.items()}
            for partner_id, amount in self.adjusted_later.items():
                own[partner_id] = own.get(partner_id, 0) - minor(Decimal(amount))
            for partner_id, amount in self.carried.items():
                own[partner_id] = own.get(partner_id, 0) + minor(Decimal(amount))
        for partner_id, left_out in self.of_programs(leaving_out).items():
            own[partner_id] = own.get(partner_id, 0) - left_out
        return own

    def of_programs(self, programs: Collection[str]) -> dict[str, int]:
        """Minor units per partner of `programs` only: settled where settled, else accrued."""
        by_program = self.accrued_programs if self.settled is None else self.settled
        return {p: sum(minor(Decimal(a)) for program, a in amounts.items() if program in programs)
                for p, amounts in by_program.items() if any(program in programs for program in amounts)}


def rebate_periods_within(period: Period, kinds: set[str]) -> list[str]:
    """The program periods a KPI period holds whole: its months for monthly programs and, asked for a quarter, the
    quarter for quarterly ones (a quarter's rebate is not spread over its months)."""
    names = list(period.months) if "month" in kinds else []
    if "quarter" in kinds and "Q" in period.name:
        names.append(period.name)
    return names


def rebates_by_partner(periods: Iterable[RebatePeriod], leaving_out: Collection[str] = ()) -> dict[str, int]:
    """Minor units of rebates and commissions per partner over the periods: settled where settled, else accrued;
    without the programs `leaving_out` (`direct_programs`: counted against the direct sales instead)."""
    total: dict[str, int] = {}
    for period in periods:
        for partner_id, amount in period.per_partner(leaving_out).items():
            total[partner_id] = total.get(partner_id, 0) + amount
    return total


def direct_programs(programs: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """The commission programs that count only the Distributor's direct sales to Customers: eligible by channel, every
    channel a direct one (PA-8.1 / CPA-8.1 referrals, PA-8.2 sales agents' listed accounts: `DIRECT_CHANNELS`). Their
    commissions are a cost of the direct sales, whose revenue no tier holds (PA-1.2 / CPA-1.2): the net realized
    margin deducts them from `direct_sales` (and the tenant's figure), never from the referring partner's tier or its
    own figures."""
    found = set()
    for program in programs:
        channels = (program.get("eligibility") or {}).get("channels") or []
        if channels and set(channels) <= DIRECT_CHANNELS:
            found.add(str(program["id"]))
    return frozenset(found)


def direct_rebates(periods: Iterable[RebatePeriod], programs: Collection[str]) -> int:
    """Minor units of the direct sales' commissions (`direct_programs`) over the periods, every partner's."""
    return sum(sum(period.of_programs(programs).values()) for period in periods)


def margin(rollup: Mapping[str, Any], rebates_minor: int = 0) -> dict[str, Any]:
    base = int(rollup["margin_revenue_minor"])
    net = base - int(rollup["cost_minor"]) - rebates_minor
    return {
        "revenue": _money(int(rollup["revenue_minor"])),
        "margin_base_revenue": _money(base),
        "cost": _money(int(rollup["cost_minor"])),
        "rebates_deducted": _money(rebates_minor),
        "net_margin": _money(net),
        "net_margin_percent": _ratio(Decimal(net) * 100, Decimal(base), 2),
    }


def cycle_time(rollup: Mapping[str, Any], sla_hours: int | None) -> dict[str, Any]:
    cycle = rollup["cycle"]
    within = None
    if sla_hours is not None and rollup["cycle_events"]:
        inside = sum(int(n) for edge, n in cycle.items() if edge != OVERFLOW and int(edge) <= sla_hours)
        within = _ratio(Decimal(inside) * 100, Decimal(int(rollup["cycle_events"])), 2)
    return {
        "events": int(rollup["cycle_events"]),
        "p50_hours": percentile_hours(cycle, 0.5),
        "p90_hours": percentile_hours(cycle, 0.9),
        "over_720_hours": int(cycle.get(OVERFLOW, 0)),
        "sla_hours": sla_hours,
        "within_sla_percent": within,
        # SOP-2.1 / COP-2.1: a breach "counts in the invoice timeliness KPI even if the line is posted later"
        "sla_breaches": int(rollup.get("sla_breaches", 0)),
    }


# SOP-5.3 / COP-5.3: out of scope is "for example ... work on a Product Family for which the Partner's certification
# has expired, or support beyond the quarterly hours"; delivered without an accepted change order it "is not billed and
# is recorded as service leakage": billing's exception categories for it, with the context field naming its hours.
LEAKAGE_HOURS = {"out_of_scope_service": "hours", "support_hours_overage": "overage_hours"}


def leaked_minutes(category: str | None, context: Mapping[str, Any]) -> int | None:
    """The support minutes an exception of this category records as service leakage, or None for another category."""
    named = LEAKAGE_HOURS.get(category or "")
    if named is None:
        return None
    hours = context.get(named)
    return int((Decimal(str(hours)) * 60).to_integral_value()) if hours else 0


def support_economics(rollup: Mapping[str, Any]) -> dict[str, Any]:
    hours = Decimal(int(rollup["support_minutes"])) / 60
    revenue = Decimal(int(rollup["revenue_minor"])) / MINOR
    leaked = Decimal(int(rollup.get("leakage_minutes", 0))) / 60
    return {
        "support_hours": f"{hours.quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN):f}",
        "revenue": _money(int(rollup["revenue_minor"])),
        "hours_per_revenue_dollar": _ratio(hours, revenue, 8) if revenue > 0 else None,
        "hours_per_1000_revenue": _ratio(hours * 1000, revenue, 4) if revenue > 0 else None,
        # SOP-5.3 / COP-5.3: out-of-scope work not billed without an accepted change order is service leakage
        "out_of_scope_requests": int(rollup.get("leakage_requests", 0)),
        "service_leakage_hours": f"{leaked.quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN):f}",
    }


def compliance(rollup: Mapping[str, Any]) -> dict[str, Any]:
    transactions = int(rollup["quotes"]) + int(rollup["billed_events"])
    return {
        "exceptions": int(rollup["exceptions"]),
        "transactions": transactions,
        "quotes_checked": int(rollup["quotes"]),
        "erp_events_billed": int(rollup["billed_events"]),
        "per_100_transactions": _ratio(Decimal(int(rollup["exceptions"])) * 100, Decimal(transactions), 2),
    }


def override_and_approval(rollup: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "quotes_checked": int(rollup["quotes"]),
        "quotes_needing_approval": int(rollup["overrides"]),
        "override_rate_percent": _ratio(Decimal(int(rollup["overrides"])) * 100, Decimal(int(rollup["quotes"])), 2),
        "approvals_decided": int(rollup["approvals_decided"]),
        "approvals_approved": int(rollup["approvals_approved"]),
        "approval_rate_percent": _ratio(
            Decimal(int(rollup["approvals_approved"])) * 100, Decimal(int(rollup["approvals_decided"])), 2
        ),
    }


# --- thresholds ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Threshold:
    """A volume a partner is measured against in a period: a rebate program level or a tier commitment's pace."""

    program_id: str
    program: str
    level: str  # the level's name, e.g. "1.0%" or "silver commitment"
    amount: Decimal  # for the period asked (a commitment is prorated to it)
    clause: str
    source: str  # rebate_program | tier_commitment
    tiers: frozenset[str] | None = None  # the tiers it applies to; None: every tier

    def as_dict(self) -> dict[str, Any]:
        return {
            "program_id": self.program_id,
            "program": self.program,
            "level": self.level,
            "threshold": f"{self.amount:.2f}",
            "clause": self.clause,
            "source": self.source,
        }


def attainment(
    thresholds: list[Threshold], revenue_by_partner: Mapping[str, int], tier_of: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Per threshold: how many of the partners it applies to reached it, and their median attainment."""
    rows = []
    for threshold in thresholds:
        members = [p for p, tier in tier_of.items() if threshold.tiers is None or tier in threshold.tiers]
        ratios = sorted(
            Decimal(int(revenue_by_partner.get(p, 0))) / MINOR / threshold.amount for p in members
        ) if threshold.amount > 0 else []
        reached = sum(1 for r in ratios if r >= 1)
        # the median of an even count is the mean of the two middle values (of two partners at 12 % and 0 %, 6 %,
        # not the lower one)
        middle = len(ratios) // 2
        median = (ratios[middle] if len(ratios) % 2 else (ratios[middle - 1] + ratios[middle]) / 2) if ratios else None
        rows.append(
            {
                **threshold.as_dict(),
                "partners": len(members),
                "reached": reached,
                "reached_percent": _ratio(Decimal(reached) * 100, Decimal(len(members)), 2),
                "median_attainment_percent": None
                if median is None
                else f"{(median * 100).quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN):f}",
            }
        )
    return rows


# --- baselines ----------------------------------------------------------------------------------------------
def baseline_period(asked: Period, went_live: date, configured: str | None = None) -> tuple[Period, str]:
    """The period a KPI is compared with, and why: the configured one, else the month or quarter (as asked) that
    ended before the tenant went live."""
    if configured:
        return Period.parse(configured), "configured"
    if len(asked.months) == 1:
        return Period.parse(shift_month(month_of(went_live), -1)), "before_go_live"
    quarter = (went_live.month - 1) // 3  # the go-live quarter's index; the one before it ended before go-live
    year = went_live.year if quarter else went_live.year - 1
    return Period.parse(f"{year}-Q{quarter or 4}"), "before_go_live"


BASELINE_SECTIONS = (
    "net_realized_margin",
    "invoice_cycle_time",
    "threshold_attainment",
    "renewal_probability",
    "support_hours_per_revenue_dollar",
    "policy_exceptions_per_100_transactions",
    "overrides_and_approvals",
)


def with_baseline(current: Mapping[str, Any], baseline: Mapping[str, Any], period: Period, source: str,
                  went_live: date) -> dict[str, Any]:
    """The KPI answer with, inside each KPI, the same figures for the baseline period (`baseline`), and what the
    baseline is (`baseline` at the top)."""
    out = {**current}
    for section in BASELINE_SECTIONS:
        if isinstance(current.get(section), dict) and isinstance(baseline.get(section), dict):
            out[section] = {**current[section], "baseline": {**baseline[section], "period": period.name}}
    out["baseline"] = {"period": period.name, "months": list(period.months), "source": source,
                       "went_live_on": went_live.isoformat()}
    return out
