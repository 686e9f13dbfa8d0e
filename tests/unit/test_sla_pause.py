"""The SLA clock paused while an item waits on the partner (SOP-1.3 / COP-1.3).

SOP-1.3: "SLA hours in this SOP are elapsed hours on a 24x7 clock in UTC, measured from the time an item enters its
queue until it is decided. The clock is paused only while an item is in the status "waiting on partner" and restarts
when the Partner responds." COP-1.3: "The clock stops while an item waits for information from the Partner and
resumes when the Partner replies." SOP-4.2: "When 75% of an exception's SLA has elapsed, the queue is notified. When
the SLA is breached, the exception is escalated to the queue lead ...; after twice the SLA it is escalated to the head
of the owning team." Every instant below is counted by hand; the clock is fixed.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from memory_store import Ledger
from revgov.domain import sla_pause, workflow_metrics
from revgov.domain.access import Principal, Role
from revgov.domain.calendar import BusinessCalendar
from revgov.domain.errors import Conflict, Forbidden, NotFound, RuleViolation
from revgov.domain.kpis import Period
from revgov.domain.time import instant
from revgov.services import billing, case_waiting, cases, invoice_disputes, tenants

P1 = "ptr_01JBNWPARTNER0000000000001"
P2 = "ptr_01JBNWPARTNER0000000000002"
PARTNER1 = Principal("northwind", Role.PARTNER, "key_p1", P1)
PARTNER2 = Principal("northwind", Role.PARTNER, "key_p2", P2)
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
CHANNEL = Principal("northwind", Role.CHANNEL_OPS, "key_ops")
QUESTION = "Please send the signed delivery note for the October shipment"


def _disputed() -> tuple[Ledger, dict]:
    """Partner 1's October invoice issued 2 Nov; line 1 disputed Tuesday 2026-11-10 08:00 (approval: finance, 24 h)."""
    ledger = Ledger("2026-10-12T10:00:00Z")
    for partner, quantity in ((P1, 5), (P2, 1)):
        answer = ledger.bill("shipment.confirmed", {"partner_id": partner, "order_ref": f"SO-{partner[-1]}",
                             "shipped_on": "2026-10-12", "lines": [{"sku": "NW-SW-24P", "quantity": quantity}]},
                             occurred_at="2026-10-12T09:00:00Z")  # fmt: skip
        assert answer["status"] == "processed", answer
    ledger.clock.set("2026-11-02T09:00:00Z")
    for partner in (P1, P2):
        billing.finalize_invoice(ledger.rt, FINANCE, ledger.invoice(partner, "2026-10")["invoice_id"])
    ledger.clock.set("2026-11-10T08:00:00Z")
    dispute = invoice_disputes.file_dispute(ledger.rt, PARTNER1, ledger.invoice(P1, "2026-10")["invoice_id"],
                                            {"line_no": 1, "amount": "1250.00", "reason": "4 shipped, 5 billed"})
    return ledger, dispute


def test_waiting_on_the_partner_pauses_the_clock_and_the_reply_moves_due_time_and_escalation_by_the_wait():
    ledger, dispute = _disputed()
    approval = dispute["approval_id"]
    case, _ = cases.get_case(ledger.rt, "northwind", "approval", approval)
    # 24 h from Tue 08:00; SOP-4.2 marks: 75 % = 18 h, 100 % = 24 h, 200 % = 48 h
    assert case["due_at"] == "2026-11-11T08:00:00.000Z"
    assert (case["escalation"]["remind_at"], case["escalation"]["head_at"]) == (
        "2026-11-11T02:00:00.000Z", "2026-11-12T08:00:00.000Z")
    ledger.clock.set("2026-11-10T10:00:00Z")  # 2 h on the clock
    asked = case_waiting.ask_partner(ledger.rt, FINANCE, "approval", approval, QUESTION)
    assert asked["status"] == "waiting_on_partner" and asked["waiting"]["question"] == QUESTION
    # a waiting item is off its queue's pending list: the escalation flow's poll does not see it
    due = cases.list_cases(ledger.rt, "northwind", "approval", status="pending", queue="finance", limit=50,
                           cursor=None, due_before=instant("2026-11-30T00:00:00Z"))  # fmt: skip
    assert approval not in [i.data["case_id"] for i in due.items]
    waiting = cases.list_cases(ledger.rt, "northwind", "approval", status="waiting_on_partner", queue=None,
                               limit=50, cursor=None)  # fmt: skip
    assert [i.data["case_id"] for i in waiting.items] == [approval]
    shown = invoice_disputes.get_dispute(ledger.rt, PARTNER1, dispute["dispute_id"])
    assert shown["waiting_on_partner"] == {"since": "2026-11-10T10:00:00.000Z", "question": QUESTION}
    ledger.clock.set("2026-11-10T16:00:00Z")  # the partner answers 6 h later: the clock restarts
    answered = case_waiting.partner_reply(ledger.rt, PARTNER1, "approval", approval, "DN-1182 attached")
    assert answered["status"] == "pending" and answered["due_at"] == "2026-11-11T14:00:00.000Z"
    assert "asked_by" not in answered["pauses"][0] and answered["pauses"][0]["reply"] == "DN-1182 attached"
    resumed, _ = cases.get_case(ledger.rt, "northwind", "approval", approval)
    assert resumed["escalation"]["remind_at"] == "2026-11-11T08:00:00.000Z"  # 02:00 + 6 h
    assert resumed["escalation"]["lead_at"] == "2026-11-11T14:00:00.000Z"
    assert resumed["escalation"]["head_at"] == "2026-11-12T14:00:00.000Z"
    assert resumed["paused_seconds"] == 6 * 3600
    # SOP-6.1's business days move too: Tue 10 Nov 10:00-16:00 is 6 h of a business day
    shown = invoice_disputes.get_dispute(ledger.rt, PARTNER1, dispute["dispute_id"])
    assert shown["waiting_on_partner"] is None and shown["due_at"] == "2026-11-11T14:00:00.000Z"
    assert (shown["acknowledge_by"], shown["decide_by"]) == ("2026-11-12T14:00:00.000Z", "2026-11-25T14:00:00.000Z")
    records = [r for r in ledger.rt.store.audit_records("northwind") if r["action"].startswith("approval.partner_")]
    assert records and "SOP-1.3" in records[0]["clauses"]
    told = [e["detail_type"] for e in ledger.rt.publisher.published if e["detail_type"].startswith("approval.")]
    assert "approval.waiting_on_partner" in told and "approval.resumed" in told
    # decided at Wed 12:00: 28 h elapsed, 22 h on the clock, before the moved due time: no breach, 22 h to decision
    ledger.clock.set("2026-11-11T12:00:00Z")
    decided = cases.decide_case(ledger.rt, FINANCE, "approval", approval, "approved", "DN-1182 signed for 4")
    figures = workflow_metrics.figures([decided], Period("2026-11", ("2026-11",)), "2026-11-30T00:00:00Z")
    assert figures["approval_hours_to_decision"]["value"] == 22.0
    assert figures["approval_sla_breaches"]["value"] == 0


def test_only_the_items_partner_answers_and_only_its_queue_asks_and_bad_calls_change_nothing():
    ledger, dispute = _disputed()
    approval = dispute["approval_id"]
    with pytest.raises(Conflict):  # not waiting: nothing to answer
        case_waiting.partner_reply(ledger.rt, PARTNER1, "approval", approval, "here")
    with pytest.raises(Forbidden):  # not its queue
        case_waiting.ask_partner(ledger.rt, CHANNEL, "approval", approval, QUESTION)
    with pytest.raises(Forbidden):  # a partner does not put an item on hold
        case_waiting.ask_partner(ledger.rt, PARTNER1, "approval", approval, QUESTION)
    with pytest.raises(RuleViolation):
        case_waiting.ask_partner(ledger.rt, FINANCE, "approval", approval, "   ")
    ledger.clock.set("2026-11-10T10:00:00Z")
    case_waiting.ask_partner(ledger.rt, FINANCE, "approval", approval, QUESTION)
    before = cases.get_case(ledger.rt, "northwind", "approval", approval)
    with pytest.raises(NotFound) as rival:  # another partner's item is one that does not exist
        case_waiting.partner_reply(ledger.rt, PARTNER2, "approval", approval, "it is mine")
    with pytest.raises(NotFound) as missing:
        case_waiting.partner_reply(ledger.rt, PARTNER2, "approval", "apr_01JBNW0000000000000000000Z", "x")
    assert str(rival.value).replace(approval, "X") == str(missing.value).replace("apr_01JBNW0000000000000000000Z", "X")
    with pytest.raises(NotFound):  # the id of an approval asked as an exception
        case_waiting.partner_reply(ledger.rt, PARTNER1, "exception", approval, "x")
    with pytest.raises(Forbidden):  # staff do not answer for the partner
        case_waiting.partner_reply(ledger.rt, FINANCE, "approval", approval, "x")
    with pytest.raises(Conflict):  # asked twice
        case_waiting.ask_partner(ledger.rt, FINANCE, "approval", approval, QUESTION)
    assert cases.get_case(ledger.rt, "northwind", "approval", approval) == before


def test_an_item_decided_while_it_waits_ends_its_pause_at_the_decision():
    # "measured from the time an item enters its queue until it is decided": rejected for want of an answer
    ledger, dispute = _disputed()
    ledger.clock.set("2026-11-10T10:00:00Z")
    case_waiting.ask_partner(ledger.rt, FINANCE, "approval", dispute["approval_id"], QUESTION)
    ledger.clock.set("2026-11-13T10:00:00Z")
    decided = cases.decide_case(ledger.rt, FINANCE, "approval", dispute["approval_id"], "rejected", "no answer")
    assert decided["status"] == "rejected" and decided["paused_seconds"] == 72 * 3600
    assert decided["pauses"][0]["reply"] is None and "waiting" not in decided
    assert sla_pause.clock_seconds(decided, "2026-11-13T10:00:00.000Z") == 2 * 3600


def test_a_business_day_sla_counts_the_wait_in_business_time_only():
    # PA-1.3 business days; asked Fri 2026-11-13 14:00, answered Mon 2026-11-16 10:00: Friday 14:00-24:00 (10 h) and
    # Monday 00:00-10:00 (10 h); the weekend stops no business-day clock. Due Fri 2026-11-20 10:00 + 20 business
    # hours: 14 h to Friday midnight, 6 h of Monday 23 Nov -> 2026-11-23 06:00.
    ledger = Ledger("2026-11-13T10:00:00Z")
    tenant, _ = tenants.load_tenant(ledger.rt, "northwind")
    calendar = BusinessCalendar.from_policy(tenant.policy)
    assert sla_pause.business_time(calendar, instant("2026-11-13T14:00:00Z"), instant("2026-11-16T10:00:00Z")) == \
        timedelta(hours=20)  # fmt: skip
    case = {"case_id": "apr_1", "kind": "approval", "status": "waiting_on_partner", "partner_id": P1,
            "due_at": "2026-11-20T10:00:00.000Z", "opened_at": "2026-11-13T10:00:00.000Z", "sla_business_days": 5,
            "waiting": {"since": "2026-11-13T14:00:00.000Z", "asked_by": "finance:key_fin", "question": "q"}}
    resumed = sla_pause.partner_replied(case, PARTNER1, "a", "2026-11-16T10:00:00.000Z", calendar)
    assert resumed["due_at"] == "2026-11-23T06:00:00.000Z" and resumed["status"] == "pending"
    assert resumed["pauses"][0]["sla_seconds"] == 20 * 3600 and resumed["paused_seconds"] == 68 * 3600


# --- SOP-1.3 / COP-1.3: moving an item ---------------------------------------------------------------------------
def test_an_exception_rerouted_to_another_queue_starts_a_new_clock_there_and_keeps_its_entry_time():
    # SOP-1.3: "rerouting it to another queue starts a new clock for that queue and records the original entry time."
    # SOP-4.1: "An item that matches no category goes to channel_ops for triage within 8 hours"; out_of_scope_service
    # is customer_success's, 8 h. Entered triage Mon 2026-11-16 09:00, rerouted 11:00 -> due 19:00 (not 17:00); SOP-4.2
    # marks on the new clock: 75 % = 17:00, 100 % = 19:00, 200 % = Tue 03:00.
    from revgov.services import case_waiting as moves

    ledger = Ledger("2026-11-16T09:00:00Z")
    tenant, _ = tenants.load_tenant(ledger.rt, "northwind")
    case, changes = cases.open_case(ledger.rt, tenant.policy, kind="exception", category="no_such_category",
                                    subject_kind="ticket", subject_id="T-1", requested_by="system", partner_id=P1)
    ledger.rt.commit("northwind", changes)
    assert (case["queue"], case["due_at"]) == ("channel_ops", "2026-11-16T17:00:00.000Z")
    before = cases.get_case(ledger.rt, "northwind", "exception", case["case_id"])
    ledger.clock.set("2026-11-16T11:00:00Z")
    # territory_exception is channel_ops's too: "Moving an item within a queue keeps its clock" (COP-1.3)
    with pytest.raises(RuleViolation):
        moves.reroute_exception(ledger.rt, CHANNEL, case["case_id"], "territory_exception", "wrong box")
    with pytest.raises(RuleViolation):
        moves.reroute_exception(ledger.rt, CHANNEL, case["case_id"], "not_a_category", "x")
    with pytest.raises(Forbidden):  # only the exception's own queue moves it
        moves.reroute_exception(ledger.rt, FINANCE, case["case_id"], "out_of_scope_service", "x")
    assert cases.get_case(ledger.rt, "northwind", "exception", case["case_id"]) == before
    moved = moves.reroute_exception(ledger.rt, CHANNEL, case["case_id"], "out_of_scope_service", "on-site work")
    assert (moved["queue"], moved["category"], moved["opened_at"], moved["due_at"]) == (
        "customer_success", "out_of_scope_service", "2026-11-16T11:00:00.000Z", "2026-11-16T19:00:00.000Z")
    assert moved["entered_at"] == "2026-11-16T09:00:00.000Z"
    assert (moved["escalation"]["remind_at"], moved["escalation"]["lead_at"], moved["escalation"]["head_at"]) == (
        "2026-11-16T17:00:00.000Z", "2026-11-16T19:00:00.000Z", "2026-11-17T03:00:00.000Z")
    assert moved["reroutes"][0]["previous_due_at"] == "2026-11-16T17:00:00.000Z"
    assert [r for r in ledger.rt.store.audit_records("northwind") if r["action"] == "exception.rerouted"]
    success = Principal("northwind", Role.CUSTOMER_SUCCESS, "key_cs")
    with pytest.raises(Forbidden):  # channel ops no longer decides it
        cases.decide_case(ledger.rt, CHANNEL, "exception", case["case_id"], "resolved", "done")
    assert cases.decide_case(ledger.rt, success, "exception", case["case_id"], "resolved", "change order sent")


def test_an_approval_is_never_rerouted_its_category_decides_its_approver():
    ledger, dispute = _disputed()
    case, _ = cases.get_case(ledger.rt, "northwind", "approval", dispute["approval_id"])
    from revgov.domain import case_reroute
    from revgov.domain import cases as case_rules

    tenant, _ = tenants.load_tenant(ledger.rt, "northwind")
    route = case_rules.route_for(tenant.policy, "contract_deviation")
    with pytest.raises(RuleViolation):
        case_reroute.reroute(case, FINANCE, route, "finance", "legal should look", "2026-11-10T09:00:00.000Z", None)


def test_a_case_waiting_on_the_partner_is_no_breach_while_its_clock_stands_still():
    # SOP-1.3: paused "while an item is in the status "waiting on partner"": due Wed 08:00, waiting since Tue 10:00,
    # read on Thu: no breach; one that began to wait after its due time had passed was breached before it waited.
    period = Period("2026-11", ("2026-11",))
    base = {"kind": "approval", "status": "waiting_on_partner", "queue": "finance", "opened_at": "2026-11-10T08:00:00Z",
            "due_at": "2026-11-11T08:00:00.000Z", "decision": None}
    paused = {**base, "waiting": {"since": "2026-11-10T10:00:00.000Z"}}
    late = {**base, "waiting": {"since": "2026-11-11T09:00:00.000Z"}}
    assert workflow_metrics.figures([paused], period, "2026-11-12T08:00:00Z")["approval_sla_breaches"]["value"] == 0
    assert workflow_metrics.figures([late], period, "2026-11-12T08:00:00Z")["approval_sla_breaches"]["value"] == 1


def test_a_watchers_finding_waits_on_the_partner_too():
    """Every watcher reads `waiting_on_partner` as undecided (tests/unit/test_watchers_waiting.py), so its finding
    may wait on the partner like any exception (SOP-1.3 / COP-1.3)."""
    ledger = Ledger("2026-11-16T09:00:00Z")
    tenant, _ = tenants.load_tenant(ledger.rt, "northwind")
    case, changes = cases.open_case(ledger.rt, tenant.policy, kind="exception", category="territory_exception",
                                    subject_kind="deal", subject_id="dl_1", requested_by="watcher", partner_id=P1)
    ledger.rt.commit("northwind", changes)
    asked = case_waiting.ask_partner(ledger.rt, CHANNEL, "exception", case["case_id"], QUESTION)
    assert asked["status"] == "waiting_on_partner" and asked["waiting"]["question"] == QUESTION


def test_contoso_counts_the_wait_on_the_partners_own_business_days():
    # CPA-1.3: business days exclude "public holidays ... for the Partner's country of establishment" (AT: 8 Dec).
    # COP-6.3: the appeal "within 15 business days": opened Fri 2026-12-04 09:00 -> 7, (8), 9..11, 14..18, 21..24,
    # (25, 26), 28, 29 Dec -> Tue 2026-12-29 09:00. Asked Fri 14:00, answered Wed 9 Dec 10:00: Friday 10 h, Monday 24 h,
    # (Tuesday a holiday), Wednesday 10 h = 44 business hours -> 29 Dec 09:00 + 15 h + 24 h + 5 h = Thu 31 Dec 05:00.
    from revgov.ports import Changes, Put

    ledger = Ledger("2026-12-04T09:00:00Z", tenant="contoso")
    partner = {"partner_id": "ptr_AT", "status": "active", "tier": "authorized", "country": "AT"}
    ledger.rt.store.commit("contoso", Changes(puts=[Put("PARTNER", "ptr_AT", partner)]))
    tenant, _ = tenants.load_tenant(ledger.rt, "contoso")
    at_partner = Principal("contoso", Role.PARTNER, "key_at", "ptr_AT")
    case, changes = cases.open_case(ledger.rt, tenant.policy, kind="approval",
                                    category="invoice_dispute_appeal_finance", subject_kind="invoice_dispute_appeal",
                                    subject_id="ivd_X", requested_by=at_partner, partner_id="ptr_AT",
                                    country="AT")  # fmt: skip
    ledger.rt.commit("contoso", changes)
    assert case["due_at"] == "2026-12-29T09:00:00.000Z"
    ledger.clock.set("2026-12-04T14:00:00Z")
    case_waiting.ask_partner(ledger.rt, Principal("contoso", Role.FINANCE, "key_cf"), "approval", case["case_id"], "?")
    ledger.clock.set("2026-12-09T10:00:00Z")
    answered = case_waiting.partner_reply(ledger.rt, at_partner, "approval", case["case_id"], "the POD")
    assert answered["due_at"] == "2026-12-31T05:00:00.000Z"
