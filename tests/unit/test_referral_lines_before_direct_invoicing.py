"""Referral lines posted on a partner's own invoice before direct invoicing (API 1.46.1): what they are now, and their
correction.

PA-8.1 (tenants/northwind/contracts/partner-agreement.md): "Where the Distributor accepts the referral and invoices the
Customer directly within 180 days, the Partner earns a referral commission of 5.0% of the Distributor's Invoiced
Revenue from that Customer, net of credit notes". Before 1.46.1 a `channel: referral` sale was posted on the referring
partner's invoice: the partner was billed for a sale it did not make. SOP-2.1: "An issued invoice is immutable;
corrections are made only under SOP-2.5." SOP-2.5: "Issued invoices are never edited. An error is corrected by a
credit note referencing the original invoice and lines, followed where needed by a corrected charge on the next open
invoice with the original service period. Every credit note states its reason code (billing error, ...)."
So: the old line stays on the partner's issued invoice (the partner reads it there, its own invoice); the correction
is the ERP's credit note (billing error) against that line, which credits the partner who was billed (on its own open
invoice), and the shipment sent again, its corrected charge, which PA-8.1 puts on the Distributor's direct invoice to
the Customer. 4 x NW-SW-24P at 1,250.00 = 5,000.00 (under SOP-2.5's USD 10,000.00 approval limit).
"""

from __future__ import annotations

from typing import Any

import pytest
from test_commission_paid_month import _invoice_and_pay
from test_rebates_mdf_and_referral_window import P1, accepted

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.services import billing
from revgov.services.billing import lines as billing_lines

AS_P1 = Principal("northwind", Role.PARTNER, "key_p1", partner_id=P1)
REFERRAL = {"partner_id": P1, "order_ref": "SO-OLDREF-1", "shipped_on": "2026-10-06", "delivered_on": "2026-10-06",
            "lines": [{"sku": "NW-SW-24P", "quantity": 4}], "channel": "referral", "customer_id": "CUST-OLDREF-1",
            "tax_location": {"country": "US", "region": "US-IL", "postal_code": "60601"}, **accepted("2026-10-06")}


@pytest.fixture
def old_referral(monkeypatch: pytest.MonkeyPatch) -> tuple[Ledger, dict[str, Any]]:
    """October 2026 under 1.46.0: the referral posted on P1's invoice (billing then knew no direct invoice), issued
    2026-11-02 and paid 2026-11-10."""
    ledger = Ledger("2026-10-06T12:00:00Z")
    with monkeypatch.context() as before:
        before.setattr(billing_lines, "_billed_customer", lambda posting, draft: None)
        answer = ledger.bill("shipment.confirmed", REFERRAL, occurred_at="2026-10-06T10:00:00Z", erp_id="ERP-OLDREF-1")
    assert answer["status"] == "processed", answer
    _invoice_and_pay(ledger, P1, "2026-10", "2026-11-02", "2026-11-10")
    october = ledger.invoice(P1, "2026-10")
    assert [(ln["channel"], ln["amount"]) for ln in october["lines"]] == [("referral", "5000.00")]
    return ledger, october


def test_the_old_referral_line_stays_on_the_partners_issued_invoice_which_the_partner_reads(old_referral):
    ledger, october = old_referral
    read = billing.get_invoice(ledger.rt, "northwind", october["invoice_id"])
    assert read["status"] == "finalized" and read.get("billed_to", "partner") != "customer"
    assert [(ln["channel"], ln["amount"]) for ln in read["lines"]] == [("referral", "5000.00")]
    assert billing.sees_invoice(AS_P1, read)  # the partner's own invoice: it was billed on it


def test_sop_2_5_its_correction_credits_the_partner_and_charges_the_customer_directly(old_referral):
    ledger, october = old_referral
    (line,) = october["lines"]
    ledger.clock.set("2026-12-03T10:00:00Z")
    credit = {"partner_id": P1, "credit_note_ref": "CN-OLDREF-1", "invoice_id": october["invoice_id"],
              "line_no": line["number"], "reason": "billing_error", "amount": "5000.00", "issued_on": "2026-12-03"}
    assert ledger.bill("credit_note.issued", credit, occurred_at="2026-12-03T09:00:00Z")["status"] == "processed"
    # SOP-2.5 "a credit note referencing the original invoice and lines": the partner was billed, the partner is
    # credited, on its own open invoice (December), not on an invoice to the customer that was never charged
    december = ledger.invoice(P1, "2026-12")
    assert december.get("billed_to", "partner") != "customer"
    assert [(ln["kind"], ln["amount"], ln["detail"]["credited_invoice_id"]) for ln in december["lines"]] == [
        ("credit_note", "-5000.00", october["invoice_id"])]
    # the corrected charge (the shipment sent again, taken back in full): PA-8.1, the Distributor's invoice to the
    # Customer, not the partner's
    again = ledger.bill("shipment.confirmed", REFERRAL, occurred_at="2026-12-03T09:30:00Z", erp_id="ERP-OLDREF-2")
    assert again["status"] == "processed", again
    direct = [billing.get_invoice(ledger.rt, "northwind", i) for i in ledger.month_invoice_ids(P1, "2026-10")
              if i != october["invoice_id"]] + [billing.get_invoice(ledger.rt, "northwind", i)
                                                for i in ledger.month_invoice_ids(P1, "2026-12")
                                                if i != december["invoice_id"]]
    charged = [(inv["customer_id"], ln["amount"]) for inv in direct for ln in inv["lines"] if ln["kind"] == "shipment"]
    assert charged == [("CUST-OLDREF-1", "5000.00")]
    assert all(inv["billed_to"] == "customer" for inv in direct)
