"""The rebate policy compiled once per policy version, its consistency checks, and the periods programs measure.

Each program node compiles in `programs` (`Program.of`); this module orders them and adds exclusivity and caps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

from ..compiled import PerVersion
from ..errors import FieldError, RuleViolation
from ..partners import held_tier
from ..rules import Rule
from ..time import unix_seconds
from .programs import Program, cents
from .termination import Termination, last_day_before
from .withholding import Withholding

QUARTER, MONTH = "quarter", "month"
FIRST_YEAR, LAST_YEAR = 1900, 2999  # program years a period can be named in (its baseline year included)


# --- periods ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, order=True)
class Period:
    """A calendar quarter (2026-Q3) or month (2026-10), as a range of month indexes (year * 12 + month - 1)."""

    first: int
    last: int
    kind: str

    @classmethod
    def parse(cls, name: str) -> Period:
        try:
            year_text, rest = name.split("-")
            year = int(year_text)
            if not FIRST_YEAR <= year <= LAST_YEAR:
                raise ValueError(name)
            if rest.startswith("Q"):
                quarter = int(rest[1:])
                if not 1 <= quarter <= 4 or len(rest) != 2:
                    raise ValueError(name)
                first = year * 12 + (quarter - 1) * 3
                return cls(first, first + 2, QUARTER)
            month = int(rest)
            if not 1 <= month <= 12 or len(rest) != 2 or len(year_text) != 4:
                raise ValueError(name)
            return cls(year * 12 + month - 1, year * 12 + month - 1, MONTH)
        except ValueError as exc:
            raise RuleViolation(
                f"{name!r} is not a period; use a quarter (2026-Q3) or a month (2026-10) of {FIRST_YEAR}-{LAST_YEAR}"
            ) from exc

    @classmethod
    def containing(cls, month: int, kind: str) -> Period:
        if kind == MONTH:
            return cls(month, month, MONTH)
        first = month - month % 3
        return cls(first, first + 2, QUARTER)

    @property
    def name(self) -> str:
        year, month = divmod(self.first, 12)
        return f"{year:04d}-Q{month // 3 + 1}" if self.kind == QUARTER else f"{year:04d}-{month + 1:02d}"

    @property
    def months(self) -> range:
        return range(self.first, self.last + 1)

    @property
    def start(self) -> date:
        return date(self.first // 12, self.first % 12 + 1, 1)

    @property
    def end(self) -> date:
        after = self.last + 1
        return date.fromordinal(date(after // 12, after % 12 + 1, 1).toordinal() - 1)

    def shifted(self, months: int) -> Period:
        return Period(self.first + months, self.last + months, self.kind)

    @property
    def year_before(self) -> Period:
        return self.shifted(-12)

    @property
    def following(self) -> Period:
        return self.shifted(self.last - self.first + 1)


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_name(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def first_full_period(activated_on: date, kind: str) -> Period:
    """The first period a partner approved on `activated_on` was approved for in full."""
    period = Period.containing(month_index(activated_on), kind)
    return period if activated_on == period.start else period.following


# --- partners ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PartnerFacts:
    """What rating needs to know of a partner: its tier on the last day of the period, its type, when it was
    approved and when it was suspended (inclusive ordinal days; `None` end: still suspended; `suspended_at`: the same
    suspensions to the second)."""

    partner_id: str
    tier: str | None
    partner_type: str | None = None
    activated_on: int | None = None  # ordinal day
    suspended: tuple[tuple[int, int | None], ...] = ()
    # (case-folded customer id, ordinal day of its first referral invoice), sorted: where a commission's window from
    # the first invoice counts from (PA-8.1 / CPA-8.1)
    first_invoices: tuple[tuple[str, int], ...] = ()
    # the agreement's last day, when it was terminated (ordinal day): PA-13.3 / CPA-13.3 count revenue "to the
    # termination date"
    terminated_on: int | None = None
    # the suspensions to the second (Unix seconds, the lift excluded): PA-7.1 "orders placed while the Partner was
    # suspended", compared with the time the ERP recorded each order
    suspended_at: tuple[tuple[int, int | None], ...] = ()


# --- growth baselines (PA-7.3, PA-7.4) -----------------------------------------------------------------------------
def is_new_partner(program: Program, facts: PartnerFacts, period: Period) -> bool:
    """A partner not approved for the whole of last year's period: measured against its first full period (PA-7.4)."""
    return (
        program.new_partner_rule is not None
        and facts.activated_on is not None
        and facts.activated_on > period.year_before.start.toordinal()
    )


def baseline_period(program: Program, facts: PartnerFacts, period: Period) -> Period | None:
    """The period whose revenue is the partner's baseline for `period` (PA-7.3: the same period of the previous
    year; PA-7.4: a new partner's first full period), None while a new partner earns nothing (up to and including
    that first full period)."""
    if not is_new_partner(program, facts, period):
        return period.year_before
    assert facts.activated_on is not None
    first = first_full_period(date.fromordinal(facts.activated_on), period.kind)
    return None if period.first <= first.first else first


def _optional_rule(node: Mapping[str, Any], name: str, field_name: str) -> dict[str, Rule]:
    """A rule a tenant's policy may leave out (its default then applies), as a keyword for RebateBook."""
    return {field_name: Rule.of(node[name])} if node.get(name) else {}


def facts_of_partner(
    policy: Mapping[str, Any],
    partner: Mapping[str, Any],
    period: Period,
    today: date,
    first_invoices: Mapping[str, str] | None = None,
) -> PartnerFacts:
    """The partner as rating sees it for `period`: the tier it holds on the period's last day (or today, while the
    period runs; CPA-3.6 / PA-3.7: a certification lapse downgrades it only after the policy's grace), when it was
    activated, its suspensions from its status history, and the day each referred customer was first invoiced
    (`first_invoices`: case-folded customer id -> ISO day)."""
    day = min(period.end, today)
    tier = held_tier(policy, partner, day)
    windows: list[tuple[int, int | None]] = []
    timed: list[tuple[int, int | None]] = []  # PA-7.1 "while the Partner was suspended": from its time to the lift's
    start: int | None = None
    since: int | None = None
    for step in partner.get("history", []):
        at = date.fromisoformat(str(step["at"])[:10]).toordinal()
        second = unix_seconds(str(step["at"]))
        if step.get("to") == "suspended":
            start, since = at, second
        elif step.get("from") == "suspended" and start is not None and since is not None:
            windows.append((start, at - 1 if at > start else at))
            timed.append((since, second))
            start = since = None
    if start is not None and since is not None:
        windows.append((start, None))
        timed.append((since, None))
    activated = partner.get("activated_at")
    ended = next((step["at"] for step in partner.get("history", []) if step.get("to") == "terminated"), None)
    return PartnerFacts(
        partner_id=str(partner["partner_id"]),
        tier=str(tier["tier"]) if tier else None,
        partner_type=partner.get("partner_type"),
        activated_on=date.fromisoformat(str(activated)[:10]).toordinal() if activated else None,
        suspended=tuple(windows),
        suspended_at=tuple(timed),
        first_invoices=tuple(sorted((c, date.fromisoformat(d).toordinal()) for c, d in (first_invoices or {}).items())),
        terminated_on=last_day_before(str(ended)).toordinal() if ended else None,
    )

# --- the compiled policy ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Exclusion:
    """Lines earning any of `earning` do not count for `excluded`."""

    rule: Rule
    earning: frozenset[str]
    excluded: frozenset[str]


@dataclass(frozen=True)
class Cap:
    rule: Rule
    programs: tuple[str, ...]
    percent: Decimal | None
    of_program: str | None
    max_amount: int | None  # cents
    reduce_first: tuple[str, ...]


BEFORE_ACTIVATION = Rule("RBT-BEFORE-ACTIVATION", "PA-2.2")  # when a tenant's policy predates the rule


@dataclass(frozen=True)
class RebateBook:
    """`policy.rebates` compiled: programs in rating order (a program after every program that excludes lines from
    it), exclusions, caps and the control rules. Built once per policy version."""

    programs: tuple[Program, ...]
    exclusions: tuple[Exclusion, ...]
    caps: tuple[Cap, ...]
    exclusive_promotion_rule: Rule | None
    excluded_by_promotion: frozenset[str]
    exclusive_promotions: frozenset[str]  # promotion codes marked exclusive in pricing.promotions
    qualifying_revenue: Rule
    suspended_rule: Rule
    duplicate_rule: Rule
    margin_rule: Rule
    margin_floor: Decimal
    settlement_rule: Rule
    retroactive_rule: Rule
    dispute_rule: Rule
    dispute_window_days: int
    dispute_category: str
    # PA-2.2: "Before the Partner may ... accrue any incentive" onboarding must be complete: no line dated before
    # the partner's activation earns anything.
    before_activation_rule: Rule = BEFORE_ACTIVATION
    # PA-7.8 / CPA-7.8: a partner with an invoice overdue beyond the limit has its settlement withheld (None: no rule)
    withholding: Withholding | None = None
    # PA-7.1 / CPA-7.1: MDF-funded purchases earn no rebate, SPIFF or commission (None: the policy has no such rule)
    mdf_funded_rule: Rule | None = None
    # PA-13.3 / CPA-13.3: revenue counts to the termination date; the partial Quarter earns the volume rebate only
    termination: Termination | None = None

    def program(self, program_id: str) -> Program:
        for program in self.programs:
            if program.program_id == program_id:
                return program
        raise KeyError(program_id)

    def programs_for(self, kind: str) -> tuple[Program, ...]:
        return tuple(p for p in self.programs if p.period == kind)

    def paid_month_kinds(self) -> frozenset[str]:
        """The period kinds with a program earned in the month its invoice was paid (PA-8.2 / CPA-8.2)."""
        return frozenset(p.period for p in self.programs if p.earned_when_paid is not None)

    def excluded_from(self, program_id: str) -> list[Exclusion]:
        return [e for e in self.exclusions if program_id in e.excluded]


# PA-8.2 / CPA-8.2: how many months before a period an invoice paid in it is read from (a commission is earned in
# the month its invoice was paid). An invoice is clawed back "unpaid 120 days after its due date" (PA-8.2; CPA-8.2:
# 90), so a payment later than this has long been chased; a line invoiced earlier than this and paid in the period is
# not read (docs/rebates.md).
PAID_MONTHS_BACK = 12


def line_periods(book: RebateBook, line: Mapping[str, Any]) -> set[Period]:
    """Every period of the book's program kinds a rebate line counts in: its invoice's, and for a kind with a program
    earned when paid, the period its invoice was paid in (PA-8.2 / CPA-8.2)."""
    month = int(line["month_index"])
    found = {Period.containing(month, p.period) for p in book.programs}
    paid_on = line.get("paid_on")
    if paid_on:
        paid = int(paid_on[:4]) * 12 + int(paid_on[5:7]) - 1
        found |= {Period.containing(paid, kind) for kind in book.paid_month_kinds()}
    return found


def months_paid_from(book: RebateBook, period: Period) -> set[int]:
    """The months before `period` whose invoices may be paid in it, where a program of its kind is earned when paid."""
    if period.kind not in book.paid_month_kinds():
        return set()
    return set(range(period.first - PAID_MONTHS_BACK, period.first))


def _ordered(programs: list[Program], exclusions: list[Exclusion]) -> tuple[Program, ...]:
    """Programs whose lines are excluded elsewhere are rated first; a cycle is a policy problem."""
    before = {p.program_id: {x for e in exclusions if p.program_id in e.excluded for x in e.earning} for p in programs}
    ordered: list[Program] = []
    placed: set[str] = set()
    while len(ordered) < len(programs):
        ready = [p for p in programs if p.program_id not in placed and before[p.program_id] <= placed]
        if not ready:
            stuck = sorted(p.program_id for p in programs if p.program_id not in placed)
            raise ValueError(f"exclusivity between {', '.join(stuck)} is circular")
        ordered.extend(ready)
        placed.update(p.program_id for p in ready)
    return tuple(ordered)


def compile_rebates(policy: Mapping[str, Any]) -> RebateBook:
    rebates = policy.get("rebates")
    if not rebates:
        raise RuleViolation("the tenant's policy has no rebate programs")
    programs = [Program.of(node) for node in rebates["programs"]]
    exclusions = [
        Exclusion(Rule.of(e), frozenset(e["lines_earning"]), frozenset(e["excluded_from"]))
        for e in rebates.get("exclusivity", [])
    ]
    promo = rebates.get("exclusive_promotions")
    return RebateBook(
        programs=_ordered(programs, exclusions),
        exclusions=tuple(exclusions),
        caps=tuple(
            Cap(
                Rule.of(c),
                tuple(c["programs"]),
                Decimal(c["percent"]) if "percent" in c else None,
                c.get("of_program"),
                cents(c["max_amount"]) if "max_amount" in c else None,
                tuple(c["reduce_first"]),
            )
            for c in rebates.get("caps", [])
        ),
        exclusive_promotion_rule=Rule.of(promo) if promo else None,
        excluded_by_promotion=frozenset(promo["excluded_from"]) if promo else frozenset(),
        exclusive_promotions=frozenset(
            p["code"] for p in policy.get("pricing", {}).get("promotions", []) if p.get("exclusive")
        ),
        qualifying_revenue=Rule.of(rebates["qualifying_revenue"]),
        suspended_rule=Rule.of(rebates["suspended_partners"]),
        **_optional_rule(rebates, "before_activation", "before_activation_rule"),
        **_optional_rule(rebates, "mdf_funded", "mdf_funded_rule"),
        duplicate_rule=Rule.of(rebates["no_double_counting"]),
        margin_rule=Rule.of(rebates["margin_floor"]),
        margin_floor=Decimal(rebates["margin_floor"]["percent"]),
        settlement_rule=Rule.of(rebates["settlement"]),
        retroactive_rule=Rule.of(rebates["retroactive_credits"]),
        dispute_rule=Rule.of(rebates["disputes"]),
        dispute_window_days=int(rebates["disputes"]["window_days"]),
        dispute_category=str(rebates["disputes"]["category"]),
        withholding=Withholding.of(policy),
        termination=Termination.of(rebates.get("termination")),
    )


_COMPILED: PerVersion[RebateBook] = PerVersion(compile_rebates)


def rebate_book(policy: Mapping[str, Any], version: str) -> RebateBook:
    """The compiled rebate policy, once per policy version (the version is the policy's content hash)."""
    return _COMPILED.get(policy, version)


# the exception of a month's commission run not calculated or paid in time (SOP-7.1 / COP-7.1, PA-8.2 / CPA-8.2)
COMMISSION_RUN_OVERDUE = "commission_run_overdue"


def rebate_problems(policy: Mapping[str, Any]) -> list[FieldError]:
    """What the schema cannot say about `policy.rebates`: references resolve, thresholds increase, no cycle."""
    rebates = policy.get("rebates")
    if not isinstance(rebates, dict):
        return []
    base = "/policy/rebates"
    problems: list[FieldError] = []
    ids = [p["id"] for p in rebates.get("programs", [])]
    known = set(ids)
    tiers = {t["tier"] for t in policy.get("partner_tiers", [])}

    def unknown(path: str, names: list[str], among: set[str], what: str) -> None:
        problems.extend(FieldError(path, f"unknown {what} {n}") for n in names if n not in among)

    promo = rebates.get("exclusive_promotions")
    if promo:
        unknown(f"{base}/exclusive_promotions/excluded_from", promo["excluded_from"], known, "program")
    for i, rule in enumerate(rebates.get("exclusivity", [])):
        unknown(f"{base}/exclusivity/{i}/lines_earning", rule["lines_earning"], known, "program")
        unknown(f"{base}/exclusivity/{i}/excluded_from", rule["excluded_from"], known, "program")
        both = set(rule["lines_earning"]) & set(rule["excluded_from"])
        problems.extend(FieldError(f"{base}/exclusivity/{i}", f"{p} cannot exclude its own lines") for p in both)
    ended = rebates.get("termination") or {}
    unknown(f"{base}/termination/completed_quarters_only", ended.get("completed_quarters_only", []), known, "program")
    for i, cap in enumerate(rebates.get("caps", [])):
        unknown(f"{base}/caps/{i}/programs", cap["programs"], known, "program")
        unknown(f"{base}/caps/{i}/reduce_first", cap["reduce_first"], set(cap["programs"]), "capped program")
        if cap.get("of_program"):
            unknown(f"{base}/caps/{i}/of_program", [cap["of_program"]], known, "program")
    for i, node in enumerate(rebates.get("programs", [])):
        path = f"{base}/programs/{i}"
        unknown(f"{path}/eligibility/tiers", node.get("eligibility", {}).get("tiers", []), tiers, "tier")
        unknown(f"{path}/percent_by_tier", list(node.get("percent_by_tier", {})), tiers, "tier")
        thresholds = [cents(t["from"]) for t in node.get("tiers", [])]
        if thresholds and (thresholds[0] != 0 or any(b <= a for a, b in pairwise(thresholds))):
            problems.append(FieldError(f"{path}/tiers", "tiers start from 0.00 and their thresholds increase"))
    if len(set(ids)) != len(ids):
        problems.append(FieldError(f"{base}/programs", "program ids must be unique"))
    categories = set(policy.get("exception_routing", {}).get("categories", {}))
    disputes = rebates.get("disputes", {})
    if disputes.get("category") and disputes["category"] not in categories:
        unknown(f"{base}/disputes/category", [disputes["category"]], categories, "exception_routing category")
    note = disputes.get("separate_credit_note") or {}
    if note.get("category") and note["category"] not in categories:
        path = f"{base}/disputes/separate_credit_note/category"
        unknown(path, [note["category"]], categories, "exception_routing category")
    if rebates.get("commission_deadlines") and COMMISSION_RUN_OVERDUE not in categories:
        # SOP-7.1 / COP-7.1: a month's late commission run is the month close's item, routed under its own row
        where = "/policy/exception_routing/categories"
        problems.append(FieldError(where, f"commission_deadlines need a routed {COMMISSION_RUN_OVERDUE} category"))
    if not problems:
        try:
            compile_rebates(policy)
        except ValueError as exc:
            problems.append(FieldError(f"{base}/exclusivity", str(exc)))
    return problems
