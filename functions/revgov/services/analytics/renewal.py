"""Renewal probability for the KPIs: the partners' agreements read once per KPI read, the figure from the pure core
(`domain.renewal_outlook`) for the period's Program Year end and the scope asked; beside it, the customer subscription
renewals whose renewed term starts in the period, approved (won), refused (lost) or still waiting for approval
(`domain.subscription_renewals`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...domain import renewal_outlook as core
from ...domain import subscription_renewals as subscription_renewals_core
from ...domain.kpis import Period
from ...domain.renewals import TermRule, term_rule, year_end_of
from ...domain.tenants import Tenant
from ...domain.time import parse_day
from ...runtime import Runtime
from .. import partner_repository
from ..billing.repository import RENEWALS, partner_subscriptions
from ..toolkit import pages


@dataclass(frozen=True)
class Agreements:
    """Every approved partner's agreement as of today, and each partner's tier now (for a tier's figure)."""

    rule: TermRule
    every: list[core.Agreement]
    tiers: dict[str, str]
    today_iso: str
    kept: core.History | None = None  # the base rate's counts kept by the term sweep, where `every` is one partner's


def read_agreements(rt: Runtime, tenant: Tenant, partner_id: str | None = None) -> Agreements | None:
    """None where the policy names no agreement term (nothing renews under a rule). One partner's figure
    (`partner_id`) reads that partner's record and the base rate's counts the daily term sweep kept
    (`partner_repository.TERM_HISTORY`) while they are of the last year end passed; else every partner record."""
    rule = term_rule(tenant.policy)
    if rule is None:
        return None
    today = rt.clock.now_iso()[:10]
    if partner_id is not None:
        kept = partner_repository.term_history(rt.store, tenant.tenant_id)
        own = partner_repository.record(rt.store, tenant.tenant_id, partner_id)
        if kept is not None and own is not None and kept["last_year_end"] == core.last_year_end_passed(
                parse_day(today)):
            return Agreements(rule, core.agreements(rule, [own], parse_day(today)),
                              {partner_id: str(own.get("tier") or "none")}, today, core.History(**kept))
    partners = list(partner_repository.every(rt.store, tenant.tenant_id))
    return Agreements(rule, core.agreements(rule, partners, parse_day(today)),
                      {str(p["partner_id"]): str(p.get("tier") or "none") for p in partners}, today)


def renewal_probability(found: Agreements | None, target: Period, partner_id: str | None,
                        tier: str | None) -> dict[str, Any]:
    """The renewal figure of the Program Year end the period falls in, for one partner, one tier or all."""
    if found is None:
        return {"available": False, "reason": "this program's policy names no agreement term (policy.onboarding.term)"}
    scope = {partner_id} if partner_id else {p for p, t in found.tiers.items() if t == tier} if tier else None
    return core.outlook(found.rule, found.every, scope, year_end_of(target.last_day), parse_day(found.today_iso),
                        found.kept)


def read_subscription_renewals(rt: Runtime, tenant_id: str, periods: list[Period],
                               partner_id: str | None = None) -> list[dict[str, Any]]:
    """The customer subscription renewals whose renewed term starts in the periods' months (read once per KPI read,
    staff only), from their by-month index (`billing.RENEWALS`); one partner's (`partner_id`) from its own
    subscriptions, which record their renewals (`domain.subscription_renewals.recorded`), not every partner's of the
    months."""
    months = sorted({m for period in periods for m in period.months})
    if partner_id is not None:
        return [{"subscription_id": s.data["subscription_id"], "partner_id": s.data["partner_id"], **renewal}
                for s in partner_subscriptions(rt, tenant_id, partner_id)
                for renewal in subscription_renewals_core.renewals_of(s.data) if renewal["renewed_from"][:7] in months]
    return [s.data for m in months for s in pages(rt.store, tenant_id, RENEWALS, prefix=f"{m}-")]


def subscription_renewals(entries: list[dict[str, Any]], found: Agreements | None, target: Period,
                          partner_id: str | None, tier: str | None) -> dict[str, int]:
    """Renewals whose renewed term starts in the period, for one partner, one tier (its partners now) or all."""
    tiers = found.tiers if found else {}
    scoped = [e for e in entries if (partner_id is None or e["partner_id"] == partner_id)
              and (tier is None or tiers.get(str(e["partner_id"])) == tier)]
    return subscription_renewals_core.counts(scoped, target.first_day, target.last_day)
