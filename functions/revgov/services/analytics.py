"""Operational intelligence: KPI rollups kept up to date as facts arrive, KPIs read from them, partner forecasts.

`record_fact` is the use case of the `update_kpis` handler: one bus event (an invoice line posted, a quote checked,
a pricing approval decided, an exception opened, support time logged, a partner's status or tier changed) folds
into the rollups of its month for three scopes (`all`, its tier, its partner), in one commit with a marker that
makes a redelivery a no-op and with optimistic versions on the rollups (a lost race reads again and retries).
Reads (`kpis`, `forecast`) touch a handful of rollup documents whatever the size of the history.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from ..domain import forecast as projections
from ..domain import kpis as core
from ..domain.access import Principal, Role
from ..domain.billing import SLA_TRACKED
from ..domain.errors import ConcurrentUpdate, Conflict, Forbidden, MalformedRequest, NotFound
from ..domain.kpis import Delta, Period, Threshold
from ..domain.partners import tiers_by_rank
from ..domain.tenants import Tenant
from ..domain.time import instant
from ..logs import logger
from ..ports import Changes, Put, Stored
from ..runtime import Runtime
from . import tenants

ROLLUPS = "KPI"  # {month}#{scope} -> rollup; "directory" -> partner id -> {tier, status}
SEEN = "KPISEEN"  # what has been counted: src#, quote#, approval#, exception#, support# markers
LINES = "KPILINE"  # sales fact line id -> what of it is counted (a re-rated line moves by the difference)
DIRECTORY = "directory"
KEEP_SECONDS = 400 * 24 * 3600
HISTORY_MONTHS = 36
_ATTEMPTS = 10


def rollup_key(month: str, scope: str) -> str:
    return f"{month}#{scope}"


# --- the handler's use case -----------------------------------------------------------------------------------------
def record_fact(rt: Runtime, bus_event: dict[str, Any]) -> str:
    """Fold one bus event into the rollups; returns what it did (for logs and tests)."""
    detail = bus_event.get("detail")
    if not isinstance(detail, dict) or not detail.get("tenant_id") or not detail.get("event_id"):
        raise MalformedRequest("a bus event needs detail.tenant_id and detail.event_id")
    kind = f"{bus_event.get('source')}:{bus_event.get('detail-type')}"
    use_case = FACTS.get(kind) or (_partner_changed if kind.startswith("revgov.partner:") else None)
    if use_case is None:
        return "ignored"
    tenant_id = str(detail["tenant_id"])
    try:
        tenants.load_tenant(rt, tenant_id)
    except NotFound:
        return "no such tenant"  # offboarded meanwhile: nothing to count, nothing to write
    for attempt in range(_ATTEMPTS):
        if attempt:
            time.sleep(random.uniform(0, min(0.2, 0.01 * 2**attempt)))  # noqa: S311 - jitter, not a secret
        try:
            return use_case(rt, tenant_id, detail)
        except Conflict:
            continue  # another fact moved the same rollup, or the same fact was just counted: read again
    raise ConcurrentUpdate(f"KPI rollups for event {detail['event_id']} lost the race {_ATTEMPTS} times")


def _marker(rt: Runtime, key: str, data: dict[str, Any]) -> Put:
    return Put(SEEN, key, data, must_be_absent=True, expires_at=rt.clock.now_ms() // 1000 + KEEP_SECONDS)


def _seen(rt: Runtime, tenant_id: str, key: str) -> bool:
    return rt.store.get(tenant_id, SEEN, key) is not None


def _directory(rt: Runtime, tenant_id: str) -> Stored | None:
    return rt.store.get(tenant_id, ROLLUPS, DIRECTORY)


def _tier_of(rt: Runtime, tenant_id: str, partner_id: str | None) -> str:
    """The partner's tier now: from the KPI directory, else its record; `none` for an unknown partner."""
    if not partner_id:
        return "none"
    directory = _directory(rt, tenant_id)
    if directory and partner_id in directory.data["partners"]:
        return str(directory.data["partners"][partner_id].get("tier") or "none")
    from .partners import load_partner

    try:
        return str(load_partner(rt, tenant_id, partner_id)[0].get("tier") or "none")
    except NotFound:
        return "none"


def _scopes(tier: str, partner_id: str | None) -> list[tuple[str, bool]]:
    """The scopes a fact counts in, and whether each keeps revenue per partner."""
    scopes = [(core.ALL, True), (f"tier:{tier}", True)]
    if partner_id:
        scopes.append((f"partner:{partner_id}", False))
    return scopes


def _fold(rt: Runtime, tenant_id: str, deltas: list[tuple[str, str, str | None, Delta]], changes: Changes) -> None:
    """Add each (month, tier, partner, delta) to its rollups; the puts carry the versions they were read at."""
    wanted: dict[tuple[str, str], tuple[bool, list[Delta]]] = {}
    for month, tier, partner_id, delta in deltas:
        if delta.is_zero:
            continue
        for scope, per_partner in _scopes(tier, partner_id):
            wanted.setdefault((month, scope), (per_partner, []))[1].append(delta)
    if not wanted:
        return
    stored = rt.store.get_many([(tenant_id, ROLLUPS, rollup_key(m, s)) for m, s in wanted])
    for (month, scope), (per_partner, list_of_deltas) in wanted.items():
        current = stored.get((tenant_id, ROLLUPS, rollup_key(month, scope)))
        rollup = current.data if current else core.empty(month, scope)
        for delta in list_of_deltas:
            rollup = core.apply(rollup, delta, per_partner=per_partner)
        changes.puts.append(
            Put(
                ROLLUPS,
                rollup_key(month, scope),
                rollup,
                must_be_absent=current is None,
                expected_version=current.version if current else None,
                conflict_detail="the KPI rollup moved meanwhile",
            )
        )


def _month_of_instant(text: str) -> str:
    return core.month_of(instant(text).date())


def _lines_posted(rt: Runtime, tenant_id: str, detail: dict[str, Any]) -> str:
    from .billing import SALES_FACTS

    line_ids = [str(x) for x in detail.get("line_ids", [])]
    facts = rt.store.get_many([(tenant_id, SALES_FACTS, line_id) for line_id in line_ids])
    counted = rt.store.get_many([(tenant_id, LINES, line_id) for line_id in line_ids])
    changes = Changes()
    deltas: list[tuple[str, str, str | None, Delta]] = []
    tier_now: str | None = None
    for line_id in line_ids:
        fact = facts.get((tenant_id, SALES_FACTS, line_id))
        if fact is None:
            raise Conflict(f"sales fact {line_id} is not readable yet")
        before = counted.get((tenant_id, LINES, line_id))
        partner_id = str(fact.data["partner_id"])
        if before is None:
            tier_now = tier_now or _tier_of(rt, tenant_id, partner_id)
            tier = tier_now
        else:
            tier = str(before.data["tier"])
        net, cost = Decimal(fact.data["net_amount"]), fact.data.get("cost")
        now = core.sales_delta(net, Decimal(cost) if cost is not None else None, partner_id, new_line=before is None)
        if before is not None:
            was = before.data
            now = Delta(
                revenue_minor=now.revenue_minor - int(was["revenue_minor"]),
                margin_revenue_minor=now.margin_revenue_minor - int(was["margin_revenue_minor"]),
                cost_minor=now.cost_minor - int(was["cost_minor"]),
                partner_id=partner_id,
            )
        if now.is_zero:
            continue
        line = {
            "line_id": line_id,
            "month": fact.data["period"],
            "tier": tier,
            "partner_id": partner_id,
            "revenue_minor": core.minor(net),
            "margin_revenue_minor": core.minor(net) if cost is not None else 0,
            "cost_minor": core.minor(Decimal(cost)) if cost is not None else 0,
        }
        changes.puts.append(
            Put(
                LINES,
                line_id,
                line,
                must_be_absent=before is None,
                expected_version=before.version if before else None,
                expires_at=rt.clock.now_ms() // 1000 + KEEP_SECONDS,
            )
        )
        deltas.append((str(fact.data["period"]), tier, partner_id, now))
    source = detail.get("source_event_id")
    if source and not _seen(rt, tenant_id, f"src#{source}"):
        partner_id = detail.get("partner_id")
        tier = tier_now or _tier_of(rt, tenant_id, partner_id)
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


def _cycle(rt: Runtime, tenant_id: str, source_event_id: str, posted_at: str) -> tuple[str | None, float | None]:
    """The invoice cycle time of a fulfilment or activation: from when it occurred (ERP) to its first line."""
    from .erp import INBOUND

    received = rt.store.get(tenant_id, INBOUND, source_event_id)
    if received is None or received.data.get("detail-type") not in SLA_TRACKED:
        return None, None
    occurred = instant(received.data["detail"]["occurred_at"])
    hours = max(0.0, (instant(posted_at) - occurred).total_seconds() / 3600)
    return core.cycle_bucket(hours), round(hours, 3)


def _counted_once(
    rt: Runtime, tenant_id: str, key: str, month: str, partner_id: str | None, delta: Delta, tier: str | None = None
) -> str:
    """Fold `delta` once, into the scope of `tier` (the tier the partner held when it was decided), else of the
    partner's tier now."""
    if _seen(rt, tenant_id, key):
        return "already counted"
    changes = Changes(puts=[_marker(rt, key, {"partner_id": partner_id})])
    _fold(rt, tenant_id, [(month, tier or _tier_of(rt, tenant_id, partner_id), partner_id, delta)], changes)
    rt.store.commit(tenant_id, changes)
    return "counted"


def _quote_checked(rt: Runtime, tenant_id: str, detail: dict[str, Any]) -> str:
    override = detail.get("outcome") == "approval_required" or bool(detail.get("approvals"))
    delta = Delta(quotes=1, overrides=1 if override else 0)
    month = _month_of_instant(detail["occurred_at"])
    return _counted_once(rt, tenant_id, f"quote#{detail['decision_id']}", month, detail.get("partner_id"), delta,
                         _decision_tier(rt, tenant_id, detail["decision_id"]))


def _decision_tier(rt: Runtime, tenant_id: str, decision_id: str | None) -> str | None:
    """The tier the decision recorded for its partner (KPIs by tier count a quote and its approval in the tier
    the partner held when it was decided, not its tier when the event is handled); None when not recorded."""
    from .decisions import DECISIONS, tier_at_decision

    stored = rt.store.get(tenant_id, DECISIONS, decision_id) if decision_id else None
    return tier_at_decision(stored.data) if stored else None


def _case_partner(rt: Runtime, tenant_id: str, case_id: str) -> str | None:
    from .cases import CASES

    stored = rt.store.get(tenant_id, CASES, case_id)
    return stored.data.get("partner_id") if stored else None


def _approval_decided(rt: Runtime, tenant_id: str, detail: dict[str, Any]) -> str:
    if (detail.get("subject") or {}).get("kind") != "decision":
        return "not a pricing approval"
    delta = Delta(approvals_decided=1, approvals_approved=1 if detail.get("outcome") == "approved" else 0)
    month = _month_of_instant(detail["occurred_at"])
    partner_id = _case_partner(rt, tenant_id, detail["case_id"])
    tier = _decision_tier(rt, tenant_id, (detail.get("subject") or {}).get("id"))
    return _counted_once(rt, tenant_id, f"approval#{detail['case_id']}", month, partner_id, delta, tier)


def _exception_opened(rt: Runtime, tenant_id: str, detail: dict[str, Any]) -> str:
    month = _month_of_instant(detail["occurred_at"])
    partner_id = _case_partner(rt, tenant_id, detail["case_id"])
    return _counted_once(rt, tenant_id, f"exception#{detail['case_id']}", month, partner_id, Delta(exceptions=1))


def _support_logged(rt: Runtime, tenant_id: str, detail: dict[str, Any]) -> str:
    data = detail.get("data") or {}
    minutes = int((Decimal(str(data["hours"])) * 60).to_integral_value())
    month = core.month_of(date.fromisoformat(data["performed_on"]))
    key = f"support#{detail.get('erp_event_id') or detail['event_id']}"
    return _counted_once(rt, tenant_id, key, month, data.get("partner_id"), Delta(support_minutes=minutes))


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
    put = Put(
        ROLLUPS,
        DIRECTORY,
        directory,
        must_be_absent=stored is None,
        expected_version=stored.version if stored else None,
    )
    rt.store.commit(tenant_id, Changes(puts=[put]))
    return "directory updated"


FACTS: dict[str, Callable[[Runtime, str, dict[str, Any]], str]] = {
    "revgov.billing:invoice.lines_posted": _lines_posted,
    "revgov.pricing:quote.checked": _quote_checked,
    "revgov.approvals:approval.decided": _approval_decided,
    "revgov.exceptions:exception.opened": _exception_opened,
    "revgov.erp:support.logged": _support_logged,
}


# --- thresholds: rebate program levels and tier commitments -------------------------------------------------------
_AMOUNT_KEYS = ("from", "threshold", "min", "at_least", "min_revenue", "minimum", "amount")
_LEVEL_KEYS = ("thresholds", "levels", "bands", "tiers", "brackets")
_PERIOD_MONTHS = {"month": 1, "monthly": 1, "quarter": 3, "quarterly": 3, "year": 12, "annual": 12, "yearly": 12}


def rebate_programs(policy: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The rebate programs of the policy, or None where the policy has none (the rebates module is not in use)."""
    node = policy.get("rebates")
    programs = node.get("programs") if isinstance(node, dict) else node
    return [p for p in programs if isinstance(p, dict)] if isinstance(programs, list) and programs else None


def _level_amount(level: Any) -> Decimal | None:
    if not isinstance(level, dict):
        return None
    for key in _AMOUNT_KEYS:
        value = level.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            try:
                return Decimal(str(value))
            except ArithmeticError:
                return None
    return None


def thresholds(policy: dict[str, Any], months: int) -> list[Threshold]:
    """Every volume threshold for a period of `months` months: each level above zero of each rebate program with
    volume thresholds (scaled from the program's own period), and each tier's annual commitment prorated."""
    found: list[Threshold] = []
    for program in rebate_programs(policy) or []:
        levels = next((program[k] for k in _LEVEL_KEYS if isinstance(program.get(k), list)), [])
        per = _PERIOD_MONTHS.get(str(program.get("period", "quarter")).lower(), 3)
        eligibility = program.get("eligibility")
        eligible = eligibility.get("tiers") if isinstance(eligibility, dict) else program.get("eligible_tiers")
        for level in levels:
            amount = _level_amount(level)
            if amount is None or amount <= 0:
                continue
            name = level.get("rate") or level.get("percent") or level.get("name") or f"{amount:.2f}"
            found.append(
                Threshold(
                    program_id=str(program.get("id", "REBATE")),
                    program=str(program.get("name") or program.get("id")),
                    level=f"{name}%" if isinstance(name, str) and name.replace(".", "").isdigit() else str(name),
                    amount=(amount * months / per).quantize(Decimal("0.01")),
                    clause=str(program.get("clause", "")),
                    source="rebate_program",
                    tiers=frozenset(eligible) if isinstance(eligible, list) else None,
                )
            )
    for tier in tiers_by_rank(policy):
        commitment = Decimal(str(tier.get("requirements", {}).get("annual_commitment", "0")))
        if commitment <= 0:
            continue
        found.append(
            Threshold(
                program_id=str(tier["id"]),
                program=f"{tier['name']} annual commitment",
                level=f"{months}/12 of {commitment:.2f}",
                amount=(commitment * months / 12).quantize(Decimal("0.01")),
                clause=str(tier["clause"]),
                source="tier_commitment",
                tiers=frozenset({tier["tier"]}),
            )
        )
    return found


# --- reading KPIs ----------------------------------------------------------------------------------------------------
def _period(period: str) -> Period:
    try:
        return Period.parse(period)
    except ValueError as exc:
        raise MalformedRequest(str(exc)) from exc


def _scope(
    rt: Runtime, who: Principal, partner_id: str | None, tier: str | None
) -> tuple[str, str | None, str | None, str | None]:
    """The rollup scope asked for (and the partner's tier when it is one partner); a partner key is held to its own
    partner, whatever it asks."""
    if who.role is Role.PARTNER:
        if tier is not None:
            raise Forbidden("a partner key reads its own figures only")
        if partner_id is not None and partner_id != who.partner_id:
            raise NotFound(f"no partner {partner_id}")
        partner_id = who.partner_id
    if partner_id and tier:
        raise MalformedRequest("ask for one partner or one tier, not both")
    if partner_id:
        from .partners import load_partner

        partner, _ = load_partner(rt, who.tenant_id, partner_id)
        return f"partner:{partner_id}", partner_id, None, str(partner.get("tier") or "none")
    if tier:
        return f"tier:{tier}", None, tier, None
    return core.ALL, None, None, None


def kpis(rt: Runtime, who: Principal, period: str, *, partner_id: str | None, tier: str | None) -> dict[str, Any]:
    """The KPIs of the period, each with its baseline beside it (the period before go-live, or the configured one)."""
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    target = _period(period)
    went_live = date.fromisoformat(tenant.created_at[:10])
    base, source = core.baseline_period(target, went_live, tenant.config.get("kpi_baseline_period"))
    current = _kpis(rt, who, tenant, target, partner_id=partner_id, tier=tier)
    before = _kpis(rt, who, tenant, base, partner_id=partner_id, tier=tier)
    return core.with_baseline(current, before, base, source, went_live)


def _kpis(
    rt: Runtime, who: Principal, tenant: Tenant, target: Period, *, partner_id: str | None, tier: str | None
) -> dict[str, Any]:
    policy = tenant.policy
    if tier is not None and tier not in {t["tier"] for t in policy.get("partner_tiers", [])}:
        raise NotFound(f"no tier {tier}")
    scope, partner_id, tier, partner_tier = _scope(rt, who, partner_id, tier)
    tier_names = [t["tier"] for t in tiers_by_rank(policy)]
    scopes = [scope] if partner_id else [scope, *(f"tier:{t}" for t in tier_names if tier in (None, t))]
    scopes = list(dict.fromkeys(scopes))
    refs = [(who.tenant_id, ROLLUPS, rollup_key(m, s)) for m in target.months for s in scopes]
    refs.append((who.tenant_id, ROLLUPS, DIRECTORY))
    stored = rt.store.get_many(refs)

    def merged(s: str) -> dict[str, Any]:
        return core.merge(
            stored[(who.tenant_id, ROLLUPS, rollup_key(m, s))].data
            for m in target.months
            if (who.tenant_id, ROLLUPS, rollup_key(m, s)) in stored
        )

    total = merged(scope)
    by_tier = {} if partner_id else {t: merged(f"tier:{t}") for t in tier_names if tier in (None, t)}
    invoiced_in = {p: t for t, rollup in by_tier.items() for p in rollup["partners"]}
    if partner_id and partner_tier:
        invoiced_in = {partner_id: partner_tier}
    sla = policy.get("billing", {}).get("invoice_sla", {}).get("hours")
    confidential = who.role is Role.PARTNER
    answer: dict[str, Any] = {
        "period": target.name,
        "months": list(target.months),
        "currency": tenant.currency,
        "scope": {"partner_id": partner_id, "tier": tier},
        "definitions": "docs/kpis.md (also in the OpenAPI description of GET /v1/kpis)",
        "net_realized_margin": {"withheld": "the distributor's margin is not shown to a partner key"}
        if confidential
        else _net_margin(rt, who.tenant_id, policy, target, total, by_tier, partner_id, tier),
        "invoice_cycle_time": core.cycle_time(total, int(sla) if sla else None),
        "threshold_attainment": _attainment(
            policy, target, stored.get((who.tenant_id, ROLLUPS, DIRECTORY)), invoiced_in, total, partner_id, tier
        ),
        "support_hours_per_revenue_dollar": core.support_economics(total),
        "policy_exceptions_per_100_transactions": core.compliance(total),
        "overrides_and_approvals": core.override_and_approval(total),
    }
    return answer


def _rebate_periods(rt: Runtime, tenant_id: str, policy: dict[str, Any], target: Period) -> list[core.RebatePeriod]:
    """The rebate and commission periods the KPI period holds whole, each as settled or, while open, as accrued."""
    from .rebates import ACCRUALS, PERIODS

    kinds = {str(p.get("period")) for p in rebate_programs(policy) or []}
    periods = []
    for name in core.rebate_periods_within(target, kinds):
        state = rt.store.get(tenant_id, PERIODS, name)
        accrued: dict[str, str] = {}
        if state is None:
            cursor = None
            while True:
                page = rt.store.query(tenant_id, ACCRUALS, limit=200, cursor=cursor, prefix=f"{name}#")
                accrued.update({i.data["partner_id"]: i.data["total"] for i in page.items})
                cursor = page.next_cursor
                if not cursor:
                    break
        periods.append(core.RebatePeriod(name, state.data["settled"] if state else None, accrued))
    return periods


def _net_margin(
    rt: Runtime,
    tenant_id: str,
    policy: dict[str, Any],
    target: Period,
    total: dict[str, Any],
    by_tier: dict[str, dict[str, Any]],
    partner_id: str | None,
    tier: str | None,
) -> dict[str, Any]:
    """Margin after rebates and commissions, for the scope asked and by tier (each tier: its partners' rebates)."""
    periods = _rebate_periods(rt, tenant_id, policy, target)
    rebates = core.rebates_by_partner(periods)

    def of(partners: Any) -> int:
        return sum(rebates.get(str(p), 0) for p in partners)

    if partner_id:
        scoped = rebates.get(partner_id, 0)
    elif tier is not None:
        scoped = of(by_tier[tier]["partners"])
    else:
        scoped = sum(rebates.values())
    if rebate_programs(policy) is None:
        note = {"included": False, "reason": "this tenant's policy has no rebate programs; margin is before rebates"}
    else:
        note = {
            "included": True,
            "periods": [{"period": p.name, "source": p.source} for p in periods],
            "basis": "settled amounts for settled periods, accruals for open ones",
        }
    return {
        **core.margin(total, scoped),
        "by_tier": [{"tier": t, **core.margin(rollup, of(rollup["partners"]))} for t, rollup in by_tier.items()],
        "rebates": note,
    }


def _attainment(
    policy: dict[str, Any],
    target: Period,
    directory: Stored | None,
    invoiced_in: dict[str, str],
    total: dict[str, Any],
    partner_id: str | None,
    tier: str | None,
) -> dict[str, Any]:
    """Over the active partners of the directory, and any partner that invoiced in the period (in its tier then)."""
    members = {
        p: str(e.get("tier") or "none")
        for p, e in (directory.data["partners"] if directory else {}).items()
        if e.get("status") == "active"
    }
    members.update({p: t for p, t in invoiced_in.items() if p not in members})
    revenue = dict(total["partners"])
    if partner_id:
        members = {partner_id: invoiced_in.get(partner_id) or members.get(partner_id, "none")}
        revenue = {partner_id: int(total["revenue_minor"])}
    elif tier:
        members = {p: t for p, t in members.items() if t == tier}
    found = thresholds(policy, len(target.months))
    programs = rebate_programs(policy)
    return {
        "rebate_programs": {"available": True}
        if programs
        else {"available": False, "reason": "no rebate programs in this tenant's policy yet: only tier commitments "
                                             "are measured"},
        "partners_counted": len(members),
        "thresholds": core.attainment(found, revenue, members),
    }


# --- forecasts ------------------------------------------------------------------------------------------------------
def partner_history(rt: Runtime, tenant_id: str, partner_id: str, period: Period) -> tuple[dict[str, float], float]:
    """Monthly revenue before the period (up to 36 months) and the revenue of the period so far."""
    before = [core.shift_month(period.months[0], -i) for i in range(HISTORY_MONTHS, 0, -1)]
    months = [*before, *period.months]
    stored = rt.store.get_many([(tenant_id, ROLLUPS, rollup_key(m, f"partner:{partner_id}")) for m in months])
    revenue = {
        m: int(stored[(tenant_id, ROLLUPS, rollup_key(m, f"partner:{partner_id}"))].data["revenue_minor"]) / core.MINOR
        for m in months
        if (tenant_id, ROLLUPS, rollup_key(m, f"partner:{partner_id}")) in stored
    }
    first = next((m for m in before if m in revenue), None)
    history = {m: revenue.get(m, 0.0) for m in before if first is not None and m >= first}
    return history, sum(revenue.get(m, 0.0) for m in period.months)


def forecast(rt: Runtime, who: Principal, partner_id: str, period: str) -> dict[str, Any]:
    if not who.sees_partner(partner_id):
        raise NotFound(f"no partner {partner_id}")
    from .partners import load_partner

    partner, _ = load_partner(rt, who.tenant_id, partner_id)
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    target = _period(period)
    history, to_date = partner_history(rt, who.tenant_id, partner_id, target)
    today = instant(rt.clock.now_iso()).date()
    projection = projections.project(history, target.name, today, to_date)
    tier = partner.get("tier")
    applicable = [t for t in thresholds(tenant.policy, len(target.months)) if t.tiers is None or tier in t.tiers]
    answer = projections.describe(projection, [(t.as_dict(), float(t.amount)) for t in applicable])
    logger.debug("forecast", extra={"partner_id": partner_id, "period": target.name})
    return {
        "partner_id": partner_id,
        "tier": tier,
        "currency": tenant.currency,
        **answer,
        "rebate_programs": {"available": rebate_programs(tenant.policy) is not None},
    }
