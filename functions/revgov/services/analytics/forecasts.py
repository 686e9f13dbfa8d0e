"""Partner forecasts: monthly revenue history from the rollups, projected to the end of a period."""

from __future__ import annotations

from typing import Any

from ...domain import forecast as projections
from ...domain import kpis as core
from ...domain.access import Principal
from ...domain.errors import NotFound
from ...domain.kpis import Period
from ...domain.time import instant
from ...logs import logger
from ...runtime import Runtime
from .. import tenants
from ..partners import load_partner
from .reads import _period
from .rollups import HISTORY_MONTHS, ROLLUPS, rollup_key
from .thresholds import rebate_programs, thresholds


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
