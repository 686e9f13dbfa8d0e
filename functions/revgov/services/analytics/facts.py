"""`record_fact`, the use case of the `update_kpis` handler: one bus event folded into the rollups of its month.

An invoice line posted, a quote checked, a pricing approval decided, an exception opened, support time logged, a
partner's status or tier changed: each folds into the rollups of its month for three scopes (`all`, its tier, its
partner), in one commit with a marker that makes a redelivery a no-op and with optimistic versions on the rollups
(a lost race reads again and retries).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from ...domain import kpis as core
from ...domain.billing import SLA_TRACKED, billed_to_customer, sla_clock_start
from ...domain.errors import ConcurrentUpdate, MalformedRequest, NotFound, StaleWrite
from ...domain.kpis import Delta
from ...domain.time import instant
from ...logs import logger
from ...ports import Changes, Put, Stored
from ...runtime import Runtime
from .. import tenants
from ..billing import SALES_FACTS, line_of
from ..case_repository import read as read_case
from ..decision_repository import recorded_tier
from ..erp import INBOUND
from ..toolkit import retry_on_conflict
from .rollups import (
    DIRECT,
    DIRECTORY,
    KEEP_SECONDS,
    LINES,
    ROLLUPS,
    SEEN,
    _directory,
    _fold,
    _marker,
    _month_of_instant,
    _seen,
    _tier_of,
    replacing,
)

_ATTEMPTS = 10
_T = TypeVar("_T")


# facts counted once waiting to be folded, per tenant in order: (index in the batch, detail, its plan)
_Runs = dict[str, list[tuple[int, dict[str, Any], Callable[..., "_Count | str"]]]]


def record_fact(rt: Runtime, bus_event: dict[str, Any]) -> str:
    """Fold one bus event into the rollups; returns what it did (for logs and tests)."""
    outcome = record_facts(rt, [bus_event])[0]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def record_facts(rt: Runtime, bus_events: list[dict[str, Any]]) -> list[str | Exception]:
    """Fold a batch of bus events (an `update_kpis` invocation's), each as `record_fact` would, in order; returns
    each one's outcome, or the error it failed with (the others stand).

    Consecutive facts counted once (quotes checked, approvals, exceptions, support time) of one tenant are folded in
    one commit; if that commit cannot be made, each is folded on its own, so one event's failure is its own."""
    outcomes: list[str | Exception] = ["ignored"] * len(bus_events)
    run: _Runs = {}
    for index, bus_event in enumerate(bus_events):
        try:
            kind, tenant_id, detail = _fact_of(bus_event)
        except MalformedRequest as refused:
            outcomes[index] = refused
            continue
        if kind in COUNTED:
            run.setdefault(tenant_id, []).append((index, detail, COUNTED[kind]))
            continue
        alone = FACTS.get(kind) or (_partner_changed if kind.startswith("revgov.partner:") else None)
        if alone is None:
            continue
        _count_runs(rt, run, outcomes)  # what came before it first: a partner change moves the tiers after it
        try:
            outcomes[index] = _record_alone(rt, tenant_id, detail, alone)
        except Exception as failed:  # reported in its place, as the handler reports each event's
            outcomes[index] = failed
    _count_runs(rt, run, outcomes)
    return outcomes


def _fact_of(bus_event: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    detail = bus_event.get("detail")
    if not isinstance(detail, dict) or not detail.get("tenant_id") or not detail.get("event_id"):
        raise MalformedRequest("a bus event needs detail.tenant_id and detail.event_id")
    return f"{bus_event.get('source')}:{bus_event.get('detail-type')}", str(detail["tenant_id"]), detail


def _tenant_gone(rt: Runtime, tenant_id: str) -> bool:
    try:
        tenants.load_tenant(rt, tenant_id)
    except NotFound:
        return True  # offboarded meanwhile: nothing to count, nothing to write
    return False


def _retrying(event_id: Any, work: Callable[[], _T]) -> _T:
    # another fact moved the same rollup, or the same fact was just counted: read again
    return retry_on_conflict(
        work, attempts=_ATTEMPTS,
        exhausted=lambda: ConcurrentUpdate(f"KPI rollups for event {event_id} lost the race {_ATTEMPTS} times"),
    )


def _record_alone(
    rt: Runtime, tenant_id: str, detail: dict[str, Any], use_case: Callable[[Runtime, str, dict[str, Any]], str]
) -> str:
    if _tenant_gone(rt, tenant_id):
        return "no such tenant"
    return _retrying(detail["event_id"], lambda: use_case(rt, tenant_id, detail))


def _count_runs(rt: Runtime, run: _Runs, outcomes: list[str | Exception]) -> None:
    """Each tenant's run of facts counted once: planned one by one, folded in one commit (else one by one)."""
    for tenant_id, facts in run.items():
        try:
            if _tenant_gone(rt, tenant_id):
                for index, _, _ in facts:
                    outcomes[index] = "no such tenant"
                continue
        except Exception as failed:  # every fact of the run fails with it
            for index, _, _ in facts:
                outcomes[index] = failed
            continue
        planned: list[tuple[int, dict[str, Any], _Count]] = []
        for index, detail, plan in facts:
            try:
                count = plan(rt, tenant_id, detail)
            except Exception as failed:  # its own failure
                outcomes[index] = failed
                continue
            if isinstance(count, str):
                outcomes[index] = count
            else:
                planned.append((index, detail, count))
        _fold_counts(rt, tenant_id, planned, outcomes)
    run.clear()


def _fold_counts(
    rt: Runtime, tenant_id: str, planned: list[tuple[int, dict[str, Any], _Count]], outcomes: list[str | Exception]
) -> None:
    counts = [count for _, _, count in planned]
    if len(planned) > 1:
        try:
            done = _retrying(planned[0][1]["event_id"], lambda: _counted_once(rt, tenant_id, counts))
        except Exception:  # folded one by one below, each with its own outcome
            logger.info("KPI facts folded one by one", extra={"tenant_id": tenant_id, "facts": len(planned)})
        else:
            for (index, _, _), outcome in zip(planned, done, strict=True):
                outcomes[index] = outcome
            return
    for index, detail, count in planned:
        try:
            outcomes[index] = _retrying(detail["event_id"], partial(_counted_alone, rt, tenant_id, count))
        except Exception as failed:  # its own failure
            outcomes[index] = failed


def _lines_posted(rt: Runtime, tenant_id: str, detail: dict[str, Any]) -> str:
    line_ids = [str(x) for x in detail.get("line_ids", [])]
    facts = rt.store.get_many([(tenant_id, SALES_FACTS, line_id) for line_id in line_ids])
    counted = rt.store.get_many([(tenant_id, LINES, line_id) for line_id in line_ids])
    expires_at = rt.clock.now_ms() // 1000 + KEEP_SECONDS
    changes = Changes()
    deltas: list[tuple[str, str, str | None, Delta]] = []
    tier_now: str | None = None
    direct = True  # every line of the event is on a direct invoice (PA-8.1 / CPA-8.1, PA-8.2)
    for line_id in line_ids:
        fact = facts.get((tenant_id, SALES_FACTS, line_id))
        if fact is None:  # billing committed it, this read does not see it yet: a stale read, read again
            raise StaleWrite(f"sales fact {line_id} is not readable yet")
        before = counted.get((tenant_id, LINES, line_id))
        if before is not None:
            tier = str(before.data["tier"])  # a re-rated line moves where it was first counted
        elif billed_to_customer(fact.data):
            tier = DIRECT
        else:
            tier_now = tier_now or _tier_of(rt, tenant_id, str(fact.data["partner_id"]))
            tier = tier_now
        direct = direct and tier == DIRECT
        change = _line_change(line_id, fact, before, tier, expires_at, _credit_of(rt, tenant_id, fact))
        if change is not None:
            partner_id = None if tier == DIRECT else str(fact.data["partner_id"])
            deltas.append((str(fact.data["period"]), tier, partner_id, change[0]))
            changes.puts.append(change[1])
    source = detail.get("source_event_id")
    if source and not _seen(rt, tenant_id, f"src#{source}"):
        # an ERP event whose lines all went on the Distributor's direct invoices is the direct bucket's transaction
        direct = direct and bool(line_ids)
        partner_id = None if direct else detail.get("partner_id")
        tier = DIRECT if direct else tier_now or _tier_of(rt, tenant_id, partner_id)
        month = _month_of_instant(detail["occurred_at"])
        bucket, hours = _cycle(rt, tenant_id, str(source), detail["occurred_at"])
        delta = Delta(billed_events=1, cycle_events=1 if bucket else 0, cycle_bucket=bucket)
        deltas.append((month, tier, partner_id, delta))
        changes.puts.append(_marker(rt, f"src#{source}", {"event_id": source, "cycle_hours": hours}))
    _fold(rt, tenant_id, deltas, changes)
    if not changes.puts:
        return "already counted"
    rt.store.commit(tenant_id, changes)
    return f"counted {len(deltas)} change(s)"


def _credit_of(rt: Runtime, tenant_id: str, fact: Stored) -> core.Credit | None:
    """For a credit note's sales fact: its reason code and whether the line it credits carried a cost (read from
    billing's invoice line, as rebates read it); None for any other line."""
    if fact.data.get("kind") != "credit_note":
        return None
    invoice_id, _, number = str(fact.data["line_id"]).rpartition(".")
    line = line_of(rt, tenant_id, invoice_id, int(number)) if number.isdigit() else None
    credited_line = (line.data if line else {}).get("references_line")
    credited = rt.store.get(tenant_id, SALES_FACTS, str(credited_line)) if credited_line else None
    return core.Credit(
        reason=((line.data if line else {}).get("detail") or {}).get("reason"),
        credited_has_cost=credited is not None and credited.data.get("cost") is not None,
    )


def _line_change(
    line_id: str, fact: Stored, before: Stored | None, tier: str, expires_at: int, credit: core.Credit | None = None
) -> tuple[Delta, Put] | None:
    """What a sales fact line adds to the rollups (a re-rated line: the difference from what was counted) and the
    record of what is now counted of it; None when nothing moves."""
    partner_id = str(fact.data["partner_id"])
    # a direct sale is no partner's revenue (PA-1.2 / CPA-1.2): none in the per-partner revenue of the rollups
    owner = None if tier == DIRECT else partner_id
    net, cost = Decimal(fact.data["net_amount"]), fact.data.get("cost")
    now = core.sales_delta(net, Decimal(cost) if cost is not None else None, owner, new_line=before is None,
                           credit=credit)
    counted = {"revenue_minor": now.revenue_minor, "margin_revenue_minor": now.margin_revenue_minor,
               "cost_minor": now.cost_minor}
    if before is not None:
        was = before.data
        now = Delta(
            revenue_minor=now.revenue_minor - int(was["revenue_minor"]),
            margin_revenue_minor=now.margin_revenue_minor - int(was["margin_revenue_minor"]),
            cost_minor=now.cost_minor - int(was["cost_minor"]),
            partner_id=owner,
        )
    if now.is_zero:
        return None
    line = {"line_id": line_id, "month": fact.data["period"], "tier": tier, "partner_id": partner_id, **counted}
    return now, replacing(LINES, line_id, line, before, expires_at=expires_at)


def _cycle(rt: Runtime, tenant_id: str, source_event_id: str, posted_at: str) -> tuple[str | None, float | None]:
    """The invoice cycle time of a fulfilment or activation: from when it occurred (ERP; its SLA clock, SOP-2.1: no
    later than the end of the day its fact is dated) to its first line."""
    received = rt.store.get(tenant_id, INBOUND, source_event_id)
    if received is None or received.data.get("detail-type") not in SLA_TRACKED:
        return None, None
    detail = received.data["detail"]
    started = instant(sla_clock_start(detail["occurred_at"], detail.get("data"), received.data["detail-type"]))
    hours = max(0.0, (instant(posted_at) - started).total_seconds() / 3600)
    return core.cycle_bucket(hours), round(hours, 3)


@dataclass(frozen=True)
class _Count:
    """A fact counted at most once (a quote, an approval, an exception, support time): its marker key and what it
    adds to the rollups of its month, in the scope of `tier` (the tier the partner held when it was decided), else of
    the partner's tier now."""

    key: str
    month: str
    partner_id: str | None
    delta: Delta
    tier: str | None = None


def _counted_once(rt: Runtime, tenant_id: str, counts: list[_Count]) -> list[str]:
    """Fold each count not counted before (nor earlier in `counts`) into the rollups, all in one commit with their
    markers; the outcome of each, in order."""
    markers = rt.store.get_many([(tenant_id, SEEN, c.key) for c in counts])
    changes, deltas, outcomes = Changes(), [], []
    tiers: dict[str | None, str] = {}  # the partners' tiers now, read once per commit
    keys: set[str] = set()
    for count in counts:
        if (tenant_id, SEEN, count.key) in markers or count.key in keys:
            outcomes.append("already counted")
            continue
        keys.add(count.key)
        tier = count.tier
        if tier is None:
            tier = tiers[count.partner_id] = tiers.get(count.partner_id) or _tier_of(rt, tenant_id, count.partner_id)
        changes.puts.append(_marker(rt, count.key, {"partner_id": count.partner_id}))
        deltas.append((count.month, tier, count.partner_id, count.delta))
        outcomes.append("counted")
    _fold(rt, tenant_id, deltas, changes)
    if changes.puts:
        rt.store.commit(tenant_id, changes)
    return outcomes


def _counted_alone(rt: Runtime, tenant_id: str, count: _Count) -> str:
    return _counted_once(rt, tenant_id, [count])[0]


def _quote_checked(rt: Runtime, tenant_id: str, detail: dict[str, Any]) -> _Count:
    """A quote checked, and the exceptions it raised: one approval per SOP-4.1 / COP-4.1 category it matched
    (discount above the tier cap or the finance threshold, margin below the floor, non-standard terms, a rival's
    registration), "split into one exception per category"."""
    approvals = detail.get("approvals") or []
    override = detail.get("outcome") == "approval_required" or bool(approvals)
    delta = Delta(quotes=1, overrides=1 if override else 0, exceptions=len(approvals))
    month = _month_of_instant(detail["occurred_at"])
    return _Count(f"quote#{detail['decision_id']}", month, detail.get("partner_id"), delta,
                  _decision_tier(rt, tenant_id, detail["decision_id"]))


def _decision_tier(rt: Runtime, tenant_id: str, decision_id: str | None) -> str | None:
    """The tier the decision recorded for its partner (KPIs by tier count a quote and its approval in the tier
    the partner held when it was decided, not its tier when the event is handled); None when not recorded."""
    return recorded_tier(rt.store, tenant_id, decision_id) if decision_id else None


def _case_partner(rt: Runtime, tenant_id: str, case_id: str) -> str | None:
    stored = read_case(rt.store, tenant_id, case_id)
    return stored.data.get("partner_id") if stored else None


def _approval_decided(rt: Runtime, tenant_id: str, detail: dict[str, Any]) -> _Count | str:
    if (detail.get("subject") or {}).get("kind") != "decision":
        return "not a pricing approval"
    delta = Delta(approvals_decided=1, approvals_approved=1 if detail.get("outcome") == "approved" else 0)
    month = _month_of_instant(detail["occurred_at"])
    partner_id = _case_partner(rt, tenant_id, detail["case_id"])
    tier = _decision_tier(rt, tenant_id, (detail.get("subject") or {}).get("id"))
    return _Count(f"approval#{detail['case_id']}", month, partner_id, delta, tier)


def _exception_opened(rt: Runtime, tenant_id: str, detail: dict[str, Any]) -> _Count:
    """An exception opened; an out-of-scope service request (support on a lapsed family, or support beyond the
    quarterly hours without approval) is also service leakage (SOP-5.3 / COP-5.3: "recorded as service leakage for the
    support economics KPI"), with the support hours it names (`core.leaked_minutes`)."""
    month = _month_of_instant(detail["occurred_at"])
    stored = read_case(rt.store, tenant_id, detail["case_id"])
    case = stored.data if stored else {}
    delta = Delta(exceptions=1, sla_breaches=1 if detail.get("category") == "invoice_sla_breach" else 0)
    minutes = core.leaked_minutes(detail.get("category"), case.get("context") or {})
    if minutes is not None:
        delta = Delta(exceptions=1, leakage_requests=1, leakage_minutes=minutes)
    return _Count(f"exception#{detail['case_id']}", month, case.get("partner_id"), delta)


# SOP-4.1 / COP-4.1 list invoice and rebate disputes as exception categories (SOP-6.1: "the dispute is logged as an
# invoice_dispute exception"); they are filed as approvals, so their approval's opening is the exception opened.
DISPUTE_SUBJECTS = frozenset({"invoice_dispute", "rebate_dispute"})


def _approval_opened(rt: Runtime, tenant_id: str, detail: dict[str, Any]) -> _Count | str:
    """A dispute filed is a policy exception of its month; other approvals are not (a quote's are counted with the
    quote check, one per category)."""
    if (detail.get("subject") or {}).get("kind") not in DISPUTE_SUBJECTS:
        return "not an exception category"
    month = _month_of_instant(detail["occurred_at"])
    return _Count(f"exception#{detail['case_id']}", month, _case_partner(rt, tenant_id, detail["case_id"]),
                  Delta(exceptions=1))


def _support_logged(rt: Runtime, tenant_id: str, detail: dict[str, Any]) -> _Count:
    data = detail.get("data") or {}
    minutes = int((Decimal(str(data["hours"])) * 60).to_integral_value())
    month = core.month_of(date.fromisoformat(data["performed_on"]))
    key = f"support#{detail.get('erp_event_id') or detail['event_id']}"
    return _Count(key, month, data.get("partner_id"), Delta(support_minutes=minutes))


def _partner_changed(rt: Runtime, tenant_id: str, detail: dict[str, Any]) -> str:
    """The directory of partners (tier, status) that threshold attainment counts over."""
    partner_id = detail.get("partner_id")
    if not partner_id:
        return "no partner"
    stored = _directory(rt, tenant_id)
    directory = stored.data if stored else {"partners": {}}
    entry = {"tier": detail.get("tier"), "status": detail.get("status"), "at": detail["occurred_at"]}
    previous = directory["partners"].get(partner_id)
    if previous and previous.get("at", "") > entry["at"]:
        return "older than what is recorded"
    directory = {**directory, "partners": {**directory["partners"], partner_id: entry}}
    rt.store.commit(tenant_id, Changes(puts=[replacing(ROLLUPS, DIRECTORY, directory, stored)]))
    return "directory updated"


# Facts folded on their own (a line posted reads its sales facts; a partner change rewrites the directory) ...
FACTS: dict[str, Callable[[Runtime, str, dict[str, Any]], str]] = {
    "revgov.billing:invoice.lines_posted": _lines_posted,
}
# ... and facts counted once (each planned on its own: several fold in one commit when a batch brings them)
COUNTED: dict[str, Callable[[Runtime, str, dict[str, Any]], _Count | str]] = {
    "revgov.pricing:quote.checked": _quote_checked,
    "revgov.approvals:approval.decided": _approval_decided,
    "revgov.approvals:approval.opened": _approval_opened,
    "revgov.exceptions:exception.opened": _exception_opened,
    "revgov.erp:support.logged": _support_logged,
}
