"""PA-2.5 / CPA-2.7: an Implementation Partner named on a statement of work for a Product Family it holds no valid
certification in. Through the billing handler (the ERP's service.completed) on the in-memory engine, fixed clock.

PA-2.5: "An Implementation Partner may not be named on a statement of work for a Product Family in which it does not
hold a valid certification." CPA-2.7: "An Implementation Partner may not be named in a statement of work for a Product
Family in which it holds no valid certification." PA-4.2: a certification "expires at 23:59:59 UTC on the last day of
that period". SOP-4.1 / COP-4.1: "An item that matches no category goes to channel_ops for triage within 8 hours"
(the matrix names no category for it; the ERP event is asynchronous, so no 4xx can answer the ERP: an exception).

The statement of work of a milestone names the partner (`partner_id`) and its Product Family (`family`). Worked
numbers: northwind, SOW-IP-1 of USD 10,000.00, kickoff 30 % = 3,000.00. The implementation partner holds
cert-network-core (networking) until 2026-06-10: a networking kickoff accepted 2026-06-10 is billed 3,000.00; accepted
2026-06-11 it is not billed (an `uncertified_statement_of_work` exception for channel ops, 8 hours, citing PA-2.5 and
naming /data/family); a security kickoff (no security certification) is not billed either. A reseller is not bound.
"""

from __future__ import annotations

from typing import Any

import pytest

from memory_store import Ledger
from revgov.ports import Changes, Put

NW_IP = "ptr_01JBNWPARTNER000000000009P"
CT_IP = "ptr_01JBCTAVD1TR0000000000009P"


def _ledger(tenant: str, partner_type: str = "implementation_partner") -> tuple[Ledger, str]:
    ledger = Ledger("2026-06-01T12:00:00Z", tenant=tenant)
    partner_id, cert = (NW_IP, "cert-network-core") if tenant == "northwind" else (CT_IP, "cert-collab-associate")
    partner = {"partner_id": partner_id, "legal_name": "Implementer Co", "partner_type": partner_type,
               "status": "active", "tier": "registered" if tenant == "northwind" else "authorized",
               "country": "US" if tenant == "northwind" else "DE", "activated_at": "2025-01-01T00:00:00Z",
               "certifications": {cert: {"cert_id": cert, "holder": "I. Mplementer", "earned_at": "2025-06-11",
                                         "expires_at": "2026-06-10"}}}  # fmt: skip
    ledger.rt.store.commit(tenant, Changes(puts=[Put("PARTNER", partner_id, partner)]))
    return ledger, partner_id


def _kickoff(ledger: Ledger, partner_id: str, family: str, accepted_on: str, sow: str) -> dict[str, Any]:
    service = "deployment" if ledger.tenant_id == "northwind" else "implementation"
    data = {"partner_id": partner_id, "sow_ref": sow, "service": service, "family": family, "milestone": "kickoff",
            "sow_value": "10000.00", "accepted_on": accepted_on}  # fmt: skip
    if ledger.tenant_id == "northwind":  # PA-10.1: the service location its sales tax is calculated on
        data["tax_location"] = {"country": "US", "region": "US-IL", "postal_code": "60601"}
    ledger.clock.set(f"{accepted_on}T12:00:00Z")
    return ledger.bill("service.completed", data, occurred_at=f"{accepted_on}T11:00:00Z")


def _uncertified(ledger: Ledger) -> list[dict[str, Any]]:
    return [e for e in ledger.exceptions() if e["category"] == "uncertified_statement_of_work"]


def _lines(ledger: Ledger, partner_id: str) -> list[str]:
    return [ln["amount"] for ln in ledger.invoice(partner_id, "2026-06")["lines"]]


def test_pa_2_5_a_networking_sow_is_billed_through_the_certifications_last_day():
    ledger, partner = _ledger("northwind")
    answer = _kickoff(ledger, partner, "networking", "2026-06-10", "SOW-IP-1")
    assert answer["status"] == "processed" and "not billed" not in (answer.get("reason") or ""), answer
    assert _lines(ledger, partner) == ["3000.00"]
    assert _uncertified(ledger) == []


@pytest.mark.parametrize(("family", "accepted_on"), [("networking", "2026-06-11"), ("security", "2026-06-05")])
def test_pa_2_5_a_sow_for_a_family_without_a_valid_certification_is_not_billed_and_goes_to_triage(family, accepted_on):
    """Expired the day before (networking, 2026-06-11), or never held (security): no line; one exception for channel
    ops (SOP-4.1 triage, 8 hours) citing PA-2.5 and naming the field."""
    ledger, partner = _ledger("northwind")
    answer = _kickoff(ledger, partner, family, accepted_on, "SOW-IP-2")
    assert answer["status"] == "processed" and "not billed" in answer["reason"], answer
    assert "/data/family" in answer["reason"]
    pointer = ledger.rt.store.get("northwind", "INVOICEKEY", f"{partner}#2026-06")
    assert pointer is None  # nothing posted
    (case,) = _uncertified(ledger)
    assert (case["queue"], case["partner_id"], case["sla_hours"]) == ("channel_ops", partner, 8)
    assert case["due_at"] == f"{accepted_on}T20:00:00.000Z"  # opened 12:00 + 8 hours
    assert [(r["rule_id"], r["clause"]) for r in case["reasons"]] == [("ROUTE-TRIAGE", "SOP-4.1"),
                                                                       ("BILL-SOW-CERTIFICATION", "PA-2.5")]
    assert case["context"]["field"] == "/data/family" and case["context"]["family"] == family


def test_pa_2_5_binds_implementation_partners_only():
    """A reseller buying a security deployment service is not "an Implementation Partner": billed as before."""
    ledger, partner = _ledger("northwind", partner_type="reseller")
    _kickoff(ledger, partner, "security", "2026-06-05", "SOW-RS-1")
    assert _lines(ledger, partner) == ["3000.00"]
    assert _uncertified(ledger) == []


@pytest.mark.parametrize(("family", "billed"), [("collaboration", True), ("data-platform", False)])
def test_cpa_2_7_contoso_the_same(family, billed):
    """CPA-2.7: certified in collaboration (cert-collab-associate), not in data-platform: the kickoff ("20% at
    kickoff", CPA-10.5) of EUR 10,000.00, 2,000.00, billed, or an exception citing CPA-2.7 for channel ops (COP-4.1
    triage)."""
    ledger, partner = _ledger("contoso")
    _kickoff(ledger, partner, family, "2026-06-05", "SOW-CT-1")
    if billed:
        assert _lines(ledger, partner) == ["2000.00"] and _uncertified(ledger) == []
    else:
        (case,) = _uncertified(ledger)
        assert case["queue"] == "channel_ops"
        assert [(r["rule_id"], r["clause"]) for r in case["reasons"]][-1] == ("BILL-SOW-CERTIFICATION", "CPA-2.7")
