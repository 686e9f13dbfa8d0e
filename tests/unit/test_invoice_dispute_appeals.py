"""Invoice-dispute deadlines in business days (SOP-6.1 / COP-6.1) and appeals (SOP-6.3 / COP-6.3).

Written from the clauses, quoted; every instant is hand-counted on the northwind calendar (PA-1.3: Monday to Friday,
the program's holidays: 2026-11-11 and 2026-11-26 among them). In-memory store, fixed clock.

SOP-6.1: "(1) the dispute is logged as an invoice_dispute exception and acknowledged within 1 business day; ... (3)
Finance decides within 10 business days". SOP-6.3: "A dispute is decided as upheld, partially upheld or rejected.
Every decision states the reason, ... and is recorded in the audit log. ... The Partner may appeal once, within 10
business days of the decision; the appeal is decided jointly by the head of Finance and Legal."
COP-6.3: "A Partner may appeal a dispute decision once, within 10 business days, through the Partner Portal. The
appeal is decided by the head of Finance together with Legal within 15 business days."
"""

from __future__ import annotations

import pytest
from test_invoice_disputes import FINANCE, FINANCE2, P1, P2, PARTNER1, PARTNER2  # the sample's partners and keys

from memory_store import Ledger
from revgov.domain import cases as case_rules
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict, Forbidden, NotFound, RuleViolation
from revgov.services import cases, credit_notes, invoice_dispute_appeals, invoice_disputes, tenants

FINANCE3 = Principal("northwind", Role.FINANCE, "key_fin3")
LEGAL = Principal("northwind", Role.LEGAL, "key_legal")
REASON = {"reason": "delivery note DN-1182 shows 4 switches shipped, 5 billed"}


def _ship(ledger: Ledger, partner: str, quantity: int, *, on: str = "2026-10-12") -> None:
    answer = ledger.bill(
        "shipment.confirmed",
        {"partner_id": partner, "order_ref": f"SO-{partner[-1]}-{on}", "shipped_on": on,
         "lines": [{"sku": "NW-SW-24P", "quantity": quantity}]},
        occurred_at=f"{on}T09:00:00Z",
    )  # fmt: skip
    assert answer["status"] == "processed", answer


def _rejected(amount: str = "1250.00", quantity: int = 5) -> tuple[Ledger, dict]:
    """Partner 1's October invoice (NW-SW-24P at 1,250.00) issued 2 Nov; a line disputed Tuesday 10 Nov 08:00 and
    rejected by FINANCE on Thursday 12 Nov 08:00."""
    ledger = Ledger("2026-10-12T10:00:00Z")
    _ship(ledger, P1, quantity)
    _ship(ledger, P2, 1)
    ledger.clock.set("2026-11-02T09:00:00Z")
    for partner in (P1, P2):
        from revgov.services import billing

        billing.finalize_invoice(ledger.rt, FINANCE, ledger.invoice(partner, "2026-10")["invoice_id"])
    mine = ledger.invoice(P1, "2026-10")
    ledger.clock.set("2026-11-10T08:00:00Z")
    claim = {"line_no": 1, "amount": amount, "reason": "4 shipped, 5 billed"}
    dispute = invoice_disputes.file_dispute(ledger.rt, PARTNER1, mine["invoice_id"], claim)
    ledger.clock.set("2026-11-12T08:00:00Z")
    cases.decide_case(ledger.rt, FINANCE, "approval", dispute["approval_id"], "rejected", "the POD shows 5 delivered")
    return ledger, invoice_disputes.get_dispute(ledger.rt, PARTNER1, dispute["dispute_id"])


def _records(ledger: Ledger, action: str) -> list[dict]:
    return [r for r in ledger.rt.store.audit_records("northwind") if r["action"] == action]


# --- SOP-6.1 days ------------------------------------------------------------------------------------------------
def test_a_dispute_states_its_acknowledgement_and_decision_days_in_business_days():
    # Filed Tue 2026-11-10 08:00. "acknowledged within 1 business day": Wed 11 Nov is a holiday (PA-1.3 list) ->
    # Thu 12 Nov 08:00. "Finance decides within 10 business days": 12,13,16,17,18,19,20,23,24,25 -> Wed 25 Nov 08:00.
    _, dispute = _rejected()
    assert dispute["acknowledge_by"] == "2026-11-12T08:00:00.000Z"
    assert dispute["decide_by"] == "2026-11-25T08:00:00.000Z"


# --- SOP-6.3 appeals ---------------------------------------------------------------------------------------------
def test_the_partner_appeals_its_rejected_dispute_and_finance_and_legal_decide_it_jointly():
    ledger, dispute = _rejected()
    ledger.clock.set("2026-11-20T10:00:00Z")
    appealed = invoice_dispute_appeals.appeal_dispute(ledger.rt, PARTNER1, dispute["dispute_id"], REASON)
    appeal = appealed["appeal"]
    assert appealed["status"] == "appealed" and appeal["status"] == "open" and appeal["amount"] == "1250.00"
    # "within 10 business days of the decision" (Thu 12 Nov 08:00): 13,16,17,18,19,20,23,24,25, (26 holiday), 27
    assert appeal["window_closes_at"] == "2026-11-27T08:00:00.000Z"
    assert (appeal["rule_id"], appeal["clause"]) == ("BILL-INVOICE-DISPUTE-APPEAL", "SOP-6.3")
    assert appeal["decide_by"] is None  # SOP-6.3 names no day for the appeal's decision
    queues = [cases.get_case(ledger.rt, "northwind", "approval", a)[0]["queue"] for a in appeal["approval_ids"]]
    assert queues == ["finance", "legal"]  # "decided jointly by the head of Finance and Legal"
    finance_case, legal_case = appeal["approval_ids"]
    with pytest.raises(Forbidden):  # the person who rejected the dispute does not decide its appeal
        cases.decide_case(ledger.rt, FINANCE, "approval", finance_case, "approved", "re-read the POD")
    assert _records(ledger, "approval.decision_refused")
    cases.decide_case(ledger.rt, FINANCE2, "approval", finance_case, "approved", "DN-1182 is signed for 4")
    assert invoice_disputes.get_dispute(ledger.rt, PARTNER1, dispute["dispute_id"])["status"] == "appealed"
    from revgov.services import billing

    # one approval is not the joint decision: no credit note yet (no November invoice was even opened)
    assert ledger.rt.store.get("northwind", billing.INVOICE_KEYS, f"{P1}#2026-11") is None
    cases.decide_case(ledger.rt, LEGAL, "approval", legal_case, "approved", "PA-10.8 read as the partner says")
    upheld = invoice_disputes.get_dispute(ledger.rt, PARTNER1, dispute["dispute_id"])
    assert upheld["status"] == "upheld" and upheld["appeal"]["status"] == "upheld"
    assert upheld["resolution"]["appeal"] is True and upheld["resolution"]["credited"] == "1250.00"
    # SOP-6.1 (4) "a credit note is issued under SOP-2.5": on the next open invoice, referencing the line
    (note,) = [x for x in ledger.invoice(P1, "2026-11")["lines"] if x["kind"] == "credit_note"]
    assert note["amount"] == "-1250.00" and note["detail"]["reason"] == "dispute_outcome"
    assert upheld["resolution"]["credit_note_line_id"] == note["line_id"]
    (record,) = _records(ledger, "invoice_dispute.appeal_upheld")
    assert "SOP-6.3" in record["clauses"] and "SOP-6.1" in record["clauses"]
    # SOP-6.3: "Every decision states the reason, the amounts before and after"
    assert (record["inputs"]["line_amount"], record["inputs"]["disputed"], record["inputs"]["credited"]) == (
        "6250.00", "1250.00", "1250.00")
    assert record["inputs"]["note"] == "PA-10.8 read as the partner says"
    told = [(e["detail_type"], e["detail"]["appeal_status"]) for e in ledger.rt.publisher.published
            if e["detail_type"].startswith("invoice_dispute.appeal")]  # fmt: skip
    assert told == [("invoice_dispute.appealed", "open"), ("invoice_dispute.appeal_decided", "upheld")]


def test_the_appeal_is_rejected_by_the_first_rejection_and_the_decision_stands():
    ledger, dispute = _rejected()
    ledger.clock.set("2026-11-13T09:00:00Z")
    appeal = invoice_dispute_appeals.appeal_dispute(ledger.rt, PARTNER1, dispute["dispute_id"], REASON)["appeal"]
    with pytest.raises(RuleViolation):  # "Every decision states the reason"
        cases.decide_case(ledger.rt, LEGAL, "approval", appeal["approval_ids"][1], "approved", None)
    cases.decide_case(ledger.rt, LEGAL, "approval", appeal["approval_ids"][1], "rejected", "PA-10.8 is plain")
    stands = invoice_disputes.get_dispute(ledger.rt, PARTNER1, dispute["dispute_id"])
    assert stands["status"] == "rejected" and stands["appeal"]["status"] == "rejected"
    assert stands["resolution"]["outcome"] == "rejected"
    assert _records(ledger, "invoice_dispute.appeal_rejected")
    with pytest.raises(Conflict):  # "may appeal once"
        invoice_dispute_appeals.appeal_dispute(ledger.rt, PARTNER1, dispute["dispute_id"], REASON)


def test_the_same_person_never_gives_both_approvals_of_the_appeal():
    # SOP-4.3: "Where a request needs two approvals ... they must be given by two different people"
    ledger, dispute = _rejected()
    ledger.clock.set("2026-11-13T09:00:00Z")
    appeal = invoice_dispute_appeals.appeal_dispute(ledger.rt, PARTNER1, dispute["dispute_id"], REASON)["appeal"]
    cases.decide_case(ledger.rt, FINANCE2, "approval", appeal["approval_ids"][0], "approved", "signed for 4")
    both = Principal("northwind", Role.LEGAL, "key_fin2")  # the same key acting as legal
    with pytest.raises(Forbidden):
        cases.decide_case(ledger.rt, both, "approval", appeal["approval_ids"][1], "approved", "agreed")
    assert invoice_disputes.get_dispute(ledger.rt, PARTNER1, dispute["dispute_id"])["status"] == "appealed"


def test_an_appeal_after_the_window_an_open_or_upheld_dispute_staff_and_rivals_are_refused_and_change_nothing():
    ledger, dispute = _rejected()
    before = len(ledger.rt.store.audit_records("northwind"))
    ledger.clock.set("2026-11-27T08:00:01Z")  # one second after the 10th business day
    with pytest.raises(RuleViolation) as late:
        invoice_dispute_appeals.appeal_dispute(ledger.rt, PARTNER1, dispute["dispute_id"], REASON)
    assert late.value.extra["window_closed_at"] == "2026-11-27T08:00:00.000Z"
    ledger.clock.set("2026-11-27T08:00:00Z")
    with pytest.raises(NotFound):  # a rival's dispute is one that does not exist
        invoice_dispute_appeals.appeal_dispute(ledger.rt, PARTNER2, dispute["dispute_id"], REASON)
    with pytest.raises(NotFound):
        invoice_dispute_appeals.appeal_dispute(ledger.rt, PARTNER1, "ivd_01JBNW0000000000000000000Z", REASON)
    with pytest.raises(Forbidden):  # "The Partner may appeal"
        invoice_dispute_appeals.appeal_dispute(ledger.rt, FINANCE2, dispute["dispute_id"], REASON)
    assert len(ledger.rt.store.audit_records("northwind")) == before
    assert invoice_disputes.get_dispute(ledger.rt, PARTNER1, dispute["dispute_id"])["status"] == "rejected"
    # on the window's last instant it is still in time
    assert invoice_dispute_appeals.appeal_dispute(ledger.rt, PARTNER1, dispute["dispute_id"], REASON)["appeal"]


def test_an_open_dispute_is_not_appealable_and_a_line_under_appeal_takes_no_second_dispute():
    ledger, dispute = _rejected()
    ledger.clock.set("2026-11-13T09:00:00Z")
    invoice_dispute_appeals.appeal_dispute(ledger.rt, PARTNER1, dispute["dispute_id"], REASON)
    with pytest.raises(Conflict) as again:  # the appeal may still credit the line: no second credit meanwhile
        invoice_disputes.file_dispute(ledger.rt, PARTNER1, dispute["invoice_id"], {"line_no": 1, "reason": "again"})
    assert again.value.extra["open_dispute_id"] == dispute["dispute_id"]
    other = invoice_disputes.file_dispute(ledger.rt, PARTNER2, ledger.invoice(P2, "2026-10")["invoice_id"],
                                          {"line_no": 1, "reason": "never ordered"})  # fmt: skip
    with pytest.raises(Conflict):  # open: "only a decision can be appealed"
        invoice_dispute_appeals.appeal_dispute(ledger.rt, PARTNER2, other["dispute_id"], REASON)


def test_above_the_credit_note_limit_the_upheld_appeal_waits_for_a_finance_member_who_decided_nothing():
    # SOP-2.5: "Credit notes above USD 10,000.00 require approval by a member of the finance queue other than the
    # preparer." 9 switches x 1,250.00 = 11,250.00 disputed: the appeal moves no money itself.
    ledger, dispute = _rejected(amount="11250.00", quantity=9)
    ledger.clock.set("2026-11-13T09:00:00Z")
    appeal = invoice_dispute_appeals.appeal_dispute(ledger.rt, PARTNER1, dispute["dispute_id"], REASON)["appeal"]
    cases.decide_case(ledger.rt, FINANCE2, "approval", appeal["approval_ids"][0], "approved", "signed for none")
    cases.decide_case(ledger.rt, LEGAL, "approval", appeal["approval_ids"][1], "approved", "agreed")
    upheld = invoice_disputes.get_dispute(ledger.rt, PARTNER1, dispute["dispute_id"])
    held = credit_notes.get_hold(ledger.rt, FINANCE, upheld["resolution"]["credit_note_hold_id"])
    assert held["status"] == "pending_approval" and held["amount"] == "11250.00"
    assert upheld["resolution"]["credit_note_line_id"] is None
    approval = upheld["resolution"]["credit_note_approval_id"]
    for decided_something in (FINANCE2,):  # an appeal decider does not approve the credit it asked for
        with pytest.raises(Forbidden):
            cases.decide_case(ledger.rt, decided_something, "approval", approval, "approved", "ok")
    cases.decide_case(ledger.rt, FINANCE3, "approval", approval, "approved", "four eyes")
    (note,) = [x for x in ledger.invoice(P1, "2026-11")["lines"] if x["kind"] == "credit_note"]
    assert note["amount"] == "-11250.00"


def test_contoso_appeals_are_decided_within_15_business_days_by_finance_and_legal():
    # COP-6.3: "The appeal is decided by the head of Finance together with Legal within 15 business days."
    ledger = Ledger("2026-10-12T10:00:00Z", tenant="contoso")
    tenant, _ = tenants.load_tenant(ledger.rt, "contoso")
    appeal = tenant.policy["billing"]["invoice_disputes"]["appeal"]
    assert (appeal["clause"], appeal["within_business_days"], appeal["decide_within_business_days"]) == (
        "COP-6.3", 10, 15)
    routes = [case_rules.route_for(tenant.policy, c) for c in appeal["categories"]]
    assert [(r.queue, r.sla_business_days) for r in routes] == [("finance", 15), ("legal", 15)]
    # Opened Mon 2026-12-14 09:00: 15 business days skip 25 and 26 Dec (CPA-1.3 list): 15,16,17,18,21,22,23,24,
    # 28,29,30,31 Dec, 1 Jan is a holiday, 4,5,6 Jan -> Wed 2027-01-06 09:00 (6 Jan is no holiday on the program list)
    assert routes[0].due("2026-12-14T09:00:00.000Z") == "2027-01-06T09:00:00.000Z"


def test_no_late_payment_interest_on_the_amount_while_its_appeal_is_open():
    # SOP-6.1: "late payment interest does not accrue on the disputed amount while the dispute is open"; rejected on
    # appeal, the first decision (Thu 12 Nov) stands: the amount is owed from that day.
    from datetime import date
    from decimal import Decimal

    from revgov.services.billing import overdue

    ledger, dispute = _rejected()
    ledger.clock.set("2026-11-13T09:00:00Z")
    appeal = invoice_dispute_appeals.appeal_dispute(ledger.rt, PARTNER1, dispute["dispute_id"], REASON)["appeal"]
    (span,) = overdue.disputed_spans(ledger.rt, "northwind", dispute["invoice_id"])
    assert (span.amount, span.start, span.end) == (Decimal("1250.00"), date(2026, 11, 10), None)
    cases.decide_case(ledger.rt, LEGAL, "approval", appeal["approval_ids"][1], "rejected", "PA-10.8 is plain")
    (span,) = overdue.disputed_spans(ledger.rt, "northwind", dispute["invoice_id"])
    assert span.end == date(2026, 11, 12)


def test_finance_acknowledges_a_dispute_once_and_an_acknowledgement_after_the_business_day_is_late():
    # SOP-6.1: "(1) the dispute is logged as an invoice_dispute exception and acknowledged within 1 business day":
    # filed Tue 10 Nov 08:00, Wed 11 Nov a holiday -> by Thu 12 Nov 08:00 (test_a_dispute_states_...)
    ledger, dispute = _rejected()  # rejected Thu 12 Nov 08:00: no longer open
    with pytest.raises(Conflict):
        invoice_disputes.acknowledge_dispute(ledger.rt, FINANCE2, dispute["dispute_id"])
    other = invoice_disputes.file_dispute(ledger.rt, PARTNER2, ledger.invoice(P2, "2026-10")["invoice_id"],
                                          {"line_no": 1, "reason": "never ordered"})  # filed Thu 12 Nov 08:00
    assert other["acknowledge_by"] == "2026-11-13T08:00:00.000Z"
    with pytest.raises(Forbidden):
        invoice_disputes.acknowledge_dispute(ledger.rt, PARTNER2, other["dispute_id"])
    with pytest.raises(NotFound):
        invoice_disputes.acknowledge_dispute(ledger.rt, FINANCE, "ivd_01JBNW0000000000000000000Z")
    ledger.clock.set("2026-11-13T08:00:01Z")
    done = invoice_disputes.acknowledge_dispute(ledger.rt, FINANCE, other["dispute_id"])
    assert done["acknowledged"] == {"by": "finance:key_fin", "at": "2026-11-13T08:00:01.000Z", "late": True}
    with pytest.raises(Conflict):  # once
        invoice_disputes.acknowledge_dispute(ledger.rt, FINANCE, other["dispute_id"])
    assert _records(ledger, "invoice_dispute.acknowledged")
