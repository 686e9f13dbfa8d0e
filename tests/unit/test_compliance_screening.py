"""Compliance screening (PA-2.8 / CPA-2.8), on the in-memory engine with a fixed clock.

PA-2.8: "Screening is repeated at least once every 12 months and whenever ownership changes. A potential match is routed
to Legal, and no quote, order or incentive may be processed for the Partner while the match is unresolved. A confirmed
match is grounds for immediate termination under PA-13.3."
CPA-2.8: "Screening is repeated every 12 months and on any change of control. A potential match is referred to Legal;
no quote, order, payment or incentive is processed for the Partner until Legal resolves it. A confirmed match allows
immediate termination under CPA-13.3."
PA-13.2: "Orders already accepted are fulfilled unless the reason is (b)" ((b): "a compliance screening match is
unresolved under PA-2.8").
SOP-4.1 routing matrix: "| compliance_screening_match | legal | 24 |"; SOP-1.2: legal handles "compliance screening
matches".
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from memory_store import Ledger, memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Forbidden, RuleViolation
from revgov.domain.partners import screening, tiers_by_rank
from revgov.local.demo_partners import demo_application, onboard
from revgov.services import partners, pricing
from revgov.services import screening as screening_service
from revgov.tenant_files import load_tenant_file
from support import ROOT

SALES = Principal("northwind", Role.SALES, "key_01JX00000000000000000SALES")
OPS = Principal("northwind", Role.CHANNEL_OPS, "key_01JX000000000000000000OPS0")
LEGAL = Principal("northwind", Role.LEGAL, "key_01JX00000000000000000LEGAL")
CONTOSO = load_tenant_file(ROOT / "tenants" / "contoso" / "tenant.yaml")["policy"]


def _screening(outcome: str | None, issued_at: str = "2026-02-01") -> dict[str, Any]:
    body = {"document_type": "compliance_screening", "reference": f"dms://screening/{outcome}.pdf",
            "checksum": "sha256:" + "7" * 64, "issued_at": issued_at}  # fmt: skip
    return {**body, "outcome": outcome} if outcome else body


def _active() -> tuple[Any, Any, dict[str, Any]]:
    rt, clock = memory_runtime("2026-01-05T09:00:00.000Z")
    policy: dict[str, Any] = rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]  # type: ignore[union-attr]
    application = demo_application("Screened Networks", "reseller", tiers_by_rank(policy)[0])
    partner = onboard(rt, policy, application, "active", sales=SALES, approver=OPS)
    clock.set("2026-02-02T10:00:00.000Z")
    return rt, clock, partner


def _quote(rt: Any, partner_id: str) -> dict[str, Any]:
    return pricing.check(rt, SALES, {
        "partner_id": partner_id, "customer": {"id": "CUST-SCR-1", "name": "Lakeside"},
        "lines": [{"line_id": "1", "sku": "NW-SW-24P", "quantity": 1, "discount_percent": "2"}]})  # fmt: skip


def _exceptions(rt: Any) -> list[dict[str, Any]]:
    from revgov.services import case_repository

    found = rt.store.query("northwind", case_repository.CASES, limit=1000).items
    return [s.data for s in found if s.data["kind"] == "exception"]


def test_pa_2_8_a_potential_match_goes_to_legal_in_24_hours_and_holds_the_partners_quotes():
    rt, _clock, partner = _active()
    partner_id = partner["partner_id"]
    assert _quote(rt, partner_id)["outcome"] == "allow"
    filed = partners.add_document(rt, OPS, partner_id, _screening("potential_match"))
    assert filed["document"]["outcome"] == "potential_match"
    (case,) = [c for c in _exceptions(rt) if c["category"] == "compliance_screening_match"]
    assert case["queue"] == "legal" and case["subject"] == {"kind": "partner", "id": partner_id}
    assert (case["sla_hours"], case["due_at"][:16]) == (24, "2026-02-03T10:00")  # "| ... | legal | 24 |"
    assert [r["clause"] for r in case["reasons"]] == ["SOP-4.1", "PA-2.8"]
    denied = _quote(rt, partner_id)  # "no quote ... may be processed for the Partner while the match is unresolved"
    assert denied["outcome"] == "deny"
    assert ("PRC-SCREENING-HOLD", "PA-2.8") in {(r["rule_id"], r["clause"]) for r in denied["reasons"]}
    (record,) = [r for r in rt.store.iter_audit_records("northwind")
                 if r["subject"] == partner_id and r["action"] == "partner.document_recorded"
                 and r["inputs"]["document"]["document_type"] == "compliance_screening"
                 and r["inputs"]["document"].get("outcome")]  # fmt: skip
    assert "PA-2.8" in record["clauses"] and record["actor"].startswith("channel_ops:")


def test_pa_2_8_only_legal_resolves_a_match_and_a_clear_screening_lifts_the_hold():
    rt, clock, partner = _active()
    partner_id = partner["partner_id"]
    partners.add_document(rt, OPS, partner_id, _screening("potential_match"))
    with pytest.raises(Forbidden):  # "routed to Legal": channel ops cannot clear it themselves
        partners.add_document(rt, OPS, partner_id, _screening("clear", "2026-02-02"))
    clock.set("2026-02-03T09:00:00.000Z")
    partners.add_document(rt, LEGAL, partner_id, _screening("clear", "2026-02-03"))
    assert _quote(rt, partner_id)["outcome"] == "allow"
    (event,) = [e for e in rt.publisher.published
                if e["detail_type"] == "partner.document_recorded" and e["detail"].get("outcome") == "clear"]
    assert event["detail"]["partner_id"] == partner_id


def test_pa_2_8_a_confirmed_match_stays_held_and_a_person_may_terminate_at_once_under_pa_13_3():
    # PA-13.3: "The Distributor may terminate immediately on a confirmed compliance screening match"
    rt, _clock, partner = _active()
    partner_id = partner["partner_id"]
    partners.add_document(rt, OPS, partner_id, _screening("potential_match"))
    partners.add_document(rt, LEGAL, partner_id, _screening("confirmed_match", "2026-02-02"))
    assert partners.load_partner(rt, "northwind", partner_id)[0]["status"] == "active"  # not terminated by Revgov
    assert _quote(rt, partner_id)["outcome"] == "deny"
    partners.change_status(rt, LEGAL, partner_id, "terminated", "confirmed screening match (PA-13.3)")
    assert partners.load_partner(rt, "northwind", partner_id)[0]["status"] == "terminated"


@pytest.mark.parametrize("who", [
    Principal("northwind", Role.PARTNER, "key_01JX000000000000000PARTNER", "ptr_placeholder"),
    SALES,
    Principal("northwind", Role.ADMIN, "key_01JX00000000000000000ADMIN"),
])
def test_pa_2_8_only_channel_ops_or_legal_record_a_screening_outcome_and_nothing_changes(who):
    rt, _clock, partner = _active()
    partner_id = partner["partner_id"]
    if who.role is Role.PARTNER:
        who = Principal("northwind", Role.PARTNER, who.key_id, partner_id)
    before = partners.load_partner(rt, "northwind", partner_id)
    with pytest.raises(Forbidden):
        partners.add_document(rt, who, partner_id, _screening("clear"))
    assert partners.load_partner(rt, "northwind", partner_id) == before


def test_an_outcome_on_another_document_type_is_refused_naming_the_field():
    rt, _clock, partner = _active()
    body = {**_screening("clear"), "document_type": "signed_agreement"}
    with pytest.raises(RuleViolation) as refused:
        partners.add_document(rt, OPS, partner["partner_id"], body)
    assert [e.path for e in refused.value.errors] == ["/outcome"]


def test_legal_files_screenings_only():
    rt, _clock, partner = _active()
    with pytest.raises(Forbidden):
        partners.add_document(rt, LEGAL, partner["partner_id"],
                              {**_screening(None), "document_type": "signed_agreement"})


def test_pa_13_2_b_an_order_accepted_before_the_match_is_not_billed_while_it_is_unresolved():
    # PA-13.2: "Orders already accepted are fulfilled unless the reason is (b)"; PA-2.8 "no ... order ... processed"
    ledger = Ledger("2026-11-20T12:00:00Z")
    held = {**ledger.partners[0], "documents": {**ledger.partners[0].get("documents", {}),
                                                "compliance_screening": _screening("potential_match", "2026-11-18")}}
    ledger.add_partners([held])
    answer = ledger.bill("shipment.confirmed", {"partner_id": held["partner_id"], "order_ref": "SO-S",
                                                 "shipped_on": "2026-11-17",  # ordered before the match
                                                 "lines": [{"sku": "NW-SW-24P", "quantity": 1}]},
                         occurred_at="2026-11-19T08:00:00Z")  # fmt: skip
    assert answer["status"] == "failed" and "Legal resolves it" in answer["reason"]
    assert [(c["category"], c["queue"]) for c in ledger.exceptions()] == [("compliance_screening_match", "legal")]


def test_pa_2_8_the_yearly_repeat_is_asked_the_day_after_12_months_once():
    # "Screening is repeated at least once every 12 months": screened 2026-02-01, due by 2027-02-01
    rt, clock, partner = _active()
    partner_id = partner["partner_id"]
    partners.add_document(rt, OPS, partner_id, _screening("clear", "2026-02-01"))
    clock.set("2027-02-01T23:00:00.000Z")  # exactly 12 months old: not older
    assert screening_service.sweep_repeats(rt, "northwind") == {"screening_due": 0}
    clock.set("2027-02-02T01:00:00.000Z")  # older than 12 months
    assert screening_service.sweep_repeats(rt, "northwind") == {"screening_due": 1}
    assert screening_service.sweep_repeats(rt, "northwind") == {"screening_due": 0}  # idempotent
    (case,) = [c for c in _exceptions(rt) if c["category"] == "compliance_screening_match"]
    assert case["queue"] == "legal" and "2026-02-01" in case["reasons"][-1]["message"]


def test_cpa_2_8_contoso_holds_on_a_match_and_counts_the_same_12_months():
    partner = {"partner_id": "ptr_1", "status": "active",
               "documents": {"compliance_screening": _screening("potential_match", "2026-03-31")}}  # fmt: skip
    hold = screening.held_by(CONTOSO, partner)
    assert hold is not None and (hold["clause"], hold["outcome"]) == ("CPA-2.8", "potential_match")
    clear = {**partner, "documents": {"compliance_screening": _screening("clear", "2026-03-31")}}
    assert screening.held_by(CONTOSO, clear) is None
    assert screening.due_on(CONTOSO, clear) == date(2027, 4, 1)
    assert not screening.overdue(CONTOSO, clear, date(2027, 3, 31))
    assert screening.overdue(CONTOSO, clear, date(2027, 4, 1))


def test_a_policy_whose_screening_names_an_unknown_category_or_document_is_refused():
    from revgov.domain.partners import onboarding_problems

    onboarding = {**CONTOSO["onboarding"], "screening": {**CONTOSO["onboarding"]["screening"],
                                                          "category": "screening_typo", "document_type": "nope"}}
    problems = onboarding_problems({**CONTOSO, "onboarding": onboarding})
    assert {p.path for p in problems} == {"/policy/onboarding/screening/document_type",
                                          "/policy/onboarding/screening/category"}
    assert onboarding_problems(CONTOSO) == []


def test_pa_2_8_the_distributor_screens_a_partner_key_files_no_screening_even_without_an_outcome():
    # "The Distributor screens each Partner": the partner's own upload would restart the 12 months
    rt, _clock, partner = _active()
    own = Principal("northwind", Role.PARTNER, "key_01JX000000000000000PARTNER", partner["partner_id"])
    with pytest.raises(Forbidden):
        partners.add_document(rt, own, partner["partner_id"], _screening(None))


def test_cpa_2_8_contoso_denies_the_quote_of_a_partner_referred_to_legal_citing_cpa_2_8():
    # CPA-2.8: "A potential match is referred to Legal; no quote, order, payment or incentive is processed for the
    # Partner until Legal resolves it." COP-4.1: "| compliance_screening_match | legal | 24 |"
    rt, clock = memory_runtime("2026-03-02T09:00:00.000Z", tenant="contoso")
    ops = Principal("contoso", Role.CHANNEL_OPS, "key_01JX000000000000000000OPS0")
    sales = Principal("contoso", Role.SALES, "key_01JX00000000000000000SALES")
    legal = Principal("contoso", Role.LEGAL, "key_01JX00000000000000000LEGAL")
    policy = rt.store.get("contoso", "TENANT", "PROFILE").data["config"]["policy"]
    partner = onboard(rt, policy, demo_application("Kontor GmbH", "reseller", tiers_by_rank(policy)[0]), "active",
                      sales=sales, approver=ops)
    clock.set("2026-06-10T10:00:00.000Z")
    quote = {"partner_id": partner["partner_id"], "customer": {"id": "CUST-CT-1"},
             "lines": [{"line_id": "1", "sku": "CT-SEC-XDR", "quantity": 1}]}  # fmt: skip
    before = pricing.check(rt, sales, quote)
    assert "CPA-2.8" not in {r["clause"] for r in before["reasons"]}
    partners.add_document(rt, ops, partner["partner_id"], _screening("potential_match", "2026-06-10"))
    denied = pricing.check(rt, sales, quote)
    assert denied["outcome"] == "deny"
    assert ("PRC-SCREENING-HOLD", "CPA-2.8") in {(r["rule_id"], r["clause"]) for r in denied["reasons"]}
    partners.add_document(rt, legal, partner["partner_id"], _screening("clear", "2026-06-10"))
    assert "CPA-2.8" not in {r["clause"] for r in pricing.check(rt, sales, quote)["reasons"]}


def test_pa_2_8_a_quote_checked_before_the_match_is_not_approved_while_it_is_unresolved():
    """Red team 6. PA-2.8: "no quote, order or incentive may be processed for the Partner while the match is
    unresolved". A quote checked on 2 February needs channel ops (8% is above the Registered networking cap of 5%,
    PA-6.6(a)); a potential match is filed that day; the approval given on 3 February, with the match unresolved, is
    refused (422 naming ONB-SCREENING / PA-2.8) and nothing changes: the quote still waits for its approval, which,
    once Legal files a clear screening, approves it as before. Before, the approval allowed the quote."""
    from revgov.services import cases, decisions

    rt, clock, partner = _active()
    partner_id = partner["partner_id"]
    checked = pricing.check(rt, SALES, {
        "partner_id": partner_id, "customer": {"id": "CUST-SCR-2", "name": "Lakeside"},
        "lines": [{"line_id": "1", "sku": "NW-SW-24P", "quantity": 1, "discount_percent": "8"}]})  # fmt: skip
    assert checked["outcome"] == "approval_required"
    (approval,) = checked["approvals"]
    partners.add_document(rt, OPS, partner_id, _screening("potential_match", "2026-02-02"))
    clock.set("2026-02-03T09:00:00.000Z")
    with pytest.raises(RuleViolation) as held:
        cases.decide_case(rt, OPS, "approval", approval["approval_id"], "approved", "within the promotion")
    assert (held.value.extra["rule_id"], held.value.extra["clause"]) == ("ONB-SCREENING", "PA-2.8")
    assert decisions.view(rt, SALES, checked["decision_id"])["status"] == "pending_approval"
    partners.add_document(rt, LEGAL, partner_id, _screening("clear", "2026-02-03"))
    cases.decide_case(rt, OPS, "approval", approval["approval_id"], "approved", "within the promotion")
    assert decisions.view(rt, SALES, checked["decision_id"])["outcome"] == "allow"


def test_pa_13_2_b_the_billing_run_holds_a_matched_partners_subscription_month_and_charges_it_once_cleared():
    """PA-13.2: "Orders already accepted are fulfilled unless the reason is (b)"; PA-2.8: "no quote, order or incentive
    may be processed for the Partner while the match is unresolved"; CPA-2.8: "no quote, order, payment or incentive is
    processed for the Partner until Legal resolves it". PA-10.2: "Recurring subscriptions are billed in advance for a
    service period equal to the Billing Month". A running subscription's month is not charged while the match is
    unresolved: held with one exception for Legal (SOP-4.1 "| compliance_screening_match | legal | 24 |") per partner
    and month, and charged for its own month by the first run after Legal files a clear screening. Before, the run
    charged it."""
    from revgov.services import subscription_billing

    ledger = Ledger("2026-10-10T10:00:00Z")
    partner = ledger.partners[0]
    pid = partner["partner_id"]
    activated = ledger.bill("subscription.activated", {"partner_id": pid, "subscription_id": "SUB-H",
                                                        "sku": "NW-NET-MGMT", "quantity": 1,
                                                        "activated_on": "2026-10-10", "order_ref": "SO-H"},
                            occurred_at="2026-10-10T09:00:00Z")  # fmt: skip
    assert activated["status"] == "processed", activated
    documents = partner.get("documents", {})
    match = _screening("potential_match", "2026-10-20")
    ledger.add_partners([{**partner, "documents": {**documents, "compliance_screening": match}}])
    ledger.clock.set("2026-11-01T00:05:00Z")
    assert subscription_billing.run(ledger.rt, "northwind")["charged"] == 0
    assert subscription_billing.run(ledger.rt, "northwind")["charged"] == 0
    (case,) = [c for c in ledger.exceptions() if c["category"] == "compliance_screening_match"]  # once
    assert case["queue"] == "legal" and case["partner_id"] == pid
    assert any("2026-11" in r["message"] and "Legal resolves it" in r["message"] for r in case["reasons"])
    assert ledger.rt.store.get("northwind", "INVOICEKEY", f"{pid}#2026-11") is None or not [
        x for x in ledger.invoice(pid, "2026-11")["lines"] if x["detail"].get("subscription_id") == "SUB-H"]

    ledger.add_partners([{**partner, "documents": {**documents,
                                                   "compliance_screening": _screening("clear", "2026-11-05")}}])
    ledger.clock.set("2026-11-05T10:00:00Z")
    assert subscription_billing.run(ledger.rt, "northwind")["charged"] == 1
    assert subscription_billing.run(ledger.rt, "northwind")["charged"] == 0
    charged = [x for x in ledger.invoice(pid, "2026-11")["lines"] if x["detail"].get("subscription_id") == "SUB-H"]
    assert [(x["amount"], x["service_period"]) for x in charged] == [
        ("99.00", {"start": "2026-11-01", "end": "2026-11-30"})]
