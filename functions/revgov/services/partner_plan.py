"""The tenant's plan limit on partners, checked wherever a partner is created (an application, a backfilled
onboarding). schemas/tenant.schema.json `plan`: "Commercial plan limits for the tenant, enforced by the platform";
`max_partners`: "Maximum number of onboarded (non-offboarded) partners the tenant may hold".

A partner the tenant holds is one whose lifecycle can still move: an application in progress, an active or a
suspended partner. A status with no way out (terminated, rejected: `domain/partners/lifecycle.TRANSITIONS`) is
offboarded and frees its place. The count is read, not locked: two applications racing for the last place may
both be admitted."""

from __future__ import annotations

from ..domain.errors import RuleViolation
from ..domain.partners.lifecycle import TRANSITIONS
from ..runtime import Runtime
from . import partner_repository, tenants


def held(status: str) -> bool:
    """The partner still takes a place in the plan: its status is not a final one."""
    return bool(TRANSITIONS.get(status))


def check_room(rt: Runtime, tenant_id: str) -> None:
    """Refuse (422 naming `plan.max_partners`) a new partner once the tenant holds as many as its plan allows."""
    tenant, _ = tenants.load_tenant(rt, tenant_id)
    limit = (tenant.config.get("plan") or {}).get("max_partners")
    if not isinstance(limit, int):
        return
    count = 0
    for status in partner_repository.statuses(rt.store, tenant_id):
        count += held(status)
        if count >= limit:
            raise RuleViolation(
                f"the tenant's plan allows at most {limit} partners (plan.max_partners) and it holds {limit} "
                "(applications in progress, active and suspended partners; terminated or rejected ones do not "
                "count): no partner is created; the operator raises the plan's limit",
                extra={"max_partners": limit},
            )
