"""PA-2.2(c) / CPA-2.2(c): an insurance certificate states its coverage, whoever files it.

PA-2.2: "(c) a certificate of insurance meeting the minimum coverage for the partner type, showing the insurer, policy
number, coverage amounts and expiry date". CPA-2.2: "(c) a certificate of insurance under CPA-2.4 stating insurer,
policy number, amounts and expiry date". Neither clause makes an exception for who files it, so a partner key and
staff filing on the partner's behalf are held alike. Before: a certificate filed without `coverage_amount` was
recorded and counted towards onboarding (the minimums of PA-2.3-2.5 / CPA-2.4 were only checked when an amount was
stated). The amount is the partner's declaration, at most 15 digits before the point (schemas/api/partner-document):
a large one is recorded; the verifier reads the certificate (PA-2.2: "received and verified").
"""

from __future__ import annotations

from datetime import date

import pytest
from test_auditor5_insurance_minimums import CASES, T0, _applicant, _certificate

from memory_store import memory_runtime
from revgov import schemas
from revgov.domain.access import Principal, Role
from revgov.domain.errors import RuleViolation
from revgov.domain.partners import insurance_minimum
from revgov.local.demo_partners import onboarding_history, seed_partners
from revgov.services import partners

INSURANCE = sorted({(tenant, partner_type, kind) for tenant, partner_type, kind, _, _ in CASES}
                   | {("northwind", "msp", "insurance_certificate")})  # PA-2.2(c) for every partner type
CLAUSE = {"northwind": "PA-2.2", "contoso": "CPA-2.2"}


def _partner_key(tenant: str, partner_id: str) -> Principal:
    return Principal(tenant, Role.PARTNER, "key_01JX000000000000000PARTNER", partner_id=partner_id)


@pytest.mark.parametrize("by", ["partner", "staff"])
@pytest.mark.parametrize(("tenant", "partner_type", "kind"), INSURANCE)
def test_an_insurance_certificate_without_its_coverage_amount_is_refused(tenant: str, partner_type: str, kind: str,
                                                                         by: str) -> None:
    rt, _ = memory_runtime(T0, tenant=tenant)
    sales, partner_id = _applicant(rt, tenant, partner_type)
    who = _partner_key(tenant, partner_id) if by == "partner" else sales
    with pytest.raises(RuleViolation) as refused:
        partners.add_document(rt, who, partner_id, _certificate(kind, None))
    assert [e.path for e in refused.value.errors] == ["/coverage_amount"]
    assert refused.value.extra == {"rule_id": "ONB-ALL-PARTNERS", "clause": CLAUSE[tenant]}
    assert kind not in (rt.store.get(tenant, "PARTNER", partner_id).data.get("documents") or {})
    stated = partners.add_document(rt, who, partner_id, _certificate(kind, insurance_minimum(
        rt.store.get(tenant, "TENANT", "PROFILE").data["config"]["policy"], partner_type, kind)))
    assert stated["document"]["coverage_amount"]


@pytest.mark.parametrize("tenant", ["northwind", "contoso"])
def test_a_document_that_is_not_insurance_needs_no_amount(tenant: str) -> None:
    rt, _ = memory_runtime(T0, tenant=tenant)
    sales, partner_id = _applicant(rt, tenant, "reseller")
    filed = partners.add_document(rt, sales, partner_id, {
        "document_type": "signed_agreement", "reference": "dms://agreement.pdf", "checksum": "sha256:" + "2" * 64,
        "issued_at": "2026-10-01"})
    assert "coverage_amount" not in filed["document"]


def test_a_large_declared_amount_is_recorded_for_the_verifier_and_the_cap_is_15_digits() -> None:
    """The partner declares what its certificate states; staff verify the certificate (docs/onboarding.md)."""
    rt, _ = memory_runtime(T0, tenant="northwind")
    _, partner_id = _applicant(rt, "northwind", "reseller")
    mine = _partner_key("northwind", partner_id)
    filed = partners.add_document(rt, mine, partner_id, _certificate("insurance_certificate", "999999999999999.99"))
    assert filed["document"]["coverage_amount"] == "999999999999999.99"
    too_long = _certificate("insurance_certificate", "1000000000000000.00")
    assert [e.path for e in schemas.problems("api/partner-document.schema.json", too_long)] == ["/coverage_amount"]


@pytest.mark.parametrize("tenant", ["northwind", "contoso"])
@pytest.mark.parametrize("partner_type", ["reseller", "regional_reseller", "msp", "implementation_partner"])
def test_the_demo_partners_certificates_state_the_minimum_for_their_type(tenant: str, partner_type: str) -> None:
    """The seeded demo histories are filed through the same rule (domain/partners/backfill.py): each insurance
    certificate states the clause's minimum for the partner type, no more."""
    rt, _ = memory_runtime(T0, tenant=tenant)
    policy = rt.store.get(tenant, "TENANT", "PROFILE").data["config"]["policy"]
    lowest = min(policy["partner_tiers"], key=lambda t: t["rank"])["tier"]
    history = onboarding_history(policy, {"partner_type": partner_type, "requested_tier": lowest}, date(2026, 12, 7))
    certificates = [f.item for f in history.evidence if insurance_minimum(policy, partner_type,
                                                                          f.item.get("document_type", "")) is not None]
    assert certificates
    for certificate in certificates:
        assert certificate["coverage_amount"] == insurance_minimum(policy, partner_type, certificate["document_type"])



@pytest.mark.parametrize("tenant", ["northwind", "contoso"])
def test_the_demo_partners_still_seed_with_their_certificates_counting(tenant: str) -> None:
    """The demo seed (revgov dev / tenant creation) files every certificate through the rule: it keeps loading, the
    active demo reseller's certificate states the minimum, and the MSP filed today reaches channel ops' approval."""
    rt, _ = memory_runtime(T0, tenant=tenant)
    policy = rt.store.get(tenant, "TENANT", "PROFILE").data["config"]["policy"]
    admin = Principal(tenant, Role.ADMIN, "key_01JX0000000000000000ADMIN")
    sales = Principal(tenant, Role.SALES, "key_01JX0000000000000000SALES")
    approver = Principal(tenant, Role.CHANNEL_OPS, "key_01JX00000000000000CHOPS")
    seeded, _ = seed_partners(rt, policy, "Seed", admin=admin, sales=sales, approver=approver)
    assert {p["partner_type"]: p["status"] for p in seeded} == {
        "reseller": "active", "msp": "pending_approval", "regional_reseller": "pending_documents"}
    for partner in seeded[:2]:
        documents = partners.load_partner(rt, tenant, partner["partner_id"])[0]["documents"]
        insured = {kind: record["coverage_amount"] for kind, record in documents.items()
                   if insurance_minimum(policy, partner["partner_type"], kind) is not None}
        assert insured and all(amount == insurance_minimum(policy, partner["partner_type"], kind)
                               for kind, amount in insured.items())
