"""The running accrual: what a partner's period rates to, kept up to date line by line in O(programs) (#17).

A full rating (`engine.rate_period`) reads every line of the period. Every model rates a partner from sums over the
lines a program counts (basis revenue, units), and whether a program counts a line depends on that line alone (its
eligibility, exclusivity between programs, suspension, activation, the return window) with one exception: a line
that repeats another (PA-7.7(d)) is found by comparing lines. So a period is kept as `Running`: per program of the
period's kind, the number of lines it counts, their cents and units; for a growth program the baseline it compares
against (PA-7.3/PA-7.4), which lines of the period do not move. New lines are rated on their own (`rate_period` over
those lines only, so every per-line rule is the engine's) and their sums added; the period's result is then the models
rating one synthetic line per program that carries those sums (`result_of`), with the caps applied as the engine
applies them. Because a retroactive tier (PA-7.2: "the rebate percentage of the highest tier reached applies to all
Qualifying Revenue in the Quarter") is a function of the basis sum alone, crossing a threshold needs no re-rating.

A credit note is a line like any other here: it carries the month, kind and attributes of the line it credits
(`lines.rebate_line`), so whether it nets a program's basis, or takes SPIFF units back inside the return window, is
decided on the line itself. `add_lines` refuses (None) where a sum cannot be carried exactly and the caller re-rates
the whole period instead: the policy or the partner's facts changed (its tier on the period's last day, say), a new
line lies outside the period (a credit note against last year's baseline), two new lines repeat each other, a credit
note against a line (it may make a repeat of that line its re-invoice, SOP-2.5), a
per-unit program counted from delivery (CPA-7.5's held units), a growth program whose baseline is not known yet, or
per-unit sums gone negative, or a paid line where a program of the period's kind is earned in the month its invoice was
paid (PA-8.2 / CPA-8.2: the line's period is then not its invoice's). A line counted before (a usage line re-rated)
and repeats of lines counted before are the caller's to refuse: it knows the stored lines (`duplicate_keys`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

import numpy as np

from ..canonical import sha256_hex
from .base import RatingContext
from .engine import capped
from .ledger import SalesLedger
from .models import model_for
from .policy import PartnerFacts, Period, RebateBook, baseline_period
from .programs import Program, cents
from .result import PeriodResult


@dataclass(frozen=True)
class Sums:
    """What one program counted of a partner's period: lines, their cents and their units (thousandths)."""

    lines: int = 0
    amount: int = 0
    units: int = 0

    def plus(self, other: Sums) -> Sums:
        return Sums(self.lines + other.lines, self.amount + other.amount, self.units + other.units)


@dataclass(frozen=True)
class Running:
    """A partner's period as sums: per program of the period's kind what it counted, growth baselines, the period's
    line and finding counts, and what it was rated under (policy version, the partner's facts)."""

    partner_id: str
    period: str
    policy_version: str
    facts: str  # digest of the PartnerFacts the sums were rated with
    programs: dict[str, Sums]
    baselines: dict[str, int | None]  # growth program -> baseline cents (None: not known from a rating yet)
    line_count: int
    findings: int

    def as_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> Running:
        programs = {pid: Sums(**s) for pid, s in data["programs"].items()}
        return cls(**{**data, "programs": programs, "baselines": dict(data["baselines"])})


def facts_digest(facts: PartnerFacts) -> str:
    return sha256_hex(asdict(facts))[:24]


def _sums(result: PeriodResult, partner_id: str) -> dict[str, Sums]:
    ledger, found = result.ledger, {}
    index = ledger.partner_index(partner_id)
    for pid, rating in result.ratings.items():
        mask = rating.counted & (ledger.partner == index) if index is not None else np.zeros(0, dtype=np.bool_)
        found[pid] = Sums(int(mask.sum()), int(ledger.amount[mask].sum()), int(ledger.units[mask].sum()))
    return found


def _baseline(result: PeriodResult, partner_id: str, program_id: str) -> int | None:
    index = result.ledger.partner_index(partner_id)
    found = result.ratings[program_id].partners.get(index) if index is not None else None
    if found is None:
        return None
    return cents(found.detail["baseline"]) if "baseline" in found.detail else 0  # 0: no growth yet (PA-7.4)


def _in_period_lines(result: PeriodResult) -> int:
    return int(result.ledger.in_months(result.period.first, result.period.last).sum())


def running_of(result: PeriodResult, partner_id: str, facts: PartnerFacts, version: str) -> Running:
    """A full rating of the partner's period as sums (what `add_lines` then keeps up to date)."""
    growth = [pid for pid, r in result.ratings.items() if r.program.model == "growth"]
    return Running(
        partner_id=partner_id,
        period=result.period.name,
        policy_version=version,
        facts=facts_digest(facts),
        programs=_sums(result, partner_id),
        baselines={pid: _baseline(result, partner_id, pid) for pid in growth},
        line_count=_in_period_lines(result),
        findings=len(result.findings),
    )


def _carried(book: RebateBook, period: Period, running: Running) -> bool:
    """Whether the sums can stand for the period's lines (see the module's refusals)."""
    for program in book.programs_for(period.kind):
        sums = running.programs.get(program.program_id, Sums())
        if program.model == "per_unit" and (program.return_window_from == "delivery" or sums.units < 0):
            return False
        if program.model == "growth" and running.baselines.get(program.program_id) is None:
            return False
    return True


def _credits_a_line(ledger: SalesLedger) -> bool:
    """A credit note against a line: it may turn an earlier repeat of that order line into its re-invoice (SOP-2.5,
    PA-7.7(d), `ledger._duplicates`), which only a full re-rating sees."""
    return bool(((ledger.amount < 0) & (ledger.credited_day >= 0)).any())


def add_lines(
    running: Running, book: RebateBook, version: str, new: PeriodResult, facts: PartnerFacts
) -> Running | None:
    """The period with `new` (the new lines rated on their own, `rate_period` over them only) counted in, or None
    where only a full re-rating is exact (the module's refusals)."""
    ledger = new.ledger
    if (
        running.policy_version != version
        or running.facts != facts_digest(facts)
        or bool(ledger.duplicate.any())
        or not bool(ledger.in_months(new.period.first, new.period.last).all())
        or _credits_a_line(ledger)
        or (new.period.kind in book.paid_month_kinds() and bool(ledger.paid.any()))
    ):
        return None
    added = _sums(new, running.partner_id)
    programs = {pid: running.programs.get(pid, Sums()).plus(s) for pid, s in added.items()}
    updated = replace(
        running,
        programs=programs,
        line_count=running.line_count + len(ledger),
        findings=running.findings + len(new.findings),
    )
    return updated if _carried(book, new.period, updated) else None


def _synthetic_line(partner_id: str, month: int, day: int, n: int, amount: int, units: int) -> dict[str, Any]:
    """One line standing for a program's sums (eligibility is given by the mask, not read from the line)."""
    return {
        "line_id": f"sum.{n}", "invoice_id": "sum", "partner_id": partner_id, "family": None, "sku": None,
        "kind": "sum", "rule_kind": "sum", "channel": "sum", "net_cents": amount, "cost_cents": None,
        "units_milli": units, "month_index": month, "day": day, "credited_day": -1, "credited_line": None,
        "promotions": [], "discount_percent": None, "paid_on": date.fromordinal(day).isoformat(), "event_id": None,
        "order_ref": None,
        "delivered_day": day, "mdf_funded": False, "customer": None, "invoiced_day": -1,
    }  # fmt: skip


def _lines_for(
    program: Program, running: Running, period: Period, facts: PartnerFacts
) -> list[tuple[Period, int, int]]:
    """(period, cents, units) of the synthetic lines that rate like the program's counted lines."""
    sums = running.programs.get(program.program_id, Sums())
    found = [(period, sums.amount, sums.units)] if sums.lines else []
    baseline = running.baselines.get(program.program_id)
    if program.model == "growth" and baseline:
        from_period = baseline_period(program, facts, period)
        if from_period is not None:
            found.append((from_period, baseline, 0))
    return found


def result_of(running: Running, book: RebateBook, period: Period, facts: PartnerFacts) -> PeriodResult:
    """The period's result from its sums: each program's model rates the synthetic lines carrying them, the caps
    reduce as in a full rating. Equal to `rate_period` over every line of the period (the equivalence test)."""
    lines: list[dict[str, Any]] = []
    owners: list[str] = []
    for program in book.programs_for(period.kind):
        for where, amount, units in _lines_for(program, running, period, facts):
            lines.append(_synthetic_line(running.partner_id, where.first, where.start.toordinal(), len(lines),
                                         amount, units))  # fmt: skip
            owners.append(program.program_id)
    ledger = SalesLedger.from_lines(lines, frozenset())
    partners = {running.partner_id: facts}
    ratings = {}
    for program in book.programs_for(period.kind):
        mask = np.asarray([o == program.program_id for o in owners], dtype=np.bool_)
        by_payment = program.earned_when_paid is not None
        ratings[program.program_id] = model_for(program).rate(RatingContext(ledger, period, partners, mask, by_payment))
    payable, caps = capped(book, ledger, ratings)
    return PeriodResult(period, ledger, ratings, payable, caps, [])
