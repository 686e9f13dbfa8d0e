"""Preparing a rebate run names the invoice disputes still open on the period's invoices, and why they do not hold it.

PA-1.2: "'Qualifying Revenue' for a period means Invoiced Revenue for invoices dated in that period, net of all credit
notes issued against those invoices, whenever issued" (CPA-1.2: "net of every credit note issued against those
invoices, whenever issued"). An open dispute is no credit note yet: the run counts the invoice as issued, and the credit
note of an upheld dispute reduces the period when it is issued, a later run carrying the difference (PA-7.10,
docs/rebates.md). So an open dispute does not block the run, but finance is told which are open (docs/rebates.md).
"""

from __future__ import annotations

from rebate_runs import NORTHWIND_P1, prepare, september
from revgov.domain.access import Principal, Role
from revgov.services import cases, invoice_disputes

FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
APPROVER = Principal("northwind", Role.FINANCE, "key_fin2")
PARTNER1 = Principal("northwind", Role.PARTNER, "key_p1", NORTHWIND_P1)


def test_an_open_invoice_dispute_of_the_quarter_is_named_with_the_clause_and_does_not_hold_the_run():
    ledger, invoice_id = september(FINANCE)
    ledger.clock.set("2026-10-05T09:00:00Z")
    dispute = invoice_disputes.file_dispute(ledger.rt, PARTNER1, invoice_id,
                                            {"line_no": 1, "amount": "100.00", "reason": "one unit short"})
    ledger.clock.set("2026-10-06T09:00:00Z")
    status, run = prepare(ledger.rt, FINANCE, {"period": "2026-Q3", "run": 1})
    assert (status, run["status"]) == (201, "prepared")  # not held: PA-1.2 "whenever issued"
    [named] = run["open_disputes"]
    assert {k: named[k] for k in ("dispute_id", "invoice_id", "partner_id", "period", "line_no", "amount")} == {
        "dispute_id": dispute["dispute_id"], "invoice_id": invoice_id, "partner_id": NORTHWIND_P1,
        "period": "2026-09", "line_no": 1, "amount": "100.00"}
    assert (named["blocks"], named["rule_id"], named["clause"]) == (False, "RBT-QUALIFYING-REVENUE", "PA-1.2")
    assert "whenever issued" in named["why"]

    # decided (rejected, with a reason), it is no longer open: the same run answered again names none
    cases.decide_case(ledger.rt, FINANCE, "approval", dispute["approval_id"], "rejected", "5 units were shipped")
    again = prepare(ledger.rt, FINANCE, {"period": "2026-Q3", "run": 1})[1]
    assert (again["settlement_id"], again["open_disputes"]) == (run["settlement_id"], [])


def test_a_dispute_of_another_quarters_invoice_is_not_named():
    ledger, invoice_id = september(FINANCE)
    ledger.clock.set("2026-10-05T09:00:00Z")
    invoice_disputes.file_dispute(ledger.rt, PARTNER1, invoice_id,
                                  {"line_no": 1, "amount": "100.00", "reason": "one unit short"})
    ledger.clock.set("2026-10-06T09:00:00Z")
    # Q2's run: the September invoice is dated in Q3, so its dispute is not Q2's
    assert prepare(ledger.rt, FINANCE, {"period": "2026-Q2", "run": 1})[1]["open_disputes"] == []
