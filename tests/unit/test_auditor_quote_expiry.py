"""An auditor's case on quote approvals and the quote's validity, on the in-memory engine with a fixed clock.

PA-6.1: "A quote is valid for 30 days from its issue date." PA-6.6: "Approvals are recorded against the specific quote
and quote version, expire with the quote, and cannot be granted by the person who requested them." SOP-4.4:
"Approvals of quote exceptions expire with the quote after 30 days." (Contoso: CPA-6.1 "Quotes are valid for 21
days"; COP-4.4 "Quote approvals lapse with the quote after 21 days".)

So an approval given on day 31 for a quote issued on day 0 approves nothing: the quote has expired and must not be
released (its decision must not become `allow`).
"""

from __future__ import annotations

import json
from typing import Any

from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import RevgovError
from revgov.ports import Changes, Put
from revgov.services import cases, decisions, pricing
from support import ROOT

REGISTERED = "ptr_01JBNWPARTNER0000000000002"  # an active Registered reseller: networking cap 5% (PA-6.2)


def _staff(role: str) -> Principal:
    return Principal("northwind", Role(role), f"key_{role.upper():0<26}"[:30])


def _quote_needing_channel_ops() -> tuple[Any, Any, dict[str, Any]]:
    rt, clock = memory_runtime("2026-11-02T10:00:00.000Z")
    partners = json.loads((ROOT / "tests" / "scenarios" / "billing" / "erp-samples.json").read_text())["partners"]
    rt.store.commit("northwind", Changes(puts=[Put("PARTNER", p["partner_id"], p) for p in partners]))
    # 8% off NW-SW-24P is above the Registered networking cap of 5%: Channel Operations approves (PA-6.6(a)).
    checked = pricing.check(rt, _staff("sales"), {
        "partner_id": REGISTERED, "customer": {"id": "CUST-EXP-1", "name": "Lakeside"},
        "lines": [{"line_id": "1", "sku": "NW-SW-24P", "quantity": 1, "discount_percent": "8"}]})  # fmt: skip
    assert checked["outcome"] == "approval_required", checked["reasons"]
    assert [a["queue"] for a in checked["approvals"]] == ["channel_ops"]
    return rt, clock, checked


def _approve_after(days: float) -> str:
    rt, clock, checked = _quote_needing_channel_ops()
    clock.advance(days=days)
    ops = _staff("channel_ops")
    try:
        cases.decide_case(rt, ops, "approval", checked["approvals"][0]["approval_id"], "approved", "within policy")
    except RevgovError:
        pass  # refused: the quote has expired
    stored, _ = decisions.load(rt, _staff("finance"), checked["decision_id"])
    return str(stored["outcome"])


def test_pa_6_6_an_approval_within_the_quotes_30_days_releases_it():
    assert _approve_after(29) == "allow"


def test_sop_4_4_an_approval_given_after_the_quote_expired_does_not_release_it():
    # Issued 2026-11-02T10:00Z, valid for 30 days; approved 31 days later.
    assert _approve_after(31) != "allow"


def test_pa_6_1_the_last_valid_day_is_the_thirtieth_after_the_issue_date():
    # "valid for 30 days from its issue date": issued 2 November, valid through 2 December, expired on 3 December.
    assert _approve_after(30.5) == "allow"  # 2026-12-02T22:00Z
    assert _approve_after(30.6) != "allow"  # 2026-12-03T00:24Z


def test_sop_4_4_the_late_approval_resolves_as_a_rejection_citing_the_rule_and_the_quote_is_denied():
    rt, clock, checked = _quote_needing_channel_ops()
    clock.advance(days=31)
    approval_id = checked["approvals"][0]["approval_id"]
    decided = cases.decide_case(rt, _staff("channel_ops"), "approval", approval_id, "approved", "within policy")
    assert decided["status"] == "rejected"
    assert decided["decision"]["requested_outcome"] == "approved"
    assert decided["decision"]["resolved_by_rule"] == {"rule_id": "PRC-QUOTE-APPROVAL-EXPIRY", "clause": "SOP-4.4"}
    assert "through 2026-12-02" in decided["decision"]["note"]
    stored, _ = decisions.load(rt, _staff("finance"), checked["decision_id"])
    assert (stored["outcome"], stored["status"]) == ("deny", "rejected")
    assert stored["history"][-1]["outcome"] == "expired"
    records = [r for r in rt.store.iter_audit_records("northwind") if r["subject"] == checked["decision_id"]]
    (rejected,) = [r for r in records if r["action"] == "pricing.rejected"]
    assert "PRC-QUOTE-APPROVAL-EXPIRY" in rejected["rule_ids"] and "SOP-4.4" in rejected["clauses"]


CONTOSO_PARTNER = "ptr_01JBCTAVD1TR000000000000A1"
CONTOSO_CERTS = {c: {"cert_id": c, "holder": "A. Auditor", "earned_at": "2025-01-01", "expires_at": "2027-12-31"}
                 for c in ("cert-collab-associate", "cert-secops-analyst", "cert-data-engineer")}  # fmt: skip


def _contoso_approve_after(days: float) -> str:
    """COP-4.4: "Quote approvals lapse with the quote after 21 days" (CPA-6.1: "Quotes are valid for 21 days")."""
    rt, clock = memory_runtime("2026-11-02T10:00:00.000Z", tenant="contoso")
    partner = {"partner_id": CONTOSO_PARTNER, "legal_name": "Auditor Data GmbH", "partner_type": "msp",
               "status": "active", "tier": "elite", "country": "DE", "activated_at": "2025-01-01T00:00:00Z",
               "certifications": CONTOSO_CERTS}  # fmt: skip
    rt.store.commit("contoso", Changes(puts=[Put("PARTNER", CONTOSO_PARTNER, partner)]))
    sales = Principal("contoso", Role.SALES, "key_SALES0000000000000000000000"[:30])
    # 14% off CT-DATA-WORKSPACE is above the Elite data-platform cap of 12%: Channel Operations approves (CPA-6.6(a)).
    checked = pricing.check(rt, sales, {
        "partner_id": CONTOSO_PARTNER, "customer": {"id": "CUST-EXP-2", "name": "Hafen"},
        "lines": [{"line_id": "1", "sku": "CT-DATA-WORKSPACE", "quantity": 1, "discount_percent": "14"}]})  # fmt: skip
    assert [a["queue"] for a in checked["approvals"]] == ["channel_ops"], checked["reasons"]
    clock.advance(days=days)
    ops = Principal("contoso", Role.CHANNEL_OPS, "key_CHANNEL_OPS0000000000000000"[:30])
    decided = cases.decide_case(rt, ops, "approval", checked["approvals"][0]["approval_id"], "approved", "ok")
    stored, _ = decisions.load(rt, sales, checked["decision_id"])
    if decided["status"] == "rejected":
        assert decided["decision"]["resolved_by_rule"]["clause"] == "COP-4.4"
    return str(stored["outcome"])


def test_cop_4_4_contoso_approvals_lapse_after_21_days():
    assert _contoso_approve_after(21) == "allow"
    assert _contoso_approve_after(22) == "deny"
