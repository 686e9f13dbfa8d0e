"""High-value renewals with a human in the loop: a customer subscription's renewal quote is checked like any quote,
needs an approval at or above the tenant's renewal threshold, and its renewed term is billed only once approved.

The seed whitepaper: "Use human-in-the-loop checkpoints for nonstandard discounts, disputed rebates, contract
deviations, and high-value renewals"; "every partner transaction should be explainable, policy-aligned, and measurable
from quote to cash to renewal". No clause names a renewal threshold: northwind's policy sets USD 100,000.00 of annual
value (tenants/northwind/tenant.yaml, `renewal_approval_threshold`, a policy setting), and no category of the routing
matrix names a renewal, so SOP-4.1's default routes it: "An item that matches no category goes to channel_ops for
triage within 8 hours."

The clauses the renewal quote is held to like any quote:
PA-6.2: the combined discount "may not exceed the Partner's discount cap for its tier" (platinum security: 16%).
PA-6.3: "No quote line may be priced with a Line Margin below 12% without Finance approval".
PA-6.6: approvals "cannot be granted by the person who requested them"; SOP-4.3: "A requester can never approve their
own request."
PA-6.1: "A quote is valid for 30 days from its issue date."
PA-10.2: "Recurring subscriptions are billed in advance for a service period equal to the Billing Month".

Amounts by hand: NW-SEC-SUITE lists at 300.00 a seat a month, Line Cost 165.00. 60 seats at 10% off: net unit
300.00 x 0.90 = 270.00, monthly net 60 x 270.00 = 16,200.00, annual value 16,200.00 x 12 = 194,400.00 (at or above
100,000.00: approval). Margin (270.00 - 165.00) / 270.00 = 38.89% (above the 12% floor). Uplift (270.00 - 300.00) /
300.00 = -10.00%. 10 seats at 10% off: 2,700.00 a month, 32,400.00 a year (below: allowed, no approval).
In-memory store, fixed clock.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from memory_store import Ledger
from revgov import schemas
from revgov.domain import subscription_renewals as renewals
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Forbidden, NotFound, RuleViolation
from revgov.services import analytics, billing, cases, decisions, pricing, subscription_billing
from support import ROOT

P1 = "ptr_01JBNWPARTNER0000000000001"  # an active platinum MSP, certified in security
P2 = "ptr_01JBNWPARTNER0000000000002"
SALES = Principal("northwind", Role.SALES, "key_sales")
OPS = Principal("northwind", Role.CHANNEL_OPS, "key_ops")
OPS_REQUESTER = Principal("northwind", Role.CHANNEL_OPS, "key_ops_requester")
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
POLICY = {"pricing": {"renewal_approval_threshold": {"id": "PRC-RENEWAL-APPROVAL-THRESHOLD", "clause": "SOP-4.1",
                                                     "annual_value": "100000.00"}}}  # fmt: skip


# --- the pure core ------------------------------------------------------------------------------------------------
def _renewal(previous: str = "300.00") -> dict:
    return {"subscription_id": "SUB-R", "renewed_from": "2026-12-01", "term_months": 12,
            "previous_unit_price": previous}  # fmt: skip


def test_an_annual_value_at_the_threshold_needs_approval_and_one_cent_a_month_below_does_not():
    # "at or above": 8,333.34 x 12 = 100,000.08 (above); 8,333.33 x 12 = 99,999.96 (below the USD 100,000.00)
    summary, needs = renewals.assess(POLICY, _renewal(), {"net_unit_price": "8333.34", "net_total": "8333.34"})
    assert summary["annual_value"] == "100000.08" and needs is not None
    assert needs[0].as_dict() == {"rule_id": "PRC-RENEWAL-APPROVAL-THRESHOLD", "clause": "SOP-4.1"}
    summary, needs = renewals.assess(POLICY, _renewal(), {"net_unit_price": "8333.33", "net_total": "8333.33"})
    assert (summary["annual_value"], needs) == ("99999.96", None)
    # exactly at it: 12 x 8,333.333... cannot be a money amount; a threshold of 120,000.00 is 10,000.00 a month
    at = {"pricing": {"renewal_approval_threshold": {**POLICY["pricing"]["renewal_approval_threshold"],
                                                     "annual_value": "120000.00"}}}  # fmt: skip
    assert renewals.assess(at, _renewal(), {"net_unit_price": "10000.00", "net_total": "10000.00"})[1] is not None


def test_the_summary_states_the_term_the_uplift_and_no_threshold_when_the_policy_sets_none():
    summary, needs = renewals.assess({"pricing": {}}, _renewal("250.00"),
                                     {"net_unit_price": "270.00", "net_total": "16200.00"})  # fmt: skip
    assert needs is None
    # 12 Billing Months from 1 December 2026 end on 30 November 2027; (270.00 - 250.00) / 250.00 = +8.00%
    assert (summary["term_end"], summary["uplift_percent"], summary["approval_threshold"]) == (
        "2027-11-30", "8.00", None)
    assert summary["annual_value"] == "194400.00"


def test_billing_reads_the_approved_renewal_price_from_its_first_day_and_holds_a_term_not_approved():
    sub = {"renewals": [{"renewed_from": "2026-12-01", "status": renewals.APPROVED, "unit_price": "270.00",
                         "decision_id": "dec_1"},
                        {"renewed_from": "2027-12-01", "status": renewals.PENDING, "unit_price": "280.00",
                         "decision_id": "dec_2"}]}  # fmt: skip
    base = Decimal("300.00")
    assert renewals.unit_price_on(sub, date(2026, 11, 30), base) == base
    assert renewals.unit_price_on(sub, date(2026, 12, 1), base) == Decimal("270.00")
    assert renewals.unit_price_on(sub, date(2027, 12, 1), base) == Decimal("270.00")  # pending: not in force
    assert renewals.unbilled_from(sub) == date(2027, 12, 1)
    settled = renewals.settled(sub, "dec_2", renewals.REJECTED, "2027-11-20T10:00:00Z")
    assert settled is not None and settled["renewals"][1]["status"] == renewals.REJECTED
    assert renewals.settled(sub, "dec_1", renewals.REJECTED, "2027-11-20T10:00:00Z") is None  # already approved
    assert renewals.counts(settled["renewals"], date(2026, 12, 1), date(2027, 12, 31)) == {"approved": 1, "lost": 1,
                                                                                "pending": 0}  # fmt: skip


# --- the service: quote, approval, ERP event, billing run ---------------------------------------------------------
def _ledger(seats: int = 60) -> Ledger:
    ledger = Ledger("2026-10-01T09:00:00Z")
    data = {"partner_id": P1, "subscription_id": "SUB-R", "sku": "NW-SEC-SUITE", "quantity": seats,
            "activated_on": "2026-10-01", "order_ref": "SO-R"}  # fmt: skip
    assert ledger.bill("subscription.activated", data, occurred_at="2026-10-01T09:00:00Z")["status"] == "processed"
    ledger.clock.set("2026-11-01T00:05:00Z")
    assert subscription_billing.run(ledger.rt, "northwind")["charged"] == 1  # November at 300.00 a seat
    return ledger


def _quote(ledger: Ledger, seats: int = 60, *, who: Principal = SALES, discount: str = "10", **renewal) -> dict:
    ledger.clock.set("2026-11-10T10:00:00Z")
    asked = {"subscription_id": "SUB-R", "renewed_from": "2026-12-01", "term_months": 12, **renewal}
    return pricing.check(ledger.rt, who, {
        "partner_id": P1, "customer": {"id": "CUST-R", "name": "Harbour Logistics"}, "renewal": asked,
        "lines": [{"line_id": "1", "sku": "NW-SEC-SUITE", "quantity": seats,
                   "discount_percent": discount}]})  # fmt: skip


def _renewed(ledger: Ledger, decision_id: str, at: str) -> dict:
    ledger.clock.set(at)
    data = {"partner_id": P1, "subscription_id": "SUB-R", "decision_id": decision_id, "renewed_from": "2026-12-01",
            "term_months": 12, "order_ref": "SO-R-2027"}  # fmt: skip
    return ledger.bill("subscription.renewed", data, occurred_at=at)


def _record(ledger: Ledger) -> dict:
    stored = ledger.rt.store.get("northwind", billing.SUBSCRIPTIONS, "SUB-R")
    assert stored is not None
    return stored.data


def _december(ledger: Ledger) -> list[tuple[str, str, str]]:
    ledger.clock.set("2026-12-01T00:05:00Z")
    subscription_billing.run(ledger.rt, "northwind")
    try:
        invoice = ledger.invoice(P1, "2026-12")
    except AssertionError:
        return []
    return [(x["amount"], x["unit_price"], x["service_period"]["start"]) for x in invoice["lines"]
            if x["detail"].get("subscription_id") == "SUB-R"]  # fmt: skip


def test_a_renewal_quote_at_or_above_the_threshold_is_routed_for_approval_with_the_measure_of_the_renewal():
    checked = _quote(_ledger())
    assert checked["outcome"] == "approval_required"
    # SOP-4.1: no category names a renewal -> channel_ops triage; the finding cites the threshold rule
    assert [(a["category"], a["queue"]) for a in checked["approvals"]] == [("high_value_renewal", "channel_ops")]
    assert {"rule_id": "PRC-RENEWAL-APPROVAL-THRESHOLD", "clause": "SOP-4.1"}.items() <= checked["findings"][0].items()
    assert checked["renewal"] == {
        "subscription_id": "SUB-R", "renewed_from": "2026-12-01", "term_months": 12, "term_end": "2027-11-30",
        "previous_unit_price": "300.00", "unit_price": "270.00", "uplift_percent": "-10.00",
        "annual_value": "194400.00", "approval_threshold": "100000.00"}  # fmt: skip
    (line,) = checked["lines"]
    assert (line["net_total"], line["margin_percent"], line["outcome"]) == ("16200.00", "38.89", "allow")


def test_the_renewal_is_held_to_todays_tier_cap_like_any_quote():
    # 18% off security is above the platinum cap of 16% (PA-6.2): channel_ops approves that too (PA-6.6(a))
    checked = _quote(_ledger(), discount="18")
    assert sorted(a["category"] for a in checked["approvals"]) == ["discount_above_tier_cap", "high_value_renewal"]


def test_below_the_threshold_and_within_policy_the_renewal_proceeds_is_audited_and_bills_the_new_term():
    ledger = _ledger(seats=10)
    checked = _quote(ledger, seats=10)
    assert (checked["outcome"], checked["approvals"]) == ("allow", [])
    assert checked["renewal"]["annual_value"] == "32400.00"
    answer = _renewed(ledger, checked["decision_id"], "2026-11-12T09:00:00Z")
    assert answer["status"] == "processed" and "renewed from 2026-12-01 at 270.00" in answer["reason"]
    # PA-10.2: December in advance at the renewal's price: 10 x 270.00 = 2,700.00, service period from 1 December
    assert _december(ledger) == [("2700.00", "270.00", "2026-12-01")]
    # the same renewal sent again under another ERP id changes nothing; a second quote for that term is refused
    again = _renewed(ledger, checked["decision_id"], "2026-12-01T09:00:00Z")
    assert again["status"] == "processed" and "already renewed" in again["reason"]
    assert len(_record(ledger)["renewals"]) == 1
    with pytest.raises(RuleViolation) as twice:
        _quote(ledger, seats=10)
    assert [e.path for e in twice.value.errors] == ["/renewal/renewed_from"]
    (recorded,) = [r for r in ledger.rt.store.audit_records("northwind")
                   if r["action"] == "subscription.renewal_recorded"]  # fmt: skip
    assert recorded["outcome"] == "approved" and recorded["subject"] == "SUB-R"


def test_a_high_value_renewal_is_billed_only_after_its_approval_and_then_at_the_renewal_price():
    ledger = _ledger()
    checked = _quote(ledger)
    answer = _renewed(ledger, checked["decision_id"], "2026-11-12T09:00:00Z")
    assert answer["status"] == "processed" and "billed once" in answer["reason"]
    assert _december(ledger) == []  # waiting for its approval: the renewed term is not charged
    ledger.clock.set("2026-12-01T10:00:00Z")
    cases.decide_case(ledger.rt, OPS, "approval", checked["approvals"][0]["approval_id"], "approved", "key account")
    assert _record(ledger)["renewals"][0]["status"] == "approved"
    # 60 x 270.00 = 16,200.00 for December, charged in advance once approved
    assert _december(ledger) == [("16200.00", "270.00", "2026-12-01")]
    settled = [r for r in ledger.rt.store.audit_records("northwind") if r["action"] == "subscription.renewal_settled"]
    assert [r["outcome"] for r in settled] == ["approved"]
    kpis = analytics.kpis(ledger.rt, FINANCE, "2026-12", partner_id=None, tier=None)
    assert kpis["renewal_probability"]["subscription_renewals"] == {"approved": 1, "lost": 0, "pending": 0}
    # for n8n and the ERP (revgov.billing): recorded pending, then decided approved; as the catalogue's samples say
    published = [e for e in ledger.rt.publisher.published if e["detail_type"].startswith("subscription.renewal_")]
    assert [(e["detail_type"], e["detail"]["renewal_status"]) for e in published] == [
        ("subscription.renewal_recorded", "pending_approval"), ("subscription.renewal_decided", "approved")]
    for event in published:
        envelope = {"source": event["source"], "detail-type": event["detail_type"], "detail": event["detail"]}
        assert schemas.problems("events/revgov.billing.schema.json", envelope) == []
        sample = json.loads((ROOT / "events" / "revgov.billing" / f"{event['detail_type']}.json").read_text())
        assert set(sample["detail"]) == set(event["detail"])


def test_the_requester_of_a_renewal_can_never_approve_it():
    # SOP-4.3: "A requester can never approve their own request." The quote checked with a channel_ops key.
    ledger = _ledger()
    checked = _quote(ledger, who=OPS_REQUESTER)
    with pytest.raises(Forbidden) as refused:
        cases.decide_case(ledger.rt, OPS_REQUESTER, "approval", checked["approvals"][0]["approval_id"], "approved",
                          "mine")  # fmt: skip
    assert refused.value.extra["refusal"] == "self_approval"
    # and another queue cannot decide it either (only channel_ops holds the triage queue)
    with pytest.raises(Forbidden):
        cases.decide_case(ledger.rt, FINANCE, "approval", checked["approvals"][0]["approval_id"], "approved", "ok")


def test_a_refused_renewal_is_lost_and_its_term_is_never_charged():
    ledger = _ledger()
    checked = _quote(ledger)
    _renewed(ledger, checked["decision_id"], "2026-11-12T09:00:00Z")
    ledger.clock.set("2026-11-13T10:00:00Z")
    cases.decide_case(ledger.rt, OPS, "approval", checked["approvals"][0]["approval_id"], "rejected",
                      "discount not justified for a 12-month term")  # fmt: skip
    assert _record(ledger)["renewals"][0]["status"] == "rejected"
    assert _december(ledger) == []
    stored, _ = decisions.load(ledger.rt, FINANCE, checked["decision_id"])
    assert (stored["outcome"], stored["status"]) == ("deny", "rejected")
    # "measurable from quote to cash to renewal": the KPI counts it lost in the month its renewed term would start
    def counted(period: str, **scope: str | None) -> dict:
        kpis = analytics.kpis(ledger.rt, FINANCE, period, partner_id=scope.get("partner_id"), tier=scope.get("tier"))
        return dict(kpis["renewal_probability"]["subscription_renewals"])

    assert counted("2026-12") == {"approved": 0, "lost": 1, "pending": 0}
    assert counted("2026-Q4", partner_id=P1) == counted("2026-Q4", tier="platinum") == counted("2026-12")
    assert counted("2026-11") == counted("2026-Q4", partner_id=P2) == {"approved": 0, "lost": 0, "pending": 0}


def test_a_renewal_event_after_the_term_started_without_approval_is_an_exception():
    ledger = _ledger()
    checked = _quote(ledger)
    answer = _renewed(ledger, checked["decision_id"], "2026-12-03T09:00:00Z")  # the term started on 1 December
    assert answer["status"] == "processed" and "started on 2026-12-01" in answer["reason"]
    (late,) = [c for c in ledger.exceptions() if c["category"] == "renewal_without_approval"]
    assert late["queue"] == "channel_ops" and late["context"]["decision_id"] == checked["decision_id"]
    assert late["reasons"][1]["rule_id"] == "PRC-RENEWAL-APPROVAL-THRESHOLD"


def test_a_renewal_event_that_does_not_match_its_quote_or_comes_after_it_expired_is_not_renewed():
    ledger = _ledger()
    checked = _quote(ledger, seats=60)
    ledger.clock.set("2026-11-12T09:00:00Z")
    data = {"partner_id": P1, "subscription_id": "SUB-R", "decision_id": checked["decision_id"],
            "renewed_from": "2027-01-01", "term_months": 12}  # fmt: skip
    answer = ledger.bill("subscription.renewed", data, occurred_at="2026-11-12T09:00:00Z")
    assert answer["status"] == "failed" and "the quote renews from 2026-12-01" in answer["reason"]
    # an order dated before its quote was checked (10 November 10:00) is not the renewal that quote priced
    early = _renewed(ledger, checked["decision_id"], "2026-11-09T09:00:00Z")
    assert early["status"] == "failed" and "before its quote" in early["reason"]
    # PA-6.1: issued 10 November, valid for 30 days: through 10 December; the order on 11 December is too late
    expired = _renewed(ledger, checked["decision_id"], "2026-12-11T09:00:00Z")
    assert expired["status"] == "failed" and "valid through 2026-12-10" in expired["reason"]
    assert "renewals" not in _record(ledger)


@pytest.mark.parametrize(
    ("renewal", "seats", "path"),
    [
        ({"renewed_from": "2026-12-15"}, 60, "/renewal/renewed_from"),  # not the first day of a Billing Month
        ({"renewed_from": "2026-10-01"}, 60, "/renewal/renewed_from"),  # not after the activation
        ({}, 61, "/lines/0/quantity"),  # a change of seats is a subscription.changed
    ],
)
def test_a_renewal_quote_that_cannot_renew_the_subscription_is_a_422_naming_the_field(renewal, seats, path):
    ledger = _ledger()
    with pytest.raises(RuleViolation) as refused:
        _quote(ledger, seats=seats, **renewal)
    assert path in [e.path for e in refused.value.errors]
    assert decisions.list_for(ledger.rt, FINANCE, partner_id=None, limit=10, cursor=None)["items"] == []


def test_another_partners_subscription_cannot_be_renewed_it_does_not_exist_for_them():
    ledger = _ledger()
    ledger.clock.set("2026-11-10T10:00:00Z")
    with pytest.raises(NotFound):
        pricing.check(ledger.rt, SALES, {
            "partner_id": P2, "customer": {"id": "CUST-R"},
            "renewal": {"subscription_id": "SUB-R", "renewed_from": "2026-12-01", "term_months": 12},
            "lines": [{"line_id": "1", "sku": "NW-SEC-SUITE", "quantity": 60}]})  # fmt: skip


# --- contoso: its own threshold and its own triage SLA ------------------------------------------------------------
CONTOSO_PARTNER = "ptr_01JBCTRENEWA00000000000001"
CONTOSO_CERTS = {c: {"cert_id": c, "holder": "R. Renewal", "earned_at": "2025-01-01", "expires_at": "2029-12-31"}
                 for c in ("cert-collab-associate", "cert-secops-analyst", "cert-data-engineer", "cert-devices-field")}


@pytest.mark.parametrize(("seats", "annual", "outcome"), [(11, "75240.00", "approval_required"),
                                                          (10, "68400.00", "allow")])
def test_contoso_routes_a_renewal_of_at_least_eur_75000_a_year_to_channel_ops_triage_within_12_hours(
    seats, annual, outcome
):
    """contoso's policy sets EUR 75,000.00 (a policy setting, like northwind's). COP-4.1: "Items matching no category
    go to channel_ops for triage within 12 hours." CT-DATA-WORKSPACE lists at 600.00 a month (CPA-6.1); 5% off is
    570.00 (the elite data-platform cap is 12%, CPA-6.2); 11 workspaces 6,270.00 a month, 75,240.00 a year (approval);
    10 workspaces 5,700.00, 68,400.00 (allowed)."""
    from revgov.ports import Changes, Put

    ledger = Ledger("2026-10-01T09:00:00Z", tenant="contoso")
    partner = {"partner_id": CONTOSO_PARTNER, "legal_name": "Renewal GmbH", "partner_type": "msp", "status": "active",
               "tier": "elite", "country": "DE", "activated_at": "2025-01-01T00:00:00Z",
               "certifications": CONTOSO_CERTS}  # fmt: skip
    ledger.rt.store.commit("contoso", Changes(puts=[Put("PARTNER", CONTOSO_PARTNER, partner)]))
    data = {"partner_id": CONTOSO_PARTNER, "subscription_id": "SUB-CT", "sku": "CT-DATA-WORKSPACE",
            "quantity": seats, "activated_on": "2026-10-01", "order_ref": "SO-CT"}  # fmt: skip
    assert ledger.bill("subscription.activated", data, occurred_at="2026-10-01T09:00:00Z")["status"] == "processed"
    ledger.clock.set("2026-11-10T10:00:00Z")
    checked = pricing.check(ledger.rt, Principal("contoso", Role.SALES, "key_ct_sales"), {
        "partner_id": CONTOSO_PARTNER, "customer": {"id": "CUST-CT"},
        "renewal": {"subscription_id": "SUB-CT", "renewed_from": "2027-01-01", "term_months": 24},
        "lines": [{"line_id": "1", "sku": "CT-DATA-WORKSPACE", "quantity": seats,
                   "discount_percent": "5"}]})  # fmt: skip
    assert (checked["outcome"], checked["renewal"]["annual_value"]) == (outcome, annual)
    assert checked["renewal"]["term_end"] == "2028-12-31"  # 24 Billing Months from 1 January 2027
    if outcome == "approval_required":
        (approval,) = checked["approvals"]
        assert (approval["category"], approval["queue"], approval["due_at"]) == (
            "high_value_renewal", "channel_ops", "2026-11-10T22:00:00.000Z")


def test_a_renewal_quote_of_another_sku_two_lines_or_a_cancelled_subscription_is_refused_and_records_nothing():
    from revgov.domain.errors import Conflict

    ledger = _ledger()
    ledger.clock.set("2026-11-10T10:00:00Z")
    quote = {"partner_id": P1, "customer": {"id": "CUST-R"},
             "renewal": {"subscription_id": "SUB-R", "renewed_from": "2026-12-01", "term_months": 12},
             "lines": [{"line_id": "1", "sku": "NW-CLOUD-PLATFORM", "quantity": 60}]}  # fmt: skip
    with pytest.raises(RuleViolation) as other_sku:
        pricing.check(ledger.rt, SALES, quote)
    assert [e.path for e in other_sku.value.errors] == ["/lines/0/sku"]
    two = {**quote, "lines": [{"line_id": "1", "sku": "NW-SEC-SUITE", "quantity": 60},
                              {"line_id": "2", "sku": "NW-SEC-SUITE", "quantity": 1}]}  # fmt: skip
    with pytest.raises(RuleViolation) as two_lines:
        pricing.check(ledger.rt, SALES, two)
    assert [e.path for e in two_lines.value.errors] == ["/lines"]
    cancelled = {"partner_id": P1, "subscription_id": "SUB-R", "effective_on": "2026-11-30"}
    assert ledger.bill("subscription.cancelled", cancelled, occurred_at="2026-11-10T10:00:00Z")["status"] == "processed"
    with pytest.raises(Conflict):
        pricing.check(ledger.rt, SALES, {**quote, "lines": [{"line_id": "1", "sku": "NW-SEC-SUITE", "quantity": 60}]})
    assert decisions.list_for(ledger.rt, FINANCE, partner_id=None, limit=10, cursor=None)["items"] == []


def test_pa_13_2_b_a_renewal_accepted_before_a_screening_match_is_not_recorded_while_it_is_unresolved():
    """Red team 6. PA-2.8: "no quote, order or incentive may be processed for the Partner while the match is
    unresolved"; PA-13.2: "Orders already accepted are fulfilled unless the reason is (b)" (b: "a compliance screening
    match is unresolved under PA-2.8"). A renewal is an order for a new term (`subscription.renewed`, billed from its
    first day). Its quote was allowed on 10 November; a potential match is filed on 11 November; the ERP's renewal
    event of 12 November is held like any other order (failed, one compliance_screening_match exception for Legal),
    the renewal is not recorded and December is not charged at its price. Before, it was recorded and billed."""
    ledger = _ledger(seats=10)
    checked = _quote(ledger, seats=10)
    assert (checked["outcome"], checked["approvals"]) == ("allow", [])
    partner = next(p for p in ledger.partners if p["partner_id"] == P1)
    screening = {"document_type": "compliance_screening", "reference": "dms://screening/match.pdf",
                 "checksum": "sha256:" + "7" * 64, "issued_at": "2026-11-11", "outcome": "potential_match"}
    ledger.add_partners([{**partner, "documents": {**partner.get("documents", {}), "compliance_screening": screening}}])
    answer = _renewed(ledger, checked["decision_id"], "2026-11-12T09:00:00Z")
    assert answer["status"] == "failed" and "Legal resolves it" in answer["reason"], answer
    assert [c["category"] for c in ledger.exceptions()] == ["compliance_screening_match"]
    assert not _record(ledger).get("renewals")


def test_pa_5_6_a_renewal_of_a_subscription_whose_customer_is_unknown_carries_no_registration_discount():
    """Red team 6. PA-5.6: "A Partner holding an approved registration receives an additional registration discount of
    5 percentage points on quote lines for the registered Customer". SUB-R was activated without `customer_id` (the
    ERP did not name it), so no renewal quote can show that the customer it names is the subscription's: P1 registers
    another customer (CUST-REG) for security, has it approved, and names it and its registration on the renewal of
    SUB-R. The quote is refused (422 naming /deal_registration_id) and records nothing; before, the renewal was priced
    with the registration discount of a customer the subscription may not be."""
    from revgov.services import deals

    ledger = _ledger(seats=10)
    ledger.clock.set("2026-11-09T10:00:00Z")
    deal = deals.register(ledger.rt, SALES, {
        "partner_id": P1, "customer": {"id": "CUST-REG", "name": "Registered Co", "contact": "Dana Ortiz, CIO"},
        "family": "security", "estimated_value": "48000.00", "expected_close": "2027-02-15"})  # fmt: skip
    cases.decide_case(ledger.rt, Principal("northwind", Role.CHANNEL_OPS, "key_ops"), "approval",
                      deal["approval_id"], "approved", "engaged")
    assert _record(ledger).get("customer_id") is None
    ledger.clock.set("2026-11-10T10:00:00Z")
    before = len(list(ledger.rt.store.audit_records("northwind")))
    with pytest.raises(RuleViolation) as refused:
        pricing.check(ledger.rt, SALES, {
            "partner_id": P1, "customer": {"id": "CUST-REG", "name": "Registered Co"},
            "deal_registration_id": deal["deal_id"],
            "renewal": {"subscription_id": "SUB-R", "renewed_from": "2026-12-01", "term_months": 12},
            "lines": [{"line_id": "1", "sku": "NW-SEC-SUITE", "quantity": 10, "discount_percent": "5"}]})  # fmt: skip
    assert "/deal_registration_id" in [e.path for e in refused.value.errors]
    assert len(list(ledger.rt.store.audit_records("northwind"))) == before
    # Nor does the holder receive it without naming it (1.50.0: the holder receives the discount unnamed): the
    # renewal is priced at its 5% alone, 300.00 x 0.95 x 10 = 2850.00 (PA-6.1 price list: NW-SEC-SUITE 300.00).
    unnamed = pricing.check(ledger.rt, SALES, {
        "partner_id": P1, "customer": {"id": "CUST-REG", "name": "Registered Co"},
        "renewal": {"subscription_id": "SUB-R", "renewed_from": "2026-12-01", "term_months": 12},
        "lines": [{"line_id": "1", "sku": "NW-SEC-SUITE", "quantity": 10, "discount_percent": "5"}]})  # fmt: skip
    line = unnamed["lines"][0]
    assert [c["source"] for c in line["discount_components"]] == ["discretionary"]
    assert line["net_total"] == "2850.00"


def test_red_team_7_a_quantity_increase_is_not_processed_while_a_screening_match_holds_the_partner():
    """Red team 7. PA-2.8: "no quote, order or incentive may be processed for the Partner while the match is
    unresolved"; PA-13.2: "Orders already accepted are fulfilled unless the reason is (b)". A quantity increase is an
    order for the added seats (PA-10.3: "Quantity increases during a period are prorated in the same way" as an
    activation, which the screening hold holds). SUB-R has 10 seats billed for November; a potential match is filed on
    11 November; the ERP's `subscription.changed` to 500 seats on 12 November is held like an activation (failed, one
    compliance_screening_match exception for Legal): the subscription keeps 10 seats and nothing is charged. Before,
    the 490 seats were recorded and charged. A reduction is no order, and is processed as before."""
    ledger = _ledger(seats=10)
    partner = next(p for p in ledger.partners if p["partner_id"] == P1)
    screening = {"document_type": "compliance_screening", "reference": "dms://screening/match.pdf",
                 "checksum": "sha256:" + "7" * 64, "issued_at": "2026-11-11", "outcome": "potential_match"}
    ledger.add_partners([{**partner, "documents": {**partner.get("documents", {}), "compliance_screening": screening}}])
    ledger.clock.set("2026-11-12T09:00:00Z")
    change = {"partner_id": P1, "subscription_id": "SUB-R", "quantity": 500, "effective_on": "2026-11-12"}
    answer = ledger.bill("subscription.changed", change, occurred_at="2026-11-12T09:00:00Z")
    assert answer["status"] == "failed" and "Legal resolves it" in answer["reason"], answer
    assert [c["category"] for c in ledger.exceptions()] == ["compliance_screening_match"]
    assert _record(ledger)["quantity"] == 10
    fewer = {**change, "quantity": 8, "effective_on": "2026-11-20"}
    reduced = ledger.bill("subscription.changed", fewer, occurred_at="2026-11-12T09:00:00Z")
    assert reduced["status"] == "processed", reduced
    assert _record(ledger)["quantity"] == 8
