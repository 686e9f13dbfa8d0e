"""Market development funds (PA-9.5 / CPA-9.5): each partner's ledger per accrual Quarter, and the expiry sweep.

The accrual of a Quarter is the previous Quarter's Qualifying Revenue as the rebate engine rates it (the basis of
the program `policy.mdf.revenue_program`, the quarterly volume rebate: Invoiced Revenue net of every credit note
against those invoices, PA-1.2 / CPA-1.2), at the percent of the tier held on the accrual Quarter's first day
(`domain.partners.entitlement(..., "mdf_percent")`, which also withholds it from a Registered / Authorized or
suspended partner). Activities and claims are `services.mdf_requests`; the arithmetic is `domain.mdf`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from ..domain import mdf as rules
from ..domain import partners as partner_rules
from ..domain.access import Principal, Role
from ..domain.audit import AuditEntry
from ..domain.errors import NotFound, StaleWrite
from ..domain.mdf import Accrual, MdfPolicy
from ..domain.money import parse_money
from ..domain.rebates.policy import Period, RebateBook, rebate_book
from ..domain.tenants import Tenant
from ..ports import Changes, DomainEvent
from ..runtime import Runtime
from . import mdf_repository as repository
from . import partner_repository, tenants
from .rebates.book import partner_facts
from .rebates.rating import rate_partner

SOURCE = "revgov.mdf"
ACTOR = "system:mdf_expiry"


_ACTOR_FIELDS = ("requested_by", "decided_by", "submitted_by", "rejected_by")


def key_of(actor: str) -> str:
    """The key id of a stored actor (`role:key_id`), for segregation of duties."""
    return actor.partition(":")[2]


def shown(who: Principal, record: dict[str, Any]) -> dict[str, Any]:
    """A partner reads who acted as the team (`finance`, `channel_ops`, `partner`), never a key id."""
    if who.role is not Role.PARTNER:
        return record
    seen: dict[str, Any] = {k: (v.partition(":")[0] if k in _ACTOR_FIELDS and isinstance(v, str) else v)
                            for k, v in record.items()}
    approvals: list[dict[str, Any]] = seen.get("approvals") or []
    if "approvals" in seen:
        seen["approvals"] = [{**a, "by": str(a["by"]).partition(":")[0]} for a in approvals]
    return seen


def today(rt: Runtime) -> date:
    return date.fromisoformat(rt.clock.now_iso()[:10])


def qualifying_revenue(rt: Runtime, tenant: Tenant, partner_id: str, quarter: Period, on: date,
                       program_id: str) -> Decimal:
    """The Quarter's Qualifying Revenue of one partner as the rebate engine rates it (the program's basis), without
    the exclusions the Agreement makes from given programs: PA-1.2 / CPA-1.2 exclude from Qualifying Revenue only what
    the Agreement excludes "from a given program", and PA-9.5 / CPA-9.5 exclude nothing, so MDF accrues on MDF-funded
    purchases (PA-7.1 / CPA-7.1 keep them out of rebates and incentives), on lines of an exclusive promotion (PA-7.7(a)
    / CPA-7.7(a)) and on devices lines earning the SPIFF (CPA-7.7(b)) (docs/mdf.md). Referral and sales agent lines
    stay out by the volume program's channel (resale): they are the Distributor's revenue from the Customer it
    invoices directly (PA-8.1 / PA-8.2, CPA-8.1), not amounts invoiced to the Partner (PA-1.2 "Invoiced Revenue")."""
    book = _mdf_book(rebate_book(tenant.policy, tenant.policy_version))
    facts = partner_facts(rt, tenant, [partner_id], quarter, on).get(partner_id)
    if facts is None:
        return rules.ZERO
    result = rate_partner(rt, tenant.tenant_id, book, quarter, partner_id, facts)
    view = next((v for v in result.programs_view(partner_id) if v["program_id"] == program_id), None)
    return parse_money(view["basis_revenue"]) if view and view["basis_revenue"] else rules.ZERO


def _mdf_book(book: RebateBook) -> RebateBook:
    """The rebate book rating Qualifying Revenue for MDF: without the exclusions of lines from given programs."""
    return replace(book, mdf_funded_rule=None, excluded_by_promotion=frozenset(), exclusions=())


def accrual_of(rt: Runtime, tenant: Tenant, mdf: MdfPolicy, partner: dict[str, Any], quarter: Period,
               on: date) -> Accrual:
    """PA-9.5: the accrual of `quarter` from the previous Quarter's Qualifying Revenue, at the tier held in it."""
    first_day = f"{quarter.start.isoformat()}T00:00:00Z"
    percent = partner_rules.entitlement(tenant.policy, partner, "mdf_percent", first_day)
    eligible = partner_rules.entitlement(tenant.policy, partner, "mdf_eligible", first_day)["value"] is True
    revenue = (qualifying_revenue(rt, tenant, partner["partner_id"], quarter.shifted(-3), on, mdf.revenue_program)
               if eligible else rules.ZERO)
    return rules.accrual(mdf, quarter, revenue, percent["effective_tier"], Decimal(str(percent["value"] or 0)),
                         eligible)


def accruals(rt: Runtime, tenant: Tenant, mdf: MdfPolicy, partner: dict[str, Any], on: date) -> list[Accrual]:
    """The accruals still claimable on `on` and the last one expired (oldest first), from the partner's activation."""
    current = rules.quarter_of(on)
    activated = partner.get("activated_at")
    first = rules.quarter_of(date.fromisoformat(activated[:10])) if activated else current
    quarters = [current.shifted(-3 * back) for back in range(mdf.expires_after_quarters + 1, -1, -1)]
    return [accrual_of(rt, tenant, mdf, partner, q, on) for q in quarters if q.first >= first.first]


def context(rt: Runtime, who: Principal, partner_id: str) -> tuple[Tenant, MdfPolicy, dict[str, Any]]:
    if not who.sees_partner(partner_id):
        raise NotFound(f"no partner {partner_id}")
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    mdf = rules.mdf_policy(tenant.policy)
    partner, _ = partner_repository.load(rt.store, who.tenant_id, partner_id)
    return tenant, mdf, dict(partner)


def ledger(rt: Runtime, who: Principal, partner_id: str) -> dict[str, Any]:
    """GET /v1/partners/{partner_id}/mdf: accruals per Quarter with what is reserved, paid, expired and available,
    the partner's activities and claims. A partner key reads only its own (a rival's id is a 404)."""
    tenant, mdf, partner = context(rt, who, partner_id)
    on = today(rt)
    sums, _ = repository.ledger(rt, who.tenant_id, partner_id)
    rows = rules.ledger_rows(accruals(rt, tenant, mdf, partner, on), sums["drawn"], sums["paid"], on)
    return {
        "partner_id": partner_id,
        "as_of": on.isoformat(),
        **mdf.rule.as_dict(),
        "claim_window_days": mdf.claim_window_days,
        "accruals": rows,
        "available": f"{sum((Decimal(r['available']) for r in rows), rules.ZERO):f}",
        "activities": [shown(who, a) for a in sorted(repository.activities_of(rt, who.tenant_id, partner_id),
                                                        key=lambda a: a["requested_at"])],
        "claims": [shown(who, c) for c in sorted(repository.claims_of(rt, who.tenant_id, partner_id),
                                                 key=lambda c: c["submitted_at"])],
    }


def sweep_expiry(rt: Runtime, tenant_id: str) -> dict[str, int]:
    """Scheduled (events/schedules.json `mdf-expiry-sweep`): every accrual past its expiry with an unclaimed rest is
    recorded once (marker, audit record, `mdf.expired`); a second run finds the markers and writes nothing."""
    tenant, _ = tenants.load_tenant(rt, tenant_id)
    if not tenant.policy.get("mdf"):
        return {"looked_at": 0, "expired": 0}
    mdf, on = rules.mdf_policy(tenant.policy), today(rt)
    counts = {"looked_at": 0, "expired": 0}
    for partner in partner_repository.every(rt.store, tenant_id):
        if partner.get("status") not in ("active", "suspended", "terminated"):
            continue
        counts["looked_at"] += 1
        counts["expired"] += _expire(rt, tenant, mdf, partner, on)
    return counts


def _expire(rt: Runtime, tenant: Tenant, mdf: MdfPolicy, partner: dict[str, Any], on: date) -> int:
    partner_id = partner["partner_id"]
    done = repository.expiries(rt, tenant.tenant_id, partner_id)
    sums, _ = repository.ledger(rt, tenant.tenant_id, partner_id)
    written = 0
    for a in accruals(rt, tenant, mdf, partner, on):
        rest = a.amount - sums["drawn"].get(a.quarter, rules.ZERO)
        if on <= a.expires_on or a.quarter in done or rest <= 0:
            continue
        record = {"partner_id": partner_id, "quarter": a.quarter, "accrued": f"{a.amount:f}",
                  "expired": f"{rest:f}", "expires_on": a.expires_on.isoformat(), "recorded_at": rt.clock.now_iso(),
                  **mdf.rule.as_dict()}
        audit = AuditEntry(actor=ACTOR, actor_role="system", action="mdf.expired", subject=partner_id,
                           outcome="expired", inputs=record, policy_version=tenant.policy_version,
                           rule_ids=(mdf.rule.rule_id,), clauses=(mdf.rule.clause,))
        try:
            rt.commit(tenant.tenant_id, Changes(puts=[repository.expiry_put(record)], audit=[audit],
                                                events=[DomainEvent(SOURCE, "mdf.expired", record)]))
        except StaleWrite:
            continue  # another sweep recorded it first: once only
        written += 1
    return written
