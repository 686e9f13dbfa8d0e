"""Rebates and commissions: accrue as sales facts arrive, settle a period once per run, file and decide disputes.

Billing records each billed line as a sales fact and announces it (`invoice.lines_posted`); `accrue_from_event`
projects the facts into rebate lines (a credit note counted in the period of the invoice it credits), keeps each
touched partner's accrual current, and marks an already settled period for a retroactive adjustment.
`settle` rates a period for every partner with the same engine (revgov.domain.rebates.engine), once per
(period, run): the statement lines, the difference from accruals, adjustments for credit notes after an earlier
settlement and for accepted disputes, and an exception per partner for duplicates and leakage.

numpy is imported by the engine, which this module imports only inside the functions that rate.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..domain import cases as case_rules
from ..domain.access import Principal, Role
from ..domain.audit import AuditEntry
from ..domain.canonical import sha256_hex
from ..domain.errors import Conflict, Forbidden, MalformedRequest, NotFound, RuleViolation
from ..domain.money import format_money, parse_money
from ..domain.rebates.lines import rebate_line
from ..domain.rebates.policy import (
    PartnerFacts,
    Period,
    RebateBook,
    facts_of_partner,
    first_full_period,
    month_index,
    month_name,
    rebate_book,
)
from ..domain.tenants import Tenant
from ..ports import Changes, Delete, DomainEvent, Put, Stored
from ..runtime import Runtime
from . import cases, tenants
from .keys import PARTNERS

if TYPE_CHECKING:
    from ..domain.rebates.engine import Finding, PeriodResult

PROJECTION = "RBTLINE"  # partner#month#line -> rebate line; lookup RBTLINE#month
ACCRUALS = "RBTACCRUAL"  # period#partner -> the partner's accrual for the period
RETRO = "RBTRETRO"  # period -> lines that changed after the period was settled
SETTLEMENTS = "RBTSETTLEMENT"
SETTLEMENT_KEYS = "RBTSETTLEMENTKEY"  # period#run -> settlement id: one settlement per period and run
SETTLED = "RBTSETTLED"  # program#period#run -> settlement id: once per program, period and run
PERIODS = "RBTPERIOD"  # period -> runs and the amounts settled so far per partner and program
STATEMENTS = "RBTSTATEMENT"  # settlement#partner#page -> the partner's statement (page 0) and line traces
CLAIMS = "RBTCLAIM"  # period#settlement#program#chunk -> line ids the program counted
DISPUTES = "RBTDISPUTE"
DISPUTE_LINES = "RBTDISPUTELINE"  # settlement#partner#program -> the dispute filed on that statement line
ADJUSTMENTS = "RBTADJUSTMENT"  # dispute id -> an accepted amount waiting for the next run; lookup by status
FINDING_CASES = "RBTFINDINGCASE"  # category#period -> the exception its findings opened (one, refreshed by later runs)
SALES_FACTS, INVOICE_LINES, INVOICES = "SALESFACT", "INVOICELINE", "INVOICE"  # billing's (services.billing)
SOURCE = "revgov.rebates"
ACTOR = "system:rebates"
DISPUTE_EFFECT = "rebate.dispute"
_PAGE_ROWS = 2000
_MAX_RETRO_PERIODS = 8
_MAX_DISPUTE_ADJUSTMENTS = 25
_ATTEMPTS = 8
_CREDIT_MONTHS = 12


# --- shared reads --------------------------------------------------------------------------------------------------
def _book(rt: Runtime, tenant_id: str) -> tuple[Tenant, RebateBook]:
    tenant, _ = tenants.load_tenant(rt, tenant_id)
    if not tenant.policy.get("rebates"):
        raise RuleViolation("this tenant's policy has no rebate or commission programs")
    return tenant, rebate_book(tenant.policy, tenant.policy_version)


def _today(rt: Runtime) -> date:
    return date.fromisoformat(rt.clock.now_iso()[:10])


def _pages(rt: Runtime, tenant_id: str, collection: str, prefix: str) -> Iterator[Stored]:
    cursor = None
    while True:
        page = rt.store.query(tenant_id, collection, limit=200, cursor=cursor, prefix=prefix)
        yield from page.items
        cursor = page.next_cursor
        if not cursor:
            return


def _looked_up(rt: Runtime, tenant_id: str, partition: str) -> Iterator[Stored]:
    cursor = None
    while True:
        page = rt.store.lookup(tenant_id, partition, limit=200, cursor=cursor)
        yield from page.items
        cursor = page.next_cursor
        if not cursor:
            return


def _get_many(rt: Runtime, tenant_id: str, collection: str, keys: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(keys), 100):
        refs = [(tenant_id, collection, k) for k in keys[start : start + 100]]
        found.update({ref[2]: stored.data for ref, stored in rt.store.get_many(refs).items()})
    return found


def _commit_in_chunks(rt: Runtime, tenant_id: str, puts: list[Put], size: int = 25) -> None:
    for start in range(0, len(puts), size):
        rt.store.commit(tenant_id, Changes(puts=puts[start : start + size]))


def _partner_facts(
    rt: Runtime, tenant: Tenant, partner_ids: list[str], period: Period, today: date
) -> dict[str, PartnerFacts]:
    records = _get_many(rt, tenant.tenant_id, PARTNERS, partner_ids)
    return {pid: facts_of_partner(tenant.policy, record, period, today) for pid, record in records.items()}


def _kinds(book: RebateBook) -> set[str]:
    return {p.period for p in book.programs}


# --- the projection: sales facts as rebate lines -------------------------------------------------------------------
def _line_key(line: dict[str, Any]) -> str:
    return f"{line['partner_id']}#{line['month']}#{line['line_id']}"


def _with_payments(rt: Runtime, tenant_id: str, facts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Facts with the day their invoice was paid (`paid_on`, set on the invoice by the ERP's invoice.paid), which
    a `paid` basis reads: a sales fact is written when its line is posted, long before the invoice is paid."""
    invoices = _get_many(rt, tenant_id, INVOICES, sorted({str(f["invoice_id"]) for f in facts}))
    return [{**f, "paid_on": f.get("paid_on") or invoices.get(str(f["invoice_id"]), {}).get("paid_on")} for f in facts]


def _with_invoice_lines(rt: Runtime, tenant_id: str, facts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Facts completed from billing's invoice lines with what rebates need and a sales fact may not carry yet:
    the order reference (to tell one order line invoiced twice) and the line a credit note credits."""
    keys = {}
    for fact in facts:
        invoice_id, _, number = str(fact["line_id"]).rpartition(".")
        if number.isdigit():
            keys[fact["line_id"]] = f"{invoice_id}#{int(number):05d}"
    lines = _get_many(rt, tenant_id, INVOICE_LINES, sorted(set(keys.values())))
    completed = []
    for fact in facts:
        line = lines.get(keys.get(fact["line_id"], ""), {})
        completed.append(
            {
                **fact,
                "order_ref": fact.get("order_ref") or line.get("order_ref"),
                "references_line": fact.get("references_line") or line.get("references_line"),
            }
        )
    return completed


def project(rt: Runtime, tenant_id: str, facts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Write the rebate line of each fact that is new or changed (a usage line re-rated); returns those lines.
    A credit note is projected into the period of the line it credits (`lines.rebate_line`)."""
    return _project(rt, tenant_id, facts)[1]


def _project(
    rt: Runtime, tenant_id: str, facts: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`project`, returning the rebate line of every fact and those of them it wrote."""
    facts = _with_payments(rt, tenant_id, _with_invoice_lines(rt, tenant_id, facts))
    references = sorted({str(f["references_line"]) for f in facts if f.get("references_line")})
    credited = {
        str(f["line_id"]): f
        for f in _with_payments(rt, tenant_id, list(_get_many(rt, tenant_id, SALES_FACTS, references).values()))
    }
    lines = [rebate_line(fact, credited.get(str(fact.get("references_line")))) for fact in facts]
    stored = _get_many(rt, tenant_id, PROJECTION, [_line_key(ln) for ln in lines])
    changed = [ln for ln in lines if stored.get(_line_key(ln), {}).get("fact_hash") != ln["fact_hash"]]
    puts = [
        Put(
            PROJECTION, _line_key(ln), ln, lookup=(f"{PROJECTION}#{ln['month']}", f"{ln['partner_id']}#{ln['line_id']}")
        )
        for ln in changed
    ]
    if puts and not tenants.exists(rt, tenant_id):
        return [], []  # offboarded while this ran: write nothing into a deleted tenant
    _commit_in_chunks(rt, tenant_id, puts)
    return lines, changed


def _periods(book: RebateBook, lines: list[dict[str, Any]]) -> dict[tuple[str, Period], list[str]]:
    """(partner, period) of every program kind the lines fall in -> those lines' ids."""
    found: dict[tuple[str, Period], list[str]] = defaultdict(list)
    for ln in lines:
        for kind in _kinds(book):
            found[(ln["partner_id"], Period.containing(int(ln["month_index"]), kind))].append(ln["line_id"])
    return found


def _retro(touched: dict[tuple[str, Period], list[str]]) -> dict[Period, list[str]]:
    by_period: dict[Period, list[str]] = defaultdict(list)
    for (_, period), line_ids in touched.items():
        by_period[period] += line_ids
    return by_period


def _mark_retro(rt: Runtime, tenant_id: str, touched: dict[Period, list[str]]) -> None:
    """A line that lands in an already settled period waits there for the next run's adjustment (PA-7.10)."""
    for period, line_ids in touched.items():
        if rt.store.get(tenant_id, PERIODS, period.name) is None:
            continue
        for _ in range(_ATTEMPTS):
            stored = rt.store.get(tenant_id, RETRO, period.name)
            pending = stored.data if stored else {"period": period.name, "kind": period.kind, "line_ids": []}
            ids = list(dict.fromkeys([*pending["line_ids"], *line_ids]))[-500:]
            try:
                rt.store.commit(
                    tenant_id,
                    Changes(
                        puts=[
                            Put(
                                RETRO,
                                period.name,
                                {**pending, "line_ids": ids, "updated_at": rt.clock.now_iso()},
                                must_be_absent=stored is None,
                                expected_version=stored.version if stored else None,
                            )
                        ]
                    ),
                )
                break
            except Conflict:
                continue


def _sync_months(book: RebateBook, period: Period, today: date) -> list[int]:
    """The billing months a settlement re-reads: the period's, its growth baseline's, and the months after it where
    credit notes against it are invoiced (up to a year; later ones reach the projection through the events)."""
    months = set(period.months)
    if any(p.model == "growth" for p in book.programs_for(period.kind)):
        months |= set(period.year_before.months)
    months |= set(range(period.last + 1, min(month_index(today), period.last + _CREDIT_MONTHS) + 1))
    return sorted(months)


def _sync(rt: Runtime, tenant: Tenant, book: RebateBook, months: list[int]) -> None:
    """Bring the projection level with billing's sales facts of these months (a lagging or dead-lettered
    accrual must never make a settlement miss a line)."""
    facts = [item.data for m in months for item in _looked_up(rt, tenant.tenant_id, f"{SALES_FACTS}#{month_name(m)}")]
    changed = project(rt, tenant.tenant_id, facts)
    _mark_retro(rt, tenant.tenant_id, _retro(_periods(book, changed)))


# --- accruals ------------------------------------------------------------------------------------------------------
def _event_detail(bus_event: dict[str, Any]) -> dict[str, Any]:
    detail = bus_event.get("detail")
    kind = bus_event.get("detail-type")
    wanted = {"invoice.lines_posted": ("line_ids", list), "invoice.paid": ("invoice_id", str)}.get(str(kind))
    if (
        bus_event.get("source") != "revgov.billing"
        or wanted is None
        or not isinstance(detail, dict)
        or not isinstance(detail.get("tenant_id"), str)
        or not isinstance(detail.get(wanted[0]), wanted[1])
    ):
        raise MalformedRequest(
            "not an invoice.lines_posted event with tenant_id and line_ids, or an invoice.paid event with tenant_id "
            "and invoice_id"
        )
    return detail


@dataclass(frozen=True)
class DueRefresh:
    """An accrual an event's lines changed, to be re-rated (`refresh_accrual`) once they are projected."""

    tenant: Tenant
    book: RebateBook
    partner_id: str
    period: Period
    event_id: str | None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.tenant.tenant_id, self.partner_id, self.period.name)

    def run(self, rt: Runtime) -> dict[str, Any] | None:
        return refresh_accrual(rt, self.tenant, self.book, self.partner_id, self.period, self.event_id)


def project_event(rt: Runtime, bus_event: dict[str, Any]) -> tuple[dict[str, Any], list[DueRefresh]]:
    """`accrue_from_event` without its refreshes: the event's lines projected (and retro-marked), and the accruals
    they changed. A handler holding several such events re-rates each accrual once, after the last of them (an accrual
    is recomputed from every projected line of its period, so one refresh after several projections is the refresh
    after each of them)."""
    detail = _event_detail(bus_event)
    tenant_id = detail["tenant_id"]
    try:
        tenant, book = _book(rt, tenant_id)
    except (NotFound, RuleViolation) as why:  # offboarded meanwhile, or no programs: nothing accrues
        return {"status": "skipped", "reason": why.detail}, []
    if "line_ids" in detail:
        facts = list(_get_many(rt, tenant_id, SALES_FACTS, [str(x) for x in detail["line_ids"]]).values())
    else:
        facts = [item.data for item in _pages(rt, tenant_id, SALES_FACTS, f"{detail['invoice_id']}.")]
        facts += _credit_notes_against(rt, tenant_id, facts)
    lines, changed = _project(rt, tenant_id, facts)
    _mark_retro(rt, tenant_id, _retro(_periods(book, changed)))
    # every accrual the event's lines fall in, changed or not: a redelivery after a failed re-rating (its lines
    # projected by the first delivery) must re-rate them
    due = [
        DueRefresh(tenant, book, pid, period, detail.get("event_id")) for pid, period in sorted(_periods(book, lines))
    ]
    return {"status": "processed", "lines": len(changed)}, due


def accrue_from_event(rt: Runtime, bus_event: dict[str, Any]) -> dict[str, Any]:
    """The use case for `invoice.lines_posted` (project its lines) and `invoice.paid` (project the paid invoice's
    lines again, now paid): then refresh each touched accrual."""
    outcome, due = project_event(rt, bus_event)
    if outcome["status"] != "processed":
        return outcome
    refreshed = [refresh.run(rt) for refresh in due]
    return {**outcome, "accruals": [a for a in refreshed if a]}


def _credit_notes_against(rt: Runtime, tenant_id: str, paid: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sales facts of the credit notes, on later invoices, already projected against the lines of a paid invoice:
    a credit note is as paid as the line it credits, so the payment re-rates them with the invoice's own lines
    (a settlement would, but a `paid` basis accrual must not count the line in full until then)."""
    credited = {str(f["line_id"]) for f in paid}
    projected = sorted({f"{f['partner_id']}#{f['period']}#" for f in paid})  # credit notes sit in their line's month
    notes = [
        str(item.data["line_id"])
        for prefix in projected
        for item in _pages(rt, tenant_id, PROJECTION, prefix)
        if item.data.get("credited_line") in credited and item.data["line_id"] not in credited
    ]
    return list(_get_many(rt, tenant_id, SALES_FACTS, notes).values())


def _months_needed(book: RebateBook, period: Period, partners: dict[str, PartnerFacts]) -> set[int]:
    """The period's months, and for a growth program its baselines: last year's period, new partners' first one."""
    months = set(period.months)
    if any(p.model == "growth" and p.period == period.kind for p in book.programs):
        months |= set(period.year_before.months)
        for facts in partners.values():
            if facts.activated_on is not None:
                months |= set(first_full_period(date.fromordinal(facts.activated_on), period.kind).months)
    return months


def _ledger(book: RebateBook, lines: list[dict[str, Any]]) -> Any:
    from ..domain.rebates.ledger import SalesLedger

    ordered = sorted(lines, key=lambda ln: (ln["month"], ln["line_id"]))
    return SalesLedger.from_lines(ordered, book.exclusive_promotions)


def refresh_accrual(
    rt: Runtime, tenant: Tenant, book: RebateBook, partner_id: str, period: Period, source_event: str | None = None
) -> dict[str, Any] | None:
    """Re-rate one partner's period from its rebate lines and store it as the accrual (audited)."""
    from ..domain.rebates.engine import rate_period

    if not book.programs_for(period.kind):
        return None
    today = _today(rt)
    for _ in range(_ATTEMPTS):
        record = rt.store.get(tenant.tenant_id, PARTNERS, partner_id)
        if record is None:
            return None
        facts = {partner_id: facts_of_partner(tenant.policy, record.data, period, today)}
        current = rt.store.get(tenant.tenant_id, ACCRUALS, f"{period.name}#{partner_id}")
        lines = [
            item.data
            for m in sorted(_months_needed(book, period, facts))
            for item in _pages(rt, tenant.tenant_id, PROJECTION, f"{partner_id}#{month_name(m)}#")
        ]
        result = rate_period(book, _ledger(book, lines), period, facts)
        programs = result.programs_view(partner_id)
        accrual = {
            "partner_id": partner_id,
            "period": period.name,
            "as_of": rt.clock.now_iso(),
            "policy_version": tenant.policy_version,
            "tier": facts[partner_id].tier,
            "total": format_money(result.total(partner_id)),
            "programs": programs,
            "line_count": int(sum(1 for m in result.ledger.month if period.first <= m <= period.last)),
            "findings": len(result.findings),
        }
        totals = {p["program_id"]: p["payable"] for p in programs}
        rules = [r for p in programs for r in ((p["program_id"], p["clause"]), (p["rule_id"], p["rule_clause"]))]
        changes = Changes(
            puts=[
                Put(
                    ACCRUALS,
                    f"{period.name}#{partner_id}",
                    accrual,
                    must_be_absent=current is None,
                    expected_version=current.version if current else None,
                )
            ],
            audit=[
                AuditEntry(
                    actor=ACTOR,
                    action="rebate_accrual.updated",
                    subject=partner_id,
                    outcome=f"{period.name}: {accrual['total']}",
                    inputs={
                        "period": period.name,
                        "programs": totals,
                        "lines": accrual["line_count"],
                        "event_id": source_event,
                    },
                    policy_version=tenant.policy_version,
                    rule_ids=tuple(dict.fromkeys(r for r, _ in rules)),
                    clauses=tuple(dict.fromkeys(c for _, c in rules)),
                )
            ],
            events=[
                DomainEvent(
                    SOURCE,
                    "accrual.updated",
                    {"partner_id": partner_id, "period": period.name, "total": accrual["total"], "programs": totals},
                )
            ],
        )
        try:
            if not tenants.exists(rt, tenant.tenant_id):
                return None  # offboarded while this ran: write nothing into a deleted tenant
            rt.commit(tenant.tenant_id, changes)
            return accrual
        except Conflict:
            time.sleep(random.uniform(0, 0.05))  # noqa: S311 - jitter, not a secret
    raise Conflict(f"the accrual of {partner_id} for {period.name} kept changing; it will be retried")


def accruals(
    rt: Runtime, who: Principal, *, partner_id: str | None, period: str | None, limit: int, cursor: str | None
) -> dict[str, Any]:
    """Accruals of a period (the running quarter by default): a partner sees only its own."""
    _book(rt, who.tenant_id)
    name = Period.parse(period).name if period else Period.containing(month_index(_today(rt)), "quarter").name
    if who.role is Role.PARTNER:
        if partner_id not in (None, who.partner_id):
            return {"items": [], "next_cursor": None}
        partner_id = who.partner_id
    page = rt.store.query(
        who.tenant_id, ACCRUALS, limit=limit, cursor=cursor, prefix=f"{name}#{partner_id}" if partner_id else f"{name}#"
    )
    items = [i.data for i in page.items if who.sees_partner(i.data["partner_id"])]
    return {"items": items, "next_cursor": page.next_cursor}


# --- settlement ----------------------------------------------------------------------------------------------------
def settle(rt: Runtime, who: Principal, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Close a period: once per (period, run). 201 with the settlement: the one made now, or the one made before
    (`replayed`: true), so a retry always gets the first answer."""
    tenant, book = _book(rt, who.tenant_id)
    period = Period.parse(body["period"])
    run = int(body.get("run", 1))
    today = _today(rt)
    rule = book.settlement_rule
    if today <= period.end:
        raise RuleViolation(
            f"{period.name} has not ended; a period is settled after it ends ({rule.rule_id}, {rule.clause})"
        )
    if not book.programs_for(period.kind):
        raise RuleViolation(f"no program of this policy is measured per {period.kind}")
    existing = rt.store.get(who.tenant_id, SETTLEMENT_KEYS, f"{period.name}#{run}")
    if existing is not None:
        return 201, {**summary(_settlement(rt, who.tenant_id, existing.data["settlement_id"]), who), "replayed": True}
    if run > 1 and rt.store.get(who.tenant_id, SETTLEMENT_KEYS, f"{period.name}#{run - 1}") is None:
        raise RuleViolation(f"run {run - 1} of {period.name} has not been settled; runs are settled in order")
    _sync(rt, tenant, book, _sync_months(book, period, today))
    draft = _draft(rt, who, tenant, book, period, run, today)
    try:
        rt.commit(who.tenant_id, draft.final)  # the settlement, its exceptions and its audit records, or nothing
    except Conflict:  # the same period and run was settled meanwhile: answer that one
        winner = rt.store.get(who.tenant_id, SETTLEMENT_KEYS, f"{period.name}#{run}")
        if winner is None:
            raise
        return 201, {**summary(_settlement(rt, who.tenant_id, winner.data["settlement_id"]), who), "replayed": True}
    return 201, {**summary(draft.header, who), "replayed": False}


class _Draft:
    """A settlement being prepared: its header, statements and claims (written first, invisible until the header
    is), and the final commit that makes it the one settlement of the period and run."""

    def __init__(self, settlement_id: str) -> None:
        self.settlement_id = settlement_id
        self.header: dict[str, Any] = {}
        self.final = Changes()
        self.findings: list[Finding] = []


def _statement_line(
    kind: str, period: Period, view: dict[str, Any], amount: Decimal, *, rules: tuple[Any, ...] = (), **extra: Any
) -> dict[str, Any]:
    return {
        "kind": kind,
        "period": period.name,
        "program_id": view["program_id"],
        "name": view["name"],
        "model": view["model"],
        "payout": view["payout"],
        "amount": format_money(amount),
        "basis_revenue": view.get("basis_revenue"),
        "units": view.get("units"),
        "rate": view.get("rate"),
        "rule_id": view["rule_id"],
        "clause": view["rule_clause"],
        "rules": [
            {"rule_id": view["program_id"], "clause": view["clause"]},
            {"rule_id": view["rule_id"], "clause": view["rule_clause"]},
            *({"rule_id": c["rule_id"], "clause": c["clause"]} for c in view.get("caps", [])),
            *(r.as_dict() for r in rules),
        ],
        "amount_before_caps": view.get("amount"),
        "cap_reduction": view.get("cap_reduction"),
        "tier_reached": view.get("tier_reached"),
        "next_tier": view.get("next_tier"),
        **extra,
    }


def _rate(
    rt: Runtime, tenant: Tenant, book: RebateBook, period: Period, today: date
) -> tuple[PeriodResult, dict[str, PartnerFacts]]:
    from ..domain.rebates.engine import rate_period

    def month_lines(months: set[int] | range) -> list[dict[str, Any]]:
        return [
            item.data
            for m in sorted(months)
            for item in _looked_up(rt, tenant.tenant_id, f"{PROJECTION}#{month_name(m)}")
        ]

    lines = month_lines(period.months)
    facts = _partner_facts(rt, tenant, sorted({ln["partner_id"] for ln in lines}), period, today)
    lines += month_lines(_months_needed(book, period, facts) - set(period.months))
    ledger = _ledger(book, lines)
    return rate_period(book, ledger, period, facts, _prior_claims(rt, tenant.tenant_id, period)), facts


def rate_under(
    rt: Runtime, tenant: Tenant, policy: dict[str, Any], version: str, period: Period
) -> tuple[PeriodResult, dict[str, PartnerFacts]]:
    """The period rated under `policy` (the tenant's, or a draft's) over the stored rebate lines, writing nothing:
    what a settlement run would compute, and the partners' facts (policy what-if, services.policy_whatif)."""
    from dataclasses import replace

    under = replace(tenant, config={**tenant.config, "policy": policy}, policy_version=version)
    return _rate(rt, under, rebate_book(policy, version), period, _today(rt))


def _prior_claims(rt: Runtime, tenant_id: str, period: Period) -> dict[str, frozenset[str]]:
    """Lines settled before under programs of the other period kind overlapping these months (a monthly
    commission inside a quarter): a line claimed there is not claimed again by a program exclusive with it."""
    overlapping = (
        [Period(m, m, "month") for m in period.months]
        if period.kind == "quarter"
        else [Period.containing(period.first, "quarter")]
    )
    claims: dict[str, set[str]] = defaultdict(set)
    for other in overlapping:
        state = rt.store.get(tenant_id, PERIODS, other.name)
        for run in state.data["runs"] if state else []:
            for item in _pages(rt, tenant_id, CLAIMS, f"{other.name}#{run['settlement_id']}#"):
                claims[item.data["program_id"]].update(item.data["line_ids"])
    return {program: frozenset(ids) for program, ids in claims.items()}


def _draft(
    rt: Runtime, who: Principal, tenant: Tenant, book: RebateBook, period: Period, run: int, today: date
) -> _Draft:
    draft = _Draft(rt.ids.new("set"))
    now = rt.clock.now_iso()
    retro = [
        item
        for item in _pages(rt, tenant.tenant_id, RETRO, "")
        if item.data["kind"] == period.kind and item.key != period.name
    ][:_MAX_RETRO_PERIODS]
    own_retro = rt.store.get(tenant.tenant_id, RETRO, period.name)
    to_rate = [(period, own_retro)] + [(Period.parse(item.key), item) for item in retro]
    statements: dict[str, list[dict[str, Any]]] = defaultdict(list)
    traces: dict[str, list[dict[str, Any]]] = defaultdict(list)
    accrued: dict[str, dict[str, Any]] = {}
    period_puts: list[Put] = []
    claim_puts: list[Put] = []
    for rated, marker in to_rate:
        result, _ = _rate(rt, tenant, book, rated, today)
        state = rt.store.get(tenant.tenant_id, PERIODS, rated.name)
        settled: dict[str, dict[str, str]] = state.data["settled"] if state else {}
        first_time = state is None
        if rated == period and first_time:
            accrued = {
                item.data["partner_id"]: {p["program_id"]: p["payable"] for p in item.data["programs"]}
                for item in _pages(rt, tenant.tenant_id, ACCRUALS, f"{period.name}#")
            }
        credit_notes = list(marker.data["line_ids"]) if marker else []
        rated_lines = set(result.ledger.line_ids) if credit_notes else set()
        now_settled: dict[str, dict[str, str]] = {pid: dict(v) for pid, v in settled.items()}
        for partner_id in sorted(set(result.partner_ids) | set(settled)):
            views = {v["program_id"]: v for v in result.programs_view(partner_id)}
            for program in book.programs_for(rated.kind):
                view = views.get(program.program_id)
                new = Decimal(view["payable"]) if view else Decimal("0.00")
                if first_time:
                    if view is None:
                        continue
                    was = accrued.get(partner_id, {}).get(program.program_id)
                    statements[partner_id].append(
                        _statement_line(
                            "settlement",
                            rated,
                            view,
                            new,
                            accrued=was,
                            difference_from_accrual=format_money(new - Decimal(was or "0")),
                        )
                    )
                else:
                    before = Decimal(settled.get(partner_id, {}).get(program.program_id, "0.00"))
                    if new == before:
                        continue
                    statements[partner_id].append(
                        _statement_line(
                            "adjustment",
                            rated,
                            view or _no_amount(program),
                            new - before,
                            rules=(book.retroactive_rule,),
                            previously_settled=format_money(before),
                            recomputed=format_money(new),
                            references={"credit_notes": [c for c in credit_notes if c in rated_lines][:200]},
                        )
                    )
                now_settled.setdefault(partner_id, {})[program.program_id] = format_money(new)
            if partner_id in result.payable or partner_id in settled:
                traces[partner_id].append({"period": rated.name, **result.traces(partner_id)})
        draft.findings += result.findings
        runs = [*(state.data["runs"] if state else []), {"settlement_id": draft.settlement_id, "run": run, "at": now}]
        period_puts.append(
            Put(
                PERIODS,
                rated.name,
                {"period": rated.name, "kind": rated.kind, "runs": runs, "settled": now_settled},
                must_be_absent=state is None,
                expected_version=state.version if state else None,
                conflict_detail=f"{rated.name} was settled meanwhile",
            )
        )
        claim_puts += _claims(tenant.tenant_id, draft.settlement_id, rated, result)
        if marker is not None:
            draft.final.deletes.append(Delete(RETRO, rated.name))
    adjustments = _dispute_adjustments(rt, tenant.tenant_id)
    for adj in adjustments:
        program = book.program(adj.data["program_id"])
        statements[adj.data["partner_id"]].append(
            {
                "kind": "dispute_adjustment",
                "period": adj.data["period"],
                "program_id": program.program_id,
                "name": program.name,
                "model": program.model,
                "payout": program.payout,
                "amount": adj.data["amount"],
                "rule_id": book.dispute_rule.rule_id,
                "clause": book.dispute_rule.clause,
                "rules": [book.dispute_rule.as_dict(), program.rule.as_dict()],
                "references": {"dispute_id": adj.data["dispute_id"], "settlement_id": adj.data["settlement_id"]},
            }
        )
        consumed = {**adj.data, "status": "settled", "settled_in": draft.settlement_id, "settled_at": now}
        draft.final.puts.append(_adjustment_put(consumed, adj.version))
    header_partners: list[dict[str, Any]] = []
    statement_puts: list[Put] = []
    for partner_id in sorted(statements):  # a partner with nothing settled or adjusted gets no statement
        lines = statements.get(partner_id, [])
        for number, line in enumerate(lines, start=1):
            line["line_no"] = number
        total = sum((Decimal(ln["amount"]) for ln in lines), Decimal(0))
        accrued_total = sum((Decimal(v) for v in accrued.get(partner_id, {}).values()), Decimal(0))
        findings = [f for f in draft.findings if f.partner_id == partner_id]
        trace_pages = _trace_pages(traces.get(partner_id, []))
        statement = {
            "settlement_id": draft.settlement_id,
            "partner_id": partner_id,
            "period": period.name,
            "run": run,
            "currency": tenant.currency,
            "statement_date": now[:10],
            "lines": lines,
            "total": format_money(total),
            "accrued": format_money(accrued_total),
            "difference_from_accruals": format_money(total - accrued_total),
            "by_payout": _by_payout(lines),
            "findings": [f.as_dict() for f in findings[:200]],
            "finding_count": len(findings),
            "trace_pages": len(trace_pages),
        }
        statement_puts.append(Put(STATEMENTS, f"{draft.settlement_id}#{partner_id}#000", statement))
        statement_puts += [
            Put(
                STATEMENTS, f"{draft.settlement_id}#{partner_id}#{n:03d}", {"partner_id": partner_id, "page": n, **page}
            )
            for n, page in enumerate(trace_pages, start=1)
        ]
        header_partners.append(
            {
                "partner_id": partner_id,
                "total": statement["total"],
                "accrued": statement["accrued"],
                "difference_from_accruals": statement["difference_from_accruals"],
                "lines": len(lines),
                "statement_hash": sha256_hex(statement),
            }
        )
    _commit_in_chunks(rt, tenant.tenant_id, statement_puts + claim_puts, size=10)
    totals = {
        "payable": format_money(sum((Decimal(p["total"]) for p in header_partners), Decimal(0))),
        "accrued": format_money(sum((Decimal(p["accrued"]) for p in header_partners), Decimal(0))),
    }
    totals["difference_from_accruals"] = format_money(Decimal(totals["payable"]) - Decimal(totals["accrued"]))
    counts: dict[str, int] = defaultdict(int)
    for finding in draft.findings:
        counts[finding.category] += 1
    draft.header = {
        "settlement_id": draft.settlement_id,
        "period": period.name,
        "run": run,
        "status": "settled",
        "currency": tenant.currency,
        "settled_at": now,
        "settled_by": who.actor,
        "policy_version": tenant.policy_version,
        "programs": [p.program_id for p in book.programs_for(period.kind)],
        "periods_rated": [p.name for p, _ in to_rate],
        "dispute_adjustments": [a.data["dispute_id"] for a in adjustments],
        "partners": header_partners,
        "totals": totals,
        "findings": dict(counts),
        "exceptions": _exceptions(rt, tenant, draft, period),
        "rule_id": book.settlement_rule.rule_id,
        "clause": book.settlement_rule.clause,
    }
    final = draft.final
    final.puts += [
        Put(
            SETTLEMENT_KEYS,
            f"{period.name}#{run}",
            {"settlement_id": draft.settlement_id},
            must_be_absent=True,
            conflict_detail=f"{period.name} run {run} was settled meanwhile",
        ),
        Put(SETTLEMENTS, draft.settlement_id, draft.header, must_be_absent=True),
        *(
            Put(
                SETTLED,
                f"{p.program_id}#{period.name}#{run}",
                {"settlement_id": draft.settlement_id},
                must_be_absent=True,
            )
            for p in book.programs_for(period.kind)
        ),
        *period_puts,
    ]
    rules = [book.settlement_rule, book.qualifying_revenue] + ([book.retroactive_rule] if retro or own_retro else [])
    rules += [book.dispute_rule] if adjustments else []
    final.audit.append(
        AuditEntry(
            actor=who.actor,
            actor_role=who.role.value,
            action="rebate_settlement.settled",
            subject=draft.settlement_id,
            outcome=f"{period.name} run {run}: {totals['payable']}",
            inputs={
                "period": period.name,
                "run": run,
                "periods_rated": draft.header["periods_rated"],
                "totals": totals,
                "partners": {
                    p["partner_id"]: {"total": p["total"], "statement_hash": p["statement_hash"]}
                    for p in header_partners
                },
                "dispute_adjustments": draft.header["dispute_adjustments"],
                "findings": dict(counts),
            },
            policy_version=tenant.policy_version,
            rule_ids=tuple(dict.fromkeys([r.rule_id for r in rules] + draft.header["programs"])),
            clauses=tuple(
                dict.fromkeys([r.clause for r in rules] + [p.rule.clause for p in book.programs_for(period.kind)])
            ),
        )
    )
    final.events.append(
        DomainEvent(
            SOURCE,
            "settlement.completed",
            {
                "settlement_id": draft.settlement_id,
                "period": period.name,
                "run": run,
                "totals": totals,
                "partners": len(header_partners),
            },
        )
    )
    return draft


def _no_amount(program: Any) -> dict[str, Any]:
    """The statement view of a program that no longer rates anything for the partner (all of it credited)."""
    rule = program.rule
    return {
        "program_id": rule.rule_id,
        "name": program.name,
        "model": program.model,
        "payout": program.payout,
        "clause": rule.clause,
        "rule_id": rule.rule_id,
        "rule_clause": rule.clause,
    }


def _by_payout(lines: list[dict[str, Any]]) -> dict[str, str]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        sums[line["payout"]] += Decimal(line["amount"])
    return {k: format_money(v) for k, v in sorted(sums.items())}


def _trace_pages(traces: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The line traces cut into pages of at most _PAGE_ROWS rows, so every stored item stays small."""
    pages: list[dict[str, Any]] = []
    for trace in traces:
        for section in ("counted", "excluded"):
            for reason, entry in trace[section].items():
                rows = entry["lines"]
                for start in range(0, max(len(rows), 1), _PAGE_ROWS):
                    pages.append(
                        {
                            "period": trace["period"],
                            "section": section,
                            "program_or_reason": reason,
                            "program_id": entry.get("program_id", reason),
                            "reason": entry.get("reason"),
                            "rule_id": entry["rule_id"],
                            "clause": entry["clause"],
                            "columns": trace["columns"],
                            "lines": rows[start : start + _PAGE_ROWS],
                        }
                    )
    return pages


def _claims(tenant_id: str, settlement_id: str, period: Period, result: PeriodResult) -> list[Put]:
    import numpy as np

    puts = []
    for program_id, rating in result.ratings.items():
        rows = np.flatnonzero(rating.counted)
        ids = [result.ledger.line_ids[int(i)] for i in rows]
        for n, start in enumerate(range(0, len(ids), 8000)):
            puts.append(
                Put(
                    CLAIMS,
                    f"{period.name}#{settlement_id}#{program_id}#{n:03d}",
                    {"program_id": program_id, "period": period.name, "line_ids": ids[start : start + 8000]},
                )
            )
    return puts


def _dispute_adjustments(rt: Runtime, tenant_id: str) -> list[Stored]:
    page = rt.store.lookup(tenant_id, f"{ADJUSTMENTS}#pending", limit=_MAX_DISPUTE_ADJUSTMENTS)
    fresh = [rt.store.get(tenant_id, ADJUSTMENTS, item.key) for item in page.items]  # the index may lag
    return [s for s in fresh if s is not None and s.data["status"] == "pending"]


def _adjustment_put(adjustment: dict[str, Any], version: int | None) -> Put:
    return Put(
        ADJUSTMENTS,
        adjustment["dispute_id"],
        adjustment,
        lookup=(f"{ADJUSTMENTS}#{adjustment['status']}", adjustment["dispute_id"]),
        must_be_absent=version is None,
        expected_version=version,
        conflict_detail=f"the adjustment of {adjustment['dispute_id']} changed meanwhile",
    )


_MAX_PARTNERS_NAMED = 100  # per exception; every finding is in its partner's statement anyway


def _partner_findings(found: list[Finding]) -> dict[str, Any]:
    kinds: dict[str, int] = defaultdict(int)
    for f in found:
        kinds[f.kind] += 1
    return {
        "kinds": dict(kinds),
        "lines": len(found),
        "revenue": format_money(Decimal(sum(f.revenue for f in found)) / 100),
        "line_ids": [f.line_id for f in found[:50]],
    }


def _exceptions(rt: Runtime, tenant: Tenant, draft: _Draft, period: Period) -> list[str]:
    """One exception per category the run found (duplicate claims, leakage), naming each partner and its lines,
    added to the settlement's own commit: a settlement never exists without its exceptions, and one per category
    (not per partner) keeps that commit inside DynamoDB's 100 items however many partners are affected."""
    grouped: dict[str, dict[str, list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for finding in draft.findings:
        grouped[finding.category][finding.partner_id].append(finding)
    opened: list[str] = []
    for category, by_partner in sorted(grouped.items()):
        found = [f for partner_id in sorted(by_partner) for f in by_partner[partner_id]]
        reasons = list(
            {
                (f.rule.rule_id, f.kind): {**f.rule.as_dict(), "message": f"{f.kind}: {f.message}"} for f in found
            }.values()
        )
        ranked = sorted(by_partner, key=lambda pid: (-sum(f.revenue for f in by_partner[pid]), pid))
        context = {
            "settlement_id": draft.settlement_id,
            "period": period.name,
            **_partner_findings(found),
            "partner_count": len(ranked),
            "partners": {pid: _partner_findings(by_partner[pid]) for pid in ranked[:_MAX_PARTNERS_NAMED]},
        }
        # One exception per finding: a later run of the period that finds the same lines again refreshes the open
        # exception (or, once finance closed it, opens nothing); different lines open a new one.
        findings_hash = sha256_hex(sorted([f.kind, f.line_id] for f in found))[:32]
        marker = rt.store.get(tenant.tenant_id, FINDING_CASES, f"{category}#{period.name}")
        known = rt.store.get(tenant.tenant_id, cases.CASES, marker.data["case_id"]) if marker else None
        if marker and known and known.data["status"] == "open":
            settlements = [*known.data["context"].get("settlement_ids", [known.data["subject"]["id"]])]
            context["settlement_ids"] = [*settlements, draft.settlement_id]
            refreshed = cases.refresh_case(known.data, known.version, context=context, at=rt.clock.now_iso())
            draft.final.puts.append(refreshed)
            draft.final.puts.append(_finding_marker(category, period, known.data["case_id"], findings_hash, marker))
            opened.append(known.data["case_id"])
            continue
        if marker and known and marker.data["findings_hash"] == findings_hash:
            continue  # finance closed the exception for exactly these lines
        case, changes = cases.open_case(
            rt,
            tenant.policy,
            kind="exception",
            category=category,
            subject_kind="rebate_settlement",
            subject_id=draft.settlement_id,
            requested_by=ACTOR,
            reasons=reasons[:10],
            risk_score=min(100, 40 + len(found)),
            partner_id=ranked[0] if len(ranked) == 1 else None,
            context={**context, "settlement_ids": [draft.settlement_id]},
            policy_version=tenant.policy_version,
        )
        opened.append(case["case_id"])
        draft.final.puts += changes.puts
        draft.final.puts.append(_finding_marker(category, period, case["case_id"], findings_hash, marker))
        draft.final.audit += changes.audit
        draft.final.events += changes.events
    return opened


def _finding_marker(category: str, period: Period, case_id: str, findings_hash: str, marker: Stored | None) -> Put:
    return Put(
        FINDING_CASES,
        f"{category}#{period.name}",
        {"case_id": case_id, "category": category, "period": period.name, "findings_hash": findings_hash},
        must_be_absent=marker is None,
        expected_version=marker.version if marker else None,
        conflict_detail=f"the {category} exception of {period.name} changed meanwhile",
    )


def _settlement(rt: Runtime, tenant_id: str, settlement_id: str) -> dict[str, Any]:
    stored = rt.store.get(tenant_id, SETTLEMENTS, settlement_id)
    if stored is None:
        raise NotFound(f"no settlement {settlement_id}")
    return stored.data


def _statement(rt: Runtime, tenant_id: str, settlement_id: str, partner_id: str) -> dict[str, Any] | None:
    stored = rt.store.get(tenant_id, STATEMENTS, f"{settlement_id}#{partner_id}#000")
    return stored.data if stored else None


def summary(header: dict[str, Any], who: Principal) -> dict[str, Any]:
    """The header as the caller may see it: a partner sees its own line of it only."""
    if who.role is not Role.PARTNER:
        return header
    mine = [p for p in header["partners"] if p["partner_id"] == who.partner_id]
    return {**{k: v for k, v in header.items() if k not in ("totals", "findings", "exceptions")}, "partners": mine}


def get_settlement(rt: Runtime, who: Principal, settlement_id: str, partner_id: str | None) -> dict[str, Any]:
    """A settlement; with a partner (always, for a partner key) that partner's statement and every line trace."""
    header = _settlement(rt, who.tenant_id, settlement_id)
    if who.role is Role.PARTNER:
        if partner_id not in (None, who.partner_id):
            raise NotFound(f"no settlement {settlement_id}")
        partner_id = who.partner_id
    if partner_id is None:
        return header
    statement = _statement(rt, who.tenant_id, settlement_id, partner_id)
    if statement is None:
        raise NotFound(f"no settlement {settlement_id}" + ("" if who.role is Role.PARTNER else f" for {partner_id}"))
    pages = [
        i.data for i in _pages(rt, who.tenant_id, STATEMENTS, f"{settlement_id}#{partner_id}#") if i.data.get("page")
    ]
    return {**summary(header, who), "statement": {**statement, "traces": pages}}


# --- disputes ------------------------------------------------------------------------------------------------------
def _dispute_put(dispute: dict[str, Any], version: int | None) -> Put:
    return Put(
        DISPUTES,
        dispute["dispute_id"],
        dispute,
        must_be_absent=version is None,
        expected_version=version,
        conflict_detail=f"dispute {dispute['dispute_id']} changed meanwhile; read it again",
    )


def file_dispute(rt: Runtime, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """A partner (or staff for it) disputes a settlement line within the window, with evidence (PA-7.9)."""
    tenant, book = _book(rt, who.tenant_id)
    partner_id, settlement_id = body["partner_id"], body["settlement_id"]
    # One answer for another partner's, another tenant's and a never-made settlement, and for one without a
    # statement for this partner: a partner key must not learn which settlement ids exist.
    unknown = NotFound(f"no settlement {settlement_id} for partner {partner_id}")
    if not who.sees_partner(partner_id):
        raise unknown
    statement = _statement(rt, who.tenant_id, settlement_id, partner_id)
    settled = rt.store.get(who.tenant_id, SETTLEMENTS, settlement_id) if statement is not None else None
    if statement is None or settled is None:
        raise unknown
    header = settled.data
    rule = book.dispute_rule
    lines = [ln for ln in statement["lines"] if ln["program_id"] == body["program_id"]]
    if not lines:
        raise RuleViolation(f"the statement has no line for {body['program_id']} ({rule.rule_id}, {rule.clause})")
    amount = parse_money(body["amount"])
    if amount <= 0:
        raise RuleViolation("the disputed amount must be more than 0.00")
    line_key = f"{settlement_id}#{partner_id}#{body['program_id']}"
    claimed = _open_dispute_on(rt, who.tenant_id, line_key)
    now = rt.clock.now_iso()
    closes = date.fromisoformat(header["settled_at"][:10]) + timedelta(days=book.dispute_window_days)
    if _today(rt) > closes:
        raise RuleViolation(
            f"disputes on this statement closed on {closes.isoformat()}, {book.dispute_window_days} days after it "
            f"({rule.rule_id}, {rule.clause})"
        )
    dispute = {
        "dispute_id": rt.ids.new("dsp"),
        "settlement_id": settlement_id,
        "partner_id": partner_id,
        "period": header["period"],
        "program_id": body["program_id"],
        "line_nos": [ln["line_no"] for ln in lines],
        "settled_amount": format_money(sum((Decimal(ln["amount"]) for ln in lines), Decimal(0))),
        "amount": format_money(amount),
        "reason": body["reason"],
        "evidence": body["evidence"],
        "status": "open",
        "filed_at": now,
        "filed_by": who.actor,
        "window_closes_on": closes.isoformat(),
        "approval_id": None,
        "resolution": None,
        "rule_id": rule.rule_id,
        "clause": rule.clause,
    }
    case, changes = cases.open_case(
        rt,
        tenant.policy,
        kind="approval",
        category=book.dispute_category,
        subject_kind="rebate_dispute",
        subject_id=dispute["dispute_id"],
        requested_by=who,
        reasons=[{**rule.as_dict(), "message": f"{partner_id} disputes {dispute['amount']} of {body['program_id']}"}],
        risk_score=min(100, 30 + int(amount) // 1000),
        partner_id=partner_id,
        effect=DISPUTE_EFFECT,
        context={"settlement_id": settlement_id, "program_id": body["program_id"], "amount": dispute["amount"]},
        policy_version=tenant.policy_version,
    )
    dispute["approval_id"] = case["case_id"]
    changes.puts.append(_dispute_put(dispute, None))
    changes.puts.append(
        Put(
            DISPUTE_LINES,
            line_key,
            {
                "dispute_id": dispute["dispute_id"],
                "settlement_id": settlement_id,
                "partner_id": partner_id,
                "program_id": body["program_id"],
            },
            must_be_absent=claimed is None,
            expected_version=claimed.version if claimed else None,
            conflict_detail="a dispute was filed on this statement line meanwhile",
        )
    )
    changes.audit.insert(
        0,
        AuditEntry(
            actor=who.actor,
            actor_role=who.role.value,
            action="rebate_dispute.filed",
            subject=dispute["dispute_id"],
            outcome="open",
            inputs={
                k: dispute[k] for k in ("settlement_id", "partner_id", "program_id", "amount", "reason", "evidence")
            },
            policy_version=tenant.policy_version,
            rule_ids=(rule.rule_id,),
            clauses=(rule.clause,),
        ),
    )
    changes.events.append(DomainEvent(SOURCE, "dispute.filed", _dispute_event(dispute)))
    try:
        rt.commit(who.tenant_id, changes)
    except Conflict:
        _open_dispute_on(rt, who.tenant_id, line_key)  # names the dispute that won the race
        raise
    return dispute


def _open_dispute_on(rt: Runtime, tenant_id: str, line_key: str) -> Stored | None:
    """The statement line's claim marker (None: never disputed); a Conflict naming the dispute while it is open:
    one open dispute per statement line, a second filing waits for the first to be decided."""
    marker = rt.store.get(tenant_id, DISPUTE_LINES, line_key)
    if marker is None:
        return None
    current = rt.store.get(tenant_id, DISPUTES, marker.data["dispute_id"])
    if current is not None and current.data["status"] == "open":
        raise Conflict(
            f"dispute {marker.data['dispute_id']} on this statement line is still open; add to it or wait for its "
            "decision",
            extra={"open_dispute_id": marker.data["dispute_id"]},
        )
    return marker


def _dispute_event(dispute: dict[str, Any]) -> dict[str, Any]:
    return {k: dispute[k] for k in ("dispute_id", "settlement_id", "partner_id", "program_id", "amount", "status")}


def get_dispute(rt: Runtime, who: Principal, dispute_id: str) -> tuple[dict[str, Any], int]:
    stored = rt.store.get(who.tenant_id, DISPUTES, dispute_id)
    if stored is None or not who.sees_partner(stored.data["partner_id"]):
        raise NotFound(f"no dispute {dispute_id}")
    return stored.data, stored.version


def resolve_dispute(rt: Runtime, who: Principal, dispute_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Finance decides: accepted (all or part of the amount; paid by adjustment in the next run) or rejected with
    a reason. The dispute's approval is decided with it, so the queue and the dispute never disagree."""
    dispute, version = get_dispute(rt, who, dispute_id)
    if dispute["status"] != "open":
        raise Conflict(
            f"dispute {dispute_id} is already {dispute['status']}",
            extra={"current_status": dispute["status"], "allowed_next": []},
        )
    accepted = body["outcome"] == "accepted"
    amount = parse_money(body.get("amount", dispute["amount"])) if accepted else None
    if amount is not None and not Decimal(0) < amount <= Decimal(dispute["amount"]):
        raise RuleViolation(f"an accepted amount is more than 0.00 and at most the disputed {dispute['amount']}")
    _not_the_preparer(rt, who, dispute)
    case, _ = cases.get_case(rt, who.tenant_id, "approval", dispute["approval_id"])
    outcome = "approved" if accepted else "rejected"
    case_rules.decide(case, who, outcome, body["reason"], rt.clock.now_iso())  # queue, four eyes, reason: or raise
    staged = {
        **dispute,
        "resolution": {
            "outcome": body["outcome"],
            "amount": None if amount is None else format_money(amount),
            "reason": body["reason"],
            "by": who.actor,
        },
    }
    rt.store.commit(who.tenant_id, Changes(puts=[_dispute_put(staged, version)]))
    cases.decide_case(rt, who, "approval", dispute["approval_id"], outcome, body["reason"])
    return get_dispute(rt, who, dispute_id)[0]


def _not_the_preparer(rt: Runtime, who: Principal, dispute: dict[str, Any]) -> None:
    """Whoever settled the statement may not decide a dispute about it (SOP-6.3, COP-6.2)."""
    if _settlement(rt, who.tenant_id, dispute["settlement_id"])["settled_by"] == who.actor:
        raise Forbidden("the person who prepared the settlement may not decide a dispute about it")


def apply_dispute_decision(rt: Runtime, case: dict[str, Any], who: Principal) -> Changes:
    """The dispute's approval was decided (here or through /v1/approvals): accepted → an adjustment for the next
    run; rejected → the reason. Effect of `rebate.dispute` (services.cases.EFFECTS)."""
    tenant, book = _book(rt, who.tenant_id)
    stored = rt.store.get(who.tenant_id, DISPUTES, case["subject"]["id"])
    if stored is None:
        raise NotFound(f"no dispute {case['subject']['id']}")
    dispute = stored.data
    _not_the_preparer(rt, who, dispute)
    decision = case["decision"]
    staged = dispute.get("resolution") or {}
    if staged.get("by") != who.actor:
        staged = {}
    accepted = case["status"] == "approved"
    resolution = {
        "outcome": "accepted" if accepted else "rejected",
        "amount": (staged.get("amount") or dispute["amount"]) if accepted else None,
        "reason": staged.get("reason") or decision.get("note"),
        "by": who.actor,
        "at": decision["at"],
        "approval_id": case["case_id"],
    }
    resolved = {**dispute, "status": resolution["outcome"], "resolution": resolution}
    rule = book.dispute_rule
    changes = Changes(
        puts=[_dispute_put(resolved, stored.version)],
        audit=[
            AuditEntry(
                actor=who.actor,
                actor_role=who.role.value,
                action=f"rebate_dispute.{resolution['outcome']}",
                subject=dispute["dispute_id"],
                outcome=resolution["outcome"],
                inputs={
                    "disputed": dispute["amount"],
                    "settled_amount": dispute["settled_amount"],
                    "accepted": resolution["amount"],
                    "reason": resolution["reason"],
                    "approval_id": case["case_id"],
                },
                policy_version=tenant.policy_version,
                rule_ids=(rule.rule_id,),
                clauses=(rule.clause,),
            )
        ],
        events=[DomainEvent(SOURCE, "dispute.resolved", _dispute_event(resolved))],
    )
    if accepted:
        adjustment = {
            "dispute_id": dispute["dispute_id"],
            "settlement_id": dispute["settlement_id"],
            "partner_id": dispute["partner_id"],
            "program_id": dispute["program_id"],
            "period": dispute["period"],
            "amount": resolution["amount"],
            "status": "pending",
            "accepted_at": decision["at"],
        }
        changes.puts.append(_adjustment_put(adjustment, None))
    return changes
