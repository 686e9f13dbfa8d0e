"""Overdue amounts, interest, late-payment charges and the credit hold run on what the partner owes: the invoice's
gross (VAT included) where VAT is charged. Every figure worked out by hand before the code.

CPA-10.7 (contoso): "Invoices are payable in EUR ... within the Partner's payment term. ... Late payments bear statutory
interest for commercial transactions (the reference rate plus 8 percentage points) and a fixed compensation of EUR
40.00 per overdue invoice. Amounts overdue more than 30 days place new orders on credit hold".
The statutory interest is the Late Payment Directive's (2011/7/EU), whose art. 2(8) defines the amount it runs on:
"'amount due' means the principal sum which should have been paid within the contractual or statutory period for
payment, including the applicable taxes, duties, levies or charges specified in the invoice". So: the gross.
CPA-10.1: invoices "show VAT per line or the reverse-charge notice" (a reverse-charge line's VAT is 0.00: gross = net).
PA-10.8 (northwind): "Invoices are payable within the Partner's payment term ... Overdue amounts bear interest at 1.0%
per month". PA-10.1: "Taxes are calculated per line on the basis of the ship-to or service location and shown
separately" -- Revgov holds no location's rate, so the sales tax has no amount (`totals.gross` null): the amount it
can state is the net, and the statement says so (`base.basis: net` with the reason); it never guesses the tax.
SOP-6.1 / COP-6.1: "late payment interest does not accrue on the disputed amount while the dispute is open" and "the
undisputed part of the invoice remains payable on its due date": a disputed line's share of the amount due is its
gross share (its VAT with it).

Contoso: supplier NL, VAT 21 % (policy.billing.tax); reference rate 2026-H1 2.15 % (policy), + 8 points = 10.15 % a
year, spread over 365 days. A docking station CT-DEV-DOCK is EUR 210.00 (CPA-6.1): VAT 44.10, gross 254.10. Shipped in
April 2026, the invoice is issued 2026-05-01 and due 2026-05-31 (net 30, CPA-6.7); on 2026-06-30 it is 30 days
overdue (1-30 June, all in 2026-H1):
  gross: 254.10 x 10.15 % x 30 / 365 = 2.1198... -> 2.12 (net would give 210.00 x 10.15 % x 30 / 365 = 1.75)
  reverse charge (DE partner, VIES check valid 2026-04-20): gross = net 210.00 -> 1.75.
Northwind, 1.0 % a month: net 210.00 overdue 1-30 May (31-day month): 210.00 x 1 % x 30 / 31 = 2.0322... -> 2.03.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from memory_store import Ledger
from revgov import schemas
from revgov.domain.access import Principal, Role
from revgov.domain.billing import overdue as core
from revgov.ports import Changes, Put
from revgov.services import billing, invoice_disputes, vat_validation
from revgov.services.billing import overdue, overdue_charges
from revgov.tenant_files import load_tenant_file
from support import ROOT

CT_LATE = core.LatePayment.of(load_tenant_file(ROOT / "tenants" / "contoso" / "tenant.yaml")["policy"])
NW_LATE = core.LatePayment.of(load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml")["policy"])
PARTNER = "ptr_01JBCTAVD4TR0000000000GRS1"
FINANCE = Principal("contoso", Role.FINANCE, "key_fin_gross")
AS_PARTNER = Principal("contoso", Role.PARTNER, "key_ptr_gross", PARTNER)
FAMILY_CERTS = ("cert-collab-associate", "cert-secops-analyst", "cert-data-engineer", "cert-devices-field")
CERTS = {c: {"cert_id": c, "holder": "A. Auditor", "earned_at": "2025-01-01", "expires_at": "2029-12-31"}
         for c in FAMILY_CERTS}  # fmt: skip


def _header(totals: dict[str, Any] | None, total: str = "210.00") -> dict[str, Any]:
    invoice = {"invoice_id": "inv_G", "partner_id": "p", "status": "finalized", "total": total,
               "finalized_at": "2026-05-01T06:00:00Z", "paid_on": None, "period": "2026-04"}  # fmt: skip
    return {**invoice, "totals": totals} if totals is not None else invoice


VAT_CHARGED = {"net": "210.00", "tax": "44.10", "gross": "254.10"}
REVERSE_CHARGE = {"net": "210.00", "tax": "0.00", "gross": "210.00"}
SALES_TAX = {"net": "210.00", "tax": None, "gross": None}


@pytest.mark.parametrize(
    ("totals", "amount", "basis", "interest"),
    [
        (VAT_CHARGED, "254.10", "gross", Decimal("2.12")),  # 254.10 x 10.15 % x 30/365
        (REVERSE_CHARGE, "210.00", "gross", Decimal("1.75")),  # VAT 0.00: gross = net
        (None, "210.00", "net", Decimal("1.75")),  # issued before the tax policy: no tax recorded
    ],
)
def test_cpa_10_7_statutory_interest_runs_on_the_amount_due_including_vat(totals, amount, basis, interest):
    assert CT_LATE is not None
    accrual = core.accrue(CT_LATE, _header(totals), 30, date(2026, 6, 30))
    assert (accrual.days, accrual.interest) == (30, interest)
    assert (accrual.base.amount, accrual.base.basis) == (Decimal(amount), basis)
    assert accrual.as_dict()["base"]["amount"] == amount


def test_pa_10_8_a_sales_tax_without_an_amount_is_not_guessed_the_net_is_stated_and_said_so():
    assert NW_LATE is not None
    invoice = {**_header(SALES_TAX), "finalized_at": "2026-03-31T06:00:00Z",
               "tax": {"treatment": "sales_tax", "rule_id": "BILL-SALES-TAX", "clause": "PA-10.1"}}  # fmt: skip
    accrual = core.accrue(NW_LATE, invoice, 30, date(2026, 5, 30))  # due 04-30; 1-30 May
    assert (accrual.days, accrual.interest) == (30, Decimal("2.03"))  # 210.00 x 1 % x 30/31
    base = accrual.as_dict()["base"]
    assert (base["amount"], base["basis"]) == ("210.00", "net")
    assert "PA-10.1" in base["note"] and "no amount" in base["note"]


def test_a_wholly_disputed_vat_line_leaves_nothing_overdue():
    """COP-6.1: the disputed line's share of the amount due is its gross share: 210.00 disputed of a 254.10 invoice
    leaves nothing payable (not 44.10 of VAT on a disputed supply)."""
    span = core.DisputedSpan(Decimal("254.10"), date(2026, 5, 10))
    assert core.overdue_invoices([_header(VAT_CHARGED)], {}, 30, date(2026, 7, 1), 30, {"inv_G": [span]}) == {}
    partly = core.DisputedSpan(Decimal("121.00"), date(2026, 5, 10))  # 100.00 net + 21.00 VAT disputed
    assert core.overdue_invoices([_header(VAT_CHARGED)], {}, 30, date(2026, 7, 1), 30, {"inv_G": [partly]}) != {}


# --- through the services: statement, charge (debit note), credit hold -------------------------------------------
def _ledger(country: str) -> Ledger:
    ledger = Ledger("2026-04-01T08:00:00Z", tenant="contoso")
    record = {"partner_id": PARTNER, "legal_name": "Bruto B.V.", "partner_type": "reseller", "status": "active",
              "tier": "elite", "country": country, "activated_at": "2025-01-01T00:00:00Z",
              "certifications": CERTS}  # fmt: skip
    ledger.rt.store.commit("contoso", Changes(puts=[Put("PARTNER", PARTNER, record)]))
    if country != "NL":  # a cross-border EU partner whose VAT number validated: reverse charge (CPA-2.3)
        ledger.clock.set("2026-04-20T09:00:00Z")
        body = {"result": "valid", "checked_at": "2026-04-20T09:00:00Z", "reference": "WAPI-1",
                "vat_number": f"{country}123456789"}  # fmt: skip
        vat_validation.record_check(ledger.rt, FINANCE, PARTNER, body)
    ledger.clock.set("2026-04-10T10:00:00Z")
    # CPA-10.2 "devices are billed on delivery" (reviewer finding 2): the ERP reports the delivery, the day shipped
    data = {"partner_id": PARTNER, "order_ref": "SO-GROSS-1", "shipped_on": "2026-04-10", "delivered_on": "2026-04-10",
            "lines": [{"sku": "CT-DEV-DOCK", "quantity": 1}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-04-10T09:00:00Z")["status"] == "processed"
    ledger.clock.set("2026-05-01T06:00:00Z")
    billing.finalize_invoice(ledger.rt, FINANCE, ledger.invoice(PARTNER, "2026-04")["invoice_id"])
    return ledger


@pytest.mark.parametrize(("country", "gross", "interest"), [("NL", "254.10", "2.12"), ("DE", "210.00", "1.75")])
def test_cpa_10_7_the_statement_and_the_charge_state_interest_on_the_gross(country, gross, interest):
    ledger = _ledger(country)
    invoice = ledger.invoice(PARTNER, "2026-04")
    assert invoice["totals"]["gross"] == gross
    ledger.clock.set("2026-06-30T12:00:00Z")
    statement = overdue.overdue_statement(ledger.rt, FINANCE, partner_id=PARTNER, as_of="2026-06-30")
    (row,) = statement["invoices"]
    assert (row["days_overdue"], row["late_payment"]["interest"]) == (30, interest)
    assert row["late_payment"]["base"] == {"amount": gross, "basis": "gross", "note": None}
    assert statement["totals"] == {"interest": interest, "compensation": "40.00"}
    assert schemas.problems("api/responses/overdue-statement.schema.json", statement) == []
    charge = overdue_charges.prepare_charge(ledger.rt, FINANCE, {"invoice_id": invoice["invoice_id"],
                                                                 "through": "2026-06-30"})  # fmt: skip
    assert (charge["interest"], charge["compensation"], charge["total"]) == (
        interest, "40.00", format(Decimal(interest) + Decimal("40.00"), "f"))  # fmt: skip
    assert schemas.problems("api/responses/late-payment-charge.schema.json", charge) == []


def test_cop_6_1_a_wholly_disputed_vat_invoice_puts_no_credit_hold_and_bears_no_interest():
    ledger = _ledger("NL")
    invoice_id = ledger.invoice(PARTNER, "2026-04")["invoice_id"]
    ledger.clock.set("2026-05-10T09:00:00Z")
    claim = {"line_no": 1, "amount": "210.00", "reason": "the dock was never delivered"}
    invoice_disputes.file_dispute(ledger.rt, AS_PARTNER, invoice_id, claim)
    ledger.clock.set("2026-07-01T08:00:00Z")  # 31 days overdue, gross 254.10, all of it disputed
    assert overdue.sweep_credit_holds(ledger.rt, "contoso")["placed"] == 0
    statement = overdue.overdue_statement(ledger.rt, FINANCE, partner_id=PARTNER, as_of="2026-06-30")
    assert statement["credit_hold"] is None
    assert statement["invoices"][0]["late_payment"]["interest"] == "0.00"  # 2026-H2 has no reference rate: June


def test_the_undisputed_gross_part_still_falls_due():
    """COP-6.1 "the undisputed part of the invoice remains payable": 100.00 of the 210.00 line disputed (121.00 with
    its VAT) leaves 133.10 payable: 31 days overdue on 2026-07-01, the credit hold is placed (CPA-10.7)."""
    ledger = _ledger("NL")
    invoice_id = ledger.invoice(PARTNER, "2026-04")["invoice_id"]
    ledger.clock.set("2026-05-10T09:00:00Z")
    invoice_disputes.file_dispute(ledger.rt, AS_PARTNER, invoice_id,
                                  {"line_no": 1, "amount": "100.00", "reason": "priced above the list"})  # fmt: skip
    ledger.clock.set("2026-06-30T12:00:00Z")
    statement = overdue.overdue_statement(ledger.rt, FINANCE, partner_id=PARTNER, as_of="2026-06-30")
    # disputed since 10 May, before the due day: 133.10 x 10.15 % x 30/365 = 1.1103... -> 1.11
    assert statement["invoices"][0]["late_payment"]["interest"] == "1.11"
    ledger.clock.set("2026-07-01T08:00:00Z")
    assert overdue.sweep_credit_holds(ledger.rt, "contoso")["placed"] == 1


def test_invoice_paid_carries_no_amount_a_part_payment_cannot_be_recorded():
    """The ERP's invoice.paid says the invoice was "paid in full" (schemas/events/invoice.paid.schema.json): it has
    no amount, so no part-payment is ever applied against the net or the gross; an `amount` is refused."""
    event = {"source": "revgov.erp", "detail-type": "invoice.paid",
             "detail": {"tenant_id": "contoso", "event_id": "evt_01JXA5V0000000000000000001",
                        "occurred_at": "2026-06-01T09:00:00Z", "erp_event_id": "ERP-1", "replay": 0,
                        "data": {"partner_id": PARTNER, "invoice_id": "inv_01JXA5V0000000000000000031",
                                 "paid_on": "2026-06-01"}}}  # fmt: skip
    assert schemas.problems("events/invoice.paid.schema.json", event) == []
    event["detail"]["data"]["amount"] = "100.00"
    assert schemas.problems("events/invoice.paid.schema.json", event) != []
