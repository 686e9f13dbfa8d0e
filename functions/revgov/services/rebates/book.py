"""What every rebate use case starts from: the tenant's compiled rebate programs, today, and the partners' facts."""

from __future__ import annotations

from datetime import date

from ...domain.errors import RuleViolation
from ...domain.rebates.policy import PartnerFacts, Period, RebateBook, facts_of_partner, rebate_book
from ...domain.tenants import Tenant
from ...runtime import Runtime
from .. import tenants
from . import repository

ACTOR = "system:rebates"
SOURCE = "revgov.rebates"
ATTEMPTS = 8  # optimistic-concurrency retries of an accrual or a retroactive marker


def book(rt: Runtime, tenant_id: str) -> tuple[Tenant, RebateBook]:
    """The tenant and its rebate book; a RuleViolation when its policy has no programs."""
    tenant, _ = tenants.load_tenant(rt, tenant_id)
    if not tenant.policy.get("rebates"):
        raise RuleViolation("this tenant's policy has no rebate or commission programs")
    return tenant, rebate_book(tenant.policy, tenant.policy_version)


def today(rt: Runtime) -> date:
    return date.fromisoformat(rt.clock.now_iso()[:10])


def partner_facts(
    rt: Runtime, tenant: Tenant, partner_ids: list[str], period: Period, on: date
) -> dict[str, PartnerFacts]:
    """Each partner's tier, type, activation and suspensions over the period, as the policy reads them."""
    records = repository.partners(rt, tenant.tenant_id, partner_ids)
    return {pid: facts_of_partner(tenant.policy, record, period, on) for pid, record in records.items()}
