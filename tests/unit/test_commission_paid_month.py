"""PA-8.2 / CPA-8.2: a commission is earned in the month in which the Customer paid the invoice, not the month of the
invoice. Through the billing handler, the ERP's `invoice.paid` and approved monthly runs on the in-memory engine with
a fixed clock; expectations by hand from the clauses.

PA-8.2: "A Partner appointed in writing as a sales agent for a named account list earns a commission of 3.0% of the
Distributor's Invoiced Revenue, net of credit notes, from the listed accounts. Commissions under PA-8.1 and this clause
are calculated per Billing Month and paid within 30 days after the end of the month in which the Customer paid the
invoice."
CPA-8.2: "Referral fees are calculated per Billing Month and paid within 30 days after the end of the month in which
the End Customer paid."

NW-SW-24P is USD 1,250.00: 10 units are 12,500.00, 3.0% is 375.00 (sales agent), 5.0% is 625.00 (referral).
CT-DEV-DOCK is EUR 210.00: 100 units are 21,000.00, 4.0% is 840.00.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_rebates_mdf_and_referral_window import (
    CT_FINANCE,
    CT_PARTNER,
    NW_FINANCE,
    P1,
    _contoso,
    _lines,
    _settle,
    _ship,
    accepted,
)

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.services import billing, rebates


def _invoice_and_pay(ledger: Ledger, partner: str, month: str, issued_on: str, paid_on: str) -> None:
    """Finance issues the month's invoices on `issued_on` (the partner's, and the Distributor's direct invoices to the
    customers it referred: PA-8.1 "invoices the Customer directly"); the ERP reports them paid on `paid_on`."""
    finance = Principal(ledger.tenant_id, Role.FINANCE, "key_fin")
    invoice_ids = ledger.month_invoice_ids(partner, month)
    assert invoice_ids, f"no invoice of {partner} for {month}"
    for number, invoice_id in enumerate(invoice_ids):
        ledger.clock.set(f"{issued_on}T06:00:00Z")
        billing.finalize_invoice(ledger.rt, finance, invoice_id)
        ledger.clock.set(f"{paid_on}T18:00:00Z")
        paid = {"partner_id": partner, "invoice_id": invoice_id, "paid_on": paid_on,
                "payment_ref": f"RCPT-{month}-{number}"}  # fmt: skip
        assert ledger.bill("invoice.paid", paid, occurred_at=f"{paid_on}T17:00:00Z")["status"] == "processed"


CASES = {
    # tenant: (partner, finance, sku, quantity, channel, program, commission, clause)
    "northwind-agent": (P1, NW_FINANCE, "NW-SW-24P", 10, "sales_agent", "RBT-SALES-AGENT", "375.00", "PA-8.2"),
    "northwind-referral": (P1, NW_FINANCE, "NW-SW-24P", 10, "referral", "RBT-REFERRAL", "625.00", "PA-8.2"),
    "contoso-referral": (CT_PARTNER, CT_FINANCE, "CT-DEV-DOCK", 100, "referral", "RBT-REFERRAL", "840.00", "CPA-8.2"),
}


def _october_sale_paid(case: str, paid_on: str) -> tuple[Ledger, tuple[Any, ...]]:
    partner, _, sku, quantity, channel, *_ = CASES[case]
    ledger = Ledger("2026-10-05T12:00:00Z") if case.startswith("northwind") else _contoso("2026-10-05T12:00:00Z")
    _ship(ledger, partner, "2026-10-05", [{"sku": sku, "quantity": quantity}], "SO-COM-1", channel=channel,
          customer_id="CUST-COM-1", **accepted("2026-10-05"))  # fmt: skip
    _invoice_and_pay(ledger, partner, "2026-10", "2026-11-02", paid_on)
    return ledger, CASES[case]


def _amount(statement: dict[str, Any], program: str) -> str:
    return str(_lines(statement).get(program, {}).get("amount", "0.00"))


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize(
    ("paid_on", "earned_in", "not_in"),
    [
        ("2026-11-30", "2026-11", "2026-12"),  # the last day of November: November's commission
        ("2026-12-01", "2026-12", "2026-11"),  # a day later: December's
    ],
)
def test_a_commission_is_earned_in_the_month_the_customer_paid_not_the_invoice_month(case, paid_on, earned_in, not_in):
    """The October invoice (issued 2026-11-02) is paid in November or December: its commission is that month's, and
    neither October's run nor the other month's pays it."""
    ledger, (partner, finance, _, _, _, program, commission, clause) = _october_sale_paid(case, paid_on)
    runs = {"2026-10": "2026-12-10T10:00:00Z", "2026-11": "2026-12-11T10:00:00Z", "2026-12": "2027-01-11T10:00:00Z"}
    statements = {month: _settle(ledger, finance, partner, month, at)[1] for month, at in runs.items()}
    assert _amount(statements["2026-10"], program) == "0.00"
    assert _amount(statements[not_in], program) == "0.00"
    line = _lines(statements[earned_in])[program]
    assert line["amount"] == commission
    assert line["clause"] == clause.replace("8.2", "8.1") if program == "RBT-REFERRAL" else line["clause"] == clause
    # the statement's trace counts the October line in the payment month's commission
    counted = [t for t in statements[earned_in]["statement"]["traces"]
               if t["section"] == "counted" and t["program_id"] == program]  # fmt: skip
    assert [row[2:4] for t in counted for row in t["lines"]] == [["2026-10", "21000.00" if "contoso" in case
                                                                  else "12500.00"]]  # fmt: skip


def _feed(ledger: Ledger) -> None:
    """What the bus delivers to the accrual handler after billing: invoice.lines_posted and invoice.paid."""
    for envelope in ledger.rt.publisher.published:
        if envelope["detail_type"] in ("invoice.lines_posted", "invoice.paid"):
            event = {"source": envelope["source"], "detail-type": envelope["detail_type"], "detail": envelope["detail"]}
            rebates.accrue_from_event(ledger.rt, event)
    ledger.rt.publisher.published.clear()


def test_the_accrual_of_the_payment_month_counts_the_commission_when_the_invoice_is_paid():
    """PA-8.2: the running accrual follows the payment: once the ERP reports the October invoice paid on 2026-12-01,
    the 2026-12 accrual holds the sales agent commission (375.00) and the 2026-10 and 2026-11 accruals do not."""
    ledger = Ledger("2026-10-05T12:00:00Z")
    _ship(ledger, P1, "2026-10-05", [{"sku": "NW-SW-24P", "quantity": 10}], "SO-COM-1", channel="sales_agent",
          customer_id="CUST-COM-1")  # fmt: skip
    _feed(ledger)

    def accrued(period: str) -> str:
        page = rebates.accruals(ledger.rt, NW_FINANCE, partner_id=P1, period=period, limit=10, cursor=None)
        programs = {p["program_id"]: p for item in page["items"] for p in item.get("programs", [])}
        return str(programs.get("RBT-SALES-AGENT", {}).get("payable", "0.00"))

    assert accrued("2026-10") == "0.00"  # not paid yet: nothing
    _invoice_and_pay(ledger, P1, "2026-10", "2026-11-02", "2026-12-01")
    _feed(ledger)
    assert accrued("2026-12") == "375.00"
    assert accrued("2026-10") == "0.00"
    assert accrued("2026-11") == "0.00"


def test_a_credit_note_claws_the_commission_back_from_the_payment_month():
    """PA-8.2: "Commissions paid on an invoice that is later credited [...] are clawed back by deduction from future
    commissions": a credit of half the line (6,250.00, under SOP-2.5's USD 10,000.00 approval limit) after December's
    run reduces December (the payment month) and the next run carries the difference (PA-7.10's adjustment):
    3.0% of 6,250.00 = 187.50 back. The listed account's sale is the Distributor's direct invoice to it (PA-8.2: "the
    Distributor's Invoiced Revenue [...] from the listed accounts"), so the credit note credits that invoice."""
    ledger, (partner, finance, *_rest) = _october_sale_paid("northwind-agent", "2026-12-01")
    _, december = _settle(ledger, finance, partner, "2026-12", "2027-01-11T10:00:00Z")
    assert _amount(december, "RBT-SALES-AGENT") == "375.00"
    (invoice,) = ledger.direct_invoices(partner, "2026-10")
    ledger.clock.set("2027-01-12T10:00:00Z")
    credit = {"partner_id": partner, "credit_note_ref": "CN-COM-1", "invoice_id": invoice["invoice_id"], "line_no": 1,
              "reason": "billing_error", "amount": "6250.00", "quantity": 5, "issued_on": "2027-01-12"}  # fmt: skip
    assert ledger.bill("credit_note.issued", credit, occurred_at="2027-01-12T09:00:00Z")["status"] == "processed"
    _, january = _settle(ledger, finance, partner, "2027-01", "2027-02-11T10:00:00Z")
    adjustments = [ln for ln in january.get("statement", {}).get("lines", []) if ln.get("kind") == "adjustment"]
    assert [a["amount"] for a in adjustments if a["program_id"] == "RBT-SALES-AGENT"] == ["-187.50"]
