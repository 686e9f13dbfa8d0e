"""The one interface every program model implements, and what a model is handed and hands back.

A model is one module of this package (tiered_retroactive.py, growth.py...) with a `RebateModel` subclass, registered
under its `program.model` name in `models.MODELS`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from .. import money
from ..money import format_money
from ..rules import Rule
from .ledger import Flags, Ints, SalesLedger
from .policy import PartnerFacts, Period
from .programs import Program, Tier

HUNDRED = Decimal(100)


@dataclass
class PartnerAmount:
    """One program's result for one partner: the basis it rated, the amount (rounded once) and why."""

    basis: int  # cents of revenue (units in thousandths for per-unit programs)
    amount: Decimal
    rule: Rule
    rate: str
    reached: dict[str, Any] | None = None
    next: dict[str, Any] | None = None
    needed: int | None = None  # cents (or thousandths of a unit) still needed for `next`
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class ProgramRating:
    program: Program
    counted: Flags  # the period's lines this program counted: its trace
    partners: dict[int, PartnerAmount]


@dataclass
class RatingContext:
    """A period's ledger, the partners, and the lines a program may count after eligibility and exclusions."""

    ledger: SalesLedger
    period: Period
    partners: Mapping[str, PartnerFacts]
    eligible: Flags  # in any month: growth compares against other periods
    # PA-8.2 / CPA-8.2: the program earns a line in the period its invoice was paid in, not the invoice's
    by_payment: bool = False
    _sums: dict[tuple[int, int], Ints] = field(default_factory=dict)

    def in_period(self, period: Period | None = None) -> Flags:
        p = period or self.period
        months = self.ledger.paid_in_months if self.by_payment else self.ledger.in_months
        mask: Flags = self.eligible & months(p.first, p.last)
        return mask

    def basis(self, period: Period | None = None) -> Ints:
        """Basis revenue per partner in the period (the rated one by default), summed once per period."""
        p = period or self.period
        if (p.first, p.last) not in self._sums:
            self._sums[(p.first, p.last)] = self.ledger.per_partner(self.ledger.amount, self.in_period(p))
        return self._sums[(p.first, p.last)]

    def active_partners(self, mask: Flags) -> list[int]:
        """Partners with at least one line in `mask`, in ledger order."""
        present = np.zeros(len(self.ledger.partners), dtype=np.bool_)
        present[self.ledger.partner[mask]] = True
        return [int(i) for i in np.flatnonzero(present)]

    def facts(self, index: int) -> PartnerFacts:
        partner_id = self.ledger.partners[index]
        return self.partners.get(partner_id) or PartnerFacts(partner_id, None)


def money_of(cents: int) -> Decimal:
    return Decimal(cents) / HUNDRED


def percent_of(cents: int, percent: Decimal) -> Decimal:
    """`percent` of an amount in cents, rounded once (half-even, 2 places): the money module's rule."""
    return money.percent_of(money_of(cents), percent)


def shown(cents: int) -> str:
    return format_money(money_of(cents))


def tier_view(rule: Rule, threshold: int, percent: Decimal) -> dict[str, Any]:
    return {**rule.as_dict(), "from": shown(threshold), "percent": f"{percent:f}"}


@dataclass(frozen=True)
class TierStanding:
    """Where a partner's basis stands on a tiered program: the tier reached and the next one, if any."""

    basis: int  # cents
    reached: Tier
    following: Tier | None

    @property
    def views(self) -> dict[str, Any]:
        """What a PartnerAmount says of the standing: tier reached, next tier, volume still needed."""
        nxt = self.following
        return {
            "reached": tier_view(self.reached.rule, self.reached.threshold, self.reached.percent),
            "next": tier_view(nxt.rule, nxt.threshold, nxt.percent) if nxt else None,
            "needed": nxt.threshold - self.basis if nxt else None,
        }


def tier_standings(program: Program, ctx: RatingContext) -> tuple[Flags, dict[int, TierStanding]]:
    """The lines a tiered program counts in the period and, per partner with any, its basis and tier standing:
    the setup every tiered model shares."""
    tiers = program.tiers
    counted = ctx.in_period()
    basis = ctx.ledger.per_partner(ctx.ledger.amount, counted)
    thresholds = np.asarray([t.threshold for t in tiers], dtype=np.int64)
    reached = np.searchsorted(thresholds, np.maximum(basis, 0), side="right") - 1
    standings = {}
    for p in ctx.active_partners(counted):
        top = int(reached[p])
        standings[p] = TierStanding(int(basis[p]), tiers[top], tiers[top + 1] if top + 1 < len(tiers) else None)
    return counted, standings


class RebateModel(ABC):
    """Rates one program over a period's eligible lines, for every partner at once."""

    def __init__(self, program: Program) -> None:
        self.program = program

    @abstractmethod
    def rate(self, ctx: RatingContext) -> ProgramRating:
        """The amount per partner and the lines counted. Amounts are rounded once here, per partner."""
