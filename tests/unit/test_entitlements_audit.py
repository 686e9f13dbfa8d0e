"""Entitlements audit: every number and role the tier entitlements and the support-hour rules carry, against the clause
they cite (a policy rule and its clause must say the same thing; where they differ the clause wins). Expectations are
written from the contracts, quoted here, and read back through the product's own answer
(`revgov.domain.partners.entitlements`, what GET /v1/partners/{id}/entitlements returns).

PA-9.1 support levels: "standard | Registered | business days 08:00-18:00 Partner local time | 8 business hours";
"priority | Silver | business days 07:00-20:00 Partner local time | 4 business hours"; "premium | Gold | 24 hours,
Monday to Friday | 2 hours"; "premium_24x7 | Platinum | 24 hours, 7 days | 1 hour".
PA-9.2: "Registered 10 hours, Silver 40 hours, Gold 80 hours and Platinum 160 hours. Hours are logged against the
Partner in 15-minute increments. [...] billed at USD 150.00 per hour".
PA-9.3: "Gold and Platinum Partners are entitled to premium onboarding [...] not available to Registered or Silver".
PA-9.4: "Platinum Partners are entitled to managed support".
PA-9.5: "Silver, Gold and Platinum Partners are eligible for market development funds (MDF). MDF accrues each Quarter
at a percentage of the Partner's Qualifying Revenue in the previous Quarter: Silver 2%, Gold 3% and Platinum 4%. [...]
Registered Partners are not eligible for MDF."
PA-9.6: "All approved Partners are entitled to the Partner Portal [...] Portal access ends 90 days after termination".
PA-5.1: "Deal registration is an entitlement of the Silver, Gold and Platinum tiers. Registered tier Partners may not
register deals."
CPA-9.1: "standard for Authorized (business days 09:00-17:00 Central European Time, initial response to severity 1
within 8 business hours), priority for Advanced (business days 08:00-19:00 Central European Time, 4 business hours) and
premium_24x7 for Elite (24 hours, 7 days, 1 hour)".
CPA-9.2: "Authorized 8, Advanced 30 and Elite 120. Hours are recorded in 15-minute units [...] billed at EUR 130.00
per hour."
CPA-9.3: "Advanced and Elite Partners receive premium onboarding [...] Authorized Partners may buy onboarding as a
Service." CPA-9.4: "Elite Partners receive managed support". CPA-9.5: "Advanced and Elite Partners accrue market
development funds each Quarter at 2% (Advanced) or 5% (Elite)". CPA-9.6: "Elite Partners are assigned a named
technical account manager". CPA-9.7: "up to 1 (Authorized), 3 (Advanced) or 10 (Elite) at a time, and certification
exam vouchers per Program Year: 2 (Authorized), 6 (Advanced) or 20 (Elite)". CPA-9.8: "Every admitted Partner has
Partner Portal access [...] Access ends 60 days after termination." CPA-5.1: "Partners of all tiers may register
opportunities".
SOP-5.4: "When a Partner has used 80% of its quarterly support hours, Customer Success notifies [...] billed as overage
at USD 150.00 per hour". COP-5.4: "Customer Success notifies the Partner at 75% and at 100% of its quarterly hours.
[...] billed at EUR 130.00 per hour".
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from revgov import schemas
from revgov.domain import partners as partner_rules
from revgov.edge.registry import OPERATIONS
from revgov.edge.routes import load_all
from revgov.tenant_files import load_tenant_file
from support import ROOT

NORTHWIND = {
    "registered": {"support_level": "standard", "max_support_hours_per_quarter": 10, "premium_onboarding": False,
                   "managed_support": False, "mdf_eligible": False, "mdf_percent": 0, "deal_registration": False,
                   "partner_portal_access": True,
                   "support_coverage": "business days 08:00-18:00 Partner local time",
                   "support_sev1_initial_response": "8 business hours"},
    "silver": {"support_level": "priority", "max_support_hours_per_quarter": 40, "premium_onboarding": False,
               "managed_support": False, "mdf_eligible": True, "mdf_percent": 2, "deal_registration": True,
               "partner_portal_access": True,
               "support_coverage": "business days 07:00-20:00 Partner local time",
               "support_sev1_initial_response": "4 business hours"},
    "gold": {"support_level": "premium", "max_support_hours_per_quarter": 80, "premium_onboarding": True,
             "managed_support": False, "mdf_eligible": True, "mdf_percent": 3, "deal_registration": True,
             "partner_portal_access": True, "support_coverage": "24 hours, Monday to Friday",
             "support_sev1_initial_response": "2 hours"},
    "platinum": {"support_level": "premium_24x7", "max_support_hours_per_quarter": 160, "premium_onboarding": True,
                 "managed_support": True, "mdf_eligible": True, "mdf_percent": 4, "deal_registration": True,
                 "partner_portal_access": True, "support_coverage": "24 hours, 7 days",
                 "support_sev1_initial_response": "1 hour"},
}
CONTOSO = {
    "authorized": {"support_level": "standard", "max_support_hours_per_quarter": 8, "premium_onboarding": False,
                   "managed_support": False, "mdf_eligible": False, "mdf_percent": 0, "deal_registration": True,
                   "partner_portal_access": True, "technical_account_manager": False, "sandbox_environments": 1,
                   "training_vouchers_per_year": 2,
                   "support_coverage": "business days 09:00-17:00 Central European Time",
                   "support_sev1_initial_response": "8 business hours"},
    "advanced": {"support_level": "priority", "max_support_hours_per_quarter": 30, "premium_onboarding": True,
                 "managed_support": False, "mdf_eligible": True, "mdf_percent": 2, "deal_registration": True,
                 "partner_portal_access": True, "technical_account_manager": False, "sandbox_environments": 3,
                 "training_vouchers_per_year": 6,
                 "support_coverage": "business days 08:00-19:00 Central European Time",
                 "support_sev1_initial_response": "4 business hours"},
    "elite": {"support_level": "premium_24x7", "max_support_hours_per_quarter": 120, "premium_onboarding": True,
              "managed_support": True, "mdf_eligible": True, "mdf_percent": 5, "deal_registration": True,
              "partner_portal_access": True, "technical_account_manager": True, "sandbox_environments": 10,
              "training_vouchers_per_year": 20, "support_coverage": "24 hours, 7 days",
              "support_sev1_initial_response": "1 hour"},
}
CLAUSES = {
    "northwind": {"support_level": "PA-9.1", "support_coverage": "PA-9.1", "support_sev1_initial_response": "PA-9.1",
                  "max_support_hours_per_quarter": "PA-9.2", "premium_onboarding": "PA-9.3",
                  "managed_support": "PA-9.4", "mdf_eligible": "PA-9.5", "mdf_percent": "PA-9.5",
                  "deal_registration": "PA-5.1", "partner_portal_access": "PA-9.6"},
    "contoso": {"support_level": "CPA-9.1", "support_coverage": "CPA-9.1", "support_sev1_initial_response": "CPA-9.1",
                "max_support_hours_per_quarter": "CPA-9.2", "premium_onboarding": "CPA-9.3",
                "managed_support": "CPA-9.4", "mdf_eligible": "CPA-9.5", "mdf_percent": "CPA-9.5",
                "deal_registration": "CPA-5.1", "partner_portal_access": "CPA-9.8",
                "technical_account_manager": "CPA-9.6", "sandbox_environments": "CPA-9.7",
                "training_vouchers_per_year": "CPA-9.7"},
}


def _policy(tenant: str) -> dict[str, Any]:
    return load_tenant_file(ROOT / "tenants" / tenant / "tenant.yaml")["policy"]  # type: ignore[no-any-return]


def _partner_at(policy: dict[str, Any], tier: str) -> dict[str, Any]:
    """An active partner of `tier` holding every certification the tier requires, valid through 2027."""
    rule = next(t for t in policy["partner_tiers"] if t["tier"] == tier)
    held = {cid: {"certification_id": cid, "earned_at": "2026-01-01", "expires_at": "2027-12-31"}
            for cid in rule["requirements"]["certifications"]}
    return {"partner_id": "ptr_01JX0000000000000000000AUD", "status": "active", "tier": tier, "certifications": held}


@pytest.mark.parametrize(("tenant", "expected"), [("northwind", NORTHWIND), ("contoso", CONTOSO)])
def test_each_tiers_entitlements_equal_the_clauses_they_cite(tenant, expected):
    policy = _policy(tenant)
    assert {t["tier"] for t in policy["partner_tiers"]} == set(expected)
    for tier, values in expected.items():
        answer = partner_rules.entitlements(policy, _partner_at(policy, tier), "2026-06-01T00:00:00Z")
        assert answer["effective_tier"] == tier
        got = {name: e["value"] for name, e in answer["entitlements"].items()}
        assert got == values, (tenant, tier)
        cited = {name: e["clause"] for name, e in answer["entitlements"].items()}
        assert cited == {name: CLAUSES[tenant][name] for name in values}, (tenant, tier)


@pytest.mark.parametrize(("tenant", "rate", "notify", "portal_days"),
                         [("northwind", "150.00", [80], 90), ("contoso", "130.00", [75, 100], 60)])
def test_support_overage_rate_notices_and_portal_window_equal_their_clauses(tenant, rate, notify, portal_days):
    policy = _policy(tenant)
    overage = policy["billing"]["support_overage"]
    assert (overage["hourly_rate"], overage["notify_at_percent"]) == (rate, notify)
    assert overage["entitlement"] == "max_support_hours_per_quarter"
    assert policy["onboarding"]["termination"]["portal_access"]["days"] == portal_days


def test_support_hours_are_logged_in_15_minute_increments_only():
    """PA-9.2 "in 15-minute increments" / CPA-9.2 "in 15-minute units": the support.logged payload refuses others."""
    sample = json.loads((ROOT / "events" / "revgov.erp" / "support.logged.json").read_text())

    def with_hours(hours: str) -> dict[str, Any]:
        return {**sample, "detail": {**sample["detail"], "data": {**sample["detail"]["data"], "hours": hours}}}

    for hours in ("0.25", "1.5", "2.75", "3"):
        assert schemas.problems("events/support.logged.schema.json", with_hours(hours)) == [], hours
    for hours in ("0.2", "1.1", "0", "0.10"):
        assert schemas.problems("events/support.logged.schema.json", with_hours(hours)), hours


# --- what the clauses promise that the product cannot yet express (strict: each turns green when built) ----------
@pytest.mark.parametrize(("tenant", "tier", "floor"), [("northwind", "gold", "50000.00"),
                                                       ("northwind", "platinum", "50000.00"),
                                                       ("contoso", "advanced", "40000.00"),
                                                       ("contoso", "elite", "40000.00")])
def test_pa_9_3_premium_onboarding_knows_the_deployment_threshold(tenant, tier, floor):
    """PA-9.3 "premium onboarding for each new Customer deployment above USD 50,000.00 in List Price" (CPA-9.3:
    "above EUR 40,000.00"): the event carries the deployment's List Price value and the entitlement its floor; at the
    floor it is not included (only ABOVE it), a cent above it is (the billing behaviour:
    tests/unit/test_service_entitlement_scope.py). Only "for each new Customer deployment": a deployment not reported
    as new is not included, whatever its value (reviewer finding 1, docs/clause-audit.md)."""
    schema = json.loads((ROOT / "schemas" / "events" / "service.completed.schema.json").read_text())
    assert "deployment_list_value" in schema["$defs"]["data"]["properties"]
    policy = _policy(tenant)
    answer = partner_rules.entitlement(policy, _partner_at(policy, tier), "premium_onboarding", "2026-06-01T00:00:00Z")
    assert answer["entitled"] is True and answer["min_deployment_list_value"] == floor
    assert partner_rules.below_deployment_floor(answer, floor, True)["entitled"] is False
    assert partner_rules.below_deployment_floor(answer, None, True)["entitled"] is False
    above = f"{Decimal(floor) + Decimal('0.01')}"
    assert partner_rules.below_deployment_floor(answer, above, True)["entitled"] is True
    assert partner_rules.below_deployment_floor(answer, above, False)["entitled"] is False
    assert partner_rules.below_deployment_floor(answer, above)["entitled"] is False


@pytest.mark.parametrize(("tenant", "tier", "cert"), [("northwind", "platinum", "cert-hw-deploy"),
                                                      ("contoso", "elite", None)])
def test_pa_9_4_managed_support_monitoring_runs_to_the_end_of_the_billing_month(tenant, tier, cert):
    """PA-9.4 "Where a Partner ceases to be entitled to managed support, monitoring ends at the end of the Billing
    Month" (CPA-9.4 "Managed support ends at the end of the Billing Month in which the entitlement ends"): a required
    certification counting until 10 June ends the entitlement on 11 June (PA-4.3(a)); monitoring runs to 30 June."""
    policy = _policy(tenant)
    partner = _partner_at(policy, tier)
    cert = cert or next(t for t in policy["partner_tiers"] if t["tier"] == tier)["requirements"]["certifications"][-1]
    partner["certifications"][cert]["expires_at"] = "2026-06-10"
    held = partner_rules.entitlement(policy, partner, "managed_support", "2026-06-10T12:00:00Z")
    assert held["entitled"] is True and "service_until" not in held
    answer = partner_rules.entitlement(policy, partner, "managed_support", "2026-06-20T00:00:00Z")
    assert answer["entitled"] is False and answer.get("service_until") == "2026-06-30"
    july = partner_rules.entitlement(policy, partner, "managed_support", "2026-07-02T00:00:00Z")
    assert july.get("service_until") == "2026-06-30"  # stated, and past: July's work is out of scope
    # an entitlement without the month-end rule stops at once and says no more
    other = partner_rules.entitlement(policy, partner, "support_level", "2026-06-20T00:00:00Z")
    assert "service_until" not in other


def test_pa_9_5_mdf_accrues_and_is_claimed():
    """PA-9.5 "MDF accrues each Quarter at a percentage of the Partner's Qualifying Revenue in the previous Quarter
    [...] Claims must be submitted within 90 days after the activity ends [...] Accrued MDF not claimed by the end of
    the Quarter following the Quarter of accrual expires" (CPA-9.5: 60 days, "the end of the second Quarter after
    accrual"): the ledger, activity and claim routes exist and the policy states the windows the clauses give (the
    behaviour: tests/unit/test_mdf.py)."""
    load_all()
    paths = {(op.method, op.path) for op in OPERATIONS}
    assert {("GET", "/v1/partners/{partner_id}/mdf"), ("POST", "/v1/partners/{partner_id}/mdf/activities"),
            ("POST", "/v1/partners/{partner_id}/mdf/claims")} <= paths
    for tenant, clause, days, quarters in (("northwind", "PA-9.5", 90, 1), ("contoso", "CPA-9.5", 60, 2)):
        mdf = _policy(tenant)["mdf"]
        assert (mdf["clause"], mdf["claim_window_days"], mdf["expires_after_quarters"]) == (clause, days, quarters)


def test_cpa_9_7_sandboxes_and_vouchers_count_what_remains():
    """CPA-9.7 "up to 1 (Authorized), 3 (Advanced) or 10 (Elite) at a time, and certification exam vouchers per
    Program Year: 2 (Authorized), 6 (Advanced) or 20 (Elite) [...] Unused vouchers expire at the end of the Program
    Year" (the behaviour: tests/unit/test_partner_allowances.py)."""
    policy = _policy("contoso")
    answer = partner_rules.entitlement(policy, _partner_at(policy, "elite"), "training_vouchers_per_year",
                                       "2026-06-01T00:00:00Z")
    assert answer["remaining"] == 20
