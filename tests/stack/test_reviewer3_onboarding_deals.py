"""Reviewer round 3: onboarding gates and deal registration over HTTP, from Northwind's Partner Program Agreement.

PA-2.2: documents every partner provides: "(a) this Agreement, signed [...] (b) a valid tax form [...] (c) a certificate
of insurance [...] (d) a completed background and compliance check". PA-2.3: a Reseller also provides "(a) a
certificate of commercial general liability insurance with coverage of at least USD 1,000,000.00 per occurrence [...]
(c) a trade reference or bank reference letter. A Reseller starts at the Registered tier unless it qualifies for a
higher tier under Section 3 at onboarding." PA-3.3: Silver needs cert-network-core and a USD 250,000.00 commitment.
PA-2.9: "The same person may not both submit and approve an application." PA-2.8: "A potential match is routed to
Legal" (SOP-4.1: compliance_screening_match -> legal, 24 hours).
PA-3.2: "Registered Partners are not eligible for deal registration"; PA-9.2: Silver 40 support hours a Quarter,
Registered 10.
PA-5.5: "A registration that conflicts with an approved, unexpired registration is rejected with reference to this
clause, and the rejected Partner is told the date on which the conflicting exclusivity period ends but not the
identity of the other Partner." PA-5.3: exclusivity "for 90 days from the approval date". PA-5.4: "A Partner may hold
registrations for the same Customer in different Product Families."
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from security_support import make_party, offboard
from support import Api, assert_problem

pytestmark = pytest.mark.stack


@pytest.fixture
def party(api, operator, stack):
    made = make_party(api, operator, stack, "northwind")
    yield made
    offboard(operator, made)


def _today(party: Any) -> date:
    return date.fromisoformat(party.rt.clock.now_iso()[:10])


def _key(party: Any, api: Api, role: str) -> Api:
    minted = party.admin.post("/v1/keys", {"role": role, "label": f"second {role}"})
    assert minted.status_code == 201, minted.text
    return api.as_key(minted.json()["key"])


def _document(kind: str, today: date, **extra: Any) -> dict[str, Any]:
    return {"document_type": kind, "reference": f"dms://{kind}/{uuid.uuid4().hex[:8]}",
            "checksum": "sha256:" + hashlib.sha256(kind.encode()).hexdigest(),
            "issued_at": (today - timedelta(days=30)).isoformat(), **extra}


def _apply(ops: Api, today: date, name: str) -> str:
    created = ops.post("/v1/partners", {
        "legal_name": f"{name} {uuid.uuid4().hex[:6]}", "partner_type": "reseller", "requested_tier": "silver",
        "terms": {"annual_commitment": "250000.00", "payment_terms_days": 30},
        "contact": {"name": "Avery Lee", "email": "avery@reseller.example"}})
    assert created.status_code == 201, created.text
    partner_id = str(created.json()["partner_id"])
    insurance = {"expires_at": (today + timedelta(days=300)).isoformat(), "coverage_amount": "1000000.00"}
    for kind, extra in (("signed_agreement", {}), ("tax_form", {}), ("insurance_certificate", insurance),
                        ("compliance_screening", {"outcome": "clear"})):
        filed = ops.post(f"/v1/partners/{partner_id}/documents", _document(kind, today, **extra))
        assert filed.status_code == 201, (kind, filed.text)
    return partner_id


def test_a_reseller_is_gated_by_its_documents_then_activated_at_silver_by_another_person(party, api):
    """A Reseller applies for Silver with a USD 250,000.00 commitment. An insurance certificate of 999,999.99 is
    refused (PA-2.3(a) "at least USD 1,000,000.00"), naming /coverage_amount. Without a trade reference the submit
    leaves it pending documents, the gap citing PA-2.3. With it and cert-network-core, it is proposed at Silver and
    waits for channel ops; the channel ops member who submitted cannot approve (PA-2.9); a second one can. Active
    Silver: deal registration entitled (PA-5.1), 40 support hours a Quarter (PA-9.2)."""
    today = _today(party)
    ops = party.by_role["channel_ops"]
    partner_id = _apply(ops, today, "Gated Reseller")
    low = _document("insurance_certificate", today, expires_at=(today + timedelta(days=300)).isoformat(),
                    coverage_amount="999999.99")
    refused = assert_problem(ops.post(f"/v1/partners/{partner_id}/documents", low), 422)
    assert any(e["path"] == "/coverage_amount" for e in refused.get("errors", [])) or "/coverage_amount" in str(
        refused), refused
    cert = ops.post(f"/v1/partners/{partner_id}/certifications",
                    {"certification_id": "cert-network-core", "earned_at": (today - timedelta(days=60)).isoformat()})
    assert cert.status_code == 201, cert.text
    gapped = ops.post(f"/v1/partners/{partner_id}/submit", {})
    assert gapped.status_code == 200, gapped.text
    body = gapped.json()
    assert body["outcome"] == "pending_documents" and not body.get("approval"), body
    (gap,) = [m for m in body["missing"] if "trade_reference" in str(m)]
    assert gap["clause"] == "PA-2.3", gap
    filed = ops.post(f"/v1/partners/{partner_id}/documents", _document("trade_reference", today))
    assert filed.status_code == 201, filed.text
    submitted = ops.post(f"/v1/partners/{partner_id}/submit", {})
    assert submitted.status_code == 200, submitted.text
    body = submitted.json()
    assert body["outcome"] == "pending_approval" and body["missing"] == [], body
    approval_id = body["approval"]["approval_id"]
    assert "silver" in str(body["assessment"]), body["assessment"]
    assert_problem(ops.post(f"/v1/approvals/{approval_id}/decision", {"outcome": "approved", "note": "mine"}), 403)
    assert party.by_role["channel_ops"].get(f"/v1/partners/{partner_id}").json()["status"] == "pending_approval"
    other = _key(party, api, "channel_ops")
    decided = other.post(f"/v1/approvals/{approval_id}/decision", {"outcome": "approved", "note": "PA-2.9 complete"})
    assert decided.status_code == 200, decided.text
    partner = ops.get(f"/v1/partners/{partner_id}").json()
    assert (partner["status"], partner["tier"]) == ("active", "silver"), partner
    dealreg = ops.get(f"/v1/partners/{partner_id}/entitlements/deal_registration").json()
    hours = ops.get(f"/v1/partners/{partner_id}/entitlements/max_support_hours_per_quarter").json()
    assert dealreg["entitled"] is True and dealreg["clause"] == "PA-5.1", dealreg
    assert hours["value"] == 40 and hours["clause"] == "PA-9.2", hours


def test_a_reseller_without_the_silver_certification_starts_registered(party, api):
    """The same application with every document but no certification: PA-2.3 "starts at the Registered tier unless
    it qualifies for a higher tier" (Silver needs cert-network-core, PA-3.3). Approved, it is Registered: no deal
    registration (PA-3.2), 10 support hours a Quarter (PA-9.2)."""
    today = _today(party)
    ops = party.by_role["channel_ops"]
    partner_id = _apply(ops, today, "Uncertified Reseller")
    assert ops.post(f"/v1/partners/{partner_id}/documents", _document("trade_reference", today)).status_code == 201
    submitted = ops.post(f"/v1/partners/{partner_id}/submit", {}).json()
    assert submitted["outcome"] == "pending_approval", submitted
    decided = _key(party, api, "channel_ops").post(f"/v1/approvals/{submitted['approval']['approval_id']}/decision",
                                                   {"outcome": "approved", "note": "registered tier"})
    assert decided.status_code == 200, decided.text
    partner = ops.get(f"/v1/partners/{partner_id}").json()
    assert (partner["status"], partner["tier"]) == ("active", "registered"), partner
    dealreg = ops.get(f"/v1/partners/{partner_id}/entitlements/deal_registration").json()
    hours = ops.get(f"/v1/partners/{partner_id}/entitlements/max_support_hours_per_quarter").json()
    assert dealreg["entitled"] is False and hours["value"] == 10, (dealreg, hours)


def test_a_potential_screening_match_goes_to_legal_and_holds_the_application(party):
    """PA-2.8: "A potential match is routed to Legal, and no quote, order or incentive may be processed for the
    Partner while the match is unresolved." SOP-4.1: compliance_screening_match -> legal, 24 hours."""
    today = _today(party)
    ops = party.by_role["channel_ops"]
    partner_id = _apply(ops, today, "Screened Reseller")
    matched = ops.post(f"/v1/partners/{partner_id}/documents",
                       _document("compliance_screening", today, outcome="potential_match"))
    assert matched.status_code == 201, matched.text
    legal = party.by_role["legal"].get("/v1/exceptions", queue="legal", limit=200).json()["items"]
    mine = [e for e in legal if e["category"] == "compliance_screening_match" and e.get("partner_id") == partner_id]
    if not mine:  # an approval rather than an exception: the legal queue's approvals
        pending = party.by_role["legal"].get("/v1/approvals", status="pending", queue="legal", limit=200)
        mine = [a for a in pending.json()["items"]
                if a["category"] == "compliance_screening_match" and a.get("partner_id") == partner_id]
    assert len(mine) == 1 and mine[0]["queue"] == "legal", mine
    ops_view = party.by_role["channel_ops"].get("/v1/exceptions", queue="channel_ops", limit=200).json()["items"]
    assert not [e for e in ops_view if e["category"] == "compliance_screening_match"]


def _registration(partner_id: str, customer: str, family: str, today: date) -> dict[str, Any]:
    return {"partner_id": partner_id,
            "customer": {"id": customer, "name": "Harbor Freight Lines", "contact": "Sam Ortiz"},
            "family": family, "estimated_value": "60000.00",
            "expected_close": (today + timedelta(days=60)).isoformat()}


def test_a_rival_registration_of_a_registered_customer_is_told_the_end_date_not_the_holder(party, api):
    """P0 registers customer C for networking; channel ops approves it today: exclusivity to today + 90 days
    (PA-5.3). P1 then registers C for networking: rejected under PA-5.5, told that date, never P0's id or name.
    P1's registration of C for security is another Product Family (PA-5.4): it is accepted for review."""
    today = _today(party)
    p0, p1 = party.partners
    own, rival = party.partner_keys[p0], party.partner_keys[p1]
    customer = f"CUST-{uuid.uuid4().hex[:8]}"
    first = own.post("/v1/deals", _registration(p0, customer, "networking", today))
    assert first.status_code == 201, first.text
    deal = first.json()
    decided = party.by_role["channel_ops"].post(f"/v1/approvals/{deal['approval_id']}/decision",
                                                {"outcome": "approved", "note": "PA-5.2"})
    assert decided.status_code == 200, decided.text
    ends = today + timedelta(days=90)
    second = rival.post("/v1/deals", _registration(p1, customer, "networking", today))
    assert second.status_code in (201, 409, 422), second.text
    text = second.text
    if second.status_code == 201:  # registered, then rejected by review
        text = rival.get(f"/v1/deals/{second.json()['deal_id']}").text
        assert second.json()["status"] == "rejected" or "rejected" in text, text
    assert "PA-5.5" in text and ends.isoformat() in text, text
    legal_name = party.by_role["channel_ops"].get(f"/v1/partners/{p0}").json()["legal_name"]
    assert p0 not in text and legal_name not in text and deal["deal_id"] not in text, text
    other_family = rival.post("/v1/deals", _registration(p1, customer, "security", today))
    # P1 holds no security certification in make_party's seed: PA-5.1 may refuse it, never PA-5.5
    assert "PA-5.5" not in other_family.text, other_family.text


def _expire_network_core(party: Any, partner_id: str, today: date) -> None:
    """The partner's only networking certification, recorded as having expired yesterday (PA-4.2: "it expires at
    23:59:59 UTC on the last day of that period")."""
    lapsed = {"certification_id": "cert-network-core", "earned_at": (today - timedelta(days=400)).isoformat(),
              "expires_at": (today - timedelta(days=1)).isoformat()}
    answer = party.by_role["sales"].post(f"/v1/partners/{partner_id}/certifications", lapsed)
    assert answer.status_code == 201, answer.text


def test_an_expired_certification_on_a_live_deal_is_channel_ops_work_and_support_on_it_is_out_of_scope(party):
    """P0 holds an approved networking registration; its only networking certification expired yesterday.
    PA-4.3(d): the registration is suspended (exclusivity running); SOP-4.1: certification_expired_active_deal ->
    channel_ops, 8 hours (the hourly deal-certification sweep raises it; run here as the scheduler would).
    PA-4.3(a): the Silver entitlements resting on cert-network-core fall to Registered's: no deal registration, 10
    support hours (PA-9.2). SOP-5.3: support on that Product Family is out of scope: 3.00 hours logged on networking
    today are an out_of_scope_service exception for customer_success (8 hours), not billed; the support economics KPI
    counts 1 out-of-scope request and 3.00 hours of service leakage (SOP-5.3 "recorded as service leakage for the
    support economics KPI")."""
    from billing_support import erp_event, wait_until
    from revgov.services import deal_holds

    today = _today(party)
    p0 = party.partners[0]
    own = party.partner_keys[p0]
    customer = f"CUST-{uuid.uuid4().hex[:8]}"
    deal = own.post("/v1/deals", _registration(p0, customer, "networking", today))
    assert deal.status_code == 201, deal.text
    ops = party.by_role["channel_ops"]
    assert ops.post(f"/v1/approvals/{deal.json()['approval_id']}/decision",
                    {"outcome": "approved", "note": "PA-5.2"}).status_code == 200
    _expire_network_core(party, p0, today)
    seen = own.get(f"/v1/deals/{deal.json()['deal_id']}").json()
    assert seen["status"] == "suspended", seen
    deal_holds.sweep(party.rt, party.tenant_id)
    found = ops.get("/v1/exceptions", queue="channel_ops", limit=200).json()["items"]
    (held,) = [e for e in found if e["category"] == "certification_expired_active_deal"
               and e["subject"]["id"] == deal.json()["deal_id"]]
    opened = datetime.fromisoformat(held["opened_at"].replace("Z", "+00:00"))
    assert datetime.fromisoformat(held["due_at"].replace("Z", "+00:00")) - opened == timedelta(hours=8), held
    dealreg = ops.get(f"/v1/partners/{p0}/entitlements/deal_registration").json()
    hours = ops.get(f"/v1/partners/{p0}/entitlements/max_support_hours_per_quarter").json()
    assert dealreg["entitled"] is False and hours["value"] == 10, (dealreg, hours)

    now = party.rt.clock.now_iso()
    logged = party.erp.post(erp_event("support.logged", {
        "partner_id": p0, "ticket_id": f"TCK-RV3-{uuid.uuid4().hex[:4]}", "family": "networking", "hours": "3.00",
        "performed_on": today.isoformat(), "severity": 2}, occurred_at=now[:19] + "Z"))
    assert logged.status_code == 202, logged.text
    event_id = logged.json()["event_id"]
    wait_until(lambda: party.admin.get(f"/v1/events/{event_id}").json()["status"] in ("processed", "failed"), 60,
               what=event_id)
    cs = party.by_role["customer_success"].get("/v1/exceptions", queue="customer_success", limit=200).json()["items"]
    (scope,) = [e for e in cs if e["category"] == "out_of_scope_service" and e.get("partner_id") == p0]
    opened = datetime.fromisoformat(scope["opened_at"].replace("Z", "+00:00"))
    assert datetime.fromisoformat(scope["due_at"].replace("Z", "+00:00")) - opened == timedelta(hours=8), scope
    invoices = party.by_role["finance"].get("/v1/invoices", partner_id=p0, limit=200).json()["items"]
    lines = [ln for i in invoices for ln in party.by_role["finance"].get(f"/v1/invoices/{i['invoice_id']}").json()
             ["lines"]]
    assert not [ln for ln in lines if "SUPPORT" in str(ln.get("sku"))], lines
    month = today.isoformat()[:7]

    def support() -> dict[str, Any]:
        return dict(party.by_role["finance"].get("/v1/kpis", period=month).json()["support_hours_per_revenue_dollar"])

    wait_until(lambda: support()["out_of_scope_requests"] == 1, 60, what=support)
    assert support()["service_leakage_hours"] == "3.00", support()


def test_only_an_eligible_member_of_the_owning_queue_decides_with_a_reason(party):
    """A deal registration's review is channel_ops' (SOP-1.2 "channel_ops (... deal registration ...)"). SOP-1.2: "A
    member of a queue may act only on items in that queue" (finance, legal, customer_success: 403); "The admin role
    manages users, keys and queue membership but does not approve exceptions" (403). SOP-4.3: "Partner users [...] may
    request but never approve" (the registering partner and its rival: 403 / 404, never its existence to a rival).
    SOP-4.4: "A rejection without a reason is not accepted" (4xx). After all of them the registration is still
    pending; channel ops then rejects it with a reason."""
    today = _today(party)
    p0, p1 = party.partners
    own, rival = party.partner_keys[p0], party.partner_keys[p1]
    deal = own.post("/v1/deals", _registration(p0, f"CUST-{uuid.uuid4().hex[:8]}", "networking", today))
    assert deal.status_code == 201, deal.text
    path = f"/v1/approvals/{deal.json()['approval_id']}/decision"
    approve = {"outcome": "approved", "note": "ok"}
    for role in ("finance", "legal", "customer_success", "admin", "viewer", "sales"):
        assert_problem(party.by_role[role].post(path, approve), 403)
    assert_problem(own.post(path, approve), 403)
    # a rival's partner key learns nothing: the same answer as for an approval id that does not exist (API.md)
    from security_support import random_id

    theirs, unknown = rival.post(path, approve), rival.post(f"/v1/approvals/{random_id('apr')}/decision", approve)
    assert theirs.status_code == unknown.status_code, (theirs.text, unknown.text)
    assert theirs.json()["title"] == unknown.json()["title"], (theirs.text, unknown.text)
    no_reason = party.by_role["channel_ops"].post(path, {"outcome": "rejected"})
    assert no_reason.status_code in (400, 422), no_reason.text
    assert own.get(f"/v1/deals/{deal.json()['deal_id']}").json()["status"] == "pending"
    rejected = party.by_role["channel_ops"].post(path, {"outcome": "rejected", "note": "no named sales cycle"})
    assert rejected.status_code == 200, rejected.text
    assert own.get(f"/v1/deals/{deal.json()['deal_id']}").json()["status"] == "rejected"
