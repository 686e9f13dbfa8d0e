"""Cancellation and quantity-reduction credits above the credit note limit wait for finance (issue 24 follow-up).

SOP-2.5: "Credit notes above USD 10,000.00 require approval by a member of the finance queue other than the
preparer." ... "An error is corrected by a credit note referencing the original invoice and lines, followed where
needed by a corrected charge on the next open invoice with the original service period."
SOP-8.1: "Automated workflows may prepare invoices, rate usage, calculate rebates, check quotes against the policy and
route exceptions. They may not approve exceptions, issue credit notes above USD 10,000.00 or change the policy."
SOP-2.4: "The credit under PA-10.4 counts the full days after the effective day to the last day of the service
period; the effective day itself is not credited. The credit is monthly price x unused full days / days in month,
rounded once to two places, half to even, and is issued as a credit note line referencing the original invoice line."
SOP-2.2: "After the month ends, Finance validates each open invoice: ... subscription lines match the active
subscription records ... An issued invoice is immutable; corrections are made only under SOP-2.5."
SOP-2.1: "The monthly invoice must be finalised and issued within 48 hours after the end of the Billing Month."

Amounts by hand: NW-SEC-SUITE lists at 300.00 a seat a month (PA-6.1). 60 seats are 18,000.00 a month; cancelled
with effect 10 November (30 days) they are credited 18,000.00 x 20 / 30 = 12,000.00 (> 10,000.00: held). A reduction
of 50 seats effective 10 November is 300.00 x 50 x 20 / 30 = 10,000.00 exactly (not "above": posted at once); of 51
seats 300.00 x 51 x 20 / 30 = 10,200.00 (held). Contoso (COP-2.4 "Credit notes above EUR 5,000.00 are approved by a
finance queue member other than the preparer"). In-memory store, fixed clock.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from memory_store import Ledger
from revgov.domain import billing as core
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict, Forbidden, RuleViolation
from revgov.domain.rules import Rule
from revgov.services import billing, cases, credit_notes, month_close, subscription_billing

P1 = "ptr_01JBNWPARTNER0000000000001"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
CHANNEL = Principal("northwind", Role.CHANNEL_OPS, "key_ops")


def _activate(ledger: Ledger, seats: int, on: str) -> None:
    data = {"partner_id": P1, "subscription_id": "SUB-BIG", "sku": "NW-SEC-SUITE", "quantity": seats,
            "activated_on": on, "order_ref": "SO-BIG"}  # fmt: skip
    assert ledger.bill("subscription.activated", data, occurred_at=f"{on}T09:00:00Z")["status"] == "processed"


def _cancel(ledger: Ledger, effective_on: str, at: str, occurred_at: str | None = None) -> dict:
    ledger.clock.set(at)
    data = {"partner_id": P1, "subscription_id": "SUB-BIG", "effective_on": effective_on}
    answer = ledger.bill("subscription.cancelled", data, occurred_at=occurred_at or at)
    assert answer["status"] == "processed", answer
    return answer


def _change(ledger: Ledger, quantity: int, effective_on: str, at: str) -> dict:
    ledger.clock.set(at)
    data = {"partner_id": P1, "subscription_id": "SUB-BIG", "quantity": quantity, "effective_on": effective_on}
    answer = ledger.bill("subscription.changed", data, occurred_at=at)
    assert answer["status"] == "processed", answer
    return answer


def _lines(ledger: Ledger, period: str) -> list[tuple[str, str, str]]:
    return [(x["kind"], x["amount"], x["service_period"]["start"]) for x in ledger.invoice(P1, period)["lines"]]


def _holds(ledger: Ledger) -> list[dict]:
    return [s.data for s in ledger.rt.store.query(ledger.tenant_id, credit_notes.HOLDS, limit=100).items]


def _record(ledger: Ledger) -> dict:
    stored = ledger.rt.store.get(ledger.tenant_id, billing.SUBSCRIPTIONS, "SUB-BIG")
    assert stored is not None
    return stored.data


def _audited(ledger: Ledger, action: str) -> list[dict]:
    return [r for r in ledger.rt.store.audit_records(ledger.tenant_id) if r["action"] == action]


def _charged_november(ledger: Ledger) -> None:
    """60 seats from 1 October; the run charges November in advance (18,000.00)."""
    _activate(ledger, 60, "2026-10-01")
    ledger.clock.set("2026-11-01T00:05:00Z")
    assert subscription_billing.run(ledger.rt, "northwind")["charged"] == 1
    assert _lines(ledger, "2026-11") == [("subscription", "18000.00", "2026-11-01")]


# --- the pure core --------------------------------------------------------------------------------------------------
def _record_with(held_status: str | None) -> dict:
    """60 x 300.00 from 1 October, cancelled with effect 10 November, November charged 18,000.00."""
    record = {"subscription_id": "SUB-BIG", "partner_id": P1, "status": "cancelled", "sku": "NW-SEC-SUITE",
              "quantity": 60, "unit_price": "300.00", "monthly_price": "18000.00", "activated_on": "2026-10-01",
              "cancelled_on": "2026-11-10", "changes": []}  # fmt: skip
    if held_status:
        record["held"] = [{"hold_id": "cnh_1", "approval_id": "apr_1", "month": "2026-11", "amount": "-12000.00",
                           "status": held_status}]  # fmt: skip
    return record


CHARGE = {"partner_id": P1, "amount": "18000.00", "detail": {"subscription_id": "SUB-BIG"},
          "service_period": {"start": "2026-11-01", "end": "2026-11-30"}}  # fmt: skip


def test_reconciliation_counts_a_held_credit_as_pending_and_a_rejected_one_as_released():
    # SOP-2.4: 18,000.00 x 20 / 30 = 12,000.00 credited; the month's record says 18,000.00 - 12,000.00 = 6,000.00
    assert core.expected_net(_record_with(None), "2026-11") == Decimal("6000.00")
    (missing,) = core.reconcile([_record_with(None)], [CHARGE], "2026-11")  # no hold: a real difference
    assert missing.as_dict()["difference"] == "12000.00" and "pending_approval" not in missing.as_dict()
    assert core.reconcile([_record_with("pending_approval")], [CHARGE], "2026-11") == []
    assert core.reconcile([_record_with("rejected")], [CHARGE], "2026-11") == []
    assert core.pending_credits([_record_with("pending_approval")], "2026-11")[0]["approval_id"] == "apr_1"
    assert core.pending_credits([_record_with("rejected")], "2026-11") == []
    # a pending credit does not hide any other difference: the charge missing too is still a mismatch
    (both,) = core.reconcile([_record_with("pending_approval")], [], "2026-11")
    assert (both.as_dict()["pending_approval"], both.as_dict()["difference"]) == ("-12000.00", "-18000.00")


def test_a_held_line_reads_back_as_it_was_drafted():
    draft = core.LineDraft(
        kind="credit", description="Credit", family="security", sku="NW-SEC-SUITE", quantity=Decimal("60"),
        unit_price=Decimal("300.00"), amount=Decimal("-12000.00"), cost=Decimal("-6600.00"),
        service_period=core.ServicePeriod(date(2026, 11, 11), date(2026, 11, 30)), order_ref="SO-BIG",
        rules=(Rule("BILL-CANCEL", "SOP-2.4"),), references_line="inv_1.1", detail={"subscription_id": "SUB-BIG"},
    )  # fmt: skip
    assert core.draft_from_dict(core.draft_as_dict(draft)) == draft


# --- ERP cancellation ----------------------------------------------------------------------------------------------
def test_a_cancellation_credit_above_the_limit_is_held_not_posted_and_the_month_knows_it_is_pending():
    ledger = Ledger("2026-10-01T10:00:00Z")
    _charged_november(ledger)
    answer = _cancel(ledger, "2026-11-10", "2026-11-10T18:00:00Z")
    assert "held for finance" in answer["reason"] and "SOP-2.5" in answer["reason"]
    assert _lines(ledger, "2026-11") == [("subscription", "18000.00", "2026-11-01")]  # nothing posted while it waits
    (held,) = _holds(ledger)
    assert (held["status"], held["amount"], held["reason"], held["clause"]) == (
        "pending_approval", "12000.00", "cancellation", "SOP-2.5")  # fmt: skip
    assert held["prepared_by"] == "system:billing" and held["line_id"] == ledger.invoice(P1, "2026-11")["lines"][0][
        "line_id"]  # fmt: skip
    case, _ = cases.get_case(ledger.rt, "northwind", "approval", held["approval_id"])
    assert (case["category"], case["queue"], case["status"]) == ("credit_note_approval", "finance", "pending")
    assert _audited(ledger, "credit_note.held")[0]["clauses"] == ["SOP-2.5"]
    # SOP-2.2: the month's subscription lines are owed a credit the record knows: pending, not a mismatch
    ledger.clock.set("2026-12-01T00:05:00Z")
    assert subscription_billing.reconcile(ledger.rt, "northwind", "2026-11") == []
    assert not [c for c in ledger.exceptions() if c["category"] == "subscription_mismatch"]
    (pending,) = credit_notes.pending_for_month(ledger.rt, "northwind", P1, "2026-11")
    assert (pending["amount"], pending["approval_id"]) == ("-12000.00", held["approval_id"])
    # ... and the month cannot be issued as if it had posted (SOP-2.2 validation before issue)
    with pytest.raises(Conflict) as refused:
        billing.finalize_invoice(ledger.rt, FINANCE, ledger.invoice(P1, "2026-11")["invoice_id"])
    assert held["approval_id"] in refused.value.detail and "SOP-2.2" in refused.value.detail
    assert ledger.invoice(P1, "2026-11")["status"] == "draft"


def test_a_draft_left_past_the_deadline_for_its_pending_credit_is_the_month_close_exception_naming_the_approval():
    # SOP-2.1: "The monthly invoice must be finalised and issued within 48 hours after the end of the Billing Month":
    # a credit finance leaves undecided does not excuse the late draft; the exception says what it waits for.
    ledger = Ledger("2026-10-01T10:00:00Z")
    _charged_november(ledger)
    _cancel(ledger, "2026-11-10", "2026-11-10T18:00:00Z")
    (held,) = _holds(ledger)
    ledger.clock.set("2026-12-03T06:00:00Z")  # 54 h after the end of November
    month_close.watch(ledger.rt, "northwind")
    late = {c["context"]["period"]: c for c in ledger.exceptions() if c["category"] == "invoice_sla_breach"}
    assert late["2026-11"]["context"]["pending_credit_approvals"] == [held["approval_id"]]
    assert any(held["approval_id"] in r["message"] and "SOP-2.5" in r["message"] for r in late["2026-11"]["reasons"])
    assert "pending_credit_approvals" not in late["2026-10"]["context"]  # October owes no credit


def test_approved_the_credit_posts_on_the_months_open_invoice_with_its_service_period_and_the_month_reconciles():
    ledger = Ledger("2026-10-01T10:00:00Z")
    _charged_november(ledger)
    _cancel(ledger, "2026-11-10", "2026-11-10T18:00:00Z")
    (held,) = _holds(ledger)
    with pytest.raises(Forbidden):  # "a member of the finance queue": not channel ops
        cases.decide_case(ledger.rt, CHANNEL, "approval", held["approval_id"], "approved", "ok")
    ledger.clock.set("2026-12-01T09:00:00Z")  # decided after the month ended, before its invoice is issued
    cases.decide_case(ledger.rt, FINANCE, "approval", held["approval_id"], "approved", "cancellation confirmed")
    november = ledger.invoice(P1, "2026-11")
    charge, credit = november["lines"]
    assert (credit["kind"], credit["amount"], credit["references_line"]) == ("credit", "-12000.00", charge["line_id"])
    assert credit["service_period"] == {"start": "2026-11-11", "end": "2026-11-30"}
    assert (credit["detail"]["approved_by"], credit["detail"]["prepared_by"]) == (FINANCE.actor, "system:billing")
    assert november["total"] == "6000.00"  # 18,000.00 - 12,000.00
    (after,) = _holds(ledger)
    assert after["status"] == "posted" and after["credit_note_line_id"] == credit["line_id"]
    assert _record(ledger)["held"][0]["status"] == "posted"
    assert [r["outcome"] for r in _audited(ledger, "credit_note.posted")] == ["posted"]
    assert subscription_billing.reconcile(ledger.rt, "northwind", "2026-11") == []
    assert credit_notes.pending_for_month(ledger.rt, "northwind", P1, "2026-11") == []
    view = subscription_billing.get_subscription(ledger.rt, FINANCE, "SUB-BIG")
    assert [(m["month"], m["net"]) for m in view["months"]] == [("2026-10", "18000.00"), ("2026-11", "6000.00")]
    ledger.clock.set("2026-12-01T10:00:00Z")
    assert billing.finalize_invoice(ledger.rt, FINANCE, november["invoice_id"])["status"] == "finalized"


def test_rejected_nothing_posts_the_month_no_longer_expects_the_credit_and_the_rejection_is_audited():
    ledger = Ledger("2026-10-01T10:00:00Z")
    _charged_november(ledger)
    _cancel(ledger, "2026-11-10", "2026-11-10T18:00:00Z")
    (held,) = _holds(ledger)
    ledger.clock.set("2026-11-12T09:00:00Z")
    cases.decide_case(ledger.rt, FINANCE, "approval", held["approval_id"], "rejected", "seats were used to month end")
    assert _lines(ledger, "2026-11") == [("subscription", "18000.00", "2026-11-01")]
    (after,) = _holds(ledger)
    assert after["status"] == "rejected" and after["decision"]["note"] == "seats were used to month end"
    assert _record(ledger)["held"][0]["status"] == "rejected"
    trail = _audited(ledger, "credit_note.rejected")
    assert trail and trail[0]["inputs"]["posted"] == "0.00" and trail[0]["clauses"] == ["SOP-2.5"]
    ledger.clock.set("2026-12-01T10:00:00Z")
    assert subscription_billing.reconcile(ledger.rt, "northwind", "2026-11") == []  # released, not a mismatch
    november = ledger.invoice(P1, "2026-11")
    assert billing.finalize_invoice(ledger.rt, FINANCE, november["invoice_id"])["total"] == "18000.00"


def test_a_credit_for_a_month_already_issued_posts_on_the_next_open_invoice_with_the_original_service_period():
    # SOP-2.5: "followed where needed by a corrected charge on the next open invoice with the original service period"
    ledger = Ledger("2026-10-01T10:00:00Z")
    _charged_november(ledger)
    ledger.clock.set("2026-12-01T10:00:00Z")
    billing.finalize_invoice(ledger.rt, FINANCE, ledger.invoice(P1, "2026-11")["invoice_id"])
    # requested on 2026-11-10 (the source system's time, SOP-2.1) and received on 2026-12-03: SOP-2.4 "A cancellation
    # [...] requested on a given day takes effect at the end of that day" (requested on 2026-12-03 instead, it would
    # take effect then: tests/scenarios/test_clause_audit7.py)
    _cancel(ledger, "2026-11-10", "2026-12-03T10:00:00Z", occurred_at="2026-11-10T18:00:00Z")
    (held,) = _holds(ledger)
    assert held["amount"] == "12000.00"
    ledger.clock.set("2026-12-04T10:00:00Z")
    cases.decide_case(ledger.rt, FINANCE, "approval", held["approval_id"], "approved", "ok")
    assert ("credit", "-12000.00", "2026-11-11") in _lines(ledger, "2026-12")
    assert subscription_billing.reconcile(ledger.rt, "northwind", "2026-11") == []


def test_a_cancellation_credit_of_a_small_subscription_still_posts_at_once():
    # 2 seats: 600.00 x 20 / 30 = 400.00, far below the limit: no approval, as before
    ledger = Ledger("2026-10-01T10:00:00Z")
    _activate(ledger, 2, "2026-10-01")
    ledger.clock.set("2026-11-01T00:05:00Z")
    subscription_billing.run(ledger.rt, "northwind")
    _cancel(ledger, "2026-11-10", "2026-11-10T18:00:00Z")
    assert ("credit", "-400.00", "2026-11-11") in _lines(ledger, "2026-11") and _holds(ledger) == []


# --- quantity reductions -------------------------------------------------------------------------------------------
def test_a_reduction_credit_of_exactly_10000_posts_at_once():
    ledger = Ledger("2026-11-01T10:00:00Z")
    _activate(ledger, 60, "2026-11-01")  # 18,000.00 for November (activated on the first: the full price, SOP-2.3)
    _change(ledger, 10, "2026-11-10", "2026-11-10T18:00:00Z")  # 300.00 x 50 x 20 / 30 = 10,000.00
    assert ("credit", "-10000.00", "2026-11-11") in _lines(ledger, "2026-11")
    assert _holds(ledger) == []


def test_a_reduction_credit_above_the_limit_is_held_and_approval_posts_it_as_the_quantity_change():
    ledger = Ledger("2026-11-01T10:00:00Z")
    _activate(ledger, 60, "2026-11-01")
    answer = _change(ledger, 9, "2026-11-10", "2026-11-10T18:00:00Z")  # 300.00 x 51 x 20 / 30 = 10,200.00
    assert "held for finance" in answer["reason"]
    assert _lines(ledger, "2026-11") == [("subscription", "18000.00", "2026-11-01")]
    (held,) = _holds(ledger)
    assert held["amount"] == "10200.00"
    assert _record(ledger)["quantity"] == 9  # the change itself is recorded; only its credit waits
    ledger.clock.set("2026-12-01T00:05:00Z")
    subscription_billing.run(ledger.rt, "northwind")  # December at the new quantity: 9 x 300.00
    assert _lines(ledger, "2026-12") == [("subscription", "2700.00", "2026-12-01")]
    assert subscription_billing.reconcile(ledger.rt, "northwind", "2026-11") == []
    cases.decide_case(ledger.rt, FINANCE, "approval", held["approval_id"], "approved", "seats released")
    credit = ledger.invoice(P1, "2026-11")["lines"][-1]
    assert (credit["kind"], credit["amount"]) == ("credit", "-10200.00")
    assert credit["detail"]["quantity_change"] == {"from": 60, "to": 9}
    assert _record(ledger)["adjusted"][-1]["line_id"] == credit["line_id"]
    assert subscription_billing.reconcile(ledger.rt, "northwind", "2026-11") == []


# --- the monthly billing run (an automated workflow, SOP-8.1) ------------------------------------------------------
def test_the_run_holds_a_cancellation_credit_above_the_limit_for_a_month_it_charges():
    ledger = Ledger("2026-10-01T10:00:00Z")
    _activate(ledger, 60, "2026-10-01")
    _cancel(ledger, "2026-11-10", "2026-10-25T10:00:00Z")  # known before November is charged: no credit yet
    assert _holds(ledger) == []
    ledger.clock.set("2026-11-01T00:05:00Z")
    assert subscription_billing.run(ledger.rt, "northwind")["charged"] == 1
    assert _lines(ledger, "2026-11") == [("subscription", "18000.00", "2026-11-01")]  # the run did not issue it
    (held,) = _holds(ledger)
    assert (held["amount"], held["submitted_by"]) == ("12000.00", "system:billing")
    assert subscription_billing.run(ledger.rt, "northwind")["charged"] == 0 and len(_holds(ledger)) == 1  # once
    cases.decide_case(ledger.rt, FINANCE, "approval", held["approval_id"], "approved", "ok")
    assert sorted(_lines(ledger, "2026-11")) == [
        ("credit", "-12000.00", "2026-11-11"),
        ("subscription", "18000.00", "2026-11-01"),
    ]
    assert subscription_billing.reconcile(ledger.rt, "northwind", "2026-11") == []


def test_the_run_holds_a_reduction_above_the_limit_known_before_the_month_is_charged():
    ledger = Ledger("2026-10-01T10:00:00Z")
    _activate(ledger, 60, "2026-10-01")
    _change(ledger, 9, "2026-11-10", "2026-10-20T10:00:00Z")  # no November charge yet: nothing to prorate
    ledger.clock.set("2026-11-01T00:05:00Z")
    subscription_billing.run(ledger.rt, "northwind")
    assert _lines(ledger, "2026-11") == [("subscription", "18000.00", "2026-11-01")]
    (held,) = _holds(ledger)
    assert held["amount"] == "10200.00"
    assert subscription_billing.reconcile(ledger.rt, "northwind", "2026-11") == []


# --- contoso --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("effective_on", "credit", "held"),
    [
        ("2026-11-20", "5000.00", False),  # 25 x 600.00 = 15,000.00 x 10 / 30 = 5,000.00: not above EUR 5,000.00
        ("2026-11-19", "5500.00", True),  # 15,000.00 x 11 / 30 = 5,500.00: above it
    ],
)
def test_contoso_holds_a_cancellation_credit_above_eur_5000(effective_on, credit, held):
    # CT-DATA-WORKSPACE lists at EUR 600.00 a month (CPA-6.1); COP-2.3: "Cancellation credits under CPA-10.3 count
    # only the full days after the effective day"; COP-2.4: "Credit notes above EUR 5,000.00 are approved by a finance
    # queue member other than the preparer"; COP-8.1: workflows "may not ... issue credit notes above EUR 5,000.00".
    ledger = Ledger("2026-11-01T10:00:00Z", tenant="contoso")
    data = {"partner_id": P1, "subscription_id": "SUB-CT", "sku": "CT-DATA-WORKSPACE", "quantity": 25,
            "activated_on": "2026-11-01", "order_ref": "SO-CT"}  # fmt: skip
    assert ledger.bill("subscription.activated", data, occurred_at="2026-11-01T09:00:00Z")["status"] == "processed"
    ledger.clock.set(f"{effective_on}T18:00:00Z")
    cancel = {"partner_id": P1, "subscription_id": "SUB-CT", "effective_on": effective_on}
    assert ledger.bill("subscription.cancelled", cancel, occurred_at=f"{effective_on}T17:00:00Z")["status"] == (
        "processed")  # fmt: skip
    credits = [x["amount"] for x in ledger.invoice(P1, "2026-11")["lines"] if x["kind"] == "credit"]
    if held:
        (hold,) = _holds(ledger)
        assert (hold["amount"], hold["currency"], hold["clause"], credits) == (credit, "EUR", "COP-2.4", [])
    else:
        assert (_holds(ledger), credits) == ([], [f"-{credit}"])


def test_bad_decisions_change_nothing_and_a_decided_credit_is_not_decided_again():
    # Tried: a partner key and channel ops deciding (403), a rejection without a reason (refused), a second decision
    # after the approval (refused): the credit posts once.
    ledger = Ledger("2026-10-01T10:00:00Z")
    _charged_november(ledger)
    _cancel(ledger, "2026-11-10", "2026-11-10T18:00:00Z")
    (held,) = _holds(ledger)
    partner = Principal("northwind", Role.PARTNER, "key_p1", P1)
    for stranger in (partner, CHANNEL):
        with pytest.raises(Forbidden):
            cases.decide_case(ledger.rt, stranger, "approval", held["approval_id"], "approved", "ok")
    with pytest.raises(RuleViolation):
        cases.decide_case(ledger.rt, FINANCE, "approval", held["approval_id"], "rejected", " ")
    assert _holds(ledger)[0]["status"] == "pending_approval" and _record(ledger)["held"][0]["status"] == (
        "pending_approval")  # fmt: skip
    assert _lines(ledger, "2026-11") == [("subscription", "18000.00", "2026-11-01")]
    cases.decide_case(ledger.rt, FINANCE, "approval", held["approval_id"], "approved", "ok")
    with pytest.raises((Conflict, RuleViolation)):
        cases.decide_case(ledger.rt, FINANCE, "approval", held["approval_id"], "rejected", "changed my mind")
    assert [x[1] for x in _lines(ledger, "2026-11")] == ["18000.00", "-12000.00"]
