"""A change of partner type: PA-2.1 (northwind) provides one, CPA-2.1 (contoso) does not.

PA-2.1: "A Partner holds exactly one partner type at a time. A Partner may apply to change its partner type by
submitting the onboarding documents required for the new type; the change takes effect when Channel Operations
approves it. The partner type determines onboarding requirements; the partner tier under Section 3 determines
pricing, rebates and entitlements."
PA-2.4: "In addition to PA-2.2, an MSP must provide: (a) a certificate of professional liability (errors and
omissions) insurance of at least USD 2,000,000.00 per claim; (b) a certificate of cyber liability insurance of at
least USD 2,000,000.00 per claim; (c) a current independent security attestation [...] issued or renewed within the
previous 12 months; and (d) the name of a named operations contact".
CPA-2.1: "A Partner holds one category at a time. The category determines admission requirements; the program tier
under Section 3 determines discounts, rebates and entitlements." (no way to change it is named)
SOP-4.3: "Partner users and automated service accounts may request but never approve an exception."
In-memory engine, fixed clock.
"""

from __future__ import annotations

from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict, Forbidden, NotFound, RuleViolation
from revgov.ports import Changes, Put
from revgov.services import cases, partner_type_changes, partners

P1 = "ptr_01JBNWTYPECHANGE000000001A"
RIVAL = "ptr_01JBNWTYPECHANGE000000002B"
CHANNEL_OPS = Principal("northwind", Role.CHANNEL_OPS, "key_01JBNWCHANNELOPS0000000001")
SUM = "sha256:" + "a" * 64


def _doc(kind: str, coverage: str | None = None, expires: str | None = "2027-06-30") -> dict[str, Any]:
    return {"document_type": kind, "reference": f"dms://{kind}", "checksum": SUM, "issued_at": "2026-09-01",
            **({"expires_at": expires} if expires else {}),
            **({"coverage_amount": coverage} if coverage else {})}  # fmt: skip


def _runtime(tenant: str = "northwind") -> Any:
    rt, _ = memory_runtime("2026-10-01T10:00:00Z", tenant=tenant)
    base = {kind: {**_doc(kind, "1000000.00" if kind == "insurance_certificate" else None,
                          None if kind in ("signed_agreement", "compliance_screening") else "2027-06-30"),
                   "recorded_at": "2025-01-01T00:00:00Z", "recorded_by": "channel_ops:key_x"}
            for kind in ("signed_agreement", "tax_form", "insurance_certificate", "compliance_screening",
                         "trade_reference")}  # fmt: skip
    for pid in (P1, RIVAL):
        partner = {"partner_id": pid, "legal_name": f"Type {pid[-2:]} LLC", "partner_type": "reseller",
                   "requested_tier": "silver", "proposed_tier": "silver", "tier": "silver", "status": "active",
                   "activated_at": "2025-01-01T00:00:00Z", "documents": base, "certifications": {},
                   "terms": {"annual_commitment": "300000.00", "payment_terms_days": 30},
                   "history": [{"from": "pending_approval", "to": "active", "at": "2025-01-01T00:00:00Z"}]}  # fmt: skip
        rt.store.commit(tenant, Changes(puts=[Put("PARTNER", pid, partner)]))
    return rt


def _partner_key(tenant: str = "northwind", pid: str = P1) -> Principal:
    return Principal(tenant, Role.PARTNER, "key_01JBNWPARTNERKEY0000000001", partner_id=pid)


def _request(rt: Any, who: Principal | None = None, to: str = "msp") -> dict[str, Any]:
    return partner_type_changes.request_change(rt, who or _partner_key(), P1,
                                               {"partner_type": to, "reason": "we now run managed services"})


def test_pa_2_1_the_change_takes_effect_when_channel_ops_approves_it_with_the_new_types_documents() -> None:
    rt = _runtime()
    asked = _request(rt)
    change = asked["type_change"]
    assert asked["partner_type"] == "reseller" and change["status"] == "pending" and change["to"] == "msp"
    assert (change["rule_id"], change["clause"]) == ("PTR-TYPE-CHANGE", "PA-2.1")
    # PA-2.4 (a)-(d): what an MSP must provide and a reseller was not asked for
    assert sorted(g["name"] for g in asked["outstanding"]) == ["cyber_liability_insurance", "operations_contact",
                                                                "professional_liability_insurance",
                                                                "security_attestation"]
    case, _ = cases.get_case(rt, "northwind", "approval", change["approval_id"])
    assert case["queue"] == "channel_ops" and case["partner_id"] == P1  # "when Channel Operations approves it"
    # SOP-4.3: the requesting partner never approves its own request
    with pytest.raises(Forbidden):
        cases.decide_case(rt, _partner_key(), "approval", change["approval_id"], "approved", "mine")
    # approved before the MSP's documents are on file: refused, the type unchanged, the approval still open
    with pytest.raises(RuleViolation) as refused:
        cases.decide_case(rt, CHANNEL_OPS, "approval", change["approval_id"], "approved", "ok")
    assert "cyber_liability_insurance" in refused.value.detail and refused.value.extra["clause"] == "PA-2.1"
    assert partners.get_partner(rt, CHANNEL_OPS, P1)["partner_type"] == "reseller"
    # "by submitting the onboarding documents required for the new type": the partner files them while pending;
    # PA-2.4(a): an MSP's professional liability is at least 2,000,000.00, a lower one is refused
    with pytest.raises(RuleViolation):
        partners.add_document(rt, _partner_key(), P1, _doc("professional_liability_insurance", "1000000.00"))
    partners.add_document(rt, _partner_key(), P1, _doc("professional_liability_insurance", "2000000.00"))
    partners.add_document(rt, _partner_key(), P1, _doc("cyber_liability_insurance", "2000000.00"))
    partners.add_document(rt, _partner_key(), P1, _doc("security_attestation", expires=None))
    partners.add_document(rt, _partner_key(), P1, _doc("operations_contact", expires=None))
    cases.decide_case(rt, CHANNEL_OPS, "approval", change["approval_id"], "approved", "documents verified")
    after = partners.get_partner(rt, CHANNEL_OPS, P1)
    assert after["partner_type"] == "msp" and after["type_change"]["status"] == "approved"
    (step,) = after["type_history"]
    assert (step["from"], step["to"], step["rule_id"], step["clause"]) == ("reseller", "msp", "PTR-TYPE-CHANGE",
                                                                            "PA-2.1")
    assert step["at"] == after["type_change"]["decided_at"]  # effective at the approval
    # "the partner tier under Section 3 determines pricing, rebates and entitlements": the tier is unchanged
    assert after["tier"] == "silver" and after["status"] == "active" and after["history"] == [
        {"from": "pending_approval", "to": "active", "at": "2025-01-01T00:00:00Z"}]
    # audited: requested and changed, each citing PA-2.1; published to the partner's subscribers
    trail = [(r["action"], r["outcome"], r["clauses"]) for r in rt.store.iter_audit_records("northwind")
             if r["subject"] == P1 and r["action"].startswith("partner.type_")]  # fmt: skip
    assert trail == [("partner.type_change_requested", "pending", ["PA-2.1"]),
                     ("partner.type_changed", "approved", ["PA-2.1"])]
    assert [e["detail_type"] for e in rt.publisher.published if e["detail"].get("partner_id") == P1
            and e["detail_type"].startswith("partner.type_")] == ["partner.type_change_requested",
                                                                  "partner.type_changed"]


def test_a_rejected_change_keeps_the_type_and_one_change_is_pending_at_a_time() -> None:
    rt = _runtime()
    change = _request(rt)["type_change"]
    with pytest.raises(Conflict):  # "holds exactly one partner type at a time": one change decided at once
        _request(rt, to="implementation_partner")
    cases.decide_case(rt, CHANNEL_OPS, "approval", change["approval_id"], "rejected", "not operating services yet")
    after = partners.get_partner(rt, CHANNEL_OPS, P1)
    assert after["partner_type"] == "reseller" and after["type_change"]["status"] == "rejected"
    assert "type_history" not in after
    assert _request(rt, to="implementation_partner")["type_change"]["status"] == "pending"  # may apply again


@pytest.mark.parametrize(("to", "field"), [("reseller", "/partner_type"), ("distributor", "/partner_type")])
def test_bad_requests_change_nothing(to: str, field: str) -> None:
    rt = _runtime()
    with pytest.raises(RuleViolation) as refused:
        _request(rt, to=to)
    assert [e.path for e in refused.value.errors] == [field]
    assert "type_change" not in partners.get_partner(rt, CHANNEL_OPS, P1)


def test_a_rival_partner_key_is_not_found_and_a_suspended_partner_cannot_apply() -> None:
    rt = _runtime()
    with pytest.raises(NotFound):
        _request(rt, who=_partner_key(pid=RIVAL))
    partners.change_status(rt, CHANNEL_OPS, P1, "suspended", "insurance certificate lapsed (PA-2.7)")
    with pytest.raises(Conflict):  # PA-9.6: a suspended partner keeps read-only access
        _request(rt)


def test_cpa_2_1_contoso_provides_no_change_of_category() -> None:
    rt = _runtime("contoso")
    with pytest.raises(RuleViolation) as refused:
        _request(rt, who=_partner_key("contoso"))
    assert refused.value.extra == {"rule_id": "PTR-TYPE-CHANGE", "clause": "CPA-2.1"}
    assert [e.path for e in refused.value.errors] == ["/partner_type"]
    assert "type_change" not in partners.get_partner(rt, Principal("contoso", Role.CHANNEL_OPS, "key_c"), P1)
