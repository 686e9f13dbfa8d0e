"""CPA-1.3: "'Business day' means Monday to Friday excluding the public holidays listed in the Partner Portal for the
Partner's country of establishment." A contoso partner's business-day SLAs skip its own country's holidays.

Dates are fixed (no test depends on today): Saint Patrick's Day, Tuesday 2026-03-17, is a public holiday in Ireland,
not in Germany and not in contoso's program-wide list (used for a partner with no recorded country).
"""

from __future__ import annotations

from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.partners import tiers_by_rank
from revgov.local.demo_partners import demo_application, onboard
from revgov.services import cases as case_service
from revgov.services import deals

SALES = Principal("contoso", Role.SALES, "key_01JX00000000000000000SALES")
OPS = Principal("contoso", Role.CHANNEL_OPS, "key_01JX000000000000000000OPS0")


def _partner(rt: Any, country: str | None, goal: str) -> dict[str, Any]:
    policy = rt.store.get("contoso", "TENANT", "PROFILE").data["config"]["policy"]
    authorized = tiers_by_rank(policy)[0]
    application = demo_application(f"Calendar {country or 'none'} {goal}", "reseller", authorized)
    if country:
        application["country"] = country
    return onboard(rt, policy, application, goal, sales=SALES, approver=OPS)


@pytest.mark.parametrize(("country", "due"), [("IE", "2026-03-24T09:00:00.000Z"), (None, "2026-03-23T09:00:00.000Z")])
def test_activation_sla_of_15_business_days_skips_the_partners_own_holidays_cpa_1_3(country, due):
    """CPA-2.9 "Contoso decides on a complete admission file within 15 business days of the last document": submitted
    Monday 2026-03-02 09:00, the 15th business day is Monday 2026-03-23, or Tuesday 2026-03-24 for an Irish partner
    (Saint Patrick's Day does not count)."""
    rt, _ = memory_runtime("2026-03-02T09:00:00.000Z", tenant="contoso")
    partner = _partner(rt, country, "pending_approval")
    assert partner["country"] == country
    approval, _ = case_service.get_case(rt, "contoso", "approval", partner["approval_id"])
    assert approval["due_at"] == due


@pytest.mark.parametrize(("country", "due"), [("IE", "2026-03-20T10:00:00.000Z"), ("DE", "2026-03-19T10:00:00.000Z")])
def test_registration_review_of_3_business_days_follows_the_partners_country_cpa_5_1(country, due):
    """CPA-5.1 "Channel Operations decides within 3 business days": registered Monday 2026-03-16 10:00, due Thursday
    2026-03-19 10:00, or Friday 2026-03-20 for an Irish partner."""
    rt, clock = memory_runtime("2026-03-02T09:00:00.000Z", tenant="contoso")
    partner = _partner(rt, country, "active")
    clock.set("2026-03-16T10:00:00.000Z")
    body = {
        "partner_id": partner["partner_id"],
        "customer": {"id": "CUST-CAL", "name": "Calendar Customer"},
        "family": "devices",  # CPA-5.1: Authorized partners register devices without certification
        "estimated_value": "12000.00",
        "expected_close": "2026-05-01",
    }
    deal = deals.register(rt, SALES, body)
    review, _ = case_service.get_case(rt, "contoso", "approval", deal["approval_id"])
    assert review["due_at"] == due
