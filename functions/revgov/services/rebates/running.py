"""The running accrual (#17): an event's new lines added to each accrual they fall in, in O(programs) per period.

`advance` commits an event's new rebate lines together with every accrual they change: the sums of each partner period
(`domain.rebates.running`), the accrual record rated from them, the lines' repeat keys. Lines and sums are written in
one commit, so a projected line is a line every later sums count; a line projected another way (`projection.write`)
marks its periods stale and their next refresh re-rates them in full (`refresh_accrual`, which stores fresh sums).
Where the sums cannot stand for the lines (`running.add_lines` refusals; a line counted before that changed, such as
a usage line re-rated or an invoice paid; a repeat of a line counted before, PA-7.7(d); a settled period, PA-7.10;
a growth baseline period changed since, PA-7.3) `advance` writes nothing and the caller projects and re-rates as
before: the full re-rating happens only then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...domain.rebates.lines import duplicate_keys
from ...domain.rebates.policy import PartnerFacts, Period, RebateBook, baseline_period, line_periods
from ...domain.tenants import Tenant
from ...ports import Changes, Put, Stored
from ...runtime import Runtime
from .. import tenants
from . import repository
from .accrual_record import accrual_changes, accrual_of
from .book import facts_of, today
from .rating import partner_period_lines, rate_lines, rate_lines_in

if TYPE_CHECKING:
    from ...domain.rebates.result import PeriodResult
    from ...domain.rebates.running import Running

MAX_LINES = 10  # an event's lines written with their sums in one commit (DynamoDB's 100 items per transaction)


def watched(book: RebateBook, period: Period, facts: PartnerFacts) -> list[str]:
    """The periods whose lines the sums of `period` depend on beyond its own: growth baselines (PA-7.3, PA-7.4)."""
    found = (baseline_period(p, facts, period) for p in book.programs_for(period.kind) if p.model == "growth")
    return sorted({p.name for p in found if p is not None})


def _versions(rt: Runtime, tenant_id: str, names: list[str], partner_id: str) -> dict[str, int | None]:
    keys = {repository.running_key(n, partner_id): n for n in names}
    found = repository.running_states(rt, tenant_id, list(keys))
    return {name: (found[key].version if key in found else None) for key, name in keys.items()}


@dataclass(frozen=True)
class Step:
    """One partner period of the event: its stored sums, its facts and the event's new lines in it."""

    tenant: Tenant
    book: RebateBook
    partner_id: str
    period: Period
    facts: PartnerFacts
    stored: Stored
    lines: list[dict[str, Any]]


def _fresh(step: Step, rt: Runtime) -> Running | None:
    """The stored sums, if they still stand for the period's lines (not stale, baselines unchanged since)."""
    # numpy (the engine): imported where a period is rated, not when the API is imported (Lambda cold start)
    from ...domain.rebates.running import Running

    data = step.stored.data
    if data.get("stale"):
        return None
    names = watched(step.book, step.period, step.facts)
    if _versions(rt, step.tenant.tenant_id, names, step.partner_id) != data.get("watch", {}):
        return None
    return Running.from_record({k: v for k, v in data.items() if k != "watch"})


def _rated(steps: list[Step]) -> dict[tuple[str, str], PeriodResult]:
    """The event's new lines rated on their own in each step's period, once for all the periods that share the
    partner, the lines and the partner's facts (a shipment's line counts in its Quarter and its month: one ledger,
    each program's eligibility worked out once)."""
    together: dict[tuple[str, tuple[str, ...], PartnerFacts], list[Step]] = {}
    for step in steps:
        key = (step.partner_id, tuple(ln["line_id"] for ln in step.lines), step.facts)
        together.setdefault(key, []).append(step)
    rated: dict[tuple[str, str], PeriodResult] = {}
    for group in together.values():
        first = group[0]
        results = rate_lines_in(first.book, first.lines, [s.period for s in group], {first.partner_id: first.facts})
        rated.update({(s.partner_id, s.period.name): r for s, r in zip(group, results, strict=True)})
    return rated


def _step_changes(rt: Runtime, step: Step, event_id: str | None, mini: PeriodResult) -> Changes | None:
    """The period's new sums, accrual, repeat keys and audit, or None where only a full re-rating is exact."""
    # numpy (the engine): imported where a period is rated, not when the API is imported (Lambda cold start)
    from ...domain.rebates.running import add_lines, result_of

    running = _fresh(step, rt)
    if running is None:
        return None
    tenant_id, pid, name = step.tenant.tenant_id, step.partner_id, step.period.name
    keys = {repository.accrual_key(name, pid, k): ln["line_id"] for ln in step.lines for k in duplicate_keys(ln)}
    if len(keys) < sum(len(duplicate_keys(ln)) for ln in step.lines) or repository.known_keys(rt, tenant_id, [*keys]):
        return None  # a line repeating another of the event, or one counted before (PA-7.7(d))
    updated = add_lines(running, step.book, step.tenant.policy_version, mini, step.facts)
    if updated is None:
        return None
    result = result_of(updated, step.book, step.period, step.facts)
    accrual = accrual_of(step.tenant, step.facts, result, line_count=updated.line_count, findings=updated.findings,
                         now=rt.clock.now_iso())  # fmt: skip
    changes = accrual_changes(step.tenant, accrual, event_id)
    record = {**updated.as_record(), "watch": step.stored.data.get("watch", {})}
    changes.puts += [
        repository.running_put(record, step.stored),
        repository.accrual_put(accrual, repository.accrual(rt, tenant_id, name, pid)),
        *(repository.accrual_key_put(k, line_id, new=True) for k, line_id in keys.items()),
    ]
    return changes


def _steps(
    rt: Runtime, tenant: Tenant, book: RebateBook, due: Mapping[tuple[str, Period], list[dict[str, Any]]]
) -> list[Step] | None:
    """Each due partner period with its stored sums and facts; None if one has none yet, is settled, or its partner
    is gone."""
    keys = [repository.running_key(period.name, pid) for pid, period in due]
    stored = repository.running_states(rt, tenant.tenant_id, keys)
    records = repository.partners(rt, tenant.tenant_id, sorted({pid for pid, _ in due}))
    steps = []
    for (pid, period), lines in due.items():
        state = stored.get(repository.running_key(period.name, pid))
        if state is None or pid not in records or repository.period_state(rt, tenant.tenant_id, period.name):
            return None
        facts = facts_of(rt, tenant, records[pid], period, today(rt))
        steps.append(Step(tenant, book, pid, period, facts, state, lines))
    return steps


def advance(rt: Runtime, tenant: Tenant, book: RebateBook, new: list[dict[str, Any]], event_id: str | None) -> bool:
    """Commit `new` (rebate lines never projected before) with the sums and accrual of every period they fall in;
    False (nothing written) where a full re-rating is needed."""
    if not new or len(new) > MAX_LINES:
        return False
    due: dict[tuple[str, Period], list[dict[str, Any]]] = {}
    for line in new:
        for period in line_periods(book, line):
            due.setdefault((line["partner_id"], period), []).append(line)
    steps = _steps(rt, tenant, book, due)
    if steps is None:
        return False
    changes = Changes(puts=[repository.projection_put(line, new=True) for line in new])
    rated = _rated(steps)
    for step in steps:
        found = _step_changes(rt, step, event_id, rated[(step.partner_id, step.period.name)])
        if found is None:
            return False
        changes = changes.merge(found)
    if tenants.exists(rt, tenant.tenant_id):  # offboarded while this ran: write nothing into a deleted tenant
        rt.commit(tenant.tenant_id, changes)
    return True


def full_sums(
    rt: Runtime, tenant: Tenant, book: RebateBook, period: Period, facts: PartnerFacts
) -> tuple[PeriodResult, list[Put]]:
    """A full re-rating of the partner's period (every line), with the writes that store it as fresh sums: the repeat
    keys of its lines not yet held (written first, on their own) and the sums' record over the one read."""
    # numpy (the engine): imported where a period is rated, not when the API is imported (Lambda cold start)
    from ...domain.rebates.running import running_of

    pid, tenant_id = facts.partner_id, tenant.tenant_id
    key = repository.running_key(period.name, pid)
    state = repository.running_states(rt, tenant_id, [key]).get(key)
    watch = _versions(rt, tenant_id, watched(book, period, facts), pid)
    lines = partner_period_lines(rt, tenant_id, book, period, pid, facts)
    result = rate_lines(book, lines, period, {pid: facts})
    keys = {repository.accrual_key(period.name, pid, k): ln["line_id"] for ln in lines for k in duplicate_keys(ln)}
    missing = sorted(set(keys) - repository.known_keys(rt, tenant_id, sorted(keys)))
    repository.commit_in_chunks(rt, tenant_id, [repository.accrual_key_put(k, keys[k], new=False) for k in missing])
    record = {**running_of(result, pid, facts, tenant.policy_version).as_record(), "watch": watch}
    return result, [repository.running_put(record, state)]
