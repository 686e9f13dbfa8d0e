"""The support hours a partner has used and has left in a Quarter, beside its hours entitlement.

SOP-5.1: "Before scheduling support [...] Customer Success checks the Partner's current entitlements: support level,
support hours remaining in the Quarter, premium onboarding, managed support, and the validity of the certifications on
which those entitlements depend". SOP-5.2 / COP-5.2: hours count "against the Quarter in which the work was
performed". The hours used are billing's counter of `support.logged` entries for the partner and Quarter (the one
billing keeps to find the overage, services/billing/support.py); this module reads it and never writes it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..domain.access import Principal
from ..domain.billing import quarter_of
from ..domain.time import parse_instant
from ..runtime import Runtime
from . import partners
from .billing.repository import SUPPORT_HOURS

HOURS = "max_support_hours_per_quarter"
_CENT = Decimal("0.01")  # hours are logged in quarter hours: two places show them exactly


def used(rt: Runtime, tenant_id: str, partner_id: str, quarter: str) -> Decimal:
    stored = rt.store.get(tenant_id, SUPPORT_HOURS, f"{partner_id}#{quarter}")
    return Decimal(stored.data["hours_used"]) if stored else Decimal(0)


def with_usage(rt: Runtime, tenant_id: str, partner_id: str, answer: dict[str, Any], at_iso: str) -> dict[str, Any]:
    """The hours entitlement's answer with the Quarter of `at_iso`, the hours used in it and those left (never below
    0; none when not entitled), as decimal strings with two places."""
    quarter = quarter_of(parse_instant(at_iso).date())
    hours = used(rt, tenant_id, partner_id, quarter)
    value = answer.get("value")
    allowance = Decimal(value) if answer.get("entitled") and isinstance(value, int) and value >= 0 else Decimal(0)
    left = max(allowance - hours, Decimal(0))
    return {**answer, "quarter": quarter, "hours_used": f"{hours.quantize(_CENT):f}",
            "hours_remaining": f"{left.quantize(_CENT):f}"}


def entitlement(rt: Runtime, tenant_id: str, partner_id: str, name: str, at_iso: str) -> dict[str, Any]:
    """`partners.entitlement`, with the Quarter's hours used and left on the hours entitlement."""
    answer = partners.entitlement(rt, tenant_id, partner_id, name, at_iso)
    return with_usage(rt, tenant_id, partner_id, answer, at_iso) if name == HOURS else answer


def read_entitlement(rt: Runtime, who: Principal, partner_id: str, name: str, at_iso: str) -> dict[str, Any]:
    """`entitlement` as the caller may read it: a partner key its own partner's only (`partners.visible_id`)."""
    return entitlement(rt, who.tenant_id, partners.visible_id(who, partner_id), name, at_iso)


def read_entitlements(rt: Runtime, who: Principal, partner_id: str, at_iso: str) -> dict[str, Any]:
    """`entitlements` as the caller may read them: a partner key its own partner's only (`partners.visible_id`)."""
    return entitlements(rt, who.tenant_id, partners.visible_id(who, partner_id), at_iso)


def entitlements(rt: Runtime, tenant_id: str, partner_id: str, at_iso: str) -> dict[str, Any]:
    """`partners.entitlements`, with the Quarter's hours used and left on the hours entitlement."""
    every = partners.entitlements(rt, tenant_id, partner_id, at_iso)
    answers = dict(every["entitlements"])
    if HOURS in answers:
        answers[HOURS] = with_usage(rt, tenant_id, partner_id, answers[HOURS], at_iso)
    return {**every, "entitlements": answers}
