"""What every rebate use case starts from: the tenant's compiled rebate programs, today, and the partners' facts."""

from __future__ import annotations

from datetime import date
from typing import Any

from ...domain.errors import RuleViolation
from ...domain.rebates.policy import PartnerFacts, Period, RebateBook, facts_of_partner, rebate_book
from ...domain.tenants import Tenant
from ...runtime import Runtime
from .. import tenants
from . import first_invoices, repository

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
    firsts = first_invoices.of_partners(rt, tenant.tenant_id) if _windowed(tenant) else {}
    return {
        pid: facts_of_partner(tenant.policy, record, period, on, firsts.get(pid, {})) for pid, record in records.items()
    }


def facts_of(rt: Runtime, tenant: Tenant, record: dict[str, Any], period: Period, on: date) -> PartnerFacts:
    """One partner's facts (`facts_of_partner`) with its referred customers' first invoices, read where a program
    of the policy has a window from the first invoice (PA-8.1 / CPA-8.1): every rating builds its facts here or in
    `partner_facts`."""
    partner_id = str(record["partner_id"])
    firsts = first_invoices.of_partner(rt, tenant.tenant_id, partner_id) if _windowed(tenant) else {}
    return facts_of_partner(tenant.policy, record, period, on, firsts)


def _windowed(tenant: Tenant) -> bool:
    """Whether a program of the tenant's policy (or the draft it is rated under) has a first-invoice window."""
    book = rebate_book(tenant.policy, tenant.policy_version)
    return any(p.first_invoice_window is not None for p in book.programs)
