"""An auditor's case on an expired insurance certificate, on the in-memory engine with a fixed clock.

PA-2.7: "If a renewed certificate is not verified within 15 days after the expiry date, the Partner is suspended from
new quotes, new orders and new deal registrations under PA-13.2 until a valid certificate is verified." PA-2.2: "A
document that has expired is treated as not provided." (CPA-2.4: "If a renewed certificate is not verified within 10
days after expiry, the Partner is suspended under CPA-13.2 from new quotes, orders and registrations".)

A Northwind reseller is activated on 2026-01-05 with its insurance certificate valid until 2026-12-01 (the demo
onboarding files every document it needs, certificates for 330 days). No renewal is verified. A quote within the cap
on 2026-12-10 (9 days after expiry) is still allowed; one on 2026-12-20 (19 days after) is not: the partner is
suspended from new quotes.
"""

from __future__ import annotations

from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import RuleViolation
from revgov.domain.partners import tiers_by_rank
from revgov.local.demo_partners import demo_application, onboard
from revgov.services import deals, pricing

SALES = Principal("northwind", Role.SALES, "key_01JX00000000000000000SALES")
OPS = Principal("northwind", Role.CHANNEL_OPS, "key_01JX000000000000000000OPS0")


def _quote_on(day: str) -> str:
    rt, clock = memory_runtime("2026-01-05T09:00:00.000Z")
    policy: dict[str, Any] = rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]  # type: ignore[union-attr]
    application = demo_application("Insured Networks", "reseller", tiers_by_rank(policy)[0])
    partner = onboard(rt, policy, application, "active", sales=SALES, approver=OPS)
    assert partner["status"] == "active"
    insurance = partner["documents"]["insurance_certificate"]
    assert insurance["expires_at"] == "2026-12-01"
    clock.set(f"{day}T10:00:00.000Z")
    checked = pricing.check(rt, SALES, {
        "partner_id": partner["partner_id"], "customer": {"id": "CUST-INS-1", "name": "Lakeside"},
        "lines": [{"line_id": "1", "sku": "NW-SW-24P", "quantity": 1, "discount_percent": "2"}]})  # fmt: skip
    return str(checked["outcome"])


def test_pa_2_7_within_15_days_of_the_certificates_expiry_the_partner_may_still_quote():
    assert _quote_on("2026-12-10") == "allow"


def test_pa_2_7_nineteen_days_after_expiry_without_a_renewal_the_partner_may_not_quote():
    assert _quote_on("2026-12-20") == "deny"


def test_pa_2_7_nineteen_days_after_expiry_the_partner_may_not_register_a_deal_either():
    # "suspended from new quotes, new orders and new deal registrations": refused citing PA-2.7, before any sweep
    rt, clock = memory_runtime("2026-01-05T09:00:00.000Z")
    policy: dict[str, Any] = rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]  # type: ignore[union-attr]
    application = demo_application("Insured Deals Networks", "reseller", tiers_by_rank(policy)[0])
    partner = onboard(rt, policy, application, "active", sales=SALES, approver=OPS)
    clock.set("2026-12-20T10:00:00.000Z")
    customer = {"id": "CUST-INS-2", "name": "Lakeside", "contact": "D. Ortiz"}
    body = {"partner_id": partner["partner_id"], "customer": customer,
            "family": "networking", "estimated_value": "1000.00", "expected_close": "2027-01-20"}  # fmt: skip
    with pytest.raises(RuleViolation) as refused:
        deals.register(rt, SALES, body)
    assert "PA-2.7" in [r["clause"] for r in refused.value.extra["reasons"]]
