"""Rates a period: eligibility, exclusivity, each program's model, caps, and what looks like a duplicate or a leak.

Pure and vectorized: masks over the ledger's columns decide which lines each program counts; the models sum per
partner with numpy and round once per partner and program; caps then reduce programs in the policy's order.
The same function rates a whole tenant's period at settlement and one partner's lines for its accrual.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np

from ..rules import Rule
from .base import ProgramRating, RatingContext, money_of, percent_of
from .ledger import DUPLICATE_KINDS, Flags, SalesLedger
from .line_masks import LineMasks
from .listing import listed
from .models import model_for
from .policy import PartnerFacts, Period, RebateBook
from .programs import Program
from .referral_lines import no_customer, not_accepted, outside_window
from .result import DUPLICATE, LEAKAGE, ZERO, CapApplied, Exclusion, Finding, PeriodResult
from .termination import invoiced_after_termination, partial_quarter

__all__ = ["DUPLICATE", "LEAKAGE", "Finding", "PeriodResult", "rate_period", "rate_periods"]


def _exclusive_with(book: RebateBook, program_id: str) -> set[str]:
    related: set[str] = set()
    for e in book.exclusions:
        if program_id in e.excluded:
            related |= e.earning
        if program_id in e.earning:
            related |= e.excluded
    return related


def _claimed_again(ledger: SalesLedger, candidates: Flags, blocked: frozenset[str]) -> Flags:
    mask = np.zeros(len(ledger), dtype=np.bool_)
    for i in np.flatnonzero(candidates):
        if ledger.line_ids[i] in blocked:
            mask[i] = True
    return mask


def _findings(
    ledger: SalesLedger,
    in_period: Flags,
    kind: str | Callable[[int], str],
    category: str,
    mask: Flags,
    rule: Rule,
    message: str | Callable[[int], str],
    programs: tuple[str, ...] = (),
) -> list[Finding]:
    return [
        Finding(
            category,
            kind(int(i)) if callable(kind) else kind,
            ledger.partners[int(ledger.partner[i])],
            ledger.line_ids[i],
            rule,
            message(int(i)) if callable(message) else str(message),
            int(ledger.amount[i]),
            programs,
        )
        for i in np.flatnonzero(mask & in_period)
    ]


def rate_period(
    book: RebateBook,
    ledger: SalesLedger,
    period: Period,
    partners: Mapping[str, PartnerFacts],
    prior_claims: Mapping[str, frozenset[str]] | None = None,
) -> PeriodResult:
    """Rate every program of the period's kind for every partner with lines in the ledger.

    `prior_claims`: program -> line ids settled for it in other periods; a line claimed again by the same program,
    or by a program exclusive with it, is excluded and reported as a duplicate."""
    (result,) = rate_periods(book, ledger, [period], partners, prior_claims)
    return result


def rate_periods(
    book: RebateBook,
    ledger: SalesLedger,
    periods: Sequence[Period],
    partners: Mapping[str, PartnerFacts],
    prior_claims: Mapping[str, frozenset[str]] | None = None,
) -> list[PeriodResult]:
    """`rate_period` for each of `periods` over one ledger, each the same as rated alone; what does not depend on the
    period (duplicates, suspensions, each program's eligibility) is worked out once for all of them: an event's new
    lines fall in a Quarter and a month, rated together (services/rebates/running.py)."""
    shared = LineMasks.of(ledger, partners)
    results = []
    for period in periods:
        rating = _Rating(book, ledger, period, partners, prior_claims or {}, shared)
        for program in book.programs:
            rating.program(program)
        results.append(rating.result())
    return results


@dataclass
class _Rating:
    """One period being rated: the masks every program shares, and what each program rated and turned away so far
    (programs are rated in the policy's order, so an exclusive program sees what the ones before it counted)."""

    book: RebateBook
    ledger: SalesLedger
    period: Period
    partners: Mapping[str, PartnerFacts]
    prior_claims: Mapping[str, frozenset[str]]
    shared: LineMasks
    findings: list[Finding] = field(default_factory=list)
    excluded: dict[str, tuple[Rule, Flags]] = field(default_factory=dict)
    claimed: dict[str, Flags] = field(default_factory=dict)
    ratings: dict[str, ProgramRating] = field(default_factory=dict)
    why_not: dict[str, list[Exclusion]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ledger, shared = self.ledger, self.shared
        self.in_period = ledger.in_months(self.period.first, self.period.last)
        self.valid: Flags = shared.valid
        self.suspended, self.early, self.ended = shared.suspended, shared.early, shared.ended
        self.admitted_any = np.zeros(len(ledger), dtype=np.bool_)

    def program(self, program: Program) -> None:
        """Which lines the program counts (eligible, valid, not taken by a program exclusive with it), and, for a
        program of the period's kind, its rating and why each other line was turned away."""
        book, pid = self.book, program.program_id
        reasons = [
            Exclusion(f"{book.duplicate_rule.rule_id}:{pid}", book.duplicate_rule, "repeats another line", ~self.valid),
            Exclusion(
                f"{book.suspended_rule.rule_id}:{pid}", book.suspended_rule, "dated during a suspension", self.suspended
            ),
            Exclusion(
                f"{book.before_activation_rule.rule_id}:{pid}",
                book.before_activation_rule,
                "dated before the partner's activation",
                self.early,
            ),
        ]
        admitted, ineligible = self.shared.admitted(program)
        reasons += ineligible
        _note(
            self.excluded,
            book.before_activation_rule.rule_id,
            book.before_activation_rule,
            admitted & self.early & self.in_period,
        )
        eligible = admitted & self.valid & ~self.suspended & ~self.early
        eligible = self._exclusive(program, eligible, reasons)
        eligible = self._promotion(program, eligible, reasons)
        eligible = self._mdf_funded(program, eligible, reasons)
        eligible = self._window(program, eligible, reasons)
        eligible = self._terminated(program, eligible, reasons)
        if program.period == self.period.kind:
            eligible = self._claimed_before(program, eligible, reasons)
        self.claimed[pid] = eligible
        if program.period == self.period.kind:
            self.why_not[pid] = reasons
            self.admitted_any |= admitted
            by_payment = program.earned_when_paid is not None
            context = RatingContext(self.ledger, self.period, self.partners, eligible, by_payment)
            self.ratings[pid] = model_for(program).rate(context)

    def period_of(self, program: Program) -> Flags:
        """The lines of the rated period for this program: of an invoice of the period, or, for a program earned
        when paid (PA-8.2 / CPA-8.2), of an invoice paid in it."""
        if program.earned_when_paid is None:
            return self.in_period
        return self.ledger.paid_in_months(self.period.first, self.period.last)

    def _exclusive(self, program: Program, eligible: Flags, reasons: list[Exclusion]) -> Flags:
        """Lines a program rated before, and exclusive with this one, counted there: not here."""
        pid = program.program_id
        for exclusion in self.book.excluded_from(pid):
            for other in exclusion.earning:
                if other in self.claimed:
                    taken = eligible & self.claimed[other]
                    eligible = eligible & ~self.claimed[other]
                    reasons.append(
                        Exclusion(
                            f"{exclusion.rule.rule_id}:{pid}", exclusion.rule, f"earns {other}", self.claimed[other]
                        )
                    )
                    rule_key = f"{exclusion.rule.rule_id}:{pid}"
                    _note(self.excluded, rule_key, exclusion.rule, taken & self.period_of(program))
        return eligible

    def _promotion(self, program: Program, eligible: Flags, reasons: list[Exclusion]) -> Flags:
        """Lines carrying an exclusive promotion, for a program the promotion excludes."""
        rule, pid, promoted = self.book.exclusive_promotion_rule, program.program_id, self.ledger.exclusive_promotion
        if pid not in self.book.excluded_by_promotion or not rule:
            return eligible
        taken = eligible & promoted
        reasons.append(Exclusion(f"{rule.rule_id}:{pid}", rule, "carries an exclusive promotion", promoted))
        _note(self.excluded, f"{rule.rule_id}:{pid}", rule, taken & self.period_of(program))
        return eligible & ~promoted

    def _mdf_funded(self, program: Program, eligible: Flags, reasons: list[Exclusion]) -> Flags:
        """PA-7.1 / CPA-7.1: MDF-funded purchases earn nothing, in every program (rebates, SPIFF, commissions)."""
        rule, pid, funded = self.book.mdf_funded_rule, program.program_id, self.ledger.mdf_funded
        if rule is None or not funded.any():
            return eligible
        reasons.append(Exclusion(f"{rule.rule_id}:{pid}", rule, "an MDF-funded purchase", funded))
        _note(self.excluded, f"{rule.rule_id}:{pid}", rule, eligible & funded & self.period_of(program))
        return eligible & ~funded

    def _window(self, program: Program, eligible: Flags, reasons: list[Exclusion]) -> Flags:
        """PA-8.1 / CPA-8.1: a commission only on invoices dated inside the window from the customer's first one."""
        window, pid = program.first_invoice_window, program.program_id
        if window is None:
            return self._accepted(program, eligible, reasons)
        unnamed = no_customer(self.ledger)
        if unnamed.any():  # no customer, so no first invoice and no window: the line cannot earn under the clause
            key = f"{window.rule.rule_id}:{pid}:no_customer"
            reasons.append(Exclusion(key, window.rule, window.no_customer_reason, unnamed))
            _note(self.excluded, key, window.rule, eligible & unnamed & self.period_of(program))
        outside = outside_window(self.ledger, self.partners, program)
        if outside.any():
            reasons.append(Exclusion(f"{window.rule.rule_id}:{pid}", window.rule, window.reason, outside))
            outside_now = eligible & outside & self.period_of(program)
            _note(self.excluded, f"{window.rule.rule_id}:{pid}", window.rule, outside_now)
        return self._accepted(program, eligible & ~outside & ~unnamed, reasons)

    def _accepted(self, program: Program, eligible: Flags, reasons: list[Exclusion]) -> Flags:
        """PA-8.1 / CPA-8.1: a referral line earns only where the referral is shown accepted as the clause asks."""
        acceptance, pid = program.referral_acceptance, program.program_id
        if acceptance is not None:
            unaccepted = not_accepted(self.ledger, self.partners, program, eligible)
            if unaccepted.any():
                key = f"{acceptance.rule.rule_id}:{pid}"
                reasons.append(Exclusion(key, acceptance.rule, acceptance.reason, unaccepted))
                _note(self.excluded, key, acceptance.rule, eligible & unaccepted & self.period_of(program))
            eligible = eligible & ~unaccepted
        return eligible

    def _terminated(self, program: Program, eligible: Flags, reasons: list[Exclusion]) -> Flags:
        """PA-13.3 / CPA-13.3: lines after the agreement's last day earn nothing; a partial Quarter earns only the
        programs the policy does not keep for completed Quarters (the volume rebate)."""
        rule, pid = self.book.termination, program.program_id
        if rule is None:
            return eligible
        checks = [(self.ended, "dated after the partner's agreement ended"),
                  (partial_quarter(rule, self.ledger, self.partners, program, self.period),
                   "the Quarter the partner's agreement ended in earns only the volume rebate")]
        if rule.unearned_commissions_lapse and program.earned_when_paid is not None:
            checks.append((invoiced_after_termination(self.ledger, self.partners),
                           "invoiced after the partner's agreement ended: a commission not yet earned lapses"))
        for mask, why in checks:
            if mask.any():
                reasons.append(Exclusion(f"{rule.rule.rule_id}:{pid}", rule.rule, why, mask))
                _note(self.excluded, f"{rule.rule.rule_id}:{pid}", rule.rule, eligible & mask & self.period_of(program))
                eligible = eligible & ~mask
        return eligible

    def _claimed_before(self, program: Program, eligible: Flags, reasons: list[Exclusion]) -> Flags:
        """Lines settled before for this program or one exclusive with it (`prior_claims`): a duplicate claim."""
        pid, rule = program.program_id, self.book.duplicate_rule
        blocked = frozenset().union(
            self.prior_claims.get(pid, frozenset()),
            *(self.prior_claims.get(other, frozenset()) for other in _exclusive_with(self.book, pid)),
        )
        if not blocked:
            return eligible
        again = _claimed_again(self.ledger, eligible & self.period_of(program), blocked)
        reasons.append(Exclusion(f"{rule.rule_id}.claimed:{pid}", rule, "settled before", again))
        message = f"already settled under {pid} or a program exclusive with it"
        self.findings += _findings(
            self.ledger, self.period_of(program), "claimed_twice", DUPLICATE, again, rule, message, (pid,)
        )
        _note(self.excluded, f"{rule.rule_id}:claimed", rule, again)
        return eligible & ~again

    def result(self) -> PeriodResult:
        """The ratings capped, with the period's duplicates, leakage and exclusivity or margin findings."""
        book, ledger, in_period = self.book, self.ledger, self.in_period
        duplicates = ~self.valid & self.admitted_any
        _note(self.excluded, book.duplicate_rule.rule_id, book.duplicate_rule, duplicates & in_period)
        self.findings += _findings(
            ledger,
            in_period,
            lambda i: DUPLICATE_KINDS[int(ledger.duplicate[i])],
            DUPLICATE,
            duplicates,
            book.duplicate_rule,
            lambda i: f"repeats line {ledger.line_ids[int(ledger.duplicate_of[i])]}: counted once",
        )
        leaked = self.suspended & self.valid & self.admitted_any
        _note(self.excluded, book.suspended_rule.rule_id, book.suspended_rule, leaked & in_period)
        self.findings += _findings(
            ledger,
            in_period,
            "partner_suspended",
            LEAKAGE,
            leaked,
            book.suspended_rule,
            lambda i: f"{_when(ledger, i)} while the partner was suspended: earns nothing",
        )
        # a line a program earned when paid counted in the period (PA-8.2 / CPA-8.2) is the period's too
        earning_here = in_period.copy()
        for rating in self.ratings.values():
            if rating.program.earned_when_paid is not None:
                earning_here |= rating.counted
        self.findings += _both_exclusive(book, ledger, earning_here, self.ratings)
        self.findings += _below_floor(book, ledger, earning_here, self.ratings)
        payable, caps = capped(book, ledger, self.ratings)
        return PeriodResult(
            self.period, ledger, self.ratings, payable, caps, self.findings, self.excluded, self.why_not,
            listed(book, ledger, self.partners, self.period, in_period),
        )


def _note(excluded: dict[str, tuple[Rule, Flags]], reason: str, rule: Rule, mask: Flags) -> None:
    if mask.any():
        previous = excluded.get(reason)
        excluded[reason] = (rule, mask if previous is None else previous[1] | mask)


def _date(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat() if ordinal > 0 else "?"


def _when(ledger: SalesLedger, i: int) -> str:
    """When a line's order was placed, as the suspension check compared it: its recorded time, else its day."""
    second = int(ledger.event_second[i])
    if second >= 0:
        return f"ordered at {datetime.fromtimestamp(second, UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"
    return f"dated {_date(int(ledger.day[i]))}"


def _both_exclusive(
    book: RebateBook, ledger: SalesLedger, in_period: Flags, ratings: Mapping[str, ProgramRating]
) -> list[Finding]:
    """A line counted by two programs that exclude each other (never, unless the exclusion was bypassed)."""
    found = []
    for exclusion in book.exclusions:
        for a in exclusion.earning & set(ratings):
            for b in exclusion.excluded & set(ratings):
                both = ratings[a].counted & ratings[b].counted
                found += _findings(
                    ledger,
                    in_period,
                    "claimed_by_exclusive_programs",
                    DUPLICATE,
                    both,
                    exclusion.rule,
                    f"counted by both {a} and {b}",
                    (a, b),
                )
    return found


def _below_floor(
    book: RebateBook, ledger: SalesLedger, in_period: Flags, ratings: Mapping[str, ProgramRating]
) -> list[Finding]:
    """Lines earning a rebate although sold below the margin floor: the rebate may not be funded (PA-6.3)."""
    earning = np.zeros(len(ledger), dtype=np.bool_)
    for rating in ratings.values():
        earning |= rating.counted
    floor = int(book.margin_floor * 100)  # hundredths of a percent
    margin_below = (ledger.amount - ledger.cost) * 10000 < floor * ledger.amount
    thin = earning & ledger.has_cost & (ledger.amount > 0) & margin_below
    return _findings(
        ledger,
        in_period,
        "below_margin_floor",
        LEAKAGE,
        thin,
        book.margin_rule,
        lambda i: f"line margin {_margin(ledger, i):.2f}% is below the {book.margin_floor}% floor",
        tuple(pid for pid, r in ratings.items()),
    )


def _margin(ledger: SalesLedger, i: int) -> Decimal:
    return Decimal(int(ledger.amount[i] - ledger.cost[i]) * 100) / Decimal(int(ledger.amount[i]))


def capped(
    book: RebateBook, ledger: SalesLedger, ratings: Mapping[str, ProgramRating]
) -> tuple[dict[str, dict[str, Decimal]], list[CapApplied]]:
    payable: dict[str, dict[str, Decimal]] = {}
    for program_id, rating in ratings.items():
        for p, found in rating.partners.items():
            payable.setdefault(ledger.partners[p], {})[program_id] = found.amount
    applied = []
    for cap in book.caps:
        if not set(cap.programs) <= set(ratings):
            continue
        for partner_id, amounts in payable.items():
            total = sum((amounts.get(pid, ZERO) for pid in cap.programs), ZERO)
            limits = []
            if cap.max_amount is not None:
                limits.append(money_of(cap.max_amount))
            if cap.percent is not None and cap.of_program is not None:
                index = ledger.partner_index(partner_id)
                rated = ratings.get(cap.of_program)
                base = rated.partners.get(index) if rated is not None and index is not None else None
                limits.append(percent_of(max(base.basis, 0) if base else 0, cap.percent))
            limit = min(limits)
            if total <= limit:
                continue
            excess, reductions = total - limit, {}
            for pid in cap.reduce_first:
                cut = min(excess, amounts.get(pid, ZERO))
                if cut > 0:
                    amounts[pid] -= cut
                    reductions[pid] = cut
                    excess -= cut
            applied.append(CapApplied(cap.rule, partner_id, limit, total, reductions))
    return payable, applied
