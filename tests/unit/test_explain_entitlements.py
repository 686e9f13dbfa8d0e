"""Is partner X entitled to premium onboarding / managed support? The entitlement answer explained, clause quoted.

Northwind PA-9.3: "Gold and Platinum Partners are entitled to premium onboarding for each new Customer deployment
above USD 50,000.00 in List Price ... Premium onboarding is not available to Registered or Silver Partners".
A partner key sees only its own partner (PA-11.1); every explanation is audited (`copilot.explained`).
"""

from __future__ import annotations

import pytest
from test_explain_rebates import ContractIndex

from memory_store import memory_runtime
from revgov import schemas
from revgov.domain.access import Principal, Role
from revgov.domain.errors import NotFound
from revgov.domain.partners import tiers_by_rank
from revgov.local.demo_partners import demo_application, onboard
from revgov.services import explain_entitlements

SALES = Principal("northwind", Role.SALES, "key_01JX00000000000000000SALES")
OPS = Principal("northwind", Role.CHANNEL_OPS, "key_01JX0000000000000000CHOPS")
RIVAL = Principal("northwind", Role.PARTNER, "key_rival", "ptr_01JBNWPARTNER0000000000002")


def _partner(tier: str) -> tuple[object, dict]:
    rt, _ = memory_runtime("2026-03-02T09:00:00.000Z")
    policy = rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]
    level = next(t for t in tiers_by_rank(policy) if t["tier"] == tier)
    partner = onboard(rt, policy, demo_application(f"Explain {tier}", "reseller", level), "active",
                      sales=SALES, approver=OPS)
    rt.clause_index = ContractIndex()
    return rt, partner


def test_pa_9_3_a_gold_partner_is_entitled_to_premium_onboarding_with_the_clause_quoted_and_audited():
    rt, partner = _partner("gold")
    body = explain_entitlements.explain_entitlement(rt, OPS, partner["partner_id"], "premium_onboarding",
                                                    "2026-03-10T00:00:00Z")
    assert not schemas.problems("api/responses/entitlement-explanation.schema.json", body)
    assert body["entitled"] is True and body["effective_tier"] == "gold"
    assert body["reasons"][0]["clause"] == "PA-9.3"
    assert body["citations"] and all(c["quote"] in rt.clause_index.passages["PA-9.3"].text for c in body["citations"])
    assert "is entitled to premium_onboarding as of 2026-03-10T00:00:00Z" in body["explanation"]
    audit = [r for r in rt.store.audit_records("northwind") if r["action"] == "copilot.explained"]
    assert audit[-1]["subject"] == f"{partner['partner_id']}#premium_onboarding" and "PA-9.3" in audit[-1]["clauses"]


def test_pa_9_3_a_silver_partner_is_not_and_the_explanation_says_so():
    rt, partner = _partner("silver")
    key = Principal("northwind", Role.PARTNER, "key_own", partner["partner_id"])
    body = explain_entitlements.explain_entitlement(rt, key, partner["partner_id"], "premium_onboarding",
                                                    "2026-03-10T00:00:00Z")
    assert body["entitled"] is False and "is not entitled to premium_onboarding" in body["explanation"]
    assert body["reasons"][0]["clause"] == "PA-9.3"


def test_a_rival_partner_key_and_an_unknown_entitlement_are_404_and_nothing_is_audited():
    rt, partner = _partner("gold")
    with pytest.raises(NotFound):
        explain_entitlements.explain_entitlement(rt, RIVAL, partner["partner_id"], "premium_onboarding",
                                                 "2026-03-10T00:00:00Z")
    with pytest.raises(NotFound):
        explain_entitlements.explain_entitlement(rt, OPS, partner["partner_id"], "free_lunch", "2026-03-10T00:00:00Z")
    assert not [r for r in rt.store.audit_records("northwind") if r["action"] == "copilot.explained"]
