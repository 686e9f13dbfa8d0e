"""An auditor's case on support logged for a product family whose certification has expired, on the in-memory engine
with a fixed clock (nothing depends on today's date).

SOP-5.3: "A request is out of scope when the Partner is not entitled to it: for example ... work on a Product Family
for which the Partner's certification has expired ... The request is raised as an out_of_scope_service exception in
the customer_success queue. ... Out-of-scope work delivered without an accepted change order is not billed and is
recorded as service leakage for the support economics KPI." PA-4.3: "Support hours and services already scheduled
under a removed entitlement are delivered only if Customer Success confirms them as out-of-scope services billable
under the Northwind Billing & Service Operations SOP." (COP-5.3 says the same for Contoso.)

The partner below held cert-network-core until 2026-09-30 and holds no other networking certification; it still holds
cert-security-pro. Two hours of networking support on 2026-11-10 are out of scope: an exception for customer_success,
no invoice line, and not counted as included hours. Two hours of security support the same day are included hours.
"""

from __future__ import annotations

from typing import Any

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.ports import Changes, Put
from revgov.services import analytics

PARTNER = "ptr_01JBNWSPRT0000000000000001"


def _ledger() -> Ledger:
    ledger = Ledger("2026-11-10T12:00:00Z")
    certs = {
        "cert-network-core": {"cert_id": "cert-network-core", "holder": "A. Auditor", "earned_at": "2024-10-01",
                              "expires_at": "2026-09-30"},
        "cert-security-pro": {"cert_id": "cert-security-pro", "holder": "B. Auditor", "earned_at": "2025-10-01",
                              "expires_at": "2027-09-30"},
    }  # fmt: skip
    partner = {"partner_id": PARTNER, "legal_name": "Audit Support LLC", "partner_type": "reseller", "status": "active",
               "tier": "silver", "activated_at": "2025-01-01T00:00:00Z", "certifications": certs}  # fmt: skip
    ledger.rt.store.commit("northwind", Changes(puts=[Put("PARTNER", PARTNER, partner)]))
    return ledger


def _support(ledger: Ledger, family: str, ticket: str) -> dict[str, Any]:
    data = {"partner_id": PARTNER, "ticket_id": ticket, "family": family, "hours": "2.00",
            "performed_on": "2026-11-10", "severity": 2}  # fmt: skip
    return ledger.bill("support.logged", data, occurred_at="2026-11-10T11:00:00Z")


def _out_of_scope(ledger: Ledger) -> list[dict[str, Any]]:
    return [e for e in ledger.exceptions() if e["category"] == "out_of_scope_service"]


def test_sop_5_3_support_on_a_family_whose_certification_expired_is_out_of_scope_and_not_billed():
    ledger = _ledger()
    answer = _support(ledger, "networking", "TCK-NET-1")
    assert answer["status"] == "processed", answer
    (raised,) = _out_of_scope(ledger)
    assert raised["queue"] == "customer_success"
    assert raised["context"]["ticket_id"] == "TCK-NET-1"
    assert {"PA-4.3", "SOP-5.3"} <= {r["clause"] for r in raised["reasons"]}
    assert "invoice" not in answer.get("reason", "")
    assert not [e for e in ledger.exceptions() if e["category"] == "support_hours_overage"]


def test_sop_5_3_out_of_scope_hours_are_not_taken_from_the_quarters_included_hours():
    # Silver's 40 hours (PA-9.2) fall to Registered's 10 from the moment cert-network-core expired (PA-4.3(a)); the
    # partner still meets no higher tier's certifications. 2 h of networking (out of scope) + 9 h of security: the
    # security hours are all included (9 of 10), so there is no overage exception and no overage line.
    ledger = _ledger()
    _support(ledger, "networking", "TCK-NET-2")
    data = {"partner_id": PARTNER, "ticket_id": "TCK-SEC-1", "family": "security", "hours": "9.00",
            "performed_on": "2026-11-10", "severity": 2}  # fmt: skip
    answer = ledger.bill("support.logged", data, occurred_at="2026-11-10T11:30:00Z")
    assert answer["status"] == "processed", answer
    assert not [e for e in ledger.exceptions() if e["category"] == "support_hours_overage"]


def test_support_on_a_family_still_certified_counts_as_included_hours():
    ledger = _ledger()
    answer = _support(ledger, "security", "TCK-SEC-2")
    assert answer["status"] == "processed", answer
    assert not _out_of_scope(ledger)


def test_sop_5_3_out_of_scope_support_is_recorded_as_service_leakage_for_the_support_economics_kpi():
    # SOP-5.3: "Out-of-scope work delivered without an accepted change order is not billed and is recorded as service
    # leakage for the support economics KPI." The 2 h of networking support above are that work: the support economics
    # KPI of November counts 1 out-of-scope request and 2.00 h of leakage, beside the 2.00 h of support logged.
    ledger = _ledger()
    _support(ledger, "networking", "TCK-NET-3")
    for published in list(ledger.rt.publisher.published):  # type: ignore[attr-defined]
        event = {"source": published["source"], "detail-type": published["detail_type"], "detail": published["detail"]}
        analytics.record_fact(ledger.rt, event)
    support_event = {"source": "revgov.erp", "detail-type": "support.logged", "detail": {
        "tenant_id": "northwind", "event_id": "evt_01JBSPRT000000000000000001", "erp_event_id": "ERP-SUPPORT-LEAK",
        "occurred_at": "2026-11-10T11:00:00Z", "data": {"partner_id": PARTNER, "hours": "2.00",
                                                         "performed_on": "2026-11-10"}}}  # fmt: skip
    analytics.record_fact(ledger.rt, support_event)
    finance = Principal("northwind", Role.FINANCE, "key_fin")
    support = analytics.kpis(ledger.rt, finance, "2026-11", partner_id=None, tier=None)[
        "support_hours_per_revenue_dollar"
    ]
    assert support["support_hours"] == "2.00"
    assert (support["out_of_scope_requests"], support["service_leakage_hours"]) == (1, "2.00")
