"""A settlement built from rated periods: the statement lines, statements, trace pages, per-period state and header.

Pure: the service reads (the periods' ratings and settlement state, the accruals, the pending dispute adjustments),
this module computes every document of the settlement, and the service writes them. The first settlement of a
period states each program's amount and its difference from the accrual; a later run (a period marked for a
retroactive adjustment) states the difference from what was settled before (PA-7.10); an accepted dispute is paid
as an adjustment line (PA-7.9). A partner with an invoice overdue beyond the policy's limit has its statement
withheld: left out of the run's payable total and carried until a later run releases it (PA-7.8 / CPA-7.8,
domain.rebates.withholding). No numpy here: the ratings come in already made (`result.PeriodResult`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..canonical import sha256_hex
from ..money import format_money
from ..rules import Rule
from . import settlement_method
from .listing import no_amount, why_zero, zero_view
from .policy import Period, RebateBook
from .settlement_method import Payouts
from .withholding import carried, release_line, screening_withholding, statement_withholding, vat_withholding

if TYPE_CHECKING:
    from .result import Finding, PeriodResult

TRACE_PAGE_ROWS = 2000  # rows per stored trace page, so every stored item stays small
CLAIM_CHUNK = 8000  # line ids per stored claim
ZERO = Decimal(0)

Amounts = dict[str, dict[str, str]]  # partner -> program -> amount


@dataclass(frozen=True)
class RatedPeriod:
    """A period rated for this run: its own, or an earlier one marked for a retroactive adjustment."""

    period: Period
    result: PeriodResult
    state: Mapping[str, Any] | None  # the period's settlement state (runs, amounts settled); None: never settled
    marked: bool  # lines changed after it was settled (its retroactive marker)
    credit_notes: Sequence[str] = ()  # those lines


@dataclass(frozen=True)
class Overdue:
    """Who is withheld in this run: partner -> its overdue invoices as of `on`; and the amounts withheld before."""

    on: date
    partners: Mapping[str, list[dict[str, Any]]] = field(default_factory=dict)
    pending: Sequence[Mapping[str, Any]] = ()
    # CPA-7.8 "A Partner whose VAT number fails validation ... has its settlement withheld until resolved": partner ->
    # why its latest recorded check withholds (domain.vat_validation.withholds), under `vat_rule`
    vat: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    vat_rule: Rule | None = None
    # PA-2.8 "no ... incentive may be processed for the Partner while the match is unresolved" (CPA-2.8 "no ...
    # payment or incentive is processed ... until Legal resolves it"): partner -> its screening hold (reason, rule)
    screening: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def holds(self, partner_id: str) -> bool:
        return partner_id in self.partners or partner_id in self.vat or partner_id in self.screening


@dataclass(frozen=True)
class Run:
    """What identifies this settlement run and who makes it."""

    settlement_id: str
    period: Period
    run: int
    at: str
    by: str  # who prepared it (the header's `settled_by` and `prepared_by`)
    currency: str
    policy_version: str
    approved_by: str | None = None  # the second finance member who approved it (SOP-7.2 / COP-7.2); None until then


@dataclass
class Built:
    """Everything a settlement run writes except its exceptions (opened by the service from `findings`)."""

    statements: list[dict[str, Any]]
    trace_pages: dict[str, list[dict[str, Any]]]  # partner -> its statement's trace pages (page 1, 2, ...)
    # period -> its settlement state after this run: `settled` (recomputed, what later differences are taken from),
    # `adjusted_later` (what later runs paid for it under PA-7.10) and, for the run's own period,
    # `adjustments_carried` (the earlier periods' differences its runs paid), per partner
    period_states: dict[str, dict[str, Any]]
    claims: list[dict[str, Any]]  # the lines each program counted, in chunks
    adjustments: list[dict[str, Any]]  # the dispute adjustments this run pays, as settled
    header_partners: list[dict[str, Any]]
    totals: dict[str, str]
    findings: list[Finding] = field(default_factory=list)
    withheld: list[dict[str, Any]] = field(default_factory=list)  # amounts this run withholds (PA-7.8), pending
    released: list[dict[str, Any]] = field(default_factory=list)  # amounts withheld before that this run pays

    @property
    def finding_counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for finding in self.findings:
            counts[finding.category] += 1
        return dict(counts)


def build(
    book: RebateBook,
    run: Run,
    rated: Sequence[RatedPeriod],
    accrued: Amounts,
    adjustments: Sequence[Mapping[str, Any]],
    overdue: Overdue | None = None,
    payouts: Payouts | None = None,
) -> Built:
    """The settlement of `run` from its rated periods (its own first), the accruals of its own period (empty when
    the period was settled before), the accepted disputes waiting for a run, who is withheld (`overdue`) and what
    each statement's payment method is chosen from (`payouts`: the standing requests and open invoices)."""
    lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
    traces: dict[str, list[dict[str, Any]]] = defaultdict(list)
    states: dict[str, dict[str, Any]] = {}
    claims: list[dict[str, Any]] = []
    findings: list[Finding] = []
    carried_now: dict[str, Decimal] = defaultdict(Decimal)
    for one in rated:
        settled = _rate_lines(book, one, accrued, lines, traces)
        findings += one.result.findings
        runs = [
            *(one.state["runs"] if one.state else []),
            {"settlement_id": run.settlement_id, "run": run.run, "at": run.at},
        ]
        state = {"period": one.period.name, "kind": one.period.kind, "runs": runs, "settled": settled}
        before = one.state or {}
        later = {pid: Decimal(a) for pid, a in before.get("adjusted_later", {}).items()}
        if one is not rated[0]:  # an earlier period's retroactive difference, paid by this run (PA-7.10)
            for pid, difference in _differences(before.get("settled", {}), settled).items():
                later[pid] = later.get(pid, Decimal(0)) + difference
                carried_now[pid] += difference
        if later:
            state["adjusted_later"] = {pid: format_money(a) for pid, a in sorted(later.items()) if a}
        states[one.period.name] = state
        claims += _claims(run.settlement_id, one.period, one.result)
    if rated and (carried_now or (rated[0].state or {}).get("adjustments_carried")):
        carried_before = (rated[0].state or {}).get("adjustments_carried", {})
        total = {pid: Decimal(a) for pid, a in carried_before.items()}
        for pid, difference in carried_now.items():
            total[pid] = total.get(pid, Decimal(0)) + difference
        states[rated[0].period.name]["adjustments_carried"] = {pid: format_money(a) for pid, a in sorted(total.items())}
    paid = []
    for adjustment in adjustments:
        lines[adjustment["partner_id"]].append(dispute_line(book, adjustment))
        paid.append({**adjustment, "status": "settled", "settled_in": run.settlement_id, "settled_at": run.at})
    released = _release(book, run, overdue, lines)
    partners = sorted(lines)  # a partner with nothing settled or adjusted gets no statement
    pages = {partner_id: trace_pages(traces.get(partner_id, [])) for partner_id in partners}
    statements = [statement(run, pid, lines[pid], accrued.get(pid, {}), findings, len(pages[pid])) for pid in partners]
    withheld = _withhold(book, run, overdue, statements)
    if payouts is not None:  # PA-7.8 / CPA-7.8: by credit note, or by bank transfer where asked and nothing is owed
        for paid_statement in statements:
            settlement_method.apply(paid_statement, settlement_method.choose(payouts, paid_statement))
            paid_statement["by_payout"] = _by_payout(paid_statement["lines"])
    header_partners = [_header_partner(s) for s in statements]
    totals = _totals(header_partners)
    return Built(statements, pages, states, claims, paid, header_partners, totals, findings, withheld, released)


def _release(
    book: RebateBook, run: Run, overdue: Overdue | None, lines: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Pay, as a line of this run, each amount withheld before whose partner has no invoice overdue any more."""
    if overdue is None:
        return []
    released = []
    for held in overdue.pending:
        if overdue.holds(held["partner_id"]):
            continue  # still overdue, or its VAT number still not validated: the amount stays withheld
        lines[held["partner_id"]].append(release_line(held))
        released.append({**held, "status": "released", "released_in": run.settlement_id, "released_at": run.at})
    return released


def _withhold(
    book: RebateBook, run: Run, overdue: Overdue | None, statements: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Mark each statement payable or withheld; a partner with an overdue invoice and a positive total is withheld
    (nothing is withheld from a statement that pays nothing), and the amount is carried as pending."""
    withheld = []
    for one in statements:
        pid = one["partner_id"]
        invoices = overdue.partners.get(pid) if overdue and book.withholding else None
        vat = overdue.vat.get(pid) if overdue and overdue.vat_rule else None
        screened = overdue.screening.get(pid) if overdue else None
        if not (invoices or vat or screened) or Decimal(one["total"]) <= 0 or overdue is None:
            one["status"] = "payable"
            continue
        one["status"] = "withheld"
        if invoices and book.withholding:
            one["withholding"] = statement_withholding(book.withholding, invoices, overdue.on)
        if vat and overdue.vat_rule:
            one["withholding"] = vat_withholding(one.get("withholding"), overdue.vat_rule, vat, overdue.on)
        if screened:
            one["withholding"] = screening_withholding(one.get("withholding"), screened, overdue.on)
        withheld.append(carried(one, run.at))
    return withheld


def _differences(before: Mapping[str, Mapping[str, str]], after: Amounts) -> dict[str, Decimal]:
    """Per partner, what a period's settled amounts changed by (its programs summed), where they changed."""
    changed = {}
    for pid in set(before) | set(after):
        difference = sum((Decimal(a) for a in after.get(pid, {}).values()), Decimal(0)) - sum(
            (Decimal(a) for a in before.get(pid, {}).values()), Decimal(0))
        if difference:
            changed[pid] = difference
    return changed


def _rate_lines(
    book: RebateBook,
    rated: RatedPeriod,
    accrued: Amounts,
    lines: dict[str, list[dict[str, Any]]],
    traces: dict[str, list[dict[str, Any]]],
) -> Amounts:
    """Add the period's statement lines and traces per partner; returns the amounts settled for it after this run."""
    result, period = rated.result, rated.period
    settled: Amounts = rated.state["settled"] if rated.state else {}
    now_settled: Amounts = {pid: dict(v) for pid, v in settled.items()}
    rated_lines = set(result.ledger.line_ids) if rated.credit_notes else set()
    references = {"credit_notes": [c for c in rated.credit_notes if c in rated_lines][:200]}
    for partner_id in sorted(set(result.partner_ids) | set(settled)):
        views = {v["program_id"]: v for v in result.programs_view(partner_id)}
        trace = {"period": period.name, **result.traces(partner_id)}
        listed = result.listed.get(partner_id, ())
        for program in book.programs_for(period.kind):
            view = views.get(program.program_id)
            new = Decimal(view["payable"]) if view else Decimal("0.00")
            if rated.state is None:
                if view is None and program.program_id not in listed:
                    continue
                was = accrued.get(partner_id, {}).get(program.program_id)
                difference = format_money(new - Decimal(was or "0"))
                extra: dict[str, Any] = {} if view else {"why_zero": why_zero(program, trace)}
                line = statement_line("settlement", period, view or zero_view(program), new, accrued=was,
                                      difference_from_accrual=difference, **extra)  # fmt: skip
            else:
                before = Decimal(settled.get(partner_id, {}).get(program.program_id, "0.00"))
                if new == before:
                    continue
                line = statement_line(
                    "adjustment",
                    period,
                    view or no_amount(program),
                    new - before,
                    rules=(book.retroactive_rule,),
                    previously_settled=format_money(before),
                    recomputed=format_money(new),
                    references=references,
                )
            lines[partner_id].append(line)
            now_settled.setdefault(partner_id, {})[program.program_id] = format_money(new)
        traces[partner_id].append(trace)
    return now_settled


def statement_line(
    kind: str, period: Period, view: Mapping[str, Any], amount: Decimal, *, rules: Sequence[Rule] = (), **extra: Any
) -> dict[str, Any]:
    """One program's line of a statement, from its rated view (`PeriodResult.programs_view`)."""
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
        "rules": once(
            [
                {"rule_id": view["program_id"], "clause": view["clause"]},
                {"rule_id": view["rule_id"], "clause": view["rule_clause"]},
                *({"rule_id": c["rule_id"], "clause": c["clause"]} for c in view.get("caps", [])),
                *(r.as_dict() for r in rules),
            ]
        ),
        "units_paid": (view.get("detail") or {}).get("units_paid"),
        "amount_before_caps": view.get("amount"),
        "cap_reduction": view.get("cap_reduction"),
        "caps_applied": caps_applied(view),
        "tier_reached": view.get("tier_reached"),
        "next_tier": view.get("next_tier"),
        **extra,
    }


def once(rules: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """Each rule and clause reference once, in first-use order (PA-7.8 "the rule and clause references used"): a
    program whose own rule rates it (the hardware SPIFF, PA-7.5) is one reference, not two."""
    return [{"rule_id": rule_id, "clause": clause} for rule_id, clause in dict.fromkeys(
        (r["rule_id"], r["clause"]) for r in rules)]  # fmt: skip


def caps_applied(view: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every cap that reduced the program's amount, with its rule, clause, limit and reduction (PA-7.8 "the caps
    applied"): a per-unit program's unit cap (PA-7.5 / CPA-7.5, inside the model: `amount_before_caps` is after it),
    then the caps across programs (PA-7.6 / CPA-7.6: `cap_reduction`)."""
    detail = view.get("detail") or {}
    applied = []
    if detail.get("unit_cap") is not None and detail.get("units", 0) > detail.get("units_paid", 0):
        reduced = Decimal(detail["uncapped_amount"]) - Decimal(view["amount"])
        applied.append({"rule_id": view["rule_id"], "clause": view["rule_clause"], "units": detail["unit_cap"],
                        "units_not_paid": detail["units"] - detail["units_paid"],
                        "reduced_by": format_money(reduced)})  # fmt: skip
    return applied + [dict(cap) for cap in view.get("caps", [])]


def dispute_line(book: RebateBook, adjustment: Mapping[str, Any]) -> dict[str, Any]:
    """The statement line paying an accepted dispute (PA-7.9)."""
    program = book.program(adjustment["program_id"])
    return {
        "kind": "dispute_adjustment",
        "period": adjustment["period"],
        "program_id": program.program_id,
        "name": program.name,
        "model": program.model,
        "payout": program.payout,
        "amount": adjustment["amount"],
        "rule_id": book.dispute_rule.rule_id,
        "clause": book.dispute_rule.clause,
        "rules": [book.dispute_rule.as_dict(), program.rule.as_dict()],
        "references": {"dispute_id": adjustment["dispute_id"], "settlement_id": adjustment["settlement_id"]},
    }


def statement(
    run: Run,
    partner_id: str,
    lines: list[dict[str, Any]],
    accrued: Mapping[str, str],
    findings: Sequence[Finding],
    trace_page_count: int,
) -> dict[str, Any]:
    """A partner's statement: its lines numbered, totals, the difference from its accruals and its findings."""
    for number, line in enumerate(lines, start=1):
        line["line_no"] = number
    total = sum((Decimal(ln["amount"]) for ln in lines), ZERO)
    accrued_total = sum((Decimal(v) for v in accrued.values()), ZERO)
    mine = [f for f in findings if f.partner_id == partner_id]
    return {
        "settlement_id": run.settlement_id,
        "partner_id": partner_id,
        "period": run.period.name,
        "run": run.run,
        "currency": run.currency,
        "statement_date": run.at[:10],
        "prepared_by": run.by,
        "approved_by": run.approved_by,
        "lines": lines,
        "total": format_money(total),
        "accrued": format_money(accrued_total),
        "difference_from_accruals": format_money(total - accrued_total),
        "by_payout": _by_payout(lines),
        "findings": [f.as_dict() for f in mine[:200]],
        "finding_count": len(mine),
        "trace_pages": trace_page_count,
    }


def _header_partner(statement: Mapping[str, Any]) -> dict[str, Any]:
    """The statement's line of the settlement header, with the hash that binds the header to the statement."""
    shown = {k: statement[k] for k in ("partner_id", "total", "accrued", "difference_from_accruals", "status")}
    return {**shown, "lines": len(statement["lines"]), "statement_hash": sha256_hex(statement)}


def _withheld_total(header_partners: Sequence[Mapping[str, Any]]) -> Decimal:
    return sum((Decimal(p["total"]) for p in header_partners if p["status"] == "withheld"), ZERO)


def _totals(header_partners: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The run's totals: `payable` leaves out the withheld statements (the header's `withheld` states them); the
    difference from accruals is of every statement, withheld or not."""
    stated = sum((Decimal(p["total"]) for p in header_partners), ZERO)
    accrued = sum((Decimal(p["accrued"]) for p in header_partners), ZERO)
    return {
        "payable": format_money(stated - _withheld_total(header_partners)),
        "accrued": format_money(accrued),
        "difference_from_accruals": format_money(stated - accrued),
    }


def _by_payout(lines: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        sums[line["payout"]] += Decimal(line["amount"])
    return {k: format_money(v) for k, v in sorted(sums.items())}


def trace_pages(traces: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The line traces cut into pages of at most TRACE_PAGE_ROWS rows."""
    pages: list[dict[str, Any]] = []
    for trace in traces:
        for section in ("counted", "excluded"):
            for reason, entry in trace[section].items():
                rows = entry["lines"]
                for start in range(0, max(len(rows), 1), TRACE_PAGE_ROWS):
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
                            "lines": rows[start : start + TRACE_PAGE_ROWS],
                        }
                    )
    return pages


def _claims(settlement_id: str, period: Period, result: PeriodResult) -> list[dict[str, Any]]:
    """The lines each program counted in the period, in chunks (a later settlement of an overlapping period reads
    them, so a line is never claimed twice)."""
    claims = []
    for program_id in result.ratings:
        ids = result.counted_ids(program_id)
        for n, start in enumerate(range(0, len(ids), CLAIM_CHUNK)):
            claims.append(
                {
                    "key": f"{period.name}#{settlement_id}#{program_id}#{n:03d}",
                    "program_id": program_id,
                    "period": period.name,
                    "line_ids": ids[start : start + CLAIM_CHUNK],
                }
            )
    return claims


def header(
    book: RebateBook, run: Run, rated: Sequence[RatedPeriod], built: Built, exceptions: list[str]
) -> dict[str, Any]:
    """The settlement's header: what was settled, for whom, the totals, the findings and the exceptions opened."""
    return {
        "settlement_id": run.settlement_id,
        "period": run.period.name,
        "run": run.run,
        "status": "settled",
        "currency": run.currency,
        "settled_at": run.at,
        "settled_by": run.by,
        "policy_version": run.policy_version,
        "programs": [p.program_id for p in book.programs_for(run.period.kind)],
        "periods_rated": [r.period.name for r in rated],
        "dispute_adjustments": [a["dispute_id"] for a in built.adjustments],
        "partners": built.header_partners,
        "totals": built.totals,
        # staff only: which partners are withheld (PA-7.8 / CPA-7.8) and what the payable total leaves out
        "withheld": {
            "total": format_money(_withheld_total(built.header_partners)),
            "partners": [p["partner_id"] for p in built.header_partners if p["status"] == "withheld"],
            "released": [{k: h[k] for k in ("partner_id", "settlement_id", "amount")} for h in built.released],
        },
        "findings": built.finding_counts,
        "exceptions": exceptions,
        "rule_id": book.settlement_rule.rule_id,
        "clause": book.settlement_rule.clause,
    }


def cited(book: RebateBook, run: Run, rated: Sequence[RatedPeriod], built: Built) -> tuple[list[str], list[str]]:
    """The rule ids and clauses a settlement applies: settlement, qualifying revenue, the retroactive rule when a
    period was marked, the dispute rule when a dispute is paid, the withholding rule when a statement is withheld or
    a withheld amount released, the settlement method's rule when a statement states how it is paid, and every
    program of the period's kind."""
    rules = [book.settlement_rule, book.qualifying_revenue]
    rules += [book.retroactive_rule] if any(r.marked for r in rated) else []
    rules += [book.dispute_rule] if built.adjustments else []
    held = book.withholding is not None and (built.withheld or built.released)
    rules += [book.withholding.rule] if held and book.withholding is not None else []
    chosen = [s["settlement_method"] for s in built.statements if (s.get("settlement_method") or {}).get("method")]
    rules += [Rule(chosen[0]["rule_id"], chosen[0]["clause"])] if chosen else []  # PA-7.8: how statements are paid
    programs = book.programs_for(run.period.kind)
    rule_ids = list(dict.fromkeys([r.rule_id for r in rules] + [p.program_id for p in programs]))
    clauses = list(dict.fromkeys([r.clause for r in rules] + [p.rule.clause for p in programs]))
    return rule_ids, clauses
