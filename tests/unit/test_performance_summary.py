"""A partner's performance in a Quarter, summarized: sentences with their evidence, next steps, a drafted message.

The seed whitepaper: "Copilots are best for guided decision support: explaining pricing logic, summarizing partner
performance, drafting communications"; copilots "summarize the issue, supporting evidence, and recommended next
actions"; its table: "Partner health | Threshold attainment and renewal probability | ... | Launch proactive
enablement and account planning".

Northwind (the clauses quoted where they are used below): partner 1 is Platinum and shipped 30 NW-SRV-R2 at the list
price of USD 5,200.00 in July 2026 (USD 156,000.00); the clock stands at 2026-08-15, mid 2026-Q3.
- PA-7.2: "| USD 100,000.00 to 249,999.99 | 1.0% |", "| USD 250,000.00 to 499,999.99 | 2.0% |", tiered and
  retroactive: 1.0% of 156,000.00 = 1,560.00 accrued; the level ahead is 250,000.00, 94,000.00 away, 62.40% attained.
- PA-7.5: "a sales performance incentive (SPIFF) of USD 40.00 per unit": 30 x 40.00 = 1,200.00.
- PA-3.5: "The Platinum tier requires an annual commitment of USD 3,000,000.00": a Quarter's share is 750,000.00,
  20.80% attained. PA-3.3: Silver "requires an annual commitment of USD 250,000.00": on the 2026 revenue so far the
  January review (PA-3.6) would move the partner to Registered; PA-3.7: "30 days' written notice and the downgrade
  takes effect on the first day of the next Quarter after the notice period ends": 2027-04-01.
- PA-9.2: "Platinum 160 hours": 12.50 logged leaves 147.50.
- SOP-2.1: "The invoice SLA is 48 hours": a shipment at 10:00 posted at 12:00 is a 2-hour cycle.
- SOP-6.1: "A Partner may dispute an invoice line within 30 days of the invoice date".
- PA-4.2: "the Distributor sends reminders 60 and 15 days before expiry"; PA-4.3 is the effect of expiry.
Contoso: CPA-7.2's own example, "Qualifying Revenue of EUR 210,000.00 earns 2.5% on the full amount, a rebate of
EUR 5,250.00"; CPA-3.3: Advanced "requires an annual commitment of EUR 150,000.00" with "30 support hours per Quarter".
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from typing import Any

import pytest

from memory_store import Ledger
from revgov import schemas
from revgov.domain.access import Principal, Role
from revgov.domain.errors import MalformedRequest, NotFound
from revgov.domain.partners import tiers_by_rank
from revgov.local.demo_partners import demo_application, onboard
from revgov.ports import Changes, Put
from revgov.services import (
    analytics,
    billing,
    case_waiting,
    cases,
    invoice_disputes,
    performance_summary,
    rebates,
    renewals,
)
from revgov.services.erp import INBOUND

P1 = "ptr_01JBNWPARTNER0000000000001"
P2 = "ptr_01JBNWPARTNER0000000000002"
OPS = Principal("northwind", Role.CHANNEL_OPS, "key_ops")
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
OWN = Principal("northwind", Role.PARTNER, "key_p1", P1)
RIVAL = Principal("northwind", Role.PARTNER, "key_p2", P2)
SCHEMA = "api/responses/performance-summary.schema.json"
# a clause id (PA-7.2, SOP-2.1, CPA-9.2), a Quarter, a day, or a number: every such token of a sentence is a fact
TOKEN = re.compile(r"[A-Z]{1,4}-[0-9]+(?:\.[0-9]+)*|[0-9]{4}-Q[1-4]|[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]+(?:\.[0-9]+)?")


def _feed(ledger: Ledger) -> None:
    """What the bus delivers after billing: the KPI facts and the accruals; the ERP event as the webhook kept it."""
    for envelope in [e for e in ledger.rt.publisher.published if e["detail_type"] == "invoice.lines_posted"]:
        event = {"source": envelope["source"], "detail-type": envelope["detail_type"], "detail": envelope["detail"]}
        analytics.record_fact(ledger.rt, event)
        rebates.accrue_from_event(ledger.rt, event)
    ledger.rt.publisher.published.clear()


def _ship(ledger: Ledger, partner_id: str, sku: str, quantity: int, at: str) -> None:
    # CPA-10.2 "devices are billed on delivery" (reviewer finding 2): the ERP reports the delivery, the day shipped
    data = {"partner_id": partner_id, "order_ref": f"SO-{partner_id[-4:]}-{at[:10]}", "shipped_on": at[:10],
            "delivered_on": at[:10],
            "lines": [{"sku": sku, "quantity": quantity}]}
    answer = ledger.bill("shipment.confirmed", data, occurred_at=at)
    assert answer["status"] == "processed", answer
    source = next(e["detail"]["source_event_id"] for e in ledger.rt.publisher.published
                  if e["detail_type"] == "invoice.lines_posted")
    received = {"detail-type": "shipment.confirmed", "detail": {"occurred_at": at, "data": data}}
    ledger.rt.store.commit(ledger.tenant_id, Changes(puts=[Put(INBOUND, source, received)]))
    _feed(ledger)


@pytest.fixture
def northwind() -> Ledger:
    ledger = Ledger("2026-07-10T12:00:00Z")
    expiring = copy.deepcopy(next(p for p in ledger.partners if p["partner_id"] == P1))
    expiring["certifications"]["cert-security-pro"]["expires_at"] = "2026-09-30"  # within 60 days of 2026-08-15
    ledger.add_partners([expiring])
    _ship(ledger, P1, "NW-SRV-R2", 30, "2026-07-10T10:00:00Z")
    support = {"partner_id": P1, "ticket_id": "TCK-1", "family": "networking", "hours": "12.50",
               "performed_on": "2026-07-20", "severity": 2}
    ledger.clock.set("2026-07-20T12:00:00Z")
    assert ledger.bill("support.logged", support, occurred_at="2026-07-20T11:00:00Z")["status"] == "processed"
    _feed(ledger)
    ledger.clock.set("2026-08-02T09:00:00Z")  # July's invoice issued; the partner disputes its line (SOP-6.1)
    july = ledger.invoice(P1, "2026-07")
    billing.finalize_invoice(ledger.rt, FINANCE, july["invoice_id"])
    invoice_disputes.file_dispute(ledger.rt, OWN, july["invoice_id"],
                                  {"line_no": 1, "amount": "5200.00", "reason": "29 servers arrived, 30 billed"})
    ledger.clock.set("2026-08-15T12:00:00Z")
    return ledger


def _fact(body: dict[str, Any], fact_id: str) -> dict[str, Any]:
    return next(f for f in body["facts"] if f["fact_id"] == fact_id)


def _values(body: dict[str, Any]) -> dict[str, str]:
    return {f["fact_id"]: f["value"] for f in body["facts"]}


def _assert_every_number_is_a_fact(text: str, facts: list[dict[str, Any]]) -> None:
    allowed = {f["value"] for f in facts} | {f["source"].get(k) for f in facts for k in ("period", "clause")}
    stray = [token for token in TOKEN.findall(text) if token not in allowed]
    assert not stray, (text, stray)


def _assert_grounded(body: dict[str, Any]) -> None:
    by_id = {f["fact_id"]: f for f in body["facts"]}
    for sentence in body["sentences"]:
        assert TOKEN.search(sentence["text"]), sentence  # each states a figure or a day
        _assert_every_number_is_a_fact(sentence["text"], [by_id[f] for f in sentence["facts"]])
    for action in body["recommended_actions"]:
        assert action["moves_money"] is False and set(action["facts"]) <= set(by_id)
        _assert_every_number_is_a_fact(action["action"], [by_id[f] for f in action["facts"]])
    greeting, *rest = body["draft_message"]["body"].splitlines()
    assert greeting == f"Hello {body['legal_name']} team,"
    _assert_every_number_is_a_fact("\n".join(rest), body["facts"])


def test_pa_7_2_thresholds_attainment_and_the_forecast_of_a_miss_with_their_sources(northwind):
    body = performance_summary.summary(northwind.rt, OPS, P1, "2026-Q3")
    assert not schemas.problems(SCHEMA, body)
    values = _values(body)
    assert values["revenue.to_date"] == "156000.00"  # 30 x 5,200.00
    assert values["threshold.RBT-VOLUME.reached"] == "100000.00"  # PA-7.2's 1.0% band
    assert (values["threshold.RBT-VOLUME.next"], values["threshold.RBT-VOLUME.gap"],
            values["threshold.RBT-VOLUME.attainment"]) == ("250000.00", "94000.00", "62.40")
    assert _fact(body, "threshold.RBT-VOLUME.next")["source"] == {
        "kind": "threshold", "name": "Quarterly volume rebate: 2.0%", "rule_id": "RBT-VOLUME", "clause": "PA-7.2",
        "period": "2026-Q3"}
    assert (values["threshold.TIER-PLATINUM.next"], values["threshold.TIER-PLATINUM.attainment"]) == (
        "750000.00", "20.80")  # PA-3.5: 3,000,000.00 / 4
    # the chance of a miss is the partner's own forecast's (GET /v1/partners/{id}/forecast), stated in percent
    forecast = analytics.forecast(northwind.rt, OPS, P1, "2026-Q3")
    level = next(t for t in forecast["thresholds"] if t["threshold"] == "250000.00")
    assert values["threshold.RBT-VOLUME.p_miss"] == f"{Decimal(str(level['p_miss'])) * 100:.1f}"
    assert values["revenue.projected"] == forecast["projected"]
    sentence = next(s["text"] for s in body["sentences"] if "threshold.RBT-VOLUME.next" in s["facts"])
    assert sentence.startswith("Quarterly volume rebate (PA-7.2): the next level, 250000.00 USD, is 62.40% attained "
                               "and is 94000.00 USD away")
    _assert_grounded(body)


def test_rebates_support_hours_cycle_time_disputes_and_certifications_from_the_contract_numbers(northwind):
    body = performance_summary.summary(northwind.rt, OPS, P1, "2026-Q3")
    values = _values(body)
    assert (values["rebates.accrued"], values["rebates.RBT-VOLUME"], values["rebates.RBT-HW-SPIFF"]) == (
        "2760.00", "1560.00", "1200.00")  # PA-7.2: 1.0% x 156,000.00; PA-7.5: 30 x 40.00
    assert _fact(body, "rebates.RBT-HW-SPIFF")["source"]["clause"] == "PA-7.5"
    assert (values["support.used"], values["support.entitled"], values["support.remaining"]) == (
        "12.50", "160", "147.50")  # PA-9.2
    assert _fact(body, "support.entitled")["source"] == {
        "kind": "entitlement", "name": "max_support_hours_per_quarter", "rule_id": "ENT-PLT-HOURS",
        "clause": "PA-9.2", "period": "2026-Q3"}
    assert (values["cycle.p50"], values["cycle.events"], values["cycle.sla"], values["cycle.breaches"]) == (
        "2", "1", "48", "0")  # SOP-2.1: 48 hours
    assert values["cases.disputes"] == "1" and values["cases.waiting"] == "0"  # SOP-6.1: the July line disputed
    assert values["certification.cert-security-pro"] == "2026-09-30"
    assert "Certification Security Solutions Professional (PA-4.1) stops counting on 2026-09-30; from then PA-4.3 " \
           "applies" in " ".join(s["text"] for s in body["sentences"])
    actions = {a["action_id"]: a for a in body["recommended_actions"]}
    assert actions["enablement.TIER-PLATINUM"]["rule"].endswith("Launch proactive enablement and account planning")
    assert "enablement.RBT-VOLUME" not in actions  # its P(miss) is below the watcher's 0.5
    assert {"renew.cert-security-pro", "disputes.decide", "tier.account_plan"} <= set(actions)
    assert "support.allowance" not in actions and "billing.cycle" not in actions
    _assert_grounded(body)


def test_pa_3_6_staff_read_the_tier_review_outlook_and_a_partner_key_does_not(northwind):
    staff = performance_summary.summary(northwind.rt, OPS, P1, "2026-Q3")
    values = _values(staff)
    assert (values["tier.review_day"], values["tier.revenue"], values["tier.effective_on"]) == (
        "2027-01-01", "156000.00", "2027-04-01")
    outlook = next(s for s in staff["sentences"] if s["topic"] == "tier_review")
    assert outlook["staff_only"] and "outcome downgrade, tier registered" in outlook["text"]
    own = performance_summary.summary(northwind.rt, OWN, P1, "2026-Q3")
    assert not schemas.problems(SCHEMA, own) and own["audience"] == "partner"
    assert not [s for s in own["sentences"] if s["staff_only"]]
    assert not [f for f in own["facts"] if f["fact_id"].startswith(("tier.", "cases.exceptions", "cases.approvals"))]
    assert "tier.account_plan" not in {a["action_id"] for a in own["recommended_actions"]}
    # the draft is the partner's view in both: no outlook, no costs, no staff key
    assert own["draft_message"]["body"] == staff["draft_message"]["body"]
    for text in (own["draft_message"]["body"], staff["draft_message"]["body"]):
        assert "Tier review" not in text and "key_" not in text and "cost" not in text.lower()
    _assert_grounded(own)


def test_every_read_is_audited_as_an_explanation_and_staff_only_words_stay_out_of_the_partner_trail(northwind):
    body = performance_summary.summary(northwind.rt, OPS, P1, "2026-Q3")
    record = [r for r in northwind.rt.store.audit_records("northwind") if r["action"] == "copilot.explained"][-1]
    assert record["record_id"] == body["audit_id"] and record["subject"] == f"{P1}#performance-summary#2026-Q3"
    assert record["partner_id"] == P1 and {"PA-7.2", "PA-9.2", "PA-3.6"} <= set(record["clauses"])
    assert "Tier review outlook" in record["inputs"]["staff_only"]["explanation"]
    assert "Tier review outlook" not in record["inputs"]["explanation"]
    from revgov.domain.audit_view import partner_view
    assert "staff_only" not in partner_view(record, P1)["inputs"]


def test_a_rival_partner_key_is_a_404_and_nothing_is_audited(northwind):
    before = len(northwind.rt.store.audit_records("northwind"))
    with pytest.raises(NotFound):
        performance_summary.summary(northwind.rt, RIVAL, P1, "2026-Q3")
    with pytest.raises(NotFound):
        performance_summary.summary(northwind.rt, OPS, "ptr_01JBNWPARTNER000000000009Z", "2026-Q3")
    assert len(northwind.rt.store.audit_records("northwind")) == before


@pytest.mark.parametrize("period", ["2026-Q5", "2026-13", "Q3-2026", "2026-08", "2026-Q0", "２026-Q3"])
def test_a_bad_period_is_a_problem_naming_the_field_and_nothing_is_audited(northwind, period):
    before = len(northwind.rt.store.audit_records("northwind"))
    with pytest.raises(MalformedRequest) as bad:
        performance_summary.summary(northwind.rt, OPS, P1, period)
    assert bad.value.errors[0].path == "/query/period"
    assert len(northwind.rt.store.audit_records("northwind")) == before


def test_the_default_period_is_the_current_quarter_by_the_clock(northwind):
    assert performance_summary.summary(northwind.rt, OWN, P1, None)["period"] == "2026-Q3"


def test_cpa_7_2_contosos_own_example_and_cpa_3_3_support_hours_for_an_advanced_partner():
    ledger = Ledger("2026-10-12T08:00:00Z", tenant="contoso")
    policy = ledger.rt.store.get("contoso", "TENANT", "PROFILE").data["config"]["policy"]
    advanced = next(t for t in tiers_by_rank(policy) if t["tier"] == "advanced")
    partner = onboard(ledger.rt, policy, demo_application("Summary Advanced", "reseller", advanced), "active",
                      sales=Principal("contoso", Role.SALES, "key_sales"),
                      approver=Principal("contoso", Role.CHANNEL_OPS, "key_ops"))
    partner_id = partner["partner_id"]
    ledger.clock.set("2026-10-12T12:00:00Z")
    _ship(ledger, partner_id, "CT-DEV-DOCK", 1000, "2026-10-12T09:00:00Z")  # 1,000 x EUR 210.00 = 210,000.00
    ledger.clock.set("2026-11-20T09:00:00Z")
    key = Principal("contoso", Role.PARTNER, "key_own", partner_id)
    body = performance_summary.summary(ledger.rt, key, partner_id, None)
    assert not schemas.problems(SCHEMA, body)
    values = _values(body)
    assert (body["period"], body["currency"], values["revenue.to_date"]) == ("2026-Q4", "EUR", "210000.00")
    assert values["rebates.RBT-VOLUME"] == "5250.00"  # CPA-7.2: 2.5% of 210,000.00
    assert values["threshold.RBT-VOLUME.reached"] == "200000.00" and values["threshold.RBT-VOLUME.next"] == "500000.00"
    assert values["threshold.TIER-ADVANCED.reached"] == "37500.00"  # CPA-3.3: 150,000.00 / 4, reached
    assert (values["support.used"], values["support.entitled"]) == ("0.00", "30")  # CPA-3.3 / CPA-9.2
    assert values["cycle.p50"] == "3" and values["cycle.sla"] == "48"  # COP-2.1: posted 3 hours after the shipment
    assert _fact(body, "support.entitled")["source"]["clause"] == "CPA-9.2"
    assert values["certifications.window"] == "2027-01-19"  # CPA-4.2: the 60-day reminder; none ends before
    _assert_grounded(body)


def test_an_open_exception_on_the_partner_is_counted_for_staff_and_not_told_to_the_partner(northwind):
    # SOP-2.1: "A billable event not invoiced within these times is recorded as an invoicing exception and handled by
    # Finance": opened as the billing reconciler opens it, about partner 1
    policy = northwind.rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]
    _, changes = cases.open_case(northwind.rt, policy, kind="exception", category="unbilled_fulfilment",
                                 subject_kind="erp_event", subject_id="evt_01JBNWERP00000000000000099",
                                 requested_by="agent:billing_reconciler", partner_id=P1)
    northwind.rt.commit("northwind", changes)
    staff = performance_summary.summary(northwind.rt, OPS, P1, "2026-Q3")
    assert (_values(staff)["cases.exceptions"], _values(staff)["cases.disputes"]) == ("1", "1")
    own = performance_summary.summary(northwind.rt, OWN, P1, "2026-Q3")
    assert "cases.exceptions" not in _values(own) and "Other open exceptions" not in own["draft_message"]["body"]
    _assert_grounded(staff)


def test_cpa_9_2_hours_beyond_the_allowance_call_for_the_partners_written_approval():
    # CPA-9.2: "Each Quarter includes support hours: Authorized 8, Advanced 30 and Elite 120 ... Hours above the
    # allowance are provided only with the Partner's prior written approval"
    ledger = Ledger("2026-10-05T08:00:00Z", tenant="contoso")
    policy = ledger.rt.store.get("contoso", "TENANT", "PROFILE").data["config"]["policy"]
    advanced = next(t for t in tiers_by_rank(policy) if t["tier"] == "advanced")
    partner = onboard(ledger.rt, policy, demo_application("Summary Support", "reseller", advanced), "active",
                      sales=Principal("contoso", Role.SALES, "key_sales"),
                      approver=Principal("contoso", Role.CHANNEL_OPS, "key_ops"))
    partner_id = partner["partner_id"]
    for day, hours in (("2026-10-06", "20.00"), ("2026-10-20", "12.00")):
        ledger.clock.set(f"{day}T18:00:00Z")
        logged = {"partner_id": partner_id, "ticket_id": f"TCK-{day}", "family": "security", "hours": hours,
                  "performed_on": day, "severity": 1}
        assert ledger.bill("support.logged", logged, occurred_at=f"{day}T17:00:00Z")["status"] == "processed"
    _feed(ledger)
    ledger.clock.set("2026-11-02T09:00:00Z")
    body = performance_summary.summary(ledger.rt, Principal("contoso", Role.CUSTOMER_SUCCESS, "key_cs"), partner_id,
                                       "2026-Q4")
    values = _values(body)
    assert (values["support.used"], values["support.entitled"], values["support.remaining"]) == (
        "32.00", "30", "0.00")  # 20.00 + 12.00 against Advanced's 30
    action = next(a for a in body["recommended_actions"] if a["action_id"] == "support.allowance")
    assert (action["owner"], action["clause"], action["moves_money"]) == ("customer_success", "CPA-9.2", False)
    assert action["rule"].endswith("Adjust entitlements or introduce managed service tiers")
    assert "Give prior written approval before any support hours beyond the allowance." in body["draft_message"]["body"]
    _assert_grounded(body)


def test_pa_13_1_a_notice_of_non_renewal_calls_for_account_planning_told_to_staff_only():
    # PA-13.1: "either party gives notice of non-renewal at least 60 days before" the Program Year end; the seed's
    # partner health row ("Threshold attainment and renewal probability") -> "Launch proactive enablement and account
    # planning"
    ledger = Ledger("2026-08-15T12:00:00Z")
    policy = ledger.rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]
    silver = next(t for t in tiers_by_rank(policy) if t["tier"] == "silver")
    partner = onboard(ledger.rt, policy, demo_application("Summary Renewal", "reseller", silver), "active",
                      sales=Principal("northwind", Role.SALES, "key_sales"), approver=OPS)
    partner_id = partner["partner_id"]
    own_key = Principal("northwind", Role.PARTNER, "key_own", partner_id)
    before = performance_summary.summary(ledger.rt, OPS, partner_id, "2026-Q3")
    assert (_values(before)["renewal.year_end"], _values(before)["renewal.notice_given"]) == ("2026-12-31", "0")
    assert "renewal.account_plan" not in {a["action_id"] for a in before["recommended_actions"]}
    renewals.give_notice(ledger.rt, own_key, partner_id, {"reason": "leaving the programme"})
    staff = performance_summary.summary(ledger.rt, OPS, partner_id, "2026-Q3")
    assert _values(staff)["renewal.notice_given"] == "1"
    plan = next(a for a in staff["recommended_actions"] if a["action_id"] == "renewal.account_plan")
    assert plan["staff_only"] and plan["clause"] == "PA-13.1" and plan["owner"] == "channel_ops"
    own = performance_summary.summary(ledger.rt, own_key, partner_id, "2026-Q3")
    assert "renewal" not in {s["topic"] for s in own["sentences"]}  # GET /v1/kpis withholds it from a partner key
    assert "renewal.account_plan" not in {a["action_id"] for a in own["recommended_actions"]}
    _assert_grounded(staff)


@pytest.mark.parametrize("tenant", ["northwind", "contoso"])
def test_the_dispute_categories_are_the_policys_disputes_and_their_appeals(tenant):
    # PA-7.9 / SOP-6.1 / SOP-6.3 (contoso: CPA-7.9 / COP-6.1 / COP-6.3): rebate and invoice disputes, each appealable
    policy = Ledger("2026-08-15T12:00:00Z", tenant=tenant).rt.store.get(tenant, "TENANT", "PROFILE").data[
        "config"]["policy"]
    assert performance_summary.dispute_categories(policy) == {
        "rebate_dispute", "rebate_dispute_appeal_finance", "rebate_dispute_appeal_legal",
        "invoice_dispute", "invoice_dispute_appeal_finance", "invoice_dispute_appeal_legal"}


def test_sop_1_3_items_waiting_on_the_partner_are_counted_from_its_own_pointers_not_the_tenants_waiting_list(northwind):
    # SOP-1.3: an item waiting on the Partner has its SLA clock paused; the summary counts the partner's own (partner 1:
    # one; partner 2's is not its) and reads them from the partner's waiting pointers (`CASEWAIT`, as GET /v1/waiting
    # does), never every item of the tenant waiting on any partner.
    policy = northwind.rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]
    for partner_id in (P1, P2):
        case, changes = cases.open_case(northwind.rt, policy, kind="exception", category="unbilled_fulfilment",
                                        subject_kind="erp_event",
                                        subject_id=f"evt_01JBNWERP0000000000000{partner_id[-4:]}",
                                        requested_by="agent:billing_reconciler", partner_id=partner_id)  # fmt: skip
        northwind.rt.commit("northwind", changes)
        case_waiting.ask_partner(northwind.rt, FINANCE, "exception", case["case_id"], "Which order is this?")
    read: list[str] = []
    store = northwind.rt.store
    lookup = store.lookup

    def recorded(tenant_id: str, index_partition: str, **kwargs: Any) -> Any:
        read.append(index_partition)
        return lookup(tenant_id, index_partition, **kwargs)

    store.lookup = recorded  # type: ignore[method-assign]
    try:
        staff = performance_summary.summary(northwind.rt, OPS, P1, "2026-Q3")
    finally:
        del store.lookup
    assert (_values(staff)["cases.waiting"], _values(staff)["cases.disputes"]) == ("1", "1")
    assert not [p for p in read if p.endswith("#waiting_on_partner")], read
