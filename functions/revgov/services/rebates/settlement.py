"""Settlement: prepare a period's run, and read a settlement, its statements and the list of runs.

`settle` PREPARES a run (SOP-7.2 / COP-7.2: the rebate run is "approved by a second member of the finance queue"
before statements and credit notes are issued): it reads what the run needs (the projection brought level with
billing, the periods to rate, their settlement state, the accruals, the accepted disputes, the partners' unpaid issued
invoices and the amounts withheld before, the standing bank transfer requests and those partners' open invoices),
has the domain build every document (domain.rebates.settlement), writes
the statements and claims (invisible until approved), and commits the prepared header, the pointer to the run's
latest preparation and the audit record: frozen figures, nothing settled, no event, nothing a partner reads.
Preparing again replaces an unapproved run whose figures changed (the same figures answer the prepared run).
A run waits for its invoices (PA-1.2 / CPA-1.2: invoices dated in the period, dated when issued): while one of the
period's months has a draft whose total is not 0.00, preparing (and approving) it is 409 `invoices_not_issued`.
`settlement_review.approve` issues it: the period states, dispute adjustments, withheld amounts, exceptions, the
settled header and `settlement.completed`, in one commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from ...domain import vat_validation as vat_rules
from ...domain.access import Principal, Role
from ...domain.audit import AuditEntry
from ...domain.errors import Conflict, NotFound, RuleViolation
from ...domain.partners import screening
from ...domain.rebates import audience
from ...domain.rebates import drafts as unissued
from ...domain.rebates import settlement as building
from ...domain.rebates import settlement_run as review
from ...domain.rebates.policy import QUARTER, Period, RebateBook, month_name
from ...domain.rebates.settlement import Built, Overdue, RatedPeriod, Run
from ...domain.tenants import Tenant
from ...domain.vat_validation import VatValidation
from ...ports import Changes, Stored
from ...runtime import Runtime
from .. import invoice_disputes, vat_validation
from ..billing import repository as billing_repository
from ..billing.overdue import owing_beyond
from . import bank_transfer, repository
from .book import book, today
from .dispute_payment import withdrawn
from .findings import open_exceptions
from .projection import sync
from .rating import rate
from .repository import Adjustment

STAFF_ONLY = ("totals", "withheld", "findings", "exceptions", *review.STAFF_ONLY)  # header fields a partner never reads
MAX_RETRO_PERIODS = 8  # earlier periods a run adjusts at most (the rest wait for the next run)


@dataclass
class Frame:
    """A run built from what it read: the documents, and the stored state each write goes over."""

    built: Built
    read: list[tuple[RatedPeriod, Stored | None, Stored | None]]
    adjustments: list[tuple[Adjustment, int]]
    pending: list[tuple[dict[str, Any], int]]

    @property
    def rated(self) -> list[RatedPeriod]:
        return [r for r, _, _ in self.read]


def settle(rt: Runtime, who: Principal, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Prepare a period's run: 201 with the prepared run; the settled one when the run was approved before, or the
    prepared one when its figures are unchanged (`replayed`: true), so a retry always gets the same answer. Each
    answer names the invoice disputes open, as of the answer, on the period's invoices (`open_disputes`: they do not
    hold it, PA-1.2 / CPA-1.2 "whenever issued"; domain.rebates.drafts)."""
    status, answer = _prepare(rt, who, body)
    tenant, rebates = book(rt, who.tenant_id)
    months = [month_name(m) for m in Period.parse(answer["period"]).months]
    disputes = invoice_disputes.open_on(rt, tenant, months)
    return status, {**answer, "open_disputes": unissued.open_disputes(rebates.qualifying_revenue, disputes)}


def _prepare(rt: Runtime, who: Principal, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    tenant, rebates = book(rt, who.tenant_id)
    period = Period.parse(body["period"])
    run = int(body.get("run", 1))
    on = today(rt)
    _settleable(rebates, period, on)
    existing = repository.settlement_of_run(rt, who.tenant_id, period.name, run)
    if existing is not None:
        return 201, {**summary(repository.settlement(rt, who.tenant_id, existing), who), "replayed": True}
    if run > 1 and repository.settlement_of_run(rt, who.tenant_id, period.name, run - 1) is None:
        raise RuleViolation(f"run {run - 1} of {period.name} has not been approved; runs are settled in order")
    sync(rt, tenant, rebates, period, on)
    pointer = repository.preparation(rt, who.tenant_id, period.name, run)
    current = repository.stored_settlement(rt, who.tenant_id, pointer.data["settlement_id"]) if pointer else None
    this = Run(rt.ids.new("set"), period, run, rt.clock.now_iso(), who.actor, tenant.currency, tenant.policy_version)
    frame = build_run(rt, tenant, rebates, this, on)
    refuse_drafts(rt, who.tenant_id, rebates, period, "prepared")
    digest = review.figures_hash(frame.built, this.settlement_id)
    if current is not None and current.data["status"] == review.PREPARED and _same(current.data, digest, tenant):
        return 201, {**summary(current.data, who), "replayed": True}
    header = review.prepared(
        building.header(rebates, this, frame.rated, frame.built, []),
        who.key_id,
        on,
        digest,
        review.deadlines(_review_rule(tenant, rebates), period),
    )
    write_documents(rt, who.tenant_id, frame.built)
    changes = Changes(puts=[repository.header_put(header, None), repository.preparation_put(header, pointer)])
    if current is not None and current.data["status"] == review.PREPARED:
        changes.puts.append(repository.header_put(review.replaced(current.data, this.settlement_id), current))
    changes.audit.append(audit_entry(who, rebates, this, frame, header, "rebate_settlement.prepared"))
    try:
        rt.commit(who.tenant_id, changes)  # the prepared run and its audit record, or nothing
    except Conflict:  # approved or prepared meanwhile: answer that run when its figures are these, else refuse
        winner = _winner(rt, tenant, period.name, run, digest)
        if winner is None:
            raise
        return 201, {**summary(winner, who), "replayed": True}
    return 201, {**summary(header, who), "replayed": False}


def _winner(rt: Runtime, tenant: Tenant, period: str, run: int, digest: str) -> dict[str, Any] | None:
    """The run that won a race to prepare (or approve) this period and run: the approved one, or the prepared one
    with the same figures (concurrent closes make one run); None when the winner states other figures."""
    approved = repository.settlement_of_run(rt, tenant.tenant_id, period, run)
    if approved is not None:
        return repository.settlement(rt, tenant.tenant_id, approved)
    pointer = repository.preparation(rt, tenant.tenant_id, period, run)
    found = repository.find_settlement(rt, tenant.tenant_id, pointer.data["settlement_id"]) if pointer else None
    return found if found and found["status"] == review.PREPARED and _same(found, digest, tenant) else None


def run_approved(rt: Runtime, tenant_id: str, period: str) -> bool:
    """Whether the period's rebate run (run 1) is approved: its statements issued (SOP-7.3 / COP-7.2's freeze)."""
    return repository.settlement_of_run(rt, tenant_id, period, 1) is not None


def refuse_drafts(rt: Runtime, tenant_id: str, rebates: RebateBook, period: Period, doing: str) -> None:
    """409 while an invoice of the period's months is a draft with a total other than 0.00 (PA-1.2 / CPA-1.2: counted
    once issued, the day it is dated; domain.rebates.drafts)."""
    drafts = billing_repository.draft_invoices(rt, tenant_id, [month_name(m) for m in period.months])
    unissued.refuse_drafts(rebates.qualifying_revenue, period, drafts, doing)


def _settleable(rebates: RebateBook, period: Period, on: date) -> None:
    rule = rebates.settlement_rule
    if on <= period.end:
        raise RuleViolation(
            f"{period.name} has not ended; a period is settled after it ends ({rule.rule_id}, {rule.clause})"
        )
    if not rebates.programs_for(period.kind):
        raise RuleViolation(f"no program of this policy is measured per {period.kind}")


def _same(header: dict[str, Any], digest: str, tenant: Tenant) -> bool:
    return bool(header["figures_hash"] == digest and header["policy_version"] == tenant.policy_version)


def _review_rule(tenant: Tenant, rebates: RebateBook) -> review.Review:
    return review.Review.of(tenant.policy, rebates.settlement_rule)


def build_run(rt: Runtime, tenant: Tenant, rebates: RebateBook, this: Run, on: date,
              requests: Mapping[str, Mapping[str, Any]] | None = None) -> Frame:  # fmt: skip
    """Rate and build the run as of `on` (its own period first, then the earlier ones marked for adjustment).
    `requests`: the bank-transfer requests the run was prepared with (approval: `prepared_requests`); without, the
    requests standing now (preparation)."""
    read = _to_rate(rt, tenant, rebates, this.period, on)
    rated = [r for r, _, _ in read]
    accrued = repository.accrued(rt, tenant.tenant_id, this.period.name) if rated[0].state is None else {}
    adjustments = repository.pending_adjustments(rt, tenant.tenant_id)
    partner_ids = {p for r in rated for p in r.result.partner_ids} | {a["partner_id"] for a, _ in adjustments}
    overdue, pending = _overdue(rt, tenant, rebates, on, this.period, partner_ids)
    paid = bank_transfer.payouts(rt, tenant, partner_ids | {held["partner_id"] for held, _ in pending}, on,
                                 standing=requests)  # fmt: skip
    built = building.build(rebates, this, rated, accrued, [a for a, _ in adjustments], overdue, paid)
    return Frame(built, read, adjustments, pending)


def prepared_requests(rt: Runtime, tenant_id: str, header: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The bank-transfer requests a prepared run read (partner -> {requested_at}), from its prepared statements:
    approval pays what was prepared, so a partner's own request made or withdrawn meanwhile is the next run's
    (red team 12: toggling it held back every partner's settlement of the run with 409 figures_changed)."""
    keys = [f"{header['settlement_id']}#{p['partner_id']}#000" for p in header.get("partners", [])]
    found = repository.get_many(rt, tenant_id, repository.STATEMENTS, keys)
    return {s["partner_id"]: {"requested_at": m["requested_at"]} for s in found.values()
            if (m := s.get("settlement_method")) and m.get("bank_transfer_requested")}  # fmt: skip


def write_documents(rt: Runtime, tenant_id: str, built: Built) -> None:
    """The statements, their trace pages and the claims: nothing points at them until a header does."""
    pages = [p for s in built.statements for p in repository.statement_puts(s, built.trace_pages[s["partner_id"]])]
    repository.commit_in_chunks(rt, tenant_id, pages + repository.claim_puts(built.claims), size=10)


def _to_rate(
    rt: Runtime, tenant: Tenant, rebates: RebateBook, period: Period, on: date
) -> list[tuple[RatedPeriod, Stored | None, Stored | None]]:
    """The run's own period and the earlier periods of its kind marked for a retroactive adjustment, rated; with
    each one's settlement state and marker as stored."""
    tid = tenant.tenant_id
    marked = [m for m in repository.retro_markers(rt, tid) if m.data["kind"] == period.kind and m.key != period.name]
    periods = [(period, repository.retro_marker(rt, tid, period.name))]
    periods += [(Period.parse(m.key), m) for m in marked[:MAX_RETRO_PERIODS]]
    rated = []
    for one, marker in periods:
        result, _ = rate(rt, tenant, rebates, one, on)
        state = repository.period_state(rt, tid, one.name)
        credit_notes = tuple(marker.data["line_ids"]) if marker else ()
        rated.append(
            (RatedPeriod(one, result, state.data if state else None, marker is not None, credit_notes), state, marker)
        )
    return rated


def settled_changes(rt: Runtime, tenant: Tenant, this: Run, frame: Frame) -> tuple[list[str], Changes]:
    """What issuing the run settles, in the approval's one commit: the dispute adjustments paid, the withheld amounts
    released and carried, the period states, the retroactive markers consumed; and the exceptions its findings open."""
    built = frame.built
    changes = Changes()
    for paid, (_, version) in zip(built.adjustments, frame.adjustments, strict=True):
        changes.puts.append(repository.adjustment_put(cast(Adjustment, paid), version))
        if paid.get("credit_note_id"):  # paid before its separate credit note was issued (PA-7.9)
            changes.puts += withdrawn(rt, tenant.tenant_id, cast(Adjustment, paid), this.settlement_id)
    versions = {held["key"]: version for held, version in frame.pending}
    changes.puts += [repository.withheld_put(held, versions[held["key"]]) for held in built.released]
    changes.puts += [repository.withheld_put(held, None) for held in built.withheld]
    exceptions = open_exceptions(rt, tenant, this, built.findings, changes)
    for one, state, marker in frame.read:
        changes.puts.append(repository.period_put(built.period_states[one.period.name], state))
        if marker is not None:
            changes.deletes.append(repository.retro_delete(one.period.name))
    return exceptions, changes


def _overdue(
    rt: Runtime, tenant: Tenant, rebates: RebateBook, on: date, period: Period, partner_ids: set[str]
) -> tuple[Overdue | None, list[tuple[dict[str, Any], int]]]:
    """Who is withheld as of `on` (PA-7.8 / CPA-7.8): each partner's issued invoices unpaid more than the policy's
    days past due (invoice date + the partner's payment terms); with the amounts withheld before, as stored."""
    rule, vat_rule = rebates.withholding, VatValidation.of(tenant.policy)
    if rule is None and vat_rule is None and screening.rule(tenant.policy) is None:
        return None, []
    tid = tenant.tenant_id
    late: dict[str, list[dict[str, Any]]] = {}
    if rule is not None:
        unpaid = repository.unpaid_issued_invoices(rt, tid)
        owing = sorted({invoice["partner_id"] for invoice in unpaid})
        records = repository.partners(rt, tid, owing)
        terms = {pid: rule.terms_of(records.get(pid)) for pid in owing}
        late = owing_beyond(rt, tid, unpaid, terms, rule.standard_terms_days, on, rule.overdue_days)  # SOP-6.1
    pending = repository.pending_withheld(rt, tid)
    vat: dict[str, dict[str, Any]] = {}
    if vat_rule is not None:  # CPA-2.3: validated "again before each quarterly rebate settlement"
        asked = sorted(set(partner_ids) | {held["partner_id"] for held, _ in pending})
        checks = vat_validation.latest_checks(rt, tid, asked)
        after = _validated_after(period)
        vat = {pid: why for pid, check in checks.items() if (why := vat_rules.withholds(check, after))}
    return Overdue(on, late, [held for held, _ in pending], vat, vat_rule.rule if vat_rule else None,
                   _screened(rt, tenant, partner_ids | {held["partner_id"] for held, _ in pending})), pending


def _screened(rt: Runtime, tenant: Tenant, partner_ids: set[str]) -> dict[str, dict[str, Any]]:
    """The partners held by an unresolved screening match now (PA-2.8 / CPA-2.8: no incentive processed)."""
    records = repository.partners(rt, tenant.tenant_id, sorted(partner_ids))
    return {pid: hold for pid, record in records.items() if (hold := screening.held_by(tenant.policy, record))}


def _validated_after(period: Period) -> date:
    """The day a partner's VAT check must be later than: a Quarter's last day (CPA-2.3 "again before each quarterly
    rebate settlement"); a monthly run asks only that the latest check did not fail."""
    return period.end if period.kind == QUARTER else date.min


def audit_entry(
    who: Principal, rebates: RebateBook, run: Run, frame: Frame, header: dict[str, Any], action: str
) -> AuditEntry:
    """The run's audit record: prepared (the frozen figures and their hash) or settled (issued on approval)."""
    built = frame.built
    rule_ids, clauses = building.cited(rebates, run, frame.rated, built)
    partners = {
        p["partner_id"]: {"total": p["total"], "statement_hash": p["statement_hash"]} for p in built.header_partners
    }
    held = built.withheld
    return AuditEntry.by(
        who,
        action,
        run.settlement_id,
        f"{run.period.name} run {run.run}: {built.totals['payable']}",
        inputs={
            "period": run.period.name,
            "run": run.run,
            "periods_rated": header["periods_rated"],
            "totals": built.totals,
            "partners": partners,
            "dispute_adjustments": header["dispute_adjustments"],
            "findings": header["findings"],
            "withheld": {h["partner_id"]: {"amount": h["amount"], "invoices": h["overdue_invoices"]} for h in held},
            "released": [h["key"] for h in built.released],
            # PA-7.8 / CPA-7.8: how each statement is paid (null: withheld or nothing payable)
            "settlement_methods": {s["partner_id"]: s["settlement_method"]["method"] for s in built.statements
                                   if "settlement_method" in s},
            "figures_hash": header["figures_hash"],
            "prepared_by": header["prepared_by"],
            "approved_by": header.get("approved_by"),
        },
        policy_version=run.policy_version,
        rule_ids=[*rule_ids, header["review"]["rule_id"]],
        clauses=[*clauses, header["review"]["clause"]],
    )


def summary(header: dict[str, Any], who: Principal, on: date | None = None) -> dict[str, Any]:
    """The header as the caller may see it: staff the whole run with its review's deadlines as of `on` (default: its
    own as-of day); a partner its own line of an issued run only."""
    if who.role is not Role.PARTNER:
        if not header.get("review"):
            return header
        return {**header, "review": review.with_overdue(header, on or date.fromisoformat(header["as_of"]))}
    mine = [p for p in header["partners"] if p["partner_id"] == who.partner_id]
    team = str(header["settled_by"]).partition(":")[0]  # a partner reads the team, never a staff key id
    return {**{k: v for k, v in header.items() if k not in STAFF_ONLY}, "partners": mine, "settled_by": team}


def get_settlement(rt: Runtime, who: Principal, settlement_id: str, partner_id: str | None) -> dict[str, Any]:
    """A settlement; with a partner (always, for a partner key) that partner's statement and every line trace.
    A partner key never reads a run that is not approved: one answer for it and a settlement that does not exist."""
    header = repository.settlement(rt, who.tenant_id, settlement_id)
    if who.role is Role.PARTNER:
        if partner_id not in (None, who.partner_id) or header["status"] != review.SETTLED:
            raise NotFound(f"no settlement {settlement_id}")
        partner_id = who.partner_id
    if partner_id is None:
        return summary(header, who, today(rt))
    statement = repository.statement(rt, who.tenant_id, settlement_id, partner_id)
    if statement is None:
        raise NotFound(f"no settlement {settlement_id}" + ("" if who.role is Role.PARTNER else f" for {partner_id}"))
    traces = repository.trace_pages(rt, who.tenant_id, settlement_id, partner_id)
    if who.role is Role.PARTNER:  # PA-11.1, PA-6.1: no rival's disputes, no margin figure
        view = {**summary(header, who), "dispute_adjustments": audience.own_disputes(header, statement)}
        return {**view, "statement": {**audience.partner_statement(statement), "traces": traces}}
    return {**summary(header, who, today(rt)), "statement": {**statement, "traces": traces}}


def list_settlements(
    rt: Runtime,
    who: Principal,
    *,
    period: str | None,
    partner_id: str | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    """Settlement runs, oldest first, a page at a time (a page may hold fewer than `limit` when filtered), each as
    `get_settlement` answers it without a partner. A partner key lists, as it reads, only issued runs with a statement
    of its own, each with its own line and disputes: a run not approved and a rival's filter list nothing."""
    if who.role is Role.PARTNER:
        if partner_id not in (None, who.partner_id) or status not in (None, review.SETTLED):
            return {"items": [], "next_cursor": None}
        partner_id, status = who.partner_id, review.SETTLED
    name = Period.parse(period).name if period else None
    headers, next_cursor = repository.settlement_page(rt, who.tenant_id, limit, cursor)
    chosen = [
        h
        for h in headers
        if (name is None or h["period"] == name)
        and (status is None or h["status"] == status)
        and (partner_id is None or any(p["partner_id"] == partner_id for p in h["partners"]))
    ]
    if who.role is not Role.PARTNER:
        on = today(rt)
        return {"items": [summary(h, who, on) for h in chosen], "next_cursor": next_cursor}
    own = repository.statements(rt, who.tenant_id, [h["settlement_id"] for h in chosen], str(who.partner_id))
    items = [  # PA-11.1, PA-6.1: as get_settlement, no rival's disputes
        {**summary(h, who), "dispute_adjustments": audience.own_disputes(h, own[h["settlement_id"]])}
        for h in chosen
        if h["settlement_id"] in own
    ]
    return {"items": items, "next_cursor": next_cursor}
