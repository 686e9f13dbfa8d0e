"""What-if for usage billing: a month's (or a quarter's) metered usage rated under a policy draft's usage rate tables
beside the policy in force's, per partner and metric, with the invoices that carry it. Nothing is written.

The metered quantities are billing's USAGE records (one per partner, metric and month: the quantity so far and what
each invoice carries for it); each is rated with the rating a posted usage line uses (domain.billing.rating), under
each policy (domain.policy_whatif_usage).
"""

from __future__ import annotations

from typing import Any

from ..domain import policy_whatif_usage as domain
from ..domain.access import Principal
from ..domain.billing.rating import RateTable
from ..domain.errors import FieldError, RuleViolation
from ..runtime import Runtime
from . import partner_repository, policy_drafts
from .analytics.rollups import DIRECT
from .billing.repository import direct_usage, usage_of_months
from .policy_whatif_billing import period_of_body
from .policy_whatif_kpis import moved_kpis
from .tenants import load_tenant


def whatif_usage(rt: Runtime, who: Principal, draft_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The period's metered usage rated as the policy in force rates it and as the draft would: per partner and
    metric the amount before and after, what its invoices carry (with links), totals per partner and by segment, and
    the KPIs the change moves (revenue and net realized margin by tier, each month's usage moved from the rating in
    force to the draft's; a referred customer's usage in the tenant's figures only)."""
    period = period_of_body(body)
    examples = int(body.get("examples", 5))
    tenant, _ = load_tenant(rt, who.tenant_id)
    draft, _ = policy_drafts.load(rt, who.tenant_id, draft_id)
    before, after = domain.rate_tables(tenant.policy), _draft_tables(draft["policy"])
    stored = usage_of_months(rt, who.tenant_id, list(period.months))
    records = [item.data for item in stored]
    partners = partner_repository.get_many(rt.store, who.tenant_id, sorted({r["partner_id"] for r in records}))
    rows = [domain.usage_row(r, before, after, str(partners.get(r["partner_id"], {}).get("tier") or "none"),
                             examples) for r in records]
    # A referred customer's usage is the Distributor's direct sale (PA-8.1 / CPA-8.1, PA-1.2): it moves the tenant's
    # figures and no tier's, as GET /v1/kpis counts it and the billing what-if moves a direct invoice's line.
    moves = [(r["partner_id"], DIRECT if direct_usage(item.key) else row["segment"], domain.billed(before, r),
              domain.billed(after, r)) for item, r, row in zip(stored, records, rows, strict=True)]
    return {"draft_id": draft_id, "draft_version": draft["policy_version"], "active_version": tenant.policy_version,
            "period": period.name, "months": list(period.months), **domain.usage_changes(rows),
            "kpis": moved_kpis(rt, tenant, period, moves)}


def _draft_tables(policy: dict[str, Any]) -> dict[str, RateTable]:
    """The draft's usage rate tables, or a 422 naming them when billing could not rate with them (e.g. band bounds
    that do not increase: the schema does not say so, `RateTable.from_policy` does)."""
    try:
        return domain.rate_tables(policy)
    except (KeyError, ValueError) as bad:
        raise RuleViolation(f"the draft's usage rate tables cannot be used: {bad}",
                            errors=[FieldError("/policy/billing/usage_rates", str(bad))]) from bad
