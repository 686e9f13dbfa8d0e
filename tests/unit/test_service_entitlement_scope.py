"""Service milestones against entitlements that end or have a floor (PA-9.4 / CPA-9.4 managed support to the end of
the Billing Month; PA-9.3 premium onboarding above a deployment value), on the in-memory engine with a fixed clock.

PA-9.4: "Platinum Partners are entitled to managed support [...] Where a Partner ceases to be entitled to managed
support, monitoring ends at the end of the Billing Month." CPA-9.4: "Managed support ends at the end of the Billing
Month in which the entitlement ends." PA-4.3(a): from the moment a certification expires "every entitlement that
depends on that certification is removed". SOP-5.3: out-of-scope work "is raised as an out_of_scope_service
exception".

A Northwind Platinum partner's cert-hw-deploy counts until 2026-06-10: managed support ends then (Platinum needs it);
a managed-support milestone accepted on 2026-06-25 is still in scope (monitoring runs to 2026-06-30), one accepted on
2026-07-02 is out of scope.
"""

from __future__ import annotations

from typing import Any

from memory_store import Ledger
from revgov.ports import Changes, Put
from revgov.tenant_files import load_tenant_file
from support import ROOT

PARTNER = "ptr_01JBNWMANAGED0000000000001"


def _ledger(at: str) -> Ledger:
    ledger = Ledger(at)
    policy = load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml")["policy"]
    platinum = next(t for t in policy["partner_tiers"] if t["tier"] == "platinum")
    certs = {cid: {"cert_id": cid, "holder": "M. Support", "earned_at": "2025-01-01", "expires_at": "2027-12-31"}
             for cid in platinum["requirements"]["certifications"]}
    certs["cert-hw-deploy"]["expires_at"] = "2026-06-10"
    partner = {"partner_id": PARTNER, "legal_name": "Managed Co", "partner_type": "reseller", "status": "active",
               "tier": "platinum", "activated_at": "2025-01-01T00:00:00Z", "certifications": certs}
    ledger.rt.store.commit("northwind", Changes(puts=[Put("PARTNER", PARTNER, partner)]))
    return ledger


def _milestone(ledger: Ledger, accepted_on: str, sow: str) -> dict[str, Any]:
    data = {"partner_id": PARTNER, "sow_ref": sow, "service": "managed_support", "family": "security",
            "milestone": "kickoff", "sow_value": "12500.00", "accepted_on": accepted_on}
    return ledger.bill("service.completed", data, occurred_at=f"{accepted_on}T11:00:00Z")


def _out_of_scope(ledger: Ledger) -> list[dict[str, Any]]:
    return [e for e in ledger.exceptions() if e["category"] == "out_of_scope_service"]


def test_pa_9_4_managed_support_accepted_later_in_the_month_the_entitlement_ended_is_in_scope():
    # Changed for reviewer finding 1 (docs/clause-audit.md): it asserted only "billed". PA-9.4 "Platinum Partners are
    # entitled to managed support": within the entitlement (to the end of the Billing Month) it is an included
    # service, a 0.00 line crediting its list amount (30% of 12,500.00 = 3,750.00) in full, citing PA-9.4 (the
    # entitlement itself ended on 11 June, PA-4.3: the month-end continuation is PA-9.4's, SVC-MANAGED-SUPPORT).
    ledger = _ledger("2026-06-25T12:00:00Z")
    answer = _milestone(ledger, "2026-06-25", "SOW-MS-JUNE")
    assert answer["status"] == "processed", answer
    assert _out_of_scope(ledger) == []
    assert "not billed" not in (answer.get("reason") or "")
    (line,) = ledger.invoice(PARTNER, "2026-06")["lines"]
    assert (line["amount"], line["detail"]["list_amount"]) == ("0.00", "3750.00")
    assert line["detail"]["included_under"] == {"rule_id": "SVC-MANAGED-SUPPORT", "clause": "PA-9.4"}


def test_pa_9_4_managed_support_after_that_billing_month_is_out_of_scope():
    ledger = _ledger("2026-07-02T12:00:00Z")
    answer = _milestone(ledger, "2026-07-02", "SOW-MS-JULY")
    assert answer["status"] == "processed", answer
    (raised,) = _out_of_scope(ledger)
    assert "not billed" in answer["reason"]
    assert raised["context"]["service"] == "managed_support"


# PA-9.3: "Gold and Platinum Partners are entitled to premium onboarding for each new Customer deployment above
# USD 50,000.00 in List Price [...] Premium onboarding [...] may not be sold to them as an included service; it may be
# purchased as a Service at list price." SOP-5.1: work the Partner is not entitled to "is never delivered as an
# included service" (SOP-5.3: an out_of_scope_service exception unless a change order was accepted).
def _onboarding(ledger: Ledger, value: str | None, sow: str, change_order: str | None = None) -> dict[str, Any]:
    data = {"partner_id": PARTNER, "sow_ref": sow, "service": "premium_onboarding", "family": "security",
            "milestone": "kickoff", "sow_value": "8000.00", "accepted_on": "2026-05-20", "new_deployment": True}
    if value is not None:
        data["deployment_list_value"] = value
    if change_order:
        data["change_order_ref"] = change_order
    return ledger.bill("service.completed", data, occurred_at="2026-05-20T11:00:00Z")


def test_pa_9_3_premium_onboarding_is_included_only_above_the_deployment_threshold():
    ledger = _ledger("2026-05-20T12:00:00Z")  # Platinum, every certification valid in May
    # Changed for reviewer finding 1 (docs/clause-audit.md): "entitled to premium onboarding" is an included
    # service, never invoiced at list price: a 0.00 line crediting 30% of 8,000.00 = 2,400.00 under ENT-PLT-ONBOARD.
    assert "not billed" not in (_onboarding(ledger, "50000.01", "SOW-ONB-ABOVE").get("reason") or "")
    assert _out_of_scope(ledger) == []
    (included,) = ledger.invoice(PARTNER, "2026-05")["lines"]
    assert (included["amount"], included["detail"]["list_amount"]) == ("0.00", "2400.00")
    at_floor = _onboarding(ledger, "50000.00", "SOW-ONB-AT")
    assert "not billed" in at_floor["reason"]
    unstated = _onboarding(ledger, None, "SOW-ONB-UNSTATED")
    assert "not billed" in unstated["reason"]
    assert len(_out_of_scope(ledger)) == 2
    bought = _onboarding(ledger, "20000.00", "SOW-ONB-BOUGHT", change_order="CO-ONB-1")  # a Service, bought
    assert "not billed" not in (bought.get("reason") or "")
    # "it may be purchased as a Service at list price": 30% of 8,000.00
    (line,) = [ln for ln in ledger.invoice(PARTNER, "2026-05")["lines"] if ln["order_ref"] == "SOW-ONB-BOUGHT"]
    assert line["amount"] == "2400.00" and "included_under" not in line["detail"]
