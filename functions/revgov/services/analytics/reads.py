"""Reading KPIs: the figures of a period for a scope, each with its baseline beside it."""

from __future__ import annotations

from datetime import date
from typing import Any

from ...domain import kpis as core
from ...domain.access import Principal, Role
from ...domain.errors import Forbidden, MalformedRequest, NotFound
from ...domain.kpis import Period
from ...domain.partners import tiers_by_rank
from ...domain.tenants import Tenant
from ...ports import Stored
from ...runtime import Runtime
from .. import tenants
from ..partners import load_partner
from ..rebates import repository as rebate_records
from ..toolkit import pages
from .renewal import Agreements, read_agreements, read_subscription_renewals, renewal_probability, subscription_renewals
from .rollups import DIRECT, DIRECTORY, ROLLUPS, rollup_key
from .thresholds import rebate_programs, thresholds


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
    agreements = None if who.role is Role.PARTNER else read_agreements(rt, tenant, partner_id)
    renewed = [] if who.role is Role.PARTNER else read_subscription_renewals(rt, tenant.tenant_id, [target, base],
                                                                           partner_id)
    current = _kpis(rt, who, tenant, target, (agreements, renewed), partner_id=partner_id, tier=tier)
    before = _kpis(rt, who, tenant, base, (agreements, renewed), partner_id=partner_id, tier=tier)
    return core.with_baseline(current, before, base, source, went_live)


def _kpis(
    rt: Runtime, who: Principal, tenant: Tenant, target: Period,
    renewals: tuple[Agreements | None, list[dict[str, Any]]], *, partner_id: str | None, tier: str | None,
) -> dict[str, Any]:
    """`renewals`: the partners' agreements and the subscription renewals of the periods asked (staff; read once)."""
    agreements, renewed = renewals
    policy = tenant.policy
    if tier is not None and tier not in {t["tier"] for t in policy.get("partner_tiers", [])}:
        raise NotFound(f"no tier {tier}")
    scope, partner_id, tier, partner_tier = _scope(rt, who, partner_id, tier)
    tier_names = [t["tier"] for t in tiers_by_rank(policy)]
    scopes = [scope] if partner_id else [scope, *(f"tier:{t}" for t in tier_names if tier in (None, t))]
    if partner_id is None and tier is None:
        scopes.append(DIRECT)
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
        else _net_margin(rt, who.tenant_id, policy, target, (total, merged(DIRECT)), by_tier, partner_id, tier),
        "invoice_cycle_time": core.cycle_time(total, int(sla) if sla else None),
        "threshold_attainment": _attainment(
            policy, target, stored.get((who.tenant_id, ROLLUPS, DIRECTORY)), invoiced_in, total, partner_id, tier
        ),
        "renewal_probability": {"withheld": "the distributor's renewal outlook is not shown to a partner key"}
        if confidential
        else {**renewal_probability(agreements, target, partner_id, tier),
              "subscription_renewals": subscription_renewals(renewed, agreements, target, partner_id, tier)},
        "support_hours_per_revenue_dollar": core.support_economics(total),
        "policy_exceptions_per_100_transactions": core.compliance(total),
        "overrides_and_approvals": core.override_and_approval(total),
    }
    return answer


def _rebate_periods(rt: Runtime, tenant_id: str, policy: dict[str, Any], target: Period,
                    partner_id: str | None = None) -> list[core.RebatePeriod]:
    """The rebate and commission periods the KPI period holds whole, each as settled or, while open, as accrued (one
    partner's figure: only its own accrual is read)."""
    kinds = {str(p.get("period")) for p in rebate_programs(policy) or []}
    periods = []
    for name in core.rebate_periods_within(target, kinds):
        state = rebate_records.period_state(rt, tenant_id, name)
        if state is None:
            own = rebate_records.accrual(rt, tenant_id, name, partner_id) if partner_id else None
            stored = ([own] if own else []) if partner_id else pages(
                rt.store, tenant_id, rebate_records.ACCRUALS, prefix=f"{name}#")
            open_accruals = [i.data for i in stored]
            accrued = {a["partner_id"]: a["total"] for a in open_accruals}
            programs = {a["partner_id"]: {p["program_id"]: p["payable"] for p in a.get("programs") or []}
                        for a in open_accruals}
            periods.append(core.RebatePeriod(name, None, accrued, accrued_programs=programs))
            continue
        # PA-7.10 / CPA-7.10: what its own runs settled, and the earlier periods' differences its runs paid
        periods.append(core.RebatePeriod(name, state.data["settled"], {}, state.data.get("adjusted_later", {}),
                                         state.data.get("adjustments_carried", {})))
    return periods


def rebates_by_partner(rt: Runtime, tenant_id: str, policy: dict[str, Any], period: str) -> dict[str, int]:
    """Rebates and commissions per partner (minor units) that the net realized margin of `period` deducts from the
    partner's own figures: the commissions on direct sales apart (`core.direct_programs`)."""
    leaving_out = core.direct_programs(rebate_programs(policy) or [])
    return core.rebates_by_partner(_rebate_periods(rt, tenant_id, policy, Period.parse(period)), leaving_out)


def _net_margin(
    rt: Runtime,
    tenant_id: str,
    policy: dict[str, Any],
    target: Period,
    rollups: tuple[dict[str, Any], dict[str, Any]],
    by_tier: dict[str, dict[str, Any]],
    partner_id: str | None,
    tier: str | None,
) -> dict[str, Any]:
    """Margin after rebates and commissions, for the scope asked and by tier (each tier: its partners' rebates; one
    partner's figure reads only its own accruals), and for the whole tenant how much of it is the Distributor's direct
    sales. `rollups`: the scope's and the direct sales'. The commissions on direct sales (`core.direct_programs`:
    referrals, PA-8.1 / CPA-8.1; sales agents' listed accounts, PA-8.2) are deducted where their revenue is counted:
    the tenant's figure and `direct_sales`, never a tier's or a partner's own (PA-1.2 / CPA-1.2: that revenue is none
    of the Partner's)."""
    total, direct = rollups
    periods = _rebate_periods(rt, tenant_id, policy, target, partner_id)
    direct_programs = core.direct_programs(rebate_programs(policy) or [])
    rebates = core.rebates_by_partner(periods)
    own = core.rebates_by_partner(periods, direct_programs)

    def of(partners: Any) -> int:
        return sum(own.get(str(p), 0) for p in partners)

    if partner_id:
        scoped = own.get(partner_id, 0)
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
    answer = {
        **core.margin(total, scoped),
        "by_tier": [{"tier": t, **core.margin(rollup, of(rollup["partners"]))} for t, rollup in by_tier.items()],
        "rebates": note,
    }
    if partner_id is None and tier is None:
        # the whole tenant's figures also say how much of them is the Distributor's direct sales to Customers, which
        # no tier's hold (PA-1.2 / CPA-1.2), after the commissions they earn
        commissions = core.direct_rebates(periods, direct_programs)
        answer["direct_sales"] = {**core.margin(direct, commissions), "billed_events": int(direct["billed_events"])}
    return answer


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
