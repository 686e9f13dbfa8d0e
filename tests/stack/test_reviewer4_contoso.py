"""Reviewer round 4: the contoso tenant's own clauses (CPA / COP) over HTTP, on a party tenant of contoso's
configuration (make_party: two active Advanced resellers holding cert-collab-associate and cert-secops-analyst,
CPA-3.3), so background activity of the shared tenants changes none of the counts. Every figure is computed by hand
from the clause quoted in the test's docstring; dates are read from the stack's clock when the test runs.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from reviewer_support import instant, partner_document, party_fixture, party_today, quote_body

from billing_support import erp_event, wait_until
from support import Api, assert_problem

pytestmark = pytest.mark.stack


party = party_fixture("contoso")
AS_QUOTED = {"quantity": 10, "customer": "Rhein Logistik GmbH"}  # ten seats of each quoted line


def _second(party: Any, api: Api, role: str) -> Api:
    minted = party.admin.post("/v1/keys", {"role": role, "label": f"second {role}"})
    assert minted.status_code == 201, minted.text
    return api.as_key(minted.json()["key"])


def test_a_collaboration_line_at_23_percent_needs_channel_ops_and_finance_each_with_its_own_clock(party, api):
    """CT-COLLAB-SEAT, List Price EUR 45.00, Line Cost 22.00, 10 seats, for an Advanced partner (collaboration cap 9%,
    CPA-6.2).

    * 9.00 %: within the cap, margin (40.95 - 22.00) / 40.95 = 46.3 % >= 10 % (CPA-6.3): allow.
    * 22.00 %: above the cap -> Channel Operations (CPA-6.6(a)); 22 % does not "exceed 22 %" (CPA-6.6(b)), so no
      Finance approval: one approval, channel_ops.
    * 23.00 %: above the cap and above 22 % -> two approvals (COP-4.1: "An item matching several categories becomes
      one exception per category"): discount_above_tier_cap -> channel_ops, 12 h; discount_above_finance_threshold
      -> finance, 24 h. Net 45.00 x 0.77 = 34.65, margin (34.65 - 22.00) / 34.65 = 36.5 %: no margin approval.
      COP-4.2: "At 75% of the SLA the queue is reminded; at 100% [...] the queue lead; at 150% to the head": channel
      ops at +9 h / +12 h / +18 h, finance at +18 h / +24 h / +36 h from entry. "the request proceeds only when all
      are approved": after channel ops alone the quote is still pending; after finance (another person, CPA-6.6
      "may never be given by the person who requested them") it is allowed.
    * 28.50 %: "The combined discount on a line may never exceed 28% of List Price; such a line cannot be approved"
      (CPA-6.4): deny, no approval opened."""
    partner = party.partners[0]
    sales = party.by_role["sales"]

    allowed = sales.post("/v1/pricing/check", quote_body(partner, "CT-COLLAB-SEAT", "9.00", **AS_QUOTED))
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["outcome"] == "allow" and allowed.json()["approvals"] == [], allowed.json()

    at_22 = sales.post("/v1/pricing/check", quote_body(partner, "CT-COLLAB-SEAT", "22.00", **AS_QUOTED)).json()
    assert at_22["outcome"] == "approval_required", at_22
    assert sorted((a["category"], a["queue"]) for a in at_22["approvals"]) == [
        ("discount_above_tier_cap", "channel_ops")], at_22["approvals"]

    checked = sales.post("/v1/pricing/check", quote_body(partner, "CT-COLLAB-SEAT", "23.00", **AS_QUOTED))
    assert checked.status_code == 200, checked.text
    body = checked.json()
    assert (body["outcome"], body["status"]) == ("approval_required", "pending_approval"), body
    by_category = {a["category"]: a for a in body["approvals"]}
    assert sorted((c, a["queue"]) for c, a in by_category.items()) == [
        ("discount_above_finance_threshold", "finance"), ("discount_above_tier_cap", "channel_ops")], body["approvals"]
    expected = {"discount_above_tier_cap": (12, 9, 12, 18), "discount_above_finance_threshold": (24, 18, 24, 36)}
    for category, (sla, remind, lead, head) in expected.items():
        case = party.admin.get(f"/v1/approvals/{by_category[category]['approval_id']}").json()
        entered = instant(case.get("entered_at") or case["opened_at"])
        assert case["sla_hours"] == sla, case
        assert instant(case["due_at"]) - entered == timedelta(hours=sla), case
        escalation = case["escalation"]
        assert escalation["clause"] == "COP-4.2", escalation
        assert [instant(escalation[k]) - entered for k in ("remind_at", "lead_at", "head_at")] == [
            timedelta(hours=remind), timedelta(hours=lead), timedelta(hours=head)], (category, escalation)

    ops = party.by_role["channel_ops"]
    first = ops.post(f"/v1/approvals/{by_category['discount_above_tier_cap']['approval_id']}/decision",
                     {"outcome": "approved", "note": "CPA-6.6(a) strategic account"})
    assert first.status_code == 200, first.text
    assert party.admin.get(f"/v1/decisions/{body['decision_id']}").json()["status"] == "pending_approval"
    second = party.by_role["finance"].post(
        f"/v1/approvals/{by_category['discount_above_finance_threshold']['approval_id']}/decision",
        {"outcome": "approved", "note": "CPA-6.6(b) within margin"})
    assert second.status_code == 200, second.text
    released = party.admin.get(f"/v1/decisions/{body['decision_id']}").json()
    assert (released["outcome"], released["status"]) == ("allow", "approved"), released

    beyond = sales.post("/v1/pricing/check", quote_body(partner, "CT-COLLAB-SEAT", "28.50", **AS_QUOTED)).json()
    assert beyond["outcome"] == "deny" and beyond["approvals"] == [], beyond
    assert "CPA-6.4" in {r["clause"] for r in beyond["reasons"]}, beyond["reasons"]


def _register(partner_id: str, family: str, today: date) -> dict[str, Any]:
    return {"partner_id": partner_id,
            "customer": {"id": f"CUST-{uuid.uuid4().hex[:8]}", "name": "Nordsee Versand AG", "contact": "Jana Voss"},
            "family": family, "estimated_value": "48000.00",
            "expected_close": (today + timedelta(days=60)).isoformat()}


def test_an_expired_secops_certification_freezes_a_security_registration_and_drops_advanced_entitlements(party):
    """P0 (Advanced) holds an approved security registration; its only security certification, cert-secops-analyst,
    expired yesterday.

    * CPA-4.3(d): "protected opportunity registrations in that Product Family are frozen and lapse if no valid
      certification is recorded within 21 days" (valid through yesterday 23:59:59, CPA-4.2, so expired from today
      00:00:00; lapses 21 days after that); COP-4.1:
      certification_expired_active_deal -> channel_ops, 12 hours (the hourly sweep raises it, run here as the
      scheduler would).
    * CPA-4.3(a): the Advanced entitlements rest on cert-secops-analyst (CPA-3.3), so P0 receives Authorized's
      (CPA-3.2 / CPA-9.2): 8 support hours a Quarter, no market development funds, 1 sandbox (CPA-9.7); and
      Authorized partners still "may register opportunities" (CPA-3.2, CPA-5.1 "Partners of all tiers").
    * CPA-4.3(b): with no other valid security certification, P0 "may not [...] register opportunities for Products
      of that Product Family": a new security registration is refused; a devices one, which CPA-5.1 lets an
      Authorized partner register "without certification", is accepted for review."""
    from revgov.services import deal_holds

    today = party_today(party)
    p0 = party.partners[0]
    own = party.partner_keys[p0]
    ops = party.by_role["channel_ops"]
    deal = own.post("/v1/deals", _register(p0, "security", today))
    assert deal.status_code == 201, deal.text
    assert ops.post(f"/v1/approvals/{deal.json()['approval_id']}/decision",
                    {"outcome": "approved", "note": "CPA-5.1 named contact"}).status_code == 200
    lapsed = {"certification_id": "cert-secops-analyst", "earned_at": (today - timedelta(days=380)).isoformat(),
              "expires_at": (today - timedelta(days=1)).isoformat()}
    assert party.by_role["sales"].post(f"/v1/partners/{p0}/certifications", lapsed).status_code == 201

    seen = own.get(f"/v1/deals/{deal.json()['deal_id']}").json()
    assert seen["status"] in ("suspended", "frozen"), seen
    # CPA-4.2: valid "until 23:59:59 UTC on the last day"; CPA-4.3(d): frozen registrations "lapse if no valid
    # certification is recorded within 21 days" (northwind's PA-4.3(d): 30); CPA-5.2: protection 60 days from approval
    hold = seen["certification_hold"]
    expired = instant(hold["certification_expired_at"])
    # valid through yesterday 23:59:59, so expired from today 00:00:00 UTC
    assert (expired.date(), expired.hour, expired.minute, expired.second) == (today, 0, 0, 0), hold
    assert instant(hold["lapses_at"]).date() == (expired + timedelta(days=21)).date(), hold
    assert hold["clause"].startswith("CPA-4.3"), hold
    assert instant(seen["expires_at"]).date() == (instant(seen["approved_at"]) + timedelta(days=60)).date(), seen
    deal_holds.sweep(party.rt, party.tenant_id)
    found = ops.get("/v1/exceptions", queue="channel_ops", limit=200).json()["items"]
    (held,) = [e for e in found if e["category"] == "certification_expired_active_deal"
               and e["subject"]["id"] == deal.json()["deal_id"]]
    assert instant(held["due_at"]) - instant(held["opened_at"]) == timedelta(hours=12), held

    def entitlement(name: str) -> dict[str, Any]:
        return dict(ops.get(f"/v1/partners/{p0}/entitlements/{name}").json())

    assert entitlement("max_support_hours_per_quarter")["value"] == 8, entitlement("max_support_hours_per_quarter")
    assert entitlement("mdf_eligible")["entitled"] is False, entitlement("mdf_eligible")
    assert entitlement("sandbox_environments")["value"] == 1, entitlement("sandbox_environments")
    assert entitlement("deal_registration")["entitled"] is True, entitlement("deal_registration")

    refused = own.post("/v1/deals", _register(p0, "security", today))
    assert refused.status_code in (409, 422), refused.text
    assert "CPA-4.3" in refused.text or "CPA-5.1" in refused.text, refused.text
    devices = own.post("/v1/deals", _register(p0, "devices", today))
    assert devices.status_code == 201, devices.text


def _support(party: Any, partner_id: str, hours: str, severity: int, today: date, **extra: Any) -> str:
    now = party.rt.clock.now_iso()
    sent = party.erp.post(erp_event("support.logged", {
        "partner_id": partner_id, "ticket_id": f"TCK-RV4-{uuid.uuid4().hex[:6]}", "family": "collaboration",
        "hours": hours, "performed_on": today.isoformat(), "severity": severity, **extra},
        occurred_at=now[:19] + "Z"))
    assert sent.status_code == 202, sent.text
    event_id = str(sent.json()["event_id"])
    wait_until(lambda: party.admin.get(f"/v1/events/{event_id}").json()["status"] in ("processed", "failed"), 60,
               what=event_id)
    assert party.admin.get(f"/v1/events/{event_id}").json()["status"] == "processed"
    return event_id


def _overage_lines(party: Any, partner_id: str) -> list[dict[str, Any]]:
    finance = party.by_role["finance"]
    invoices = finance.get("/v1/invoices", partner_id=partner_id, limit=200).json()["items"]
    lines = [ln for i in invoices for ln in finance.get(f"/v1/invoices/{i['invoice_id']}").json()["lines"]]
    return [ln for ln in lines if ln.get("sku") and "SUPPORT" in ln["sku"]]


def test_support_beyond_thirty_advanced_hours_is_billed_at_eur_130_for_severity_1_and_approved_work(party):
    """An Advanced partner has 30 support hours a Quarter (CPA-9.2). Logged on the same day:

    1. 22.50 h, severity 2 (75 % of 30: COP-5.4's first notice; no charge): 22.50 used.
    2. 9.00 h, severity 1: 22.50 + 9.00 = 31.50, 1.50 beyond the allowance; CPA-9.2 / COP-5.4: "only severity 1
       incidents are worked without written approval; those hours are billed at EUR 130.00 per hour": 1.50 x 130.00
       = EUR 195.00, one line on the month's invoice ("Overage is invoiced on the invoice of the month in which it
       was worked").
    3. 1.00 h, severity 2, without the partner's approval: not billed (COP-5.3: "work delivered without acceptance
       is not invoiced"), a support_hours_overage exception -> customer_success, 12 h (COP-4.1).
    4. 2.00 h, severity 3, overage approved in writing: all beyond the allowance, 2.00 x 130.00 = EUR 260.00.
    Billed overage in all: 195.00 + 260.00 = 455.00, never at northwind's USD 150.00."""
    today = party_today(party)
    p0 = party.partners[0]
    _support(party, p0, "22.50", 2, today)
    assert _overage_lines(party, p0) == []
    _support(party, p0, "9.00", 1, today)
    wait_until(lambda: len(_overage_lines(party, p0)) == 1, 60, what="severity 1 overage line")
    (sev1,) = _overage_lines(party, p0)
    assert (Decimal(sev1["quantity"]), sev1["unit_price"], sev1["amount"]) == (Decimal("1.5"), "130.00", "195.00"), sev1

    _support(party, p0, "1.00", 2, today)
    cs = party.by_role["customer_success"]

    def overage_cases() -> list[dict[str, Any]]:
        items = cs.get("/v1/exceptions", queue="customer_success", limit=200).json()["items"]
        return [e for e in items if e["category"] == "support_hours_overage" and e.get("partner_id") == p0]

    wait_until(lambda: len(overage_cases()) == 1, 60, what="support_hours_overage")
    (case,) = overage_cases()
    assert instant(case["due_at"]) - instant(case["opened_at"]) == timedelta(hours=12), case
    assert len(_overage_lines(party, p0)) == 1, _overage_lines(party, p0)

    _support(party, p0, "2.00", 3, today, overage_approved=True)
    wait_until(lambda: len(_overage_lines(party, p0)) == 2, 60, what="approved overage line")
    amounts = sorted(Decimal(ln["amount"]) for ln in _overage_lines(party, p0))
    assert amounts == [Decimal("195.00"), Decimal("260.00")], _overage_lines(party, p0)
    assert sum(amounts) == Decimal("455.00")


def test_a_commercial_register_extract_older_than_three_months_counts_as_missing(party, api):
    """CPA-2.2: no Partner may quote [...] until Contoso has received and verified "(d) an extract from the
    commercial register dated within the last 3 months" and "an expired document counts as missing". A Reseller
    applies at Authorized (CPA-3.1: "A new Partner is admitted at Authorized unless it demonstrates [...] a higher
    tier"), files (a)-(c), (e) and CPA-2.5's bank reference and sales-channel declaration, and a register extract
    dated 4 months and 10 days ago: the submit leaves it pending documents, the gap naming the extract and CPA-2.2.
    A fresh extract (dated 10 days ago) completes the file: pending approval, decided by a channel ops member other
    than the one who submitted it (CPA-2.9). Active Authorized: 8 support hours (CPA-9.2), opportunity registration
    (CPA-3.2), no MDF (CPA-3.2 "not eligible for [...] market development funds")."""
    today = party_today(party)
    ops = party.by_role["channel_ops"]
    created = ops.post("/v1/partners", {
        "legal_name": f"Brandt Handel {uuid.uuid4().hex[:6]}", "partner_type": "reseller",
        "requested_tier": "authorized", "terms": {"annual_commitment": "0.00", "payment_terms_days": 30},
        "contact": {"name": "Lena Brandt", "email": "lena@brandt.example"}})
    assert created.status_code == 201, created.text
    partner_id = created.json()["partner_id"]
    required = ops.post(f"/v1/partners/{partner_id}/submit", {}).json()
    assert required["outcome"] == "pending_documents", required
    month_ago = today - timedelta(days=30)
    insurance = {"expires_at": (today + timedelta(days=300)).isoformat(), "coverage_amount": "1000000.00"}
    extras = {"insurance_certificate": insurance, "compliance_screening": {"outcome": "clear"}}
    # CPA-2.2's documents and CPA-2.5's reseller ones, by the names the application's outstanding list gives them
    documents = sorted({o["name"] for o in required["missing"] if o.get("kind") == "document"}
                       - {"commercial_register_extract"})
    assert {"signed_agreement", "tax_form", "insurance_certificate", "compliance_screening"} <= set(documents), (
        required["missing"])
    for kind in documents:
        filed = ops.post(f"/v1/partners/{partner_id}/documents",
                         partner_document(kind, month_ago, **extras.get(kind, {})))
        assert filed.status_code == 201, (kind, filed.text)
    old = ops.post(f"/v1/partners/{partner_id}/documents",
                   partner_document("commercial_register_extract", today - timedelta(days=130)))
    assert old.status_code in (201, 422), old.text
    gapped = ops.post(f"/v1/partners/{partner_id}/submit", {})
    assert gapped.status_code == 200, gapped.text
    body = gapped.json()
    assert body["outcome"] == "pending_documents", body
    gaps = [m for m in body["missing"] if "commercial_register_extract" in str(m)]
    assert gaps and gaps[0]["clause"] == "CPA-2.2", body["missing"]

    fresh = ops.post(f"/v1/partners/{partner_id}/documents",
                     partner_document("commercial_register_extract", today - timedelta(days=10)))
    assert fresh.status_code == 201, fresh.text
    submitted = ops.post(f"/v1/partners/{partner_id}/submit", {}).json()
    assert submitted["outcome"] == "pending_approval" and submitted["missing"] == [], submitted
    approval_id = submitted["approval"]["approval_id"]
    assert_problem(ops.post(f"/v1/approvals/{approval_id}/decision", {"outcome": "approved", "note": "mine"}), 403)
    decided = _second(party, api, "channel_ops").post(f"/v1/approvals/{approval_id}/decision",
                                                      {"outcome": "approved", "note": "CPA-2.9 complete"})
    assert decided.status_code == 200, decided.text
    partner = ops.get(f"/v1/partners/{partner_id}").json()
    assert (partner["status"], partner["tier"]) == ("active", "authorized"), partner
    hours = ops.get(f"/v1/partners/{partner_id}/entitlements/max_support_hours_per_quarter").json()
    dealreg = ops.get(f"/v1/partners/{partner_id}/entitlements/deal_registration").json()
    mdf = ops.get(f"/v1/partners/{partner_id}/entitlements/mdf_eligible").json()
    assert (hours["value"], dealreg["entitled"], mdf["entitled"]) == (8, True, False), (hours, dealreg, mdf)


def test_payment_terms_beyond_thirty_days_go_to_legal_for_48_hours_and_beyond_sixty_are_not_granted(party):
    """CPA-6.7: "The standard payment term is 30 days from the invoice date. Any other term [...] is non-standard and
    requires Legal approval before it is offered. Payment terms longer than 60 days are not granted." CPA-6.6(d):
    Legal approval where non-standard payment terms apply; COP-4.1: non_standard_payment_terms -> legal, 48 hours.
    A CT-COLLAB-SEAT line at 5 % (within the Advanced 9 % cap, margin (42.75 - 22.00) / 42.75 = 48.5 %):
    * 30 days: allow; 45 days: one approval, legal, due 48 h after entry; 60 days: still only legal (not "longer
      than 60"); 75 days: deny citing CPA-6.7, no approval opened. Channel ops cannot decide the legal approval
      (COP-1.2 "Staff act only on items of queues they belong to"); legal can."""
    p0 = party.partners[0]
    sales = party.by_role["sales"]

    def check(days: int) -> dict[str, Any]:
        body = quote_body(p0, "CT-COLLAB-SEAT", "5.00", **AS_QUOTED)
        body["terms"] = {"payment_days": days}
        answer = sales.post("/v1/pricing/check", body)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    assert check(30)["outcome"] == "allow"
    for days in (45, 60):
        held = check(days)
        assert held["outcome"] == "approval_required", held
        (approval,) = held["approvals"]
        assert (approval["category"], approval["queue"]) == ("non_standard_payment_terms", "legal"), approval
        case = party.admin.get(f"/v1/approvals/{approval['approval_id']}").json()
        entered = instant(case.get("entered_at") or case["opened_at"])
        assert instant(case["due_at"]) - entered == timedelta(hours=48), case
    assert_problem(party.by_role["channel_ops"].post(f"/v1/approvals/{approval['approval_id']}/decision",
                                                     {"outcome": "approved", "note": "not mine"}), 403)
    assert party.by_role["legal"].post(f"/v1/approvals/{approval['approval_id']}/decision",
                                       {"outcome": "approved", "note": "CPA-6.7 60 days agreed"}).status_code == 200
    refused = check(75)
    assert refused["outcome"] == "deny" and refused["approvals"] == [], refused
    assert "CPA-6.7" in {r["clause"] for r in refused["reasons"]}, refused["reasons"]


def test_mdf_is_asked_only_by_an_eligible_partner_and_claimed_only_after_a_pre_approved_activity(party):
    """CPA-9.5: "Advanced and Elite Partners accrue market development funds [...] Activities are pre-approved by
    Channel Operations; claims are made within 60 days after the activity with proof of execution and supplier
    invoices." CPA-3.2: Authorized partners "are not eligible for [...] market development funds".
    * P0 (Advanced) asks pre-approval of an activity starting in 10 days: accepted. A claim before it is approved or
      before it has taken place is refused (422), nothing paid.
    * P0 with cert-secops-analyst expired falls to Authorized's entitlements (CPA-4.3(a)): a new request is a 422
      citing CPA-9.5 or CPA-4.3 (the expiry that makes it ineligible)."""
    today = party_today(party)
    p0 = party.partners[0]
    own = party.partner_keys[p0]
    activity = {"title": "Winter collaboration roadshow", "starts_on": (today + timedelta(days=10)).isoformat(),
                "ends_on": (today + timedelta(days=12)).isoformat(), "planned_amount": "2000.00"}
    asked = own.post(f"/v1/partners/{p0}/mdf/activities", activity)
    assert asked.status_code == 201, asked.text
    activity_id = asked.json()["activity_id"]
    claim = {"activity_id": activity_id, "amount": "500.00",
             "evidence": {"proof_of_execution": "dms://roadshow/photos", "invoices": ["SUP-INV-77"]}}
    early = assert_problem(own.post(f"/v1/partners/{p0}/mdf/claims", claim), 422)
    assert early.get("errors"), early
    lapsed = {"certification_id": "cert-secops-analyst", "earned_at": (today - timedelta(days=380)).isoformat(),
              "expires_at": (today - timedelta(days=1)).isoformat()}
    assert party.by_role["sales"].post(f"/v1/partners/{p0}/certifications", lapsed).status_code == 201
    refused = assert_problem(own.post(f"/v1/partners/{p0}/mdf/activities", activity), 422)
    # the expiry is why P0 is no longer eligible: the refusal may cite CPA-4.3(a) or the clause it leads to
    assert "CPA-9.5" in str(refused) or "CPA-4.3" in str(refused), refused


def test_sandboxes_are_counted_at_a_time_and_exam_vouchers_per_program_year(party):
    """CPA-9.7: "Partners receive non-production sandbox environments [...] up to 1 (Authorized), 3 (Advanced) or 10
    (Elite) at a time, and certification exam vouchers per Program Year: 2 (Authorized), 6 (Advanced) or 20
    (Elite)". P0 is Advanced: three sandboxes are issued (remaining 2, 1, 0), a fourth is refused (409); one given
    back, a fourth is issued. Six vouchers are issued (remaining 5 ... 0), each expiring on 31 December of this
    Program Year ("Unused vouchers expire at the end of the Program Year"), a seventh is refused (409). Only channel
    ops / admin issue them (COP-1.2: channel_ops holds tiers and entitlements); finance gets 403."""
    p0 = party.partners[0]
    ops = party.by_role["channel_ops"]
    assert_problem(party.by_role["finance"].post(f"/v1/partners/{p0}/sandboxes", {}), 403)
    issued = []
    for remaining in (2, 1, 0):
        made = ops.post(f"/v1/partners/{p0}/sandboxes", {})
        assert made.status_code == 201, made.text
        assert made.json()["remaining"] == remaining, made.json()
        issued.append(made.json())
    assert_problem(ops.post(f"/v1/partners/{p0}/sandboxes", {}), 409)
    sandbox_id = issued[0]["issued"]["sandbox_id"]
    assert issued[0]["clause"] == "CPA-9.7", issued[0]
    back = ops.post(f"/v1/partners/{p0}/sandboxes/{sandbox_id}/return", {})
    assert back.status_code == 200, back.text
    assert ops.post(f"/v1/partners/{p0}/sandboxes", {}).status_code == 201
    for remaining in (5, 4, 3, 2, 1, 0):
        voucher = ops.post(f"/v1/partners/{p0}/exam-vouchers", {})
        assert voucher.status_code == 201, voucher.text
        assert voucher.json()["remaining"] == remaining, voucher.json()
        # "Unused vouchers expire at the end of the Program Year" (a calendar year, CPA-1.1)
        assert voucher.json()["issued"]["expires_on"] == f"{party_today(party).year}-12-31", voucher.json()
    assert_problem(ops.post(f"/v1/partners/{p0}/exam-vouchers", {}), 409)


def _service(party: Any, partner_id: str, service: str, milestone: str, value: str, deployment: str | None,
             **extra: Any) -> str:
    now = party.rt.clock.now_iso()
    data = {"partner_id": partner_id, "sow_ref": f"SOW-RV4-{uuid.uuid4().hex[:6]}", "service": service,
            "family": "collaboration", "milestone": milestone, "sow_value": value, "accepted_on": now[:10], **extra}
    if deployment is not None:
        data.update(new_deployment=True, deployment_list_value=deployment)
    sent = party.erp.post(erp_event("service.completed", data, occurred_at=now[:19] + "Z"))
    assert sent.status_code == 202, sent.text
    event_id = str(sent.json()["event_id"])
    wait_until(lambda: party.admin.get(f"/v1/events/{event_id}").json()["status"] in ("processed", "failed"), 60,
               what=event_id)
    return str(data["sow_ref"])


def test_premium_onboarding_is_included_for_an_advanced_partner_above_eur_40000_and_managed_support_is_not(party):
    """CPA-9.3: "Advanced and Elite Partners receive premium onboarding for new End Customer deployments above EUR
    40,000.00 in List Price"; CPA-10.5: milestones "20% at kickoff, 50% at go-live and 30% at acceptance"; COP-5.3:
    "managed support for a non-Elite Partner" is out of scope -> out_of_scope_service, customer_success, 12 h
    (COP-4.1); "work delivered without acceptance [of a change order] is not invoiced".
    * Premium onboarding, new deployment of EUR 50,000.00, SOW 50,000.00, kickoff: included, a 0.00 line whose list
      amount is 20 % x 50,000.00 = 10,000.00, under CPA-9.3.
    * Premium onboarding of a deployment of exactly EUR 40,000.00 (not "above"): out of scope, no line.
    * Managed support (an Elite entitlement, CPA-9.4) for the Advanced partner, kickoff of SOW 30,000.00: out of
      scope, no line; with an accepted change order it is billed at list, 20 % x 30,000.00 = EUR 6,000.00."""
    p0 = party.partners[0]
    finance, cs = party.by_role["finance"], party.by_role["customer_success"]

    def lines(sow: str) -> list[dict[str, Any]]:
        invoices = finance.get("/v1/invoices", partner_id=p0, limit=200).json()["items"]
        every = [ln for i in invoices for ln in finance.get(f"/v1/invoices/{i['invoice_id']}").json()["lines"]]
        return [ln for ln in every if sow in str(ln.get("order_ref")) or sow in str(ln.get("detail"))
                or sow in str(ln.get("description"))]

    def out_of_scope() -> list[dict[str, Any]]:
        items = cs.get("/v1/exceptions", queue="customer_success", limit=200).json()["items"]
        return [e for e in items if e["category"] == "out_of_scope_service" and e.get("partner_id") == p0]

    included = _service(party, p0, "premium_onboarding", "kickoff", "50000.00", "50000.00")
    wait_until(lambda: len(lines(included)) == 1, 60, what="included onboarding line")
    (line,) = lines(included)
    assert line["amount"] == "0.00", line
    assert Decimal(str(line["detail"]["list_amount"])) == Decimal("10000.00"), line["detail"]
    assert "CPA-9.3" in str(line["detail"].get("included_under")) or "CPA-9.3" in line["clauses"], line

    at_floor = _service(party, p0, "premium_onboarding", "kickoff", "40000.00", "40000.00")
    wait_until(lambda: len(out_of_scope()) == 1, 60, what="onboarding at the floor out of scope")
    assert lines(at_floor) == []
    (first,) = out_of_scope()
    assert instant(first["due_at"]) - instant(first["opened_at"]) == timedelta(hours=12), first

    managed = _service(party, p0, "managed_support", "kickoff", "30000.00", None)
    wait_until(lambda: len(out_of_scope()) == 2, 60, what="managed support out of scope")
    assert lines(managed) == []
    bought = _service(party, p0, "managed_support", "kickoff", "30000.00", None, change_order_ref="CO-RV4-1")
    wait_until(lambda: len(lines(bought)) == 1, 60, what="change-order line")
    (paid,) = lines(bought)
    assert paid["amount"] == "6000.00", paid


def test_a_renewal_worth_eur_75000_a_year_waits_for_channel_ops_triage_and_one_below_is_allowed(party):
    """The seed: "human-in-the-loop checkpoints for [...] high-value renewals". Contoso's policy sets the renewal
    approval threshold at EUR 75,000.00 a year (a policy setting, docs/renewals.md: no clause names one); no category
    of COP-4.1 names a renewal, so it goes where "Items matching no category go to channel_ops for triage within 12
    hours". CT-SEC-XDR, List EUR 120.00 a month, 5 % off (within the Advanced security cap of 8 %, CPA-6.2): a net
    114.00 a seat-month.
    * 55 seats: 114.00 x 55 x 12 = 75,240.00 >= 75,000.00 -> approval_required, high_value_renewal, channel_ops, 12 h.
    * 54 seats: 114.00 x 54 x 12 = 73,872.00 -> allow.
    The renewed term starts on the first day of next month (after the activation today)."""
    today = party_today(party)
    p0 = party.partners[0]
    first_next = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    results = {}
    for seats in (55, 54):
        subscription = f"SUB-RV4-{uuid.uuid4().hex[:6]}"
        customer = f"CUST-{uuid.uuid4().hex[:8]}"
        now = party.rt.clock.now_iso()
        sent = party.erp.post(erp_event("subscription.activated", {
            "partner_id": p0, "subscription_id": subscription, "sku": "CT-SEC-XDR", "quantity": seats,
            "activated_on": now[:10], "order_ref": f"SO-RV4-{uuid.uuid4().hex[:6]}", "customer_id": customer},
            occurred_at=now[:19] + "Z"))
        assert sent.status_code == 202, sent.text
        event_id = sent.json()["event_id"]
        wait_until(lambda: party.admin.get(f"/v1/events/{event_id}").json()["status"] in ("processed", "failed"),
                   60, what=event_id)
        quote = {"partner_id": p0, "customer": {"id": customer, "name": "Nordsee Versand AG"},
                 "renewal": {"subscription_id": subscription, "renewed_from": first_next.isoformat(),
                             "term_months": 12},
                 "lines": [{"line_id": "1", "sku": "CT-SEC-XDR", "quantity": seats, "discount_percent": "5.00"}]}
        checked = party.by_role["sales"].post("/v1/pricing/check", quote)
        assert checked.status_code == 200, checked.text
        results[seats] = checked.json()
    high = results[55]
    assert high["outcome"] == "approval_required", high
    assert Decimal(high["renewal"]["annual_value"]) == Decimal("75240.00"), high["renewal"]
    (approval,) = high["approvals"]
    assert (approval["category"], approval["queue"]) == ("high_value_renewal", "channel_ops"), approval
    case = party.admin.get(f"/v1/approvals/{approval['approval_id']}").json()
    assert instant(case["due_at"]) - instant(case.get("entered_at") or case["opened_at"]) == timedelta(hours=12), case
    low = results[54]
    assert low["outcome"] == "allow", low
    assert Decimal(low["renewal"]["annual_value"]) == Decimal("73872.00"), low["renewal"]


def test_an_insurance_certificate_unrenewed_ten_days_after_expiry_suspends_on_the_eleventh(party):
    """CPA-2.4: "If a renewed certificate is not verified within 10 days after expiry, the Partner is suspended under
    CPA-13.2 from new quotes, orders and registrations" (a day ends 23:59:59 UTC, CPA-1.3). P0's certificate expired 10
    days ago (still within the 10 days): its quote is allowed and the daily sweep leaves it active. P1's expired 11
    days ago: its quote is denied (CPA-13.2) and the sweep suspends it, the step citing CPA-2.4 (CPA-13.2: "A
    suspension notice states the reason and clause"). Channel ops files a renewed, verified certificate: the next
    sweep lifts P1's suspension ("the suspension ends when the reason is cured")."""
    from revgov.services import partners as partner_service

    today = party_today(party)
    p0, p1 = party.partners
    ops = party.by_role["channel_ops"]
    for partner, days in ((p0, 10), (p1, 11)):
        lapsed = partner_document("insurance_certificate", today - timedelta(days=365 + days),
                           expires_at=(today - timedelta(days=days)).isoformat(), coverage_amount="1000000.00")
        filed = ops.post(f"/v1/partners/{partner}/documents", lapsed)
        assert filed.status_code == 201, filed.text
    sales = party.by_role["sales"]
    within = sales.post("/v1/pricing/check", quote_body(p0, "CT-COLLAB-SEAT", "5.00", **AS_QUOTED)).json()
    assert within["outcome"] == "allow", within
    beyond = sales.post("/v1/pricing/check", quote_body(p1, "CT-COLLAB-SEAT", "5.00", **AS_QUOTED)).json()
    assert beyond["outcome"] == "deny", beyond
    assert "CPA-13.2" in {r["clause"] for r in beyond["reasons"]} or "CPA-2.4" in {
        r["clause"] for r in beyond["reasons"]}, beyond["reasons"]

    partner_service.sweep_standing(party.rt, party.tenant_id)
    assert ops.get(f"/v1/partners/{p0}").json()["status"] == "active"
    suspended = ops.get(f"/v1/partners/{p1}").json()
    assert suspended["status"] == "suspended", suspended
    step = suspended["history"][-1]
    assert (step["to"], step.get("clause"), step.get("rule_id")) == (
        "suspended", "CPA-2.4", "PTR-INSURANCE-LAPSE"), step

    renewed = partner_document("insurance_certificate", today - timedelta(days=2),
                        expires_at=(today + timedelta(days=363)).isoformat(), coverage_amount="1000000.00")
    assert ops.post(f"/v1/partners/{p1}/documents", renewed).status_code == 201
    partner_service.sweep_standing(party.rt, party.tenant_id)
    lifted = ops.get(f"/v1/partners/{p1}").json()
    assert lifted["status"] == "active", lifted
    assert lifted["history"][-1].get("clause") == "CPA-2.4", lifted["history"][-1]


def test_a_failed_vat_check_holds_new_orders_for_finance_but_not_quotes(party):
    """CPA-2.3: "A failed VAT validation suspends new orders until it is resolved"; COP-4.1: vat_validation_failure ->
    finance, 24 hours. Finance records an invalid VIES check for P0 now. P0's quote is still answered by the pricing
    rules (the clause suspends orders, not quotes): 5 % on a seat, allow. P0's device delivery today (2 x CT-DEV-DOCK)
    is held: no invoice line; the exception is finance's, due 24 h after it opened. P1, with no failed check, is
    billed for the same delivery: 2 x 210.00 = EUR 420.00 (devices billed on delivery, CPA-10.2)."""
    p0, p1 = party.partners
    finance = party.by_role["finance"]
    now = party.rt.clock.now_iso()
    recorded = finance.post(f"/v1/partners/{p0}/vat-validations",
                            {"result": "invalid", "checked_at": now[:19] + "Z", "reference": "WAPIRV4INVALID",
                             "vat_number": "DE999999999"})
    assert recorded.status_code in (200, 201), recorded.text
    quote = party.by_role["sales"].post("/v1/pricing/check",
                                        quote_body(p0, "CT-COLLAB-SEAT", "5.00", **AS_QUOTED)).json()
    assert quote["outcome"] == "allow", quote

    def deliver(partner: str) -> str:
        stamp = party.rt.clock.now_iso()
        sent = party.erp.post(party.erp.located(erp_event("shipment.confirmed", {
            "partner_id": partner, "order_ref": f"SO-RV4-{uuid.uuid4().hex[:6]}", "shipped_on": stamp[:10],
            "delivered_on": stamp[:10], "lines": [{"sku": "CT-DEV-DOCK", "quantity": 2}]},
            occurred_at=stamp[:19] + "Z")))
        assert sent.status_code == 202, sent.text
        event_id = str(sent.json()["event_id"])
        wait_until(lambda: party.admin.get(f"/v1/events/{event_id}").json()["status"] in ("processed", "failed"),
                   60, what=event_id)
        return event_id

    def docks(partner: str) -> list[dict[str, Any]]:
        invoices = finance.get("/v1/invoices", partner_id=partner, limit=200).json()["items"]
        return [ln for i in invoices for ln in finance.get(f"/v1/invoices/{i['invoice_id']}").json()["lines"]
                if ln.get("sku") == "CT-DEV-DOCK"]

    deliver(p0)
    deliver(p1)
    wait_until(lambda: len(docks(p1)) == 1, 60, what="P1's delivery line")
    assert docks(p1)[0]["amount"] == "420.00", docks(p1)
    assert docks(p0) == [], docks(p0)
    found = finance.get("/v1/exceptions", queue="finance", limit=200).json()["items"]
    held = [e for e in found if e["category"] == "vat_validation_failure" and e.get("partner_id") == p0]
    assert held, [(e["category"], e.get("partner_id")) for e in found]
    for case in held:
        assert case["queue"] == "finance", case
        assert instant(case["due_at"]) - instant(case["opened_at"]) == timedelta(hours=24), case


def test_an_opportunity_closes_within_120_days_and_a_rival_is_told_when_the_60_day_protection_ends(party):
    """CPA-5.1: a registration names "an expected close date within 120 days" (121 days: refused naming
    /expected_close; 120: accepted for review). CPA-5.2: "An approved registration protects the Partner for 60 days
    from approval". CPA-5.4: "A conflicting registration is refused with reference to this clause and the refused
    Partner is told when the existing protection ends, without the name of the other Partner": P1's registration of
    the same End Customer and family names CPA-5.4 and approval day + 60, never P0's id or legal name."""
    today = party_today(party)
    p0, p1 = party.partners
    own, rival = party.partner_keys[p0], party.partner_keys[p1]
    customer = {"id": f"CUST-{uuid.uuid4().hex[:8]}", "name": "Alpenglanz Logistik GmbH", "contact": "Eva Berg"}

    def registration(partner: str, days: int) -> dict[str, Any]:
        return {"partner_id": partner, "customer": customer, "family": "collaboration",
                "estimated_value": "30000.00", "expected_close": (today + timedelta(days=days)).isoformat()}

    late = own.post("/v1/deals", registration(p0, 121))
    assert late.status_code in (400, 422), late.text
    assert "/expected_close" in late.text, late.text
    first = own.post("/v1/deals", registration(p0, 120))
    assert first.status_code == 201, first.text
    decided = party.by_role["channel_ops"].post(f"/v1/approvals/{first.json()['approval_id']}/decision",
                                                {"outcome": "approved", "note": "CPA-5.1 proposal stage"})
    assert decided.status_code == 200, decided.text
    approved_on = date.fromisoformat(party.rt.clock.now_iso()[:10])
    ends = approved_on + timedelta(days=60)
    second = rival.post("/v1/deals", registration(p1, 30))
    text = second.text
    if second.status_code == 201:
        text = rival.get(f"/v1/deals/{second.json()['deal_id']}").text
    assert "CPA-5.4" in text and ends.isoformat() in text, text
    legal_name = party.by_role["channel_ops"].get(f"/v1/partners/{p0}").json()["legal_name"]
    assert p0 not in text and legal_name not in text and first.json()["deal_id"] not in text, text


def test_a_credit_note_above_eur_5000_waits_for_a_finance_member_other_than_its_preparer(party, api):
    """COP-2.4: "Credit notes above EUR 5,000.00 are approved by a finance queue member other than the preparer";
    COP-8.1: workflows "may not [...] issue credit notes above EUR 5,000.00" (northwind's limit, USD 10,000.00, is
    not contoso's). P0 takes delivery of 10 x CT-DEV-LAPTOP14 at 1,150.00 = 11,500.00 on one line. The ERP issues
    two billing-error credit notes against it: 5,000.00 (not "above"): posted at once, -5,000.00; 5,000.01 prepared
    by the finance key F1: nothing posted, a credit_note_approval for finance; F1 cannot approve it (403), a second
    finance member F2 can, and the line -5,000.01 is posted. Credited in all 10,000.01 of 11,500.00."""
    p0 = party.partners[0]
    finance = party.by_role["finance"]
    stamp = party.rt.clock.now_iso()
    sent = party.erp.post(party.erp.located(erp_event("shipment.confirmed", {
        "partner_id": p0, "order_ref": f"SO-RV4-{uuid.uuid4().hex[:6]}", "shipped_on": stamp[:10],
        "delivered_on": stamp[:10], "lines": [{"sku": "CT-DEV-LAPTOP14", "quantity": 10}]},
        occurred_at=stamp[:19] + "Z")))
    assert sent.status_code == 202, sent.text

    def invoice_lines() -> list[dict[str, Any]]:
        invoices = finance.get("/v1/invoices", partner_id=p0, limit=200).json()["items"]
        return [ln for i in invoices for ln in finance.get(f"/v1/invoices/{i['invoice_id']}").json()["lines"]]

    wait_until(lambda: any(ln.get("sku") == "CT-DEV-LAPTOP14" for ln in invoice_lines()), 60, what="laptop line")
    (laptops,) = [ln for ln in invoice_lines() if ln.get("sku") == "CT-DEV-LAPTOP14"]
    assert laptops["amount"] == "11500.00", laptops
    f1 = party.key_ids["finance"]

    def credit(ref: str, amount: str) -> None:
        now = party.rt.clock.now_iso()
        posted = party.erp.post(erp_event("credit_note.issued", {
            "partner_id": p0, "credit_note_ref": ref, "invoice_id": laptops["invoice_id"],
            "line_no": laptops["number"], "reason": "billing_error", "amount": amount, "issued_on": now[:10],
            "prepared_by": f1}, occurred_at=now[:19] + "Z"))
        assert posted.status_code == 202, posted.text
        event_id = posted.json()["event_id"]
        wait_until(lambda: party.admin.get(f"/v1/events/{event_id}").json()["status"] in ("processed", "failed"),
                   60, what=event_id)

    def credits() -> list[str]:
        return sorted(ln["amount"] for ln in invoice_lines() if ln.get("references_line") or
                      str(ln.get("amount", "")).startswith("-"))

    credit("CN-RV4-1", "5000.00")
    wait_until(lambda: credits() == ["-5000.00"], 60, what=credits)
    credit("CN-RV4-2", "5000.01")
    pending = finance.get("/v1/approvals", status="pending", queue="finance", limit=200).json()["items"]
    (hold,) = [a for a in pending if a["category"] == "credit_note_approval" and a.get("partner_id") == p0]
    assert credits() == ["-5000.00"], credits()
    assert_problem(finance.post(f"/v1/approvals/{hold['approval_id']}/decision",
                                {"outcome": "approved", "note": "my own"}), 403)
    f2 = _second(party, api, "finance")
    approved = f2.post(f"/v1/approvals/{hold['approval_id']}/decision",
                       {"outcome": "approved", "note": "COP-2.4 second member"})
    assert approved.status_code == 200, approved.text
    wait_until(lambda: len(credits()) == 2, 60, what=credits)
    assert sorted(credits()) == ["-5000.00", "-5000.01"], credits()
    assert sum(Decimal(a) for a in credits()) == Decimal("-10000.01")


def test_the_at_risk_list_names_the_first_volume_band_and_the_advanced_pace_with_their_gaps(party):
    """The seed: "A channel operations lead can query which partners are at risk of missing quarterly thresholds".
    P0 (Advanced) takes delivery of 10 x CT-DEV-DOCK at 210.00 = EUR 2,100.00 this Quarter (not SPIFF-eligible, so
    it counts for the volume rebate, CPA-7.7(b)). CPA-7.2: every tier earns the volume rebate, first band from
    EUR 75,000.00 -> gap 75,000.00 - 2,100.00 = 72,900.00. CPA-3.3: Advanced's EUR 150,000.00 a year, paced to a
    Quarter, 150,000.00 x 3 / 12 = 37,500.00 -> gap 35,400.00. With 2,100.00 invoiced and no history both are
    likely misses (P(miss) >= 0.5), each citing its clause."""
    p0 = party.partners[0]
    stamp = party.rt.clock.now_iso()
    sent = party.erp.post(party.erp.located(erp_event("shipment.confirmed", {
        "partner_id": p0, "order_ref": f"SO-RV4-{uuid.uuid4().hex[:6]}", "shipped_on": stamp[:10],
        "delivered_on": stamp[:10], "lines": [{"sku": "CT-DEV-DOCK", "quantity": 10}]},
        occurred_at=stamp[:19] + "Z")))
    assert sent.status_code == 202, sent.text
    day = date.fromisoformat(stamp[:10])
    quarter = f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    ops = party.by_role["channel_ops"]

    def mine() -> list[dict[str, Any]]:
        answer = ops.get("/v1/forecasts/at-risk", period=quarter)
        assert answer.status_code == 200, answer.text
        return [i for i in answer.json()["items"] if i["partner_id"] == p0]

    wait_until(lambda: any(i["to_date"] == "2100.00" for i in mine()), 60, what=mine)
    by_program = {i["program_id"]: i for i in mine()}
    volume = by_program["RBT-VOLUME"]
    assert (volume["threshold"], volume["gap"], volume["clause"]) == ("75000.00", "72900.00", "CPA-7.2"), volume
    pace = by_program["TIER-ADVANCED"]
    assert (pace["threshold"], pace["gap"], pace["clause"]) == ("37500.00", "35400.00", "CPA-3.3"), pace
    assert volume["p_miss"] >= 0.5 and pace["p_miss"] >= 0.5, (volume, pace)
    assert_problem(party.partner_keys[p0].get("/v1/forecasts/at-risk", period=quarter), 403)


def test_an_invoice_line_is_disputed_within_21_days_of_the_invoice_for_finance_in_48_hours(party):
    """COP-6.1: "Partners may dispute invoice lines within 21 days of the invoice date via the Partner Portal. Finance
    logs an invoice_dispute exception [...] COP-4.1: invoice_dispute -> finance, 48 hours" (northwind: 30 days and
    24 hours). P0's go-live history holds last month's invoice (one line, 4 x CT-DEV-DOCK = 840.00), finalized on the
    month's last day D (docs/history.md). P0's key disputes the line today: accepted when today <= D + 21, the
    approval is finance's, due 48 h after it opened; on a later day the window is closed (422) — the expectation is
    computed from the clock, the answer must follow it."""
    today = party_today(party)
    p0 = party.partners[0]
    month_end = today.replace(day=1) - timedelta(days=1)
    imported = party.by_role["finance"].post("/v1/history/imports", {"source": "rv4-golive.csv", "lines": [{
        "partner_id": p0, "invoice_ref": f"ERP-INV-{uuid.uuid4().hex[:6]}", "invoice_date": month_end.isoformat(),
        "line_ref": f"L-{uuid.uuid4().hex[:6]}", "kind": "shipment", "sku": "CT-DEV-DOCK", "quantity": "4",
        "amount": "840.00", "order_ref": "SO-RV4-HIST"}]})
    assert imported.status_code == 201, imported.text
    own = party.partner_keys[p0]
    invoices = own.get("/v1/invoices", partner_id=p0, status="finalized", limit=200)
    assert invoices.status_code == 200, invoices.text
    (invoice,) = invoices.json()["items"]  # the imported month's, the party's only finalized one
    lines = own.get(f"/v1/invoices/{invoice['invoice_id']}").json()["lines"]
    (line,) = [ln for ln in lines if ln.get("sku") == "CT-DEV-DOCK"]
    assert line["amount"] == "840.00", line
    disputed = own.post(f"/v1/invoices/{invoice['invoice_id']}/disputes",
                        {"line_no": line["number"], "reason": "two docks were never delivered"})
    if (today - month_end).days <= 21:
        assert disputed.status_code == 201, disputed.text
        approval_id = disputed.json()["approval_id"]
        case = party.by_role["finance"].get(f"/v1/approvals/{approval_id}").json()
        assert (case["category"], case["queue"]) == ("invoice_dispute", "finance"), case
        entered = instant(case.get("entered_at") or case["opened_at"])
        assert instant(case["due_at"]) - entered == timedelta(hours=48), case
    else:
        refused = assert_problem(disputed, 422)
        assert (month_end + timedelta(days=21)).isoformat() in str(refused), refused


def test_a_regional_reseller_quoting_outside_its_countries_needs_channel_ops_territory_exception(party, api):
    """CPA-2.5: "A Regional Reseller also declares the countries in which it may sell. Orders and opportunity
    registrations for End Customers established outside those countries are rejected unless Channel Operations
    grants a written territory exception for the specific opportunity before quoting." COP-4.1: territory_exception
    -> channel_ops, 24 hours. A Regional Reseller declaring DE and AT is admitted at Authorized (CPA-3.1). A quote for
    a customer in DE-BY (a subdivision of a declared country) is allowed; one in FR needs the territory exception,
    channel ops, due 24 h after it opened; the territory's 4 % cap (Authorized collaboration, CPA-6.2) is not
    exceeded at 3 %, so it is the only approval."""
    today = party_today(party)
    ops = party.by_role["channel_ops"]
    created = ops.post("/v1/partners", {
        "legal_name": f"Donau Systemhaus {uuid.uuid4().hex[:6]}", "partner_type": "regional_reseller",
        "requested_tier": "authorized",
        "terms": {"annual_commitment": "0.00", "payment_terms_days": 30, "territory": ["DE", "AT"]},
        "contact": {"name": "Jonas Huber", "email": "jonas@donau.example"}})
    assert created.status_code == 201, created.text
    partner_id = created.json()["partner_id"]
    first = ops.post(f"/v1/partners/{partner_id}/submit", {}).json()
    names = {m["name"] for m in first["missing"] if m.get("kind") == "document"}
    assert {"references", "sales_channel_declaration"} <= names, first["missing"]
    filed_on = today - timedelta(days=20)
    extras = {"insurance_certificate": {"expires_at": (today + timedelta(days=300)).isoformat(),
                                        "coverage_amount": "1000000.00"},
              "compliance_screening": {"outcome": "clear"}}
    for kind in sorted(names):
        filed = ops.post(f"/v1/partners/{partner_id}/documents",
                         partner_document(kind, filed_on, **extras.get(kind, {})))
        assert filed.status_code == 201, (kind, filed.text)
    submitted = ops.post(f"/v1/partners/{partner_id}/submit", {}).json()
    assert submitted["outcome"] == "pending_approval", submitted
    decided = _second(party, api, "channel_ops").post(f"/v1/approvals/{submitted['approval']['approval_id']}/decision",
                                                      {"outcome": "approved", "note": "CPA-2.9 complete"})
    assert decided.status_code == 200, decided.text
    assert ops.get(f"/v1/partners/{partner_id}").json()["status"] == "active"

    def quote(country: str) -> dict[str, Any]:
        body = quote_body(partner_id, "CT-COLLAB-SEAT", "3.00", **AS_QUOTED)
        body["customer"]["country"] = country
        answer = party.by_role["sales"].post("/v1/pricing/check", body)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    inside = quote("DE-BY")
    assert inside["outcome"] == "allow", inside
    outside = quote("FR")
    assert outside["outcome"] == "approval_required", outside
    (approval,) = outside["approvals"]
    assert (approval["category"], approval["queue"]) == ("territory_exception", "channel_ops"), approval
    case = party.admin.get(f"/v1/approvals/{approval['approval_id']}").json()
    assert instant(case["due_at"]) - instant(case.get("entered_at") or case["opened_at"]) == timedelta(hours=24), case
