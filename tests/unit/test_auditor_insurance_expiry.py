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
from revgov.domain.partners import tiers_by_rank
from revgov.local.demo_partners import demo_application, onboard
from revgov.services import pricing

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


@pytest.mark.xfail(
    strict=True,
    reason="auditor: nothing suspends a partner whose insurance certificate expired more than 15 days ago "
    "(PA-2.7; CPA-2.4 10 days): its status stays active and the quote check allows it",
)
def test_pa_2_7_nineteen_days_after_expiry_without_a_renewal_the_partner_may_not_quote():
    assert _quote_on("2026-12-20") == "deny"
