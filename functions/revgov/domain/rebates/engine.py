"""Rates a period: eligibility, exclusivity, each program's model, caps, and what looks like a duplicate or a leak.

Pure and vectorized: masks over the ledger's columns decide which lines each program counts; the models sum per
partner with numpy and round once per partner and program; caps then reduce programs in the policy's order.
The same function rates a whole tenant's period at settlement and one partner's lines for its accrual.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from ..money import format_money
from ..rules import Rule
from .base import ProgramRating, RatingContext, model_for, money_of, percent_of, shown
from .ledger import DUPLICATE_KINDS, Flags, Ints, SalesLedger
from .policy import PartnerFacts, Period, Program, RebateBook, month_name

DUPLICATE, LEAKAGE = "duplicate_rebate", "rebate_leakage"
ZERO = Decimal("0.00")


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
    rule: Rule
    partner_id: str
    limit: Decimal
    before: Decimal
    reductions: dict[str, Decimal]


@dataclass
class PeriodResult:
    period: Period
    ledger: SalesLedger
    ratings: dict[str, ProgramRating]
    payable: dict[str, dict[str, Decimal]]  # partner -> program -> amount after caps
    caps: list[CapApplied]
    findings: list[Finding]
    excluded: dict[str, tuple[Rule, Flags]] = field(default_factory=dict)  # reason -> (rule, lines of the period)
    # program -> why a line does not count for it, in the order the reasons are checked (the first that applies)
    why_not: dict[str, list[Exclusion]] = field(default_factory=dict)
    _order: Ints | None = None
    _in_period: Flags | None = None
    _bounds: Ints | None = None

    @property
    def partner_ids(self) -> list[str]:
        return sorted(self.payable)

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
        rows = rows[self._in_period[rows]]
        counted: dict[str, Any] = {}
        excluded: dict[str, Any] = {}
        for program_id, rating in self.ratings.items():
            mine = rows[rating.counted[rows]]
            if len(mine) and p is not None and p in rating.partners:
                counted[program_id] = {
                    **rating.partners[p].rule.as_dict(),
                    "lines": [row(int(i)) for i in mine],
                }
            left = rows[~rating.counted[rows]]
            reasons = [
                *self.why_not.get(program_id, []),
                Exclusion(f"{rating.program.rule.rule_id}:{program_id}", rating.program.rule, "not rated", _ALL),
            ]
            for why in reasons:
                if not len(left):
                    break
                hit = left[why.mask[left]] if why.mask is not _ALL else left
                left = left[~why.mask[left]] if why.mask is not _ALL else left[:0]
                if len(hit):
                    entry = excluded.setdefault(
                        why.key, {**why.rule.as_dict(), "program_id": program_id, "reason": why.reason, "lines": []}
                    )
                    entry["lines"] += [row(int(i)) for i in hit]
        columns = ["line_id", "invoice_id", "month", "amount", "units"]
        return {"columns": columns, "counted": counted, "excluded": excluded}


_ALL: Flags = np.ones(1, dtype=np.bool_)  # "every line left": the catch-all reason of a partition


def _ineligible(ledger: SalesLedger, partners: Mapping[str, PartnerFacts], program: Program) -> list[Exclusion]:
    """Each eligibility criterion of the program, as the lines it turns away (PA-7.x: eligible tiers, families,
    SKUs, kinds, channels, the maximum discount, the paid basis)."""
    e, pid, rule = program.eligibility, program.program_id, program.rule
    checks: list[tuple[str, str, Flags]] = [
        ("partner", "the partner's tier or type is not eligible", _partner_table(ledger, partners, program)),
        (
            "family",
            f"its family is not one of {sorted(e.families or ())}",
            ledger.lookup(ledger.families, e.families, ledger.family),
        ),
        ("sku", f"its SKU is not one of {sorted(e.skus or ())}", ledger.lookup(ledger.skus, e.skus, ledger.sku)),
        ("kind", f"its kind is not one of {sorted(e.kinds or ())}", ledger.lookup(ledger.kinds, e.kinds, ledger.kind)),
        (
            "channel",
            f"sold through a channel other than {sorted(e.channels)}",
            ledger.lookup(ledger.channels, e.channels, ledger.channel),
        ),
    ]
    if e.max_discount_percent is not None:
        checks.append(
            (
                "max_discount_percent",
                f"sold at a discount above {e.max_discount_percent}%",
                ledger.discount_bp <= int(e.max_discount_percent * 100),
            )
        )
    if program.basis == "paid":
        checks.append(("paid", "its invoice is not paid (the program's basis is paid revenue)", ledger.paid))
    return [Exclusion(f"{rule.rule_id}.{name}:{pid}", rule, why, ~ok) for name, why, ok in checks if not ok.all()]


def _partner_table(ledger: SalesLedger, partners: Mapping[str, PartnerFacts], program: Program) -> Flags:
    """Per line: is its partner of an eligible tier and type."""
    e = program.eligibility

    def ok(partner_id: str) -> bool:
        facts = partners.get(partner_id)
        tier = facts.tier if facts else None
        kind = facts.partner_type if facts else None
        return (e.tiers is None or tier in e.tiers) and (e.partner_types is None or kind in e.partner_types)

    table = np.fromiter((ok(pid) for pid in ledger.partners), dtype=np.bool_, count=len(ledger.partners))
    flags: Flags = table[ledger.partner] if len(ledger.partners) else np.zeros(len(ledger), dtype=np.bool_)
    return flags


def _lines_eligible(ledger: SalesLedger, partners: Mapping[str, PartnerFacts], program: Program) -> Flags:
    """What the program's eligibility admits, before duplicates, suspension and exclusivity."""
    e = program.eligibility
    mask = (
        ledger.lookup(ledger.families, e.families, ledger.family)
        & ledger.lookup(ledger.skus, e.skus, ledger.sku)
        & ledger.lookup(ledger.kinds, e.kinds, ledger.kind)
        & ledger.lookup(ledger.channels, e.channels, ledger.channel)
        & _partner_table(ledger, partners, program)
    )
    if e.max_discount_percent is not None:
        mask &= ledger.discount_bp <= int(e.max_discount_percent * 100)
    if program.basis == "paid":
        mask &= ledger.paid
    return mask


def _suspended(ledger: SalesLedger, partners: Mapping[str, PartnerFacts]) -> Flags:
    mask = np.zeros(len(ledger), dtype=np.bool_)
    for index, partner_id in enumerate(ledger.partners):
        facts = partners.get(partner_id)
        for start, end in facts.suspended if facts else ():
            last = end if end is not None else 2**40
            mask |= (ledger.partner == index) & (ledger.day >= start) & (ledger.day <= last)
    return mask


def _before_activation(ledger: SalesLedger, partners: Mapping[str, PartnerFacts]) -> Flags:
    """Lines dated before their partner's activation (PA-2.2: no incentive accrues before onboarding is complete); a
    credit counts where the line it credits was dated, so it nets out only what earned something."""
    mask = np.zeros(len(ledger), dtype=np.bool_)
    day = np.where(ledger.credited_day >= 0, ledger.credited_day, ledger.day)
    for index, partner_id in enumerate(ledger.partners):
        facts = partners.get(partner_id)
        if facts is not None and facts.activated_on is not None:
            mask |= (ledger.partner == index) & (day < facts.activated_on)
    return mask


def _exclusive_with(book: RebateBook, program_id: str) -> set[str]:
    related: set[str] = set()
    for e in book.exclusions:
        if program_id in e.excluded:
            related |= e.earning
        if program_id in e.earning:
            related |= e.excluded
    return related


def _claimed_before(ledger: SalesLedger, candidates: Flags, blocked: frozenset[str]) -> Flags:
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
    in_period = ledger.in_months(period.first, period.last)
    valid = ledger.duplicate == 0
    suspended = _suspended(ledger, partners)
    early = _before_activation(ledger, partners)
    findings: list[Finding] = []
    excluded: dict[str, tuple[Rule, Flags]] = {}
    claimed: dict[str, Flags] = {}
    ratings: dict[str, ProgramRating] = {}
    admitted_any = np.zeros(len(ledger), dtype=np.bool_)
    why_not: dict[str, list[Exclusion]] = {}
    for program in book.programs:
        pid = program.program_id
        reasons = [
            Exclusion(f"{book.duplicate_rule.rule_id}:{pid}", book.duplicate_rule, "repeats another line", ~valid),
            Exclusion(
                f"{book.suspended_rule.rule_id}:{pid}", book.suspended_rule, "dated during a suspension", suspended
            ),
            Exclusion(
                f"{book.before_activation_rule.rule_id}:{pid}",
                book.before_activation_rule,
                "dated before the partner's activation",
                early,
            ),
            *_ineligible(ledger, partners, program),
        ]
        admitted = _lines_eligible(ledger, partners, program)
        before = book.before_activation_rule
        _note(excluded, before.rule_id, before, admitted & early & in_period)
        eligible = admitted & valid & ~suspended & ~early
        for exclusion in book.excluded_from(program.program_id):
            for other in exclusion.earning:
                if other in claimed:
                    taken = eligible & claimed[other]
                    eligible &= ~claimed[other]
                    reasons.append(
                        Exclusion(f"{exclusion.rule.rule_id}:{pid}", exclusion.rule, f"earns {other}", claimed[other])
                    )
                    _note(excluded, f"{exclusion.rule.rule_id}:{program.program_id}", exclusion.rule, taken & in_period)
        promo_rule = book.exclusive_promotion_rule
        if program.program_id in book.excluded_by_promotion and promo_rule:
            taken = eligible & ledger.exclusive_promotion
            eligible &= ~ledger.exclusive_promotion
            reasons.append(
                Exclusion(
                    f"{promo_rule.rule_id}:{pid}",
                    promo_rule,
                    "carries an exclusive promotion",
                    ledger.exclusive_promotion,
                )
            )
            _note(excluded, f"{promo_rule.rule_id}:{program.program_id}", promo_rule, taken & in_period)
        if program.period == period.kind and prior_claims:
            blocked = frozenset().union(
                prior_claims.get(program.program_id, frozenset()),
                *(prior_claims.get(other, frozenset()) for other in _exclusive_with(book, program.program_id)),
            )
            if blocked:
                again = _claimed_before(ledger, eligible & in_period, blocked)
                eligible &= ~again
                reasons.append(
                    Exclusion(
                        f"{book.duplicate_rule.rule_id}.claimed:{pid}", book.duplicate_rule, "settled before", again
                    )
                )
                findings += _findings(
                    ledger,
                    in_period,
                    "claimed_twice",
                    DUPLICATE,
                    again,
                    book.duplicate_rule,
                    f"already settled under {program.program_id} or a program exclusive with it",
                    (program.program_id,),
                )
                _note(excluded, f"{book.duplicate_rule.rule_id}:claimed", book.duplicate_rule, again)
        claimed[program.program_id] = eligible
        if program.period == period.kind:
            why_not[pid] = reasons
            admitted_any |= admitted
            ratings[program.program_id] = model_for(program).rate(RatingContext(ledger, period, partners, eligible))
    duplicates = ~valid & admitted_any
    _note(excluded, book.duplicate_rule.rule_id, book.duplicate_rule, duplicates & in_period)
    findings += _findings(
        ledger,
        in_period,
        lambda i: DUPLICATE_KINDS[int(ledger.duplicate[i])],
        DUPLICATE,
        duplicates,
        book.duplicate_rule,
        lambda i: f"repeats line {ledger.line_ids[int(ledger.duplicate_of[i])]}: counted once",
    )
    leaked = suspended & valid & admitted_any
    _note(excluded, book.suspended_rule.rule_id, book.suspended_rule, leaked & in_period)
    findings += _findings(
        ledger,
        in_period,
        "partner_suspended",
        LEAKAGE,
        leaked,
        book.suspended_rule,
        lambda i: f"dated {_date(int(ledger.day[i]))} while the partner was suspended: earns nothing",
    )
    findings += _both_exclusive(book, ledger, in_period, ratings)
    findings += _below_floor(book, ledger, in_period, ratings)
    payable, caps = _capped(book, ledger, ratings)
    return PeriodResult(period, ledger, ratings, payable, caps, findings, excluded, why_not)


def _note(excluded: dict[str, tuple[Rule, Flags]], reason: str, rule: Rule, mask: Flags) -> None:
    if mask.any():
        previous = excluded.get(reason)
        excluded[reason] = (rule, mask if previous is None else previous[1] | mask)


def _date(ordinal: int) -> str:
    from datetime import date

    return date.fromordinal(ordinal).isoformat() if ordinal > 0 else "?"


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


def _capped(
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
