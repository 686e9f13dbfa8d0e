"""The partner lifecycle, the onboarding checks and entitlements as of a time: the pure core, no fakes.

Scenario data: tests/scenarios/onboarding/northwind.json, with dates relative to TODAY.
"""

import copy
from datetime import date
from pathlib import Path

import pytest

from onboarding_scenarios import onboarding
from revgov.domain import partners
from revgov.domain.access import Principal, Role
from revgov.domain.contracts import parse_contract
from revgov.domain.errors import Conflict, Forbidden, NotFound, RuleViolation
from revgov.tenant_files import load_tenant_file

ROOT = Path(__file__).resolve().parents[2]
POLICY = load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml")["policy"]
CONTOSO = load_tenant_file(ROOT / "tenants" / "contoso" / "tenant.yaml")["policy"]
CLAUSES = {
    c.clause_id
    for doc in (ROOT / "tenants" / "northwind" / "contracts").glob("*.md")
    for c in parse_contract(doc.read_text()).clauses
}
TODAY = date(2026, 11, 27)
NOW = "2026-11-27T12:00:00Z"
S = onboarding("northwind", TODAY)
C = onboarding("contoso", TODAY)
CREATOR = Principal("northwind", Role.CHANNEL_OPS, "key_01JX00000000000000000000AA")
APPROVER = Principal("northwind", Role.CHANNEL_OPS, "key_01JX00000000000000000000BB")


def applied(name: str) -> dict:
    return partners.new_application(
        POLICY,
        partner_id="ptr_01JX0000000000000000000001",
        application=S["applications"][name],
        created_by=CREATOR,
        at=NOW,
    )


def with_evidence(partner: dict, documents: str = "reseller", certifications: str | None = None) -> dict:
    """Every partner's documents, the partner type's (`documents`), and a tier's certifications."""
    for document in S["documents"]["all_partners"] + S["documents"][documents]:
        partner = partners.record_document(POLICY, partner, document, by=CREATOR, at=NOW)
    for certification in S["certifications"].get(certifications or "", []):
        partner = partners.record_certification(POLICY, partner, certification, by=CREATOR, at=NOW)
    return partner


def active(name: str = "gold_reseller", certifications: str = "gold") -> dict:
    partner, assessment = partners.submitted(
        POLICY, with_evidence(applied(name), certifications=certifications), by=CREATOR, at=NOW
    )
    assert assessment.complete, assessment.missing
    partner = partners.awaiting_approval(partner, "apr_01JX0000000000000000000001")
    return partners.decided(
        partner, approval_id="apr_01JX0000000000000000000001", outcome="approved", note=None, by=APPROVER, at=NOW
    )


# --- lifecycle -------------------------------------------------------------------------------
def test_an_application_starts_applied_with_the_creator_recorded():
    partner = applied("gold_reseller")
    assert partner["status"] == "applied" and partner["tier"] is None
    assert partner["created_by_key"] == CREATOR.key_id
    assert partner["terms"]["annual_commitment"] == "1200000.00"


def test_a_submission_with_gaps_waits_for_documents_with_an_actionable_list():
    partner, assessment = partners.submitted(POLICY, applied("gold_reseller"), by=CREATOR, at=NOW)
    assert partner["status"] == "pending_documents" and not assessment.complete
    missing = {gap["name"]: gap for gap in assessment.missing}
    assert set(missing) == {
        "signed_agreement",
        "tax_form",
        "insurance_certificate",
        "compliance_screening",
        "trade_reference",
    }
    assert (missing["tax_form"]["rule_id"], missing["tax_form"]["clause"]) == ("ONB-ALL-PARTNERS", "PA-2.2")
    assert (missing["trade_reference"]["rule_id"], missing["trade_reference"]["clause"]) == (
        "ONB-TYPE-RESELLER",
        "PA-2.3",
    )
    assert all(gap["action"] and gap["clause"] in CLAUSES for gap in assessment.missing)
    again, _ = partners.submitted(POLICY, partner, by=CREATOR, at=NOW)
    assert again["status"] == "pending_documents"


def test_a_complete_application_goes_to_approval_at_the_requested_tier_in_the_channel_ops_queue():
    partner, assessment = partners.submitted(
        POLICY, with_evidence(applied("gold_reseller"), certifications="gold"), by=CREATOR, at=NOW
    )
    assert partner["status"] == "pending_approval" and assessment.qualified_tier == "gold"
    assert partner["proposed_tier"] == "gold" and not assessment.nonstandard_terms  # net 45 is standard for gold
    category, rule = partners.activation_route(POLICY, assessment)
    assert (category, rule["clause"]) == ("partner_activation", "PA-2.9")
    assert POLICY["exception_routing"]["categories"][category]["queue"] == "channel_ops"


def test_a_partner_short_of_a_certification_is_assigned_the_highest_tier_it_meets():
    partner, assessment = partners.submitted(
        POLICY, with_evidence(applied("gold_reseller"), certifications="silver"), by=CREATOR, at=NOW
    )
    assert assessment.complete and partner["proposed_tier"] == "silver"
    assert [(r["rule_id"], r["clause"]) for r in assessment.tier_shortfall] == [("TIER-GOLD", "PA-3.4")]
    assert "cert-security-pro" in assessment.tier_shortfall[0]["message"]
    # net 45 is standard only for gold and platinum, so the downgraded partner's terms need legal
    assert [r["rule_id"] for r in assessment.nonstandard_terms] == ["PRC-PAYMENT-TERMS"]
    category, _ = partners.activation_route(POLICY, assessment)
    assert POLICY["exception_routing"]["categories"][category]["queue"] == "legal"


def test_non_standard_payment_terms_or_special_terms_send_activation_to_legal():
    for name in ("silver_reseller_net_60", "reseller_with_special_terms"):
        certs = "silver" if name == "silver_reseller_net_60" else None
        _, assessment = partners.submitted(
            POLICY, with_evidence(applied(name), certifications=certs), by=CREATOR, at=NOW
        )
        assert assessment.complete and assessment.nonstandard_terms, name
        category, rule = partners.activation_route(POLICY, assessment)
        assert category == "partner_activation_nonstandard_terms" and rule["clause"] == "PA-6.7"


def test_contoso_admission_cites_its_own_agreement_and_never_grants_terms_beyond_60_days():
    with pytest.raises(RuleViolation) as raised:
        partners.new_application(
            CONTOSO, partner_id="ptr_1", application=C["applications"]["net_90_reseller"], created_by=CREATOR, at=NOW
        )
    assert raised.value.errors[0].path == "/terms/payment_terms_days" and "CPA-6.7" in raised.value.detail
    msp = partners.new_application(
        CONTOSO, partner_id="ptr_2", application=C["applications"]["advanced_msp"], created_by=CREATOR, at=NOW
    )
    _, assessment = partners.submitted(CONTOSO, msp, by=CREATOR, at=NOW)
    assert {g["name"]: [g["rule_id"], g["clause"]] for g in assessment.missing} == C["missing_for_msp"]


def test_a_regional_reseller_must_declare_its_territory_and_commercial_terms():
    _, assessment = partners.submitted(POLICY, applied("regional_reseller_without_terms"), by=CREATOR, at=NOW)
    terms = {gap["name"]: (gap["rule_id"], gap["clause"]) for gap in assessment.missing if gap["kind"] == "term"}
    assert terms == {
        "annual_commitment": ("ONB-TERM-ANNUAL-COMMITMENT", "PA-3.1"),
        "payment_terms_days": ("ONB-TERM-PAYMENT-TERMS", "PA-6.7"),
        "territory": ("ONB-TYPE-REGIONAL-RESELLER", "PA-2.6"),
    }
    amended = partners.amended_terms(POLICY, applied("regional_reseller_without_terms"), S["regional_terms"], at=NOW)
    assert not [gap for gap in partners.assess(POLICY, amended, NOW).missing if gap["kind"] == "term"]


def test_an_implementation_partner_needs_a_valid_certification():
    partner = with_evidence(applied("implementation_partner"), "implementation_partner")
    gaps = partners.assess(POLICY, partner, NOW).missing
    assert [(g["kind"], g["rule_id"], g["clause"]) for g in gaps] == [
        ("certification", "ONB-TYPE-IMPLEMENTATION-PARTNER", "PA-2.5")
    ]
    certified = partners.record_certification(POLICY, partner, S["certifications"]["silver"][0], by=CREATOR, at=NOW)
    assert partners.assess(POLICY, certified, NOW).complete


def test_an_expired_or_too_old_document_counts_as_missing():
    partner = with_evidence(applied("gold_reseller"), certifications="gold")
    for name, problem, rule in (
        ("expired_insurance", "expired", ("DOC-INSURANCE-CERTIFICATE", "PA-2.7")),
        ("stale_screening", "too_old", ("DOC-COMPLIANCE-SCREENING", "PA-2.8")),
    ):
        document = S["documents"][name]
        lapsed = partners.record_document(POLICY, partner, document, by=CREATOR, at=NOW)
        gaps = partners.assess(POLICY, lapsed, NOW).missing
        assert [(g["name"], g["problem"], (g["rule_id"], g["clause"])) for g in gaps] == [
            (document["document_type"], problem, rule)
        ]


@pytest.mark.parametrize("case", [c for c in S["bad_documents"] if c["status"] == 422], ids=lambda c: c["why"])
def test_documents_that_break_a_rule_are_refused_with_the_field_named(case):
    with pytest.raises(RuleViolation) as raised:
        partners.record_document(POLICY, applied("gold_reseller"), case["body"], by=CREATOR, at=NOW)
    assert raised.value.errors[0].path == case["path"]


@pytest.mark.parametrize("case", [c for c in S["bad_certifications"] if c["status"] == 422], ids=lambda c: c["why"])
def test_certifications_that_break_a_rule_are_refused_with_the_field_named(case):
    with pytest.raises(RuleViolation) as raised:
        partners.record_certification(POLICY, applied("gold_reseller"), case["body"], by=CREATOR, at=NOW)
    assert raised.value.errors[0].path == case["path"]


def test_a_certification_runs_its_catalogue_validity_and_a_renewal_before_expiry_extends_it():
    partner = partners.record_certification(
        POLICY,
        applied("gold_reseller"),
        {"certification_id": "cert-cloud-ops", "earned_at": "2026-01-31"},
        by=CREATOR,
        at=NOW,
    )
    assert partner["certifications"]["cert-cloud-ops"]["expires_at"] == "2027-01-30"  # 12 months, last day included
    renewed = partners.record_certification(
        POLICY, partner, {"certification_id": "cert-cloud-ops", "earned_at": "2026-11-01"}, by=CREATOR, at=NOW
    )
    assert renewed["certifications"]["cert-cloud-ops"]["expires_at"] == "2028-01-30"


def test_illegal_transitions_are_conflicts_that_name_what_may_come_next():
    partner = applied("gold_reseller")
    with pytest.raises(Conflict) as raised:
        partners.moved_to(POLICY, partner, "suspended", by=CREATOR, at=NOW, reason="x")
    assert raised.value.extra == {
        "current_status": "applied",
        "allowed_next": ["pending_approval", "pending_documents"],
    }
    activated = active()
    with pytest.raises(Conflict) as raised:
        partners.submitted(POLICY, activated, by=CREATOR, at=NOW)
    assert raised.value.extra["allowed_next"] == ["suspended", "terminated"]
    terminated, rule = partners.moved_to(POLICY, activated, "terminated", by=APPROVER, at=NOW, reason="breach")
    assert (rule["id"], rule["clause"]) == ("PTR-TERMINATION", "PA-13.3")
    for attempt in (
        lambda: partners.moved_to(POLICY, terminated, "active", by=APPROVER, at=NOW, reason="undo"),
        lambda: partners.record_document(POLICY, terminated, S["documents"]["all_partners"][0], by=CREATOR, at=NOW),
    ):
        with pytest.raises(Conflict) as raised:
            attempt()
        assert raised.value.extra["allowed_next"] == []


def test_the_creator_or_submitter_never_decides_the_activation_and_a_rejection_records_why():
    partner, _ = partners.submitted(
        POLICY, with_evidence(applied("gold_reseller"), certifications="gold"), by=APPROVER, at=NOW
    )
    waiting = partners.awaiting_approval(partner, "apr_01JX0000000000000000000001")
    for who in (CREATOR, APPROVER):
        with pytest.raises(Forbidden):
            partners.decided(
                waiting, approval_id="apr_01JX0000000000000000000001", outcome="approved", note=None, by=who, at=NOW
            )
    third = Principal("northwind", Role.CHANNEL_OPS, "key_01JX00000000000000000000CC")
    with pytest.raises(Conflict):
        partners.decided(
            waiting, approval_id="apr_01JX0000000000000000000009", outcome="approved", note=None, by=third, at=NOW
        )
    rejected = partners.decided(
        waiting,
        approval_id="apr_01JX0000000000000000000001",
        outcome="rejected",
        note="bank reference unverifiable",
        by=third,
        at=NOW,
    )
    assert rejected["status"] == "rejected" and rejected["decision"]["note"] == "bank reference unverifiable"
    assert rejected["tier"] is None and rejected["history"][-1]["reason"] == "bank reference unverifiable"


# --- entitlements ----------------------------------------------------------------------------
def test_entitlements_come_from_the_tier_and_cite_a_rule_and_a_clause_of_the_contract():
    answers = partners.entitlements(POLICY, active(), NOW)
    assert answers["tier"] == answers["effective_tier"] == "gold"
    support = answers["entitlements"]["support_level"]
    assert (support["entitled"], support["value"], support["rule_id"], support["clause"]) == (
        True,
        "premium",
        "ENT-GLD-SUPPORT",
        "PA-9.1",
    )
    assert all(a["rule_id"] and a["clause"] in CLAUSES for a in answers["entitlements"].values())
    assert partners.entitlement(POLICY, active(), "managed_support", NOW)["entitled"] is False


def test_an_expired_certification_removes_what_depended_on_it_from_that_moment():
    partner, expiry = active(), S["expiry"]
    before = partners.entitlements(POLICY, partner, expiry["last_valid_moment"])
    after = partners.entitlements(POLICY, partner, expiry["first_lapsed_moment"])
    assert (before["effective_tier"], after["effective_tier"]) == ("gold", "silver")
    for name, (was, now) in expiry["depends_on_it"].items():
        assert before["entitlements"][name]["value"] == was and after["entitlements"][name]["value"] == now, name
        assert (after["entitlements"][name]["rule_id"], after["entitlements"][name]["clause"]) == (
            "PTR-CERTIFICATION-LAPSE",
            "PA-4.3",
        )
        assert expiry["certification"] in after["entitlements"][name]["reason"]
    for name, value in expiry["unaffected"].items():
        assert after["entitlements"][name]["value"] == value and after["entitlements"][name]["rule_id"].startswith(
            "ENT-SLV"
        )
    assert partners.entitlements(POLICY, partner, expiry["first_lapsed_moment"]) == after  # deterministic


def test_suspension_withholds_only_what_the_policy_lists_and_termination_ends_everything():
    suspended, _ = partners.moved_to(POLICY, active(), "suspended", by=APPROVER, at=NOW, reason="insurance lapsed")
    answers = partners.entitlements(POLICY, suspended, NOW)["entitlements"]
    assert answers["deal_registration"]["entitled"] is False and answers["deal_registration"]["clause"] == "PA-13.2"
    assert answers["support_level"]["value"] == "premium"
    terminated, _ = partners.moved_to(POLICY, suspended, "terminated", by=APPROVER, at=NOW, reason="uncured")
    assert not any(a["entitled"] for a in partners.entitlements(POLICY, terminated, NOW)["entitlements"].values())
    pending = partners.entitlement(POLICY, applied("gold_reseller"), "partner_portal_access", NOW)
    assert (pending["entitled"], pending["rule_id"]) == (False, "ONB-ACTIVATION-APPROVAL")


def test_an_entitlement_no_tier_grants_is_not_found():
    with pytest.raises(NotFound):
        partners.entitlement(POLICY, active(), "free_lunch", NOW)


# --- policy ----------------------------------------------------------------------------------
def test_the_demo_onboarding_policies_resolve_every_reference_and_a_broken_one_is_named():
    assert partners.onboarding_problems(POLICY) == [] and partners.onboarding_problems(CONTOSO) == []
    broken = copy.deepcopy(POLICY)
    broken["onboarding"]["partner_types"]["msp"]["documents"].append("crystal_ball")
    broken["onboarding"]["activation_approval"]["category"] = "nowhere"
    broken["onboarding"]["suspension"]["withholds"].append("free_lunch")
    messages = " | ".join(p.message for p in partners.onboarding_problems(broken))
    assert "crystal_ball" in messages and "nowhere" in messages and "free_lunch" in messages
