"""An invoice dispute not decided by its `decide_by` is reported by the hourly month-close watch, once, to its queue.

SOP-6.1: "(1) the dispute is logged as an invoice_dispute exception and acknowledged within 1 business day; ...
(3) Finance decides within 10 business days". COP-6.1: "Finance logs an invoice_dispute exception and acknowledges
within 1 business day, ... and decides within 10 business days". SOP-4.1's table names the category and its queue:
"| invoice_dispute | finance | 24 |" (COP-4.1: "| invoice_dispute | finance | 48 |"); an unnamed category would go to
channel_ops triage, so the breach is reported as `invoice_dispute` and routed to finance. SOP-1.3: "The clock is
paused only while an item is in the status "waiting on partner" and restarts when the Partner responds".
PA-1.3 business days: Monday to Friday without the program's holidays (2026-11-11 and 2026-11-26 among them).

P1's October invoice is issued 2026-11-02; line 1 is disputed Tuesday 2026-11-10 08:00. Ten business days later
(Thu 12, Fri 13, Mon 16 ... Tue 24, Wed 25; the 11th a holiday): decide_by 2026-11-25 08:00. A wait on the partner from
Wed 18 08:00 to Fri 20 08:00 (two business days) moves it two business days on: Fri 27 (Thu 26 a holiday), Mon 30
-> 2026-11-30 08:00. The sweep is month_close.watch (scheduled hourly, `month_close_watch`).
"""

from __future__ import annotations

from typing import Any

from memory_store import Ledger
from revgov import schemas
from revgov.domain.access import Principal, Role
from revgov.domain.cases import view
from revgov.services import billing, case_waiting, cases, invoice_disputes, month_close

P1 = "ptr_01JBNWPARTNER0000000000001"
PARTNER1 = Principal("northwind", Role.PARTNER, "key_p1", P1)
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")


def _disputed() -> tuple[Ledger, dict[str, Any]]:
    ledger = Ledger("2026-10-12T10:00:00Z")
    data = {"partner_id": P1, "order_ref": "SO-DEC-1", "shipped_on": "2026-10-12",
            "lines": [{"sku": "NW-SW-24P", "quantity": 5}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-10-12T09:00:00Z")["status"] == "processed"
    ledger.clock.set("2026-11-02T09:00:00Z")
    billing.finalize_invoice(ledger.rt, FINANCE, ledger.invoice(P1, "2026-10")["invoice_id"])
    ledger.clock.set("2026-11-10T08:00:00Z")
    dispute = invoice_disputes.file_dispute(ledger.rt, PARTNER1, ledger.invoice(P1, "2026-10")["invoice_id"],
                                            {"line_no": 1, "amount": "1250.00", "reason": "4 shipped, 5 billed"})
    assert dispute["decide_by"].startswith("2026-11-25T08:00:00")
    return ledger, dispute


def _overdue(ledger: Ledger) -> list[dict[str, Any]]:
    return [c for c in ledger.exceptions()
            if c["requested_by"] == month_close.ACTOR and c["subject"]["kind"] == "invoice_dispute"]  # fmt: skip


def test_sop_6_1_a_dispute_not_decided_within_10_business_days_is_one_invoice_dispute_exception_for_finance():
    ledger, dispute = _disputed()
    ledger.clock.set("2026-11-25T07:59:00Z")
    month_close.watch(ledger.rt, "northwind")
    assert _overdue(ledger) == []
    ledger.clock.set("2026-11-25T08:01:00Z")
    assert month_close.watch(ledger.rt, "northwind")["opened"] == 1
    (case,) = _overdue(ledger)
    assert (case["category"], case["queue"], case["partner_id"]) == ("invoice_dispute", "finance", P1)
    assert case["subject"] == {"kind": "invoice_dispute", "id": dispute["dispute_id"]}
    assert ("BILL-INVOICE-DISPUTES", "SOP-6.1") in [(r["rule_id"], r["clause"]) for r in case["reasons"]]
    assert case["context"]["decide_by"].startswith("2026-11-25T08:00:00")
    assert case["context"]["approval_id"] == dispute["approval_id"]
    assert schemas.problems("api/responses/case.schema.json", view(case)) == []
    ledger.clock.set("2026-11-26T08:01:00Z")
    again = month_close.watch(ledger.rt, "northwind")
    assert (again["opened"], again["refreshed"]) == (0, 1)  # idempotent: refreshed, never a second one
    assert len(_overdue(ledger)) == 1


def test_sop_1_3_the_wait_on_the_partner_is_subtracted_from_the_10_business_days():
    ledger, dispute = _disputed()
    ledger.clock.set("2026-11-18T08:00:00Z")
    case_waiting.ask_partner(ledger.rt, FINANCE, "approval", dispute["approval_id"], "Send the delivery note")
    ledger.clock.set("2026-11-20T08:00:00Z")
    case_waiting.partner_reply(ledger.rt, PARTNER1, "approval", dispute["approval_id"], "attached")
    for day in ("2026-11-25T09:00:00Z", "2026-11-27T09:00:00Z", "2026-11-30T07:59:00Z"):  # moved to 30 Nov 08:00
        ledger.clock.set(day)
        month_close.watch(ledger.rt, "northwind")
        assert _overdue(ledger) == [], day
    ledger.clock.set("2026-11-30T08:01:00Z")
    assert month_close.watch(ledger.rt, "northwind")["opened"] == 1
    (case,) = _overdue(ledger)
    assert case["context"]["decide_by"].startswith("2026-11-30T08:00:00")


def test_sop_1_3_a_dispute_still_waiting_on_the_partner_is_not_reported():
    ledger, dispute = _disputed()
    ledger.clock.set("2026-11-18T08:00:00Z")
    case_waiting.ask_partner(ledger.rt, FINANCE, "approval", dispute["approval_id"], "Send the delivery note")
    for day in ("2026-11-25T09:00:00Z", "2026-12-15T09:00:00Z"):  # the clock stands still while it waits
        ledger.clock.set(day)
        month_close.watch(ledger.rt, "northwind")
        assert _overdue(ledger) == [], day


def test_a_dispute_decided_in_time_is_not_reported():
    ledger, dispute = _disputed()
    ledger.clock.set("2026-11-20T10:00:00Z")
    cases.decide_case(ledger.rt, FINANCE, "approval", dispute["approval_id"], "rejected", "5 units were delivered")
    ledger.clock.set("2026-11-30T08:01:00Z")
    month_close.watch(ledger.rt, "northwind")
    assert _overdue(ledger) == []
