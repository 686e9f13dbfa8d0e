"""What-if for rebates and commissions: a period rated under a policy draft beside the policy in force, and the KPIs
the difference moves. Nothing is written.

Both sides are rated by the engine a settlement run and an accrual use (services.rebates.rate_under over the stored
rebate lines: the sales already projected from the ERP's invoices), so there is no second implementation of a rebate
rule. Each partner and program that changes carries what the tenant's records hold for it (the settlement runs that
paid it, or its accrual while the period is open) and example lines (line and invoice ids) its amount counts, so a
reader can open the original records. The KPIs are those of `GET /v1/kpis` that rebates move (docs/kpis.md): net
realized margin after rebates (overall and by partner tier) and threshold attainment per rebate program level,
computed from the same rollups with each side's rebates (domain.kpis).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..domain import kpis as core
from ..domain import policy_whatif_rebates as policy_whatif
from ..domain.access import Principal
from ..domain.rebates.policy import PartnerFacts, Period
from ..domain.tenants import Tenant
from ..runtime import Runtime
from . import policy_drafts
from .analytics.thresholds import rebate_programs, thresholds
from .policy_whatif_kpis import rollups
from .rebates import rate_under
from .rebates import repository as rebate_records
from .tenants import load_tenant

if TYPE_CHECKING:
    from ..domain.rebates.result import PeriodResult

_Rated = tuple["PeriodResult | None", dict[str, PartnerFacts]]


def whatif_rebates(rt: Runtime, who: Principal, draft_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """A rebate or commission period rated over its stored rebate lines as the policy in force rates it and as the
    draft would: per partner and program the payable amount and tier reached, with the records behind them; totals
    per partner and by partner segment; the KPIs the change moves. Nothing is settled or written."""
    period = Period.parse(body["period"])  # a RuleViolation naming the forms it takes
    examples = int(body.get("examples", 5))
    tenant, _ = load_tenant(rt, who.tenant_id)
    draft, _ = policy_drafts.load(rt, who.tenant_id, draft_id)
    policies = ((tenant.policy, tenant.policy_version), (draft["policy"], draft["policy_version"]))
    before, after = (_rated(rt, tenant, policy, version, period) for policy, version in policies)
    segments = {pid: str(f.tier) for rated in (after, before) for pid, f in rated[1].items() if f.tier}
    report = policy_whatif.rebate_changes(_views(before[0]), _views(after[0]), segments)
    recorded = _recorded(rt, who.tenant_id, period.name)
    for row in report["changed"]:
        row["recorded"] = _recorded_row(recorded, period.name, row["partner_id"], row["program_id"])
        row["examples"] = policy_whatif.counted_lines(before[0], after[0], row["partner_id"], row["program_id"],
                                                      examples)
    return {"draft_id": draft_id, "draft_version": draft["policy_version"], "active_version": tenant.policy_version,
            "period": period.name, **report,
            "kpis": _kpis(rt, tenant, period, [(tenant.policy, tenant.policy_version, before),
                                              (draft["policy"], draft["policy_version"], after)])}


def _rated(rt: Runtime, tenant: Tenant, policy: dict[str, Any], version: str, period: Period) -> _Rated:
    if not policy.get("rebates"):
        return None, {}
    return rate_under(rt, tenant, policy, version, period)


def _views(result: PeriodResult | None) -> dict[str, list[dict[str, Any]]]:
    return {pid: result.programs_view(pid) for pid in result.payable} if result is not None else {}


# --- the records behind the amounts -----------------------------------------------------------------------------------
def _recorded(rt: Runtime, tenant_id: str, period: str) -> dict[str, Any]:
    """What the tenant's records hold for the period: the settled amounts and the runs that paid them, or (open)
    the accruals."""
    state = rebate_records.period_state(rt, tenant_id, period)
    if state is not None:
        return {"source": "settled", "amounts": state.data["settled"],
                "settlements": [run["settlement_id"] for run in state.data["runs"]]}
    return {"source": "accrued", "amounts": rebate_records.accrued(rt, tenant_id, period), "settlements": []}


def _recorded_row(recorded: dict[str, Any], period: str, partner_id: str, program_id: str) -> dict[str, Any]:
    amount = recorded["amounts"].get(partner_id, {}).get(program_id)
    if recorded["source"] == "settled":
        links = [f"/v1/rebates/settlements/{sid}" for sid in recorded["settlements"]]
    else:
        links = [f"/v1/rebates/accruals?period={period}&partner_id={partner_id}"]
    return {"source": recorded["source"], "payable": amount, "links": links}


# --- KPIs ------------------------------------------------------------------------------------------------------------
def _kpis(rt: Runtime, tenant: Tenant, period: Period,
          sides: list[tuple[dict[str, Any], str, _Rated]]) -> dict[str, Any]:
    """Net realized margin after rebates (overall and by tier) and threshold attainment, as GET /v1/kpis computes
    them for the period, with the rebates of each side (policy in force, draft): the period's own and, for a
    quarter, its months' (a monthly commission), each rated under that side's policy."""
    target = core.Period.parse(period.name)
    kinds = {str(p.get("period")) for policy, _, _ in sides for p in rebate_programs(policy) or []}
    names = core.rebate_periods_within(target, kinds)
    rated = [[own[0] if name == period.name else _rated(rt, tenant, policy, version, Period.parse(name))[0]
              for name in names] for policy, version, own in sides]
    # as GET /v1/kpis: the tenant's figure deducts every rebate and commission, a tier's its partners' own (the
    # commissions on direct sales apart, each side's own programs: domain.kpis.direct_programs)
    rebates = [(policy_whatif.rebates_minor(results),
                policy_whatif.rebates_minor(results, core.direct_programs(rebate_programs(policy) or [])))
               for results, (policy, _, _) in zip(rated, sides, strict=True)]
    read = rollups(rt, tenant, target)
    members = policy_whatif.kpi_members(read.directory, read.by_tier)
    levels = [thresholds(policy, len(target.months)) for policy, _, _ in sides]
    return {"period": target.name, "rebate_periods": names,
            **policy_whatif.rebate_kpis(read.total, read.by_tier, rebates, levels, members)}
