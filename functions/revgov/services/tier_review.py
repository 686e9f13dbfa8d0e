"""The tier review of one partner on a review day (PA-3.6 / CPA-3.5, outcome PA-3.7 / CPA-3.6): the revenue measured
over the review's basis (Invoiced Revenue of the invoices of those Billing Months, net of every credit note issued
against them, whenever issued: PA-1.2 / CPA-1.2), judged by `domain.partners.tier_review`.
Reads only: it states what the review finds and from when; Channel Operations records the tier change."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from ..domain.access import Principal
from ..domain.billing import DIRECT_CHANNELS, billed_to_customer
from ..domain.errors import NotFound
from ..domain.money import format_money, parse_money, round_money
from ..domain.partners import tier_review
from ..domain.time import add_months, period_of
from ..runtime import Runtime
from . import partner_repository, tenants
from .rebates import projection
from .rebates import repository as rebate_lines


def measured_revenue(rt: Runtime, tenant_id: str, partner_id: str, first: date, last: date, on: date) -> Decimal:
    """The partner's Qualifying Revenue on the invoices of the Billing Months from `first` to `last`, net of the credit
    notes issued against them up to the review day's month (PA-1.2 / CPA-1.2: "whenever issued"), read from billing's
    sales facts as the rebate projection reads them (a credit note counts in the month of the line it credits; one
    paying an incentive is no revenue), writing nothing. No program's exclusions: the annual commitment is measured
    on Qualifying Revenue itself (PA-3.1 / CPA-3.1). The Distributor's direct invoices to customers the partner
    referred are not "invoiced by the Distributor to the Partner" (PA-1.2 / CPA-1.2; PA-8.1 / CPA-8.1): left out."""
    basis = {period_of(month) for month in _months(first, last)}
    months = [period_of(month) for month in _months(first, max(last, on))]
    facts = [fact for fact in rebate_lines.partner_month_sales_facts(rt, tenant_id, partner_id, months)
             if not _referred(fact)]
    lines, _ = projection.rebate_lines(rt, tenant_id, facts)
    return round_money(Decimal(sum(int(ln["net_cents"]) for ln in lines if ln["month"] in basis)) / 100)


def missed_commitment(rt: Runtime, tenant_id: str, partner: Mapping[str, Any], on: date) -> dict[str, Any] | None:
    """The partner's commitment-based upgrade of the Program Year before `on`'s when that year's Annual Revenue
    (measured as the January review measures it) stayed below the commitment (PA-3.7: "A Partner that was upgraded on a
    written commitment and misses that commitment [...] does not receive a second commitment-based upgrade in the
    following Program Year"), with the revenue; else None."""
    made = tier_review.previous_commitment(partner, on)
    if made is None:
        return None
    year = int(made["program_year"])
    revenue = measured_revenue(rt, tenant_id, str(partner["partner_id"]), date(year, 1, 1), date(year, 12, 31), on)
    if revenue >= parse_money(made["annual_commitment"]):
        return None
    return {**made, "revenue": format_money(revenue)}


def _referred(fact: dict[str, Any]) -> bool:
    """A referral sale (PA-8.1 / CPA-8.1) or a sales agent's listed account (PA-8.2): the Distributor's direct invoice
    to the customer, or such a line posted on the partner's own invoice before these sales were invoiced directly;
    the partner's revenue in neither case."""
    return billed_to_customer(fact) or fact.get("channel") in DIRECT_CHANNELS


def _months(first: date, last: date) -> list[date]:
    month, found = first.replace(day=1), []
    while month <= last:
        found.append(month)
        month = add_months(month, 1)
    return found


def review(rt: Runtime, who: Principal, partner_id: str, on: date, *, requested: bool = False) -> dict[str, Any]:
    """What the tier review held on `on` finds for the partner, or (`requested`) what its request for an upgrade on
    `on` finds (staff only: a partner key is refused at the edge)."""
    if not who.sees_partner(partner_id):
        raise NotFound(f"no partner {partner_id}")
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    partner, _ = partner_repository.load(rt.store, who.tenant_id, partner_id)
    basis = tier_review.partner_basis(tenant.policy, partner, on, requested=requested)
    revenue = measured_revenue(rt, who.tenant_id, partner_id, basis.first, basis.last, on)
    return {"partner_id": partner_id, **tier_review.findings(tenant.policy, partner, on, revenue, requested=requested)}
