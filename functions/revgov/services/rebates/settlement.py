"""Settlement: close a period once per (period, run), and read a settlement and its statements.

`settle` reads what the run needs (the projection brought level with billing, the periods to rate, their settlement
state, the accruals, the accepted disputes, the partners' unpaid issued invoices and the amounts withheld before),
has the domain build every document (domain.rebates.settlement), writes the statements and claims (invisible until
the header is), and commits the header, the period states, the withheld amounts, the exceptions and the audit record
once: a settlement exists with all of it or not at all.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from ...domain.access import Principal, Role
from ...domain.audit import AuditEntry
from ...domain.errors import Conflict, NotFound, RuleViolation
from ...domain.rebates import audience, withholding
from ...domain.rebates import settlement as building
from ...domain.rebates.policy import Period, RebateBook
from ...domain.rebates.settlement import Built, Overdue, RatedPeriod, Run
from ...domain.tenants import Tenant
from ...ports import Changes, DomainEvent, Stored
from ...runtime import Runtime
from . import repository
from .book import SOURCE, book, today
from .findings import open_exceptions
from .projection import sync, sync_months
from .rating import rate
from .repository import Adjustment

STAFF_ONLY = ("totals", "withheld", "findings", "exceptions")  # header fields a partner key never reads
MAX_RETRO_PERIODS = 8  # earlier periods a run adjusts at most (the rest wait for the next run)


def settle(rt: Runtime, who: Principal, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Close a period: once per (period, run). 201 with the settlement: the one made now, or the one made before
    (`replayed`: true), so a retry always gets the first answer."""
    tenant, rebates = book(rt, who.tenant_id)
    period = Period.parse(body["period"])
    run = int(body.get("run", 1))
    on = today(rt)
    rule = rebates.settlement_rule
    if on <= period.end:
        raise RuleViolation(
            f"{period.name} has not ended; a period is settled after it ends ({rule.rule_id}, {rule.clause})"
        )
    if not rebates.programs_for(period.kind):
        raise RuleViolation(f"no program of this policy is measured per {period.kind}")
    existing = repository.settlement_of_run(rt, who.tenant_id, period.name, run)
    if existing is not None:
        return 201, _replayed(rt, who, existing)
    if run > 1 and repository.settlement_of_run(rt, who.tenant_id, period.name, run - 1) is None:
        raise RuleViolation(f"run {run - 1} of {period.name} has not been settled; runs are settled in order")
    sync(rt, tenant, rebates, sync_months(rebates, period, on))
    header, changes = _prepare(rt, who, tenant, rebates, period, run, on)
    try:
        rt.commit(who.tenant_id, changes)  # the settlement, its exceptions and its audit records, or nothing
    except Conflict:  # the same period and run was settled meanwhile: answer that one
        winner = repository.settlement_of_run(rt, who.tenant_id, period.name, run)
        if winner is None:
            raise
        return 201, _replayed(rt, who, winner)
    return 201, {**summary(header, who), "replayed": False}


def _replayed(rt: Runtime, who: Principal, settlement_id: str) -> dict[str, Any]:
    return {**summary(repository.settlement(rt, who.tenant_id, settlement_id), who), "replayed": True}


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


def _prepare(
    rt: Runtime, who: Principal, tenant: Tenant, rebates: RebateBook, period: Period, run: int, on: date
) -> tuple[dict[str, Any], Changes]:
    """Rate, build and write the statements and claims; returns the header and the one commit that makes it."""
    tid = tenant.tenant_id
    this = Run(rt.ids.new("set"), period, run, rt.clock.now_iso(), who.actor, tenant.currency, tenant.policy_version)
    read = _to_rate(rt, tenant, rebates, period, on)
    rated = [r for r, _, _ in read]
    accrued = repository.accrued(rt, tid, period.name) if rated[0].state is None else {}
    adjustments = repository.pending_adjustments(rt, tid)
    overdue, pending = _overdue(rt, tenant, rebates, on)
    built = building.build(rebates, this, rated, accrued, [a for a, _ in adjustments], overdue)
    pages = [p for s in built.statements for p in repository.statement_puts(s, built.trace_pages[s["partner_id"]])]
    repository.commit_in_chunks(rt, tid, pages + repository.claim_puts(built.claims), size=10)
    changes = Changes()
    for paid, (_, version) in zip(built.adjustments, adjustments, strict=True):
        changes.puts.append(repository.adjustment_put(cast(Adjustment, paid), version))
    versions = {held["key"]: version for held, version in pending}
    changes.puts += [repository.withheld_put(held, versions[held["key"]]) for held in built.released]
    changes.puts += [repository.withheld_put(held, None) for held in built.withheld]
    exceptions = open_exceptions(rt, tenant, this, built.findings, changes)
    header = building.header(rebates, this, rated, built, exceptions)
    changes.puts += repository.settlement_puts(header, header["programs"])
    for one, state, marker in read:
        changes.puts.append(repository.period_put(built.period_states[one.period.name], state))
        if marker is not None:
            changes.deletes.append(repository.retro_delete(one.period.name))
    changes.audit.append(_audit(who, rebates, this, rated, built, header))
    changes.events.append(DomainEvent(SOURCE, "settlement.completed", _completed(this, built)))
    return header, changes


def _overdue(
    rt: Runtime, tenant: Tenant, rebates: RebateBook, on: date
) -> tuple[Overdue | None, list[tuple[dict[str, Any], int]]]:
    """Who is withheld as of `on` (PA-7.8 / CPA-7.8): each partner's issued invoices unpaid more than the policy's
    days past due (invoice date + the partner's payment terms); with the amounts withheld before, as stored."""
    rule = rebates.withholding
    if rule is None:
        return None, []
    tid = tenant.tenant_id
    unpaid = repository.unpaid_issued_invoices(rt, tid)
    owing = sorted({invoice["partner_id"] for invoice in unpaid})
    records = repository.partners(rt, tid, owing)
    terms = {pid: rule.terms_of(records.get(pid)) for pid in owing}
    pending = repository.pending_withheld(rt, tid)
    return Overdue(on, withholding.overdue(rule, unpaid, terms, on), [held for held, _ in pending]), pending


def _audit(
    who: Principal, rebates: RebateBook, run: Run, rated: list[RatedPeriod], built: Built, header: dict[str, Any]
) -> AuditEntry:
    rule_ids, clauses = building.cited(rebates, run, rated, built)
    partners = {
        p["partner_id"]: {"total": p["total"], "statement_hash": p["statement_hash"]} for p in built.header_partners
    }
    held = built.withheld
    return AuditEntry.by(
        who,
        "rebate_settlement.settled",
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
        },
        policy_version=run.policy_version,
        rule_ids=rule_ids,
        clauses=clauses,
    )


def _completed(run: Run, built: Built) -> dict[str, Any]:
    return {
        "settlement_id": run.settlement_id,
        "period": run.period.name,
        "run": run.run,
        "totals": built.totals,
        "partners": len(built.header_partners),
    }


def summary(header: dict[str, Any], who: Principal) -> dict[str, Any]:
    """The header as the caller may see it: a partner sees its own line of it only."""
    if who.role is not Role.PARTNER:
        return header
    mine = [p for p in header["partners"] if p["partner_id"] == who.partner_id]
    return {**{k: v for k, v in header.items() if k not in STAFF_ONLY}, "partners": mine}


def get_settlement(rt: Runtime, who: Principal, settlement_id: str, partner_id: str | None) -> dict[str, Any]:
    """A settlement; with a partner (always, for a partner key) that partner's statement and every line trace."""
    header = repository.settlement(rt, who.tenant_id, settlement_id)
    if who.role is Role.PARTNER:
        if partner_id not in (None, who.partner_id):
            raise NotFound(f"no settlement {settlement_id}")
        partner_id = who.partner_id
    if partner_id is None:
        return header
    statement = repository.statement(rt, who.tenant_id, settlement_id, partner_id)
    if statement is None:
        raise NotFound(f"no settlement {settlement_id}" + ("" if who.role is Role.PARTNER else f" for {partner_id}"))
    traces = repository.trace_pages(rt, who.tenant_id, settlement_id, partner_id)
    if who.role is Role.PARTNER:  # PA-11.1, PA-6.1: no rival's disputes, no margin figure
        view = {**summary(header, who), "dispute_adjustments": audience.own_disputes(header, statement)}
        return {**view, "statement": {**audience.partner_statement(statement), "traces": traces}}
    return {**header, "statement": {**statement, "traces": traces}}
