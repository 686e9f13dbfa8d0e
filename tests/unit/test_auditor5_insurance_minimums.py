"""Auditor 5: an insurance certificate below the partner type's minimum coverage is refused, both tenants.

PA-2.2(c): "a certificate of insurance meeting the minimum coverage for the partner type, showing the insurer, policy
number, coverage amounts and expiry date". PA-2.3: "(a) a certificate of commercial general liability insurance with
coverage of at least USD 1,000,000.00 per occurrence". PA-2.4: "(a) a certificate of professional liability (errors and
omissions) insurance of at least USD 2,000,000.00 per claim; (b) a certificate of cyber liability insurance of at least
USD 2,000,000.00 per claim". PA-2.5: "(a) a certificate of professional liability (errors and omissions) insurance of at
least USD 1,000,000.00 per claim".
CPA-2.4: "Every Partner maintains public and product liability insurance of at least EUR 1,000,000.00 per occurrence.
MSPs and Implementation Partners additionally maintain professional indemnity insurance of at least EUR 2,000,000.00
per claim, and MSPs cyber insurance of at least EUR 2,000,000.00 per claim."
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import RuleViolation
from revgov.services import partners

T0 = "2026-11-02T09:00:00.000Z"
# (tenant, partner type, document, minimum, clause): the minimum is accepted, a cent below it is refused
CASES = [
    ("northwind", "reseller", "insurance_certificate", "1000000.00", "PA-2.3"),
    ("northwind", "regional_reseller", "insurance_certificate", "1000000.00", "PA-2.3"),
    ("northwind", "msp", "professional_liability_insurance", "2000000.00", "PA-2.4"),
    ("northwind", "msp", "cyber_liability_insurance", "2000000.00", "PA-2.4"),
    ("northwind", "implementation_partner", "professional_liability_insurance", "1000000.00", "PA-2.5"),
    ("contoso", "reseller", "insurance_certificate", "1000000.00", "CPA-2.4"),
    ("contoso", "msp", "insurance_certificate", "1000000.00", "CPA-2.4"),
    ("contoso", "msp", "professional_liability_insurance", "2000000.00", "CPA-2.4"),
    ("contoso", "msp", "cyber_liability_insurance", "2000000.00", "CPA-2.4"),
    ("contoso", "implementation_partner", "professional_liability_insurance", "2000000.00", "CPA-2.4"),
]


def _applicant(rt: Any, tenant: str, partner_type: str) -> tuple[Principal, str]:
    sales = Principal(tenant, Role.SALES, "key_01JX00000000000000000SALES")
    tiers = rt.store.get(tenant, "TENANT", "PROFILE").data["config"]["policy"]["partner_tiers"]
    lowest = min(tiers, key=lambda t: t["rank"])
    applied = partners.apply(rt, sales, {
        "legal_name": f"Aud5 Insured {uuid.uuid4().hex[:6]}", "partner_type": partner_type,
        "requested_tier": lowest["tier"], "terms": {"annual_commitment": "0.00", "payment_terms_days": 30},
        "contact": {"name": "Desk", "email": "desk@insured.example"}})
    return sales, str(applied["partner_id"])


def _certificate(kind: str, coverage: str | None) -> dict[str, Any]:
    return {"document_type": kind, "reference": f"dms://aud5/{kind}.pdf", "checksum": "sha256:" + "1" * 64,
            "issued_at": "2026-10-01", "expires_at": "2027-09-30",
            **({"coverage_amount": coverage} if coverage is not None else {})}


@pytest.mark.parametrize(("tenant", "partner_type", "kind", "minimum", "clause"), CASES)
def test_a_certificate_below_the_minimum_is_refused_and_the_minimum_is_accepted(tenant, partner_type, kind, minimum,
                                                                                clause):
    rt, _ = memory_runtime(T0, tenant=tenant)
    sales, partner_id = _applicant(rt, tenant, partner_type)
    cent_below = f"{Decimal(minimum) - Decimal('0.01'):f}"
    with pytest.raises(RuleViolation) as refused:
        partners.add_document(rt, sales, partner_id, _certificate(kind, cent_below))
    assert [e.path for e in refused.value.errors] == ["/coverage_amount"]
    assert refused.value.extra["clause"] == clause
    assert kind not in (rt.store.get(tenant, "PARTNER", partner_id).data.get("documents") or {})
    filed = partners.add_document(rt, sales, partner_id, _certificate(kind, minimum))
    assert filed["document"]["coverage_amount"] == minimum


def test_a_certificate_without_a_stated_coverage_is_refused():
    """PA-2.2(c): the certificate shows "coverage amounts" (decided in tests/unit/test_insurance_coverage_required.py;
    before, a certificate without one was recorded and counted)."""
    rt, _ = memory_runtime(T0, tenant="northwind")
    sales, partner_id = _applicant(rt, "northwind", "reseller")
    with pytest.raises(RuleViolation) as refused:
        partners.add_document(rt, sales, partner_id, _certificate("insurance_certificate", None))
    assert [e.path for e in refused.value.errors] == ["/coverage_amount"]
