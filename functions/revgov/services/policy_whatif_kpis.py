"""The KPI rollups a what-if starts from: those `GET /v1/kpis` reads for a period (overall and per partner tier, with
the directory of partners), and the rebates it deducts from the margin (settled where settled, else accrued)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..domain import kpis as core
from ..domain import policy_whatif_kpis as domain
from ..domain.billing import billed_to_customer
from ..domain.partners import tiers_by_rank
from ..domain.tenants import Tenant
from ..runtime import Runtime
from .analytics.reads import _rebate_periods as rebate_periods  # GET /v1/kpis's own reading of the rebate periods
from .analytics.rollups import DIRECT, DIRECTORY, ROLLUPS, rollup_key
from .analytics.thresholds import rebate_programs
from .billing.repository import INVOICES


@dataclass(frozen=True)
class Rollups:
    total: dict[str, Any]
    by_tier: dict[str, dict[str, Any]]
    directory: dict[str, Any]

    def tier_counted(self, partner_id: str, fallback: str) -> str:
        """The tier a partner's revenue of the period was counted in (the first that holds it), else `fallback`."""
        return next((t for t, r in self.by_tier.items() if partner_id in r["partners"]), fallback)


def rollups(rt: Runtime, tenant: Tenant, target: core.Period) -> Rollups:
    """The period's rollups merged over its months, overall and per tier (tiers by rank), and the KPI directory."""
    tier_names = [t["tier"] for t in tiers_by_rank(tenant.policy)]
    scopes = [core.ALL, *(f"tier:{t}" for t in tier_names)]
    keys = {(m, s): (tenant.tenant_id, ROLLUPS, rollup_key(m, s)) for m in target.months for s in scopes}
    stored = rt.store.get_many([*keys.values(), (tenant.tenant_id, ROLLUPS, DIRECTORY)])
    merged = {s: core.merge(stored[keys[m, s]].data for m in target.months if keys[m, s] in stored) for s in scopes}
    directory = stored.get((tenant.tenant_id, ROLLUPS, DIRECTORY))
    return Rollups(merged[core.ALL], {t: merged[f"tier:{t}"] for t in tier_names},
                   directory.data["partners"] if directory else {})


Line = tuple[str, str, tuple[Decimal, Decimal | None], tuple[Decimal, Decimal | None]]


def direct_invoices(rt: Runtime, tenant_id: str, invoice_ids: Iterable[str]) -> set[str]:
    """The Distributor's direct invoices to Customers among `invoice_ids` (PA-8.1 / CPA-8.1, PA-8.2): the KPIs count
    their lines in the tenant's figures and no tier's (docs/kpis.md)."""
    found = rt.store.get_many([(tenant_id, INVOICES, i) for i in sorted(set(invoice_ids))])
    return {str(s.data["invoice_id"]) for s in found.values() if billed_to_customer(s.data)}


def moved_kpis(rt: Runtime, tenant: Tenant, period: core.Period, lines: Iterable[Line]) -> dict[str, Any]:
    """Revenue and net realized margin by tier (docs/kpis.md) as `GET /v1/kpis` counts the period (`before`), and
    moved by each of `lines` (partner, segment, net and cost under the policy in force, net and cost under the draft)
    from the first to the second (`after`), in the tier its partner's revenue is counted in (segment `DIRECT`: a
    direct invoice's line, in the tenant's figures only). Rebates are deducted as recorded on both sides (a draft's
    rebate rules: `rebates-whatif`)."""
    read = rollups(rt, tenant, period)
    periods = rebate_periods(rt, tenant.tenant_id, tenant.policy, period)
    # as GET /v1/kpis deducts them: every rebate from the tenant's figure, a tier its partners' own (the commissions
    # on direct sales apart: core.direct_programs)
    everything = sum(core.rebates_by_partner(periods).values())
    rebates = core.rebates_by_partner(periods, core.direct_programs(rebate_programs(tenant.policy) or []))
    moves = [domain.Move(None, DIRECT, was, now) if segment == DIRECT
             else domain.Move(p, read.tier_counted(p, segment), was, now)
             for p, segment, was, now in lines if was != now]
    return {"period": period.name, "rebates": "as recorded on both sides (settled, else accrued)",
            **domain.sales_kpis(read.total, read.by_tier, (everything, rebates), moves)}
