"""Rating from the projection: read the lines and partners a period needs, rate them with the engine, write nothing.

The engine and the ledger are numpy; they are imported inside `rate_lines`, so importing the API (every route module
imports this package) does not pay numpy's import time on a Lambda cold start.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from ...domain.rebates.policy import (
    PartnerFacts,
    Period,
    RebateBook,
    first_full_period,
    month_name,
    months_paid_from,
    rebate_book,
)
from ...domain.tenants import Tenant
from ...runtime import Runtime
from . import repository
from .book import partner_facts, today

if TYPE_CHECKING:
    from ...domain.rebates.result import PeriodResult


def months_needed(book: RebateBook, period: Period, partners: Mapping[str, PartnerFacts]) -> set[int]:
    """The period's months, for a growth program its baselines (last year's period, new partners' first one), and
    for a commission earned when paid the months whose invoices may be paid in the period (PA-8.2 / CPA-8.2)."""
    months = set(period.months) | months_paid_from(book, period)
    if any(p.model == "growth" and p.period == period.kind for p in book.programs):
        months |= set(period.year_before.months)
        for facts in partners.values():
            if facts.activated_on is not None:
                months |= set(first_full_period(date.fromordinal(facts.activated_on), period.kind).months)
    return months


def rate_lines(
    book: RebateBook,
    lines: list[dict[str, Any]],
    period: Period,
    partners: Mapping[str, PartnerFacts],
    prior_claims: Mapping[str, frozenset[str]] | None = None,
) -> PeriodResult:
    """The period rated over these rebate lines (in month and line order, as the ledger wants them)."""
    (result,) = rate_lines_in(book, lines, [period], partners, prior_claims)
    return result


def rate_lines_in(
    book: RebateBook,
    lines: list[dict[str, Any]],
    periods: list[Period],
    partners: Mapping[str, PartnerFacts],
    prior_claims: Mapping[str, frozenset[str]] | None = None,
) -> list[PeriodResult]:
    """`rate_lines` for each of `periods` over one ledger of these lines, built and checked once (an event's lines
    fall in a Quarter and a month: `engine.rate_periods`)."""
    # numpy: imported where a period is rated, not when the API is imported (Lambda cold start)
    from ...domain.rebates.engine import rate_periods
    from ...domain.rebates.ledger import SalesLedger

    ordered = sorted(lines, key=lambda ln: (ln["month"], ln["line_id"]))
    ledger = SalesLedger.from_lines(ordered, book.exclusive_promotions)
    return rate_periods(book, ledger, periods, partners, prior_claims)


def partner_period_lines(
    rt: Runtime, tenant_id: str, book: RebateBook, period: Period, partner_id: str, facts: PartnerFacts
) -> list[dict[str, Any]]:
    """Every projected line one partner's period is rated from: its months and its growth baselines'."""
    months = sorted(months_needed(book, period, {partner_id: facts}))
    return [ln for m in months for ln in repository.partner_lines(rt, tenant_id, partner_id, month_name(m))]


def rate_partner(
    rt: Runtime, tenant_id: str, book: RebateBook, period: Period, partner_id: str, facts: PartnerFacts
) -> PeriodResult:
    """One partner's period rated from its own projected lines (its accrual)."""
    lines = partner_period_lines(rt, tenant_id, book, period, partner_id, facts)
    return rate_lines(book, lines, period, {partner_id: facts})


def rate(
    rt: Runtime, tenant: Tenant, book: RebateBook, period: Period, on: date
) -> tuple[PeriodResult, dict[str, PartnerFacts]]:
    """Every partner's period rated from the projection, with what earlier settlements claimed; and their facts."""

    def lines_of(months: set[int] | range) -> list[dict[str, Any]]:
        return [ln for m in sorted(months) for ln in repository.month_lines(rt, tenant.tenant_id, month_name(m))]

    lines = lines_of(set(period.months) | months_paid_from(book, period))
    facts = partner_facts(rt, tenant, sorted({ln["partner_id"] for ln in lines}), period, on)
    lines += lines_of(months_needed(book, period, facts) - set(period.months) - months_paid_from(book, period))
    return rate_lines(book, lines, period, facts, prior_claims(rt, tenant.tenant_id, period)), facts


def rate_under(
    rt: Runtime, tenant: Tenant, policy: dict[str, Any], version: str, period: Period
) -> tuple[PeriodResult, dict[str, PartnerFacts]]:
    """The period rated under `policy` (the tenant's, or a draft's) over the stored rebate lines, writing nothing:
    what a settlement run would compute, and the partners' facts (policy what-if, services.policy_whatif)."""
    under = replace(tenant, config={**tenant.config, "policy": policy}, policy_version=version)
    return rate(rt, under, rebate_book(policy, version), period, today(rt))


def prior_claims(rt: Runtime, tenant_id: str, period: Period) -> dict[str, frozenset[str]]:
    """Lines settled before under programs of the other period kind overlapping these months (a monthly
    commission inside a quarter): a line claimed there is not claimed again by a program exclusive with it."""
    overlapping = (
        [Period(m, m, "month") for m in period.months]
        if period.kind == "quarter"
        else [Period.containing(period.first, "quarter")]
    )
    claims: dict[str, set[str]] = defaultdict(set)
    for other in overlapping:
        state = repository.period_state(rt, tenant_id, other.name)
        for run in state.data["runs"] if state else []:
            for claim in repository.claimed_lines(rt, tenant_id, other.name, run["settlement_id"]):
                claims[claim["program_id"]].update(claim["line_ids"])
    return {program: frozenset(ids) for program, ids in claims.items()}
