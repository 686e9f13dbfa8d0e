"""Late-payment charges: prepared by Finance, issued only when another finance member approves, never charged twice.

PA-10.8: "Overdue amounts bear interest at 1.0% per month". SOP-4.3: "A requester can never approve their own
request." SOP-1.2: the finance queue handles invoicing. CPA-10.7: "a fixed compensation of EUR 40.00 per overdue
invoice" (once per invoice).

P1's September invoice (2 x NW-SRV-R2 = 10,400.00) is issued 2026-10-01, due 2026-10-31 (net 30, PA-6.7).
- Through 2026-11-30: November 1..30, 30 of 30 days: 10,400.00 x 1% = 104.00.
- Through 2026-12-01 the interest is 107.35 (104.00 + 10,400.00 x 1% x 1/31 = 3.3548...); charged after the first,
  the second charge is 107.35 - 104.00 = 3.35: the two add up to the interest accrued, rounded once.
(Figures worked by hand before the code.)
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from overdue_support import AS_P1, AS_P2, P1, published, september
from revgov.domain.access import Principal, Role
from revgov.domain.billing import overdue as core
from revgov.domain.errors import Conflict, Forbidden, MalformedRequest, NotFound, RuleViolation
from revgov.services import cases
from revgov.services.billing import overdue, overdue_charges

PREPARER = Principal("northwind", Role.FINANCE, "key_fin1")
APPROVER = Principal("northwind", Role.FINANCE, "key_fin2")


def test_a_charge_is_issued_only_when_another_finance_member_approves_it():
    ledger, invoice_id = september()
    ledger.clock.set("2026-12-01T08:00:00Z")
    charge = overdue_charges.prepare_charge(ledger.rt, PREPARER, {"invoice_id": invoice_id, "through": "2026-11-30"})
    assert (charge["status"], charge["interest"], charge["compensation"], charge["total"]) == (
        "pending_approval", "104.00", "0.00", "104.00")  # fmt: skip
    assert charge["queue"] == "finance" and charge["clause"] == "PA-10.8"
    assert published(ledger, "late_payment_charge.issued") == []  # never charged silently
    with pytest.raises(Forbidden):  # SOP-4.3: not by whoever prepared it
        cases.decide_case(ledger.rt, PREPARER, "approval", charge["approval_id"], "approved", "mine")
    cases.decide_case(ledger.rt, APPROVER, "approval", charge["approval_id"], "approved", "checked the ledger")
    issued = overdue_charges.get_charge(ledger.rt, AS_P1, charge["charge_id"])
    assert issued["status"] == "issued" and issued["decision"]["note"] == "checked the ledger"
    [event] = published(ledger, "late_payment_charge.issued")
    assert (event["detail"]["charge_id"], event["detail"]["total"]) == (charge["charge_id"], "104.00")
    with pytest.raises(NotFound):  # another partner's charge is one that does not exist
        overdue_charges.get_charge(ledger.rt, AS_P2, charge["charge_id"])
    row = overdue.overdue_statement(ledger.rt, PREPARER, partner_id=P1, as_of="2026-12-01")["invoices"][0]
    assert row["charged"] == {"interest": "104.00", "compensation_charged": False,
                              "charge_ids": [charge["charge_id"]], "open_charge_id": None}  # fmt: skip
    audit = [r["action"] for r in ledger.rt.store.audit_records("northwind") if "late_payment_charge" in r["action"]]
    assert audit == ["late_payment_charge.prepared", "late_payment_charge.issued"]


def test_a_second_charge_takes_only_what_was_not_charged_and_adds_up_to_the_accrued_interest():
    ledger, invoice_id = september()
    ledger.clock.set("2026-12-01T08:00:00Z")
    first = overdue_charges.prepare_charge(ledger.rt, PREPARER, {"invoice_id": invoice_id, "through": "2026-11-30"})
    cases.decide_case(ledger.rt, APPROVER, "approval", first["approval_id"], "approved", "ok")
    second = overdue_charges.prepare_charge(ledger.rt, PREPARER, {"invoice_id": invoice_id})  # through today
    assert (second["through"], second["interest"]) == ("2026-12-01", "3.35")
    with pytest.raises(Conflict):  # one open charge per invoice
        overdue_charges.prepare_charge(ledger.rt, PREPARER, {"invoice_id": invoice_id})
    cases.decide_case(ledger.rt, APPROVER, "approval", second["approval_id"], "approved", "ok")
    assert Decimal(first["interest"]) + Decimal(second["interest"]) == Decimal("107.35")
    with pytest.raises(RuleViolation):  # nothing left to charge through the same day
        overdue_charges.prepare_charge(ledger.rt, PREPARER, {"invoice_id": invoice_id})


def test_a_rejected_charge_charges_nothing_and_frees_the_invoice():
    ledger, invoice_id = september()
    ledger.clock.set("2026-12-01T08:00:00Z")
    charge = overdue_charges.prepare_charge(ledger.rt, PREPARER, {"invoice_id": invoice_id, "through": "2026-11-30"})
    cases.decide_case(ledger.rt, APPROVER, "approval", charge["approval_id"], "rejected", "waived: bank delay")
    assert overdue_charges.get_charge(ledger.rt, PREPARER, charge["charge_id"])["status"] == "rejected"
    assert published(ledger, "late_payment_charge.issued") == []
    again = overdue_charges.prepare_charge(ledger.rt, PREPARER, {"invoice_id": invoice_id, "through": "2026-11-30"})
    assert again["interest"] == "104.00"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"invoice_id": "inv_01JX0000000000000000000009"}, NotFound),  # no such invoice
        ({"through": "2026-02-30"}, MalformedRequest),  # not a calendar day
        ({"through": "2026-12-02"}, MalformedRequest),  # after today
        ({"through": "2026-10-31"}, RuleViolation),  # the due day: nothing overdue, nothing to charge
    ],
)
def test_bad_charges_are_refused_and_change_nothing(body, error):
    ledger, invoice_id = september()
    ledger.clock.set("2026-12-01T08:00:00Z")
    before = len(ledger.rt.store.audit_records("northwind"))
    with pytest.raises(error):
        overdue_charges.prepare_charge(ledger.rt, PREPARER, {"invoice_id": invoice_id, **body})
    assert len(ledger.rt.store.audit_records("northwind")) == before


def test_a_draft_invoice_is_not_charged():
    ledger, _ = september()
    data = {"partner_id": P1, "order_ref": "SO-2", "shipped_on": "2026-10-02",
            "lines": [{"sku": "NW-SW-24P", "quantity": 1}]}  # fmt: skip
    ledger.clock.set("2026-10-02T12:00:00Z")
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-10-02T10:00:00Z")["status"] == "processed"
    draft = ledger.invoice(P1, "2026-10")["invoice_id"]
    ledger.clock.set("2026-12-01T08:00:00Z")
    with pytest.raises(RuleViolation):
        overdue_charges.prepare_charge(ledger.rt, PREPARER, {"invoice_id": draft})


def test_cpa_10_7_the_compensation_is_charged_once_per_invoice():
    # "a fixed compensation of EUR 40.00 per overdue invoice": the first charge carries it, a later one does not
    interest = {"basis": "reference_rate_plus", "points": "8", "reference_rates": {"2026-H1": "2.15"}}
    node = {"id": "BILL-LATE-PAYMENT", "clause": "CPA-10.7", "credit_hold_days": 30, "fixed_compensation": "40.00",
            "interest": interest}  # fmt: skip
    late = core.LatePayment.of({"billing": {"late_payment": node}})
    assert late is not None
    invoice = {"invoice_id": "inv_A", "partner_id": P1, "status": "finalized", "total": "5000.00",
               "finalized_at": "2026-04-01T06:00:00Z", "paid_on": None}  # fmt: skip
    accrual = core.accrue(late, invoice, 30, date(2026, 5, 31))  # 41.71 (test_overdue_interest)
    assert core.charge_due(accrual, Decimal(0), False) == {
        "interest": Decimal("41.71"), "compensation": Decimal("40.00"), "total": Decimal("81.71")}  # fmt: skip
    assert core.charge_due(accrual, Decimal("41.71"), True)["total"] == 0
