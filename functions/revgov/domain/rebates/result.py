"""What rating a period gives: per program and partner the amounts after caps, the caps applied, the findings
(duplicates, leakage), and per line why each program counted it or not (the traces a statement carries)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from ..money import format_money
from ..rules import Rule
from .base import ProgramRating, shown
from .ledger import Flags, Ints, SalesLedger
from .policy import Period, month_name

DUPLICATE, LEAKAGE = "duplicate_rebate", "rebate_leakage"
ZERO = Decimal("0.00")
ALL: Flags = np.ones(1, dtype=np.bool_)  # "every line left": the catch-all reason of a partition


@dataclass(frozen=True)
class Finding:
    """A line that looks like a duplicate claim or a leak, with the rule it offends."""

    category: str  # duplicate_rebate | rebate_leakage
    kind: str
    partner_id: str
    line_id: str
    rule: Rule
    message: str
    revenue: int  # cents
    programs: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "kind": self.kind,
            "partner_id": self.partner_id,
            "line_id": self.line_id,
            **self.rule.as_dict(),
            "message": self.message,
            "revenue": shown(self.revenue),
            "programs": list(self.programs),
        }


@dataclass(frozen=True)
class Exclusion:
    """One reason a line is not counted by a program: the key it is traced under, the rule, and which lines."""

    key: str
    rule: Rule
    reason: str
    mask: Flags


@dataclass(frozen=True)
class CapApplied:
    """A cap that reduced a partner's programs: its limit, the total before it, and the cut per program."""

    rule: Rule
    partner_id: str
    limit: Decimal
    before: Decimal
    reductions: dict[str, Decimal]


@dataclass
class PeriodResult:
    """A rated period: per program its rating, per partner and program the payable amount after caps, the caps
    applied, the findings, and why each line was left out (the partners' traces)."""

    period: Period
    ledger: SalesLedger
    ratings: dict[str, ProgramRating]
    payable: dict[str, dict[str, Decimal]]  # partner -> program -> amount after caps
    caps: list[CapApplied]
    findings: list[Finding]
    excluded: dict[str, tuple[Rule, Flags]] = field(default_factory=dict)  # reason -> (rule, lines of the period)
    # program -> why a line does not count for it, in the order the reasons are checked (the first that applies)
    why_not: dict[str, list[Exclusion]] = field(default_factory=dict)
    # partner -> the programs its statement lists even at 0.00 (PA-7.8 / CPA-7.8 "lists, per program"), engine._listed
    listed: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _order: Ints | None = None
    _in_period: Flags | None = None
    _bounds: Ints | None = None

    @property
    def partner_ids(self) -> list[str]:
        """The partners a program rated, and those with a program listed at 0.00."""
        return sorted(set(self.payable) | set(self.listed))

    def total(self, partner_id: str) -> Decimal:
        return sum(self.payable.get(partner_id, {}).values(), ZERO)

    def programs_view(self, partner_id: str) -> list[dict[str, Any]]:
        """Per program, what a statement or an accrual shows: basis, rate, tier reached, next tier, amounts."""
        p = self.ledger.partner_index(partner_id)
        views = []
        for program_id, rating in self.ratings.items():
            found = rating.partners.get(p) if p is not None else None
            if found is None:
                continue
            program = rating.program
            units = program.model == "per_unit"
            payable = self.payable[partner_id][program_id]
            views.append(
                {
                    "program_id": program_id,
                    "name": program.name,
                    "model": program.model,
                    "clause": program.rule.clause,
                    "payout": program.payout,
                    "basis": program.basis,
                    "basis_revenue": None if units else shown(found.basis),
                    "units": found.basis // 1000 if units else None,
                    "rate": found.rate,
                    "rule_id": found.rule.rule_id,
                    "rule_clause": found.rule.clause,
                    "amount": format_money(found.amount),
                    "cap_reduction": format_money(found.amount - payable),
                    "payable": format_money(payable),
                    "tier_reached": found.reached,
                    "next_tier": found.next,
                    "volume_needed": (
                        None if found.needed is None else (found.needed // 1000 if units else shown(found.needed))
                    ),
                    "caps": [
                        {
                            **c.rule.as_dict(),
                            "limit": format_money(c.limit),
                            "reduced_by": format_money(c.reductions[program_id]),
                        }
                        for c in self.caps
                        if c.partner_id == partner_id and program_id in c.reductions
                    ],
                    "detail": found.detail,
                }
            )
        return views

    def counted_ids(self, program_id: str) -> list[str]:
        """The ids of the lines a program counted (what a settlement claims for it), in ledger order."""
        return [self.ledger.line_ids[int(i)] for i in np.flatnonzero(self.ratings[program_id].counted)]

    def _slices(self) -> tuple[Ints, Ints]:
        if self._order is None or self._bounds is None:
            self._order = np.argsort(self.ledger.partner, kind="stable")
            sorted_partners = self.ledger.partner[self._order]
            self._bounds = np.searchsorted(sorted_partners, np.arange(len(self.ledger.partners) + 1), side="left")
        return self._order, self._bounds

    def partner_lines(self, partner_id: str) -> Ints:
        """Ledger rows of one partner, in ledger order."""
        p = self.ledger.partner_index(partner_id)
        if p is None:
            return np.zeros(0, dtype=np.int64)
        order, bounds = self._slices()
        rows: Ints = order[bounds[p] : bounds[p + 1]]
        return rows

    def traces(self, partner_id: str) -> dict[str, Any]:
        """Every line of the period behind the partner's amounts: counted per program with the rule that rated it,
        or excluded with the rule that excluded it. Rows are [line_id, invoice_id, month, amount, units]."""
        rows = self.partner_lines(partner_id)
        ledger = self.ledger
        p = ledger.partner_index(partner_id)

        def row(i: int) -> list[Any]:
            units = int(ledger.units[i])
            return [
                ledger.line_ids[i],
                ledger.invoice_ids[i],
                month_name(int(ledger.month[i])),
                shown(int(ledger.amount[i])),
                units // 1000 if units % 1000 == 0 else f"{Decimal(units) / 1000:f}",
            ]

        if self._in_period is None:
            self._in_period = ledger.in_months(self.period.first, self.period.last)
        partner_rows = rows
        counted: dict[str, Any] = {}
        excluded: dict[str, Any] = {}
        for program_id, rating in self.ratings.items():
            # a program earned when paid (PA-8.2 / CPA-8.2) traces the lines paid in the period, any other the lines
            # invoiced in it
            period_mask = (
                ledger.paid_in_months(self.period.first, self.period.last)
                if rating.program.earned_when_paid is not None
                else self._in_period
            )
            rows = partner_rows[period_mask[partner_rows]]
            mine = rows[rating.counted[rows]]
            if len(mine) and p is not None and p in rating.partners:
                counted[program_id] = {
                    **rating.partners[p].rule.as_dict(),
                    "lines": [row(int(i)) for i in mine],
                }
            left = rows[~rating.counted[rows]]
            reasons = [
                *self.why_not.get(program_id, []),
                Exclusion(f"{rating.program.rule.rule_id}:{program_id}", rating.program.rule, "not rated", ALL),
            ]
            for why in reasons:
                if not len(left):
                    break
                hit = left[why.mask[left]] if why.mask is not ALL else left
                left = left[~why.mask[left]] if why.mask is not ALL else left[:0]
                if len(hit):
                    entry = excluded.setdefault(
                        why.key, {**why.rule.as_dict(), "program_id": program_id, "reason": why.reason, "lines": []}
                    )
                    entry["lines"] += [row(int(i)) for i in hit]
        columns = ["line_id", "invoice_id", "month", "amount", "units"]
        return {"columns": columns, "counted": counted, "excluded": excluded}
