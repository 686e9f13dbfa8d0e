"""Net 45 for a Gold partner whose certification lapsed (reviewer finding 3, docs/clause-audit.md): decided by the
text, checked through the quote's partner facts (services.pricing.partner_facts) and the pure pricing check.

PA-3.4: "Gold Partners receive premium support [...], premium onboarding for new Customer deployments, deal
registration, market development funds at 3% under PA-9.5, net 45 payment terms on request under PA-6.7, and
participate in the quarterly volume rebate and the growth rebate."
PA-6.7: "Standard payment terms are net 30 days from the invoice date. Gold and Platinum Partners may request net 45
days as a standard term, set by Channel Operations at tier assignment. Any other payment term, including terms longer
than 45 days [...] is non-standard and requires Legal approval".
PA-3.1: "The tier determines the Partner's discount caps under PA-6.2, its eligibility for rebates under Section 7 and
its entitlements under Section 9. Each tier's entitlements depend on each certification required for that tier."
PA-4.3(a): from the moment a certification expires "every entitlement that depends on that certification is removed,
so that the Partner receives only the entitlements of the highest tier whose certification requirements it still
meets".
PA-3.7: "if a Partner does not hold a certification required for its tier for more than 90 consecutive days, the
Partner is downgraded to the highest tier whose certification requirements it meets, effective on the first day of the
following Billing Month. Entitlements are already reduced from the moment of expiry under PA-4.3."

Reading: net 45 is a payment term of PA-6.7 (Section 6, beside the discount caps), granted to "Gold and Platinum
Partners" and "set [...] at tier assignment"; the entitlements PA-4.3(a) removes at once are those of Section 9 (PA-3.1
names them apart from the discount caps and rebates). The partner stays Gold until the PA-3.7 downgrade, so it keeps
net 45 without Legal approval until then; from the downgrade (Silver) net 45 is "any other payment term": Legal.

cert-security-pro (Gold) expires 2026-05-10 at 23:59:59: lacking from 2026-05-11; its 90th consecutive day is
2026-08-08, the 91st ("more than 90") 2026-08-09: downgraded to Silver from 2026-09-01.
"""

from __future__ import annotations

from typing import Any

import pytest

from revgov.domain import partners as partner_rules
from revgov.domain.pricing import PartnerFacts, check_quote
from revgov.domain.tenants import policy_version
from revgov.services import pricing
from revgov.tenant_files import load_tenant_file
from support import ROOT

POLICY = load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml")["policy"]
VERSION = policy_version(POLICY)
CERTS = {c: {"cert_id": c, "holder": "G. Old", "earned_at": "2025-01-01", "expires_at": "2027-12-31"}
         for c in ("cert-network-core", "cert-security-pro")}  # fmt: skip
CERTS["cert-security-pro"]["expires_at"] = "2026-05-10"
GOLD = {"partner_id": "ptr_01JBNWGD45000000000000000A", "legal_name": "Net Gold Inc", "partner_type": "reseller",
        "status": "active", "tier": "gold", "country": "US", "activated_at": "2025-01-01T00:00:00Z",
        "certifications": CERTS}  # fmt: skip


def _quote(day: str, payment_days: int) -> dict[str, Any]:
    facts = pricing.partner_facts(POLICY, GOLD, f"{day}T12:00:00Z")
    partner = PartnerFacts(facts["partner_id"], facts["status"], facts["tier"],
                           frozenset(facts["certified_families"]), frozenset(facts["barred_families"]))
    quote = {"quote_date": day, "customer_id": "cust-45", "terms": {"payment_days": payment_days},
             "lines": [{"line_id": "1", "sku": "NW-X", "family": "networking", "quantity": 1, "list_price": "1000.00",
                        "unit_cost": "500.00", "discount_percent": "0"}]}  # fmt: skip
    return check_quote(POLICY, VERSION, quote, partner, {}, {})


def _terms_findings(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in result["findings"] if f["rule_id"] == "PRC-PAYMENT-TERMS"]


@pytest.mark.parametrize("day", ["2026-05-11", "2026-08-09", "2026-08-31"])
def test_pa_6_7_a_gold_partner_with_a_lapsed_certification_keeps_net_45_until_the_downgrade(day):
    """PA-6.7 "Gold and Platinum Partners may request net 45 days as a standard term": the day after the lapse, the
    91st day and the last day before the downgrade, still Gold: net 45 is standard, no Legal approval."""
    lapsed = partner_rules.entitlement(POLICY, GOLD, "premium_onboarding", f"{day}T12:00:00Z")
    assert lapsed["entitled"] is False  # PA-4.3(a): the Section 9 entitlement is gone at once ...
    result = _quote(day, 45)
    assert _terms_findings(result) == []  # ... net 45 (PA-6.7, the tier's payment term) is not
    assert "non_standard_payment_terms" not in result["approval_categories"]


def test_pa_3_7_from_the_downgrade_net_45_needs_legal_approval():
    """PA-3.7 "effective on the first day of the following Billing Month": Silver from 2026-09-01, and for Silver net
    45 is "any other payment term [...] requires Legal approval" (PA-6.7); net 30 stays standard."""
    result = _quote("2026-09-01", 45)
    (finding,) = _terms_findings(result)
    assert finding["clause"] == "PA-6.7" and "non_standard_payment_terms" in result["approval_categories"]
    assert _terms_findings(_quote("2026-09-01", 30)) == []


def test_pa_6_7_terms_longer_than_45_days_always_need_legal():
    """PA-6.7 "including terms longer than 45 days [...] requires Legal approval": net 46 for the Gold partner."""
    assert "non_standard_payment_terms" in _quote("2026-05-11", 46)["approval_categories"]
