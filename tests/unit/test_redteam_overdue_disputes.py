"""Red team: the credit-hold sweep held a partner for an amount it disputed in time and that nobody had decided.

PA-10.8: "Where any amount is more than 30 days overdue, new orders are placed on credit hold". SOP-6.1: "A Partner
may dispute an invoice line within 30 days of the invoice date [...] The undisputed part of the invoice remains
payable on its due date; late payment interest does not accrue on the disputed amount while the dispute is open."
The disputed part is not payable on the due date while its dispute is open, so it is not an overdue amount; the
statement's interest already left it out (services/billing/overdue.disputed_spans) but the hold counted the whole
invoice: a partner that disputed its whole invoice on time was put on credit hold (its new orders held, an event to
the ERP and n8n) because Finance had not decided within its 10 business days.

P1's September invoice (2 x NW-SRV-R2 = 10,400.00, one line) is issued 2026-10-01, due 2026-10-31; on 2026-12-01 it
is 31 days overdue.
"""

from __future__ import annotations

from memory_store import Ledger
from overdue_support import AS_P1, FINANCE, P1, september
from rebate_runs import settle_approved
from revgov.services import billing, invoice_disputes, rebates
from revgov.services.billing import overdue


def _dispute(ledger: object, invoice_id: str, amount: str) -> None:
    ledger.clock.set("2026-10-05T09:00:00Z")  # type: ignore[attr-defined]
    invoice_disputes.file_dispute(ledger.rt, AS_P1, invoice_id,  # type: ignore[attr-defined]
                                  {"line_no": 1, "amount": amount, "reason": "two units were never delivered"})


def test_an_invoice_wholly_under_an_open_dispute_puts_no_credit_hold():
    ledger, invoice_id = september()
    _dispute(ledger, invoice_id, "10400.00")
    ledger.clock.set("2026-12-01T08:00:00Z")
    assert overdue.sweep_credit_holds(ledger.rt, "northwind")["placed"] == 0
    statement = overdue.overdue_statement(ledger.rt, FINANCE, partner_id=P1, as_of=None)
    assert statement["credit_hold"] is None
    assert statement["invoices"][0]["late_payment"]["interest"] == "0.00"  # as the interest already read it


def test_the_undisputed_part_still_falls_due():
    """ "The undisputed part of the invoice remains payable on its due date": 8,400.00 of it is 31 days overdue."""
    ledger, invoice_id = september()
    _dispute(ledger, invoice_id, "2000.00")
    ledger.clock.set("2026-12-01T08:00:00Z")
    assert overdue.sweep_credit_holds(ledger.rt, "northwind")["placed"] == 1
    hold = overdue.overdue_statement(ledger.rt, FINANCE, partner_id=P1, as_of=None)["credit_hold"]
    assert hold is not None and hold["invoice_ids"] == [invoice_id] and hold["clause"] == "PA-10.8"



def test_pa_7_8_no_rebate_is_withheld_for_an_invoice_wholly_under_an_open_dispute():
    """PA-7.8: "Rebates are withheld while the Partner has an invoice more than 60 days overdue" — billing's one
    notion of overdue (domain.billing.overdue), in which, by SOP-6.1, the part under an open dispute is not payable.
    The settlement's withholding (services/rebates/settlement._overdue) passed no disputes; it now reads them as the
    credit-hold sweep does, through the one `services.billing.overdue.owing_beyond`. P1 (platinum) ships 30 x
    NW-SRV-R2 in September (tests/unit/test_rebate_withholding.py's scenario), invoiced 2026-10-01, due 2026-10-31."""
    ledger = Ledger("2026-09-05T12:00:00Z")
    data = {"partner_id": P1, "order_ref": "SO-1", "shipped_on": "2026-09-05",
            "lines": [{"sku": "NW-SRV-R2", "quantity": 30}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-09-05T10:00:00Z")["status"] == "processed"
    ledger.clock.set("2026-10-01T06:00:00Z")
    invoice_id = ledger.invoice(P1, "2026-09")["invoice_id"]
    billing.finalize_invoice(ledger.rt, FINANCE, invoice_id)
    line = billing.line_of(ledger.rt, "northwind", invoice_id, 1)
    assert line is not None
    _dispute(ledger, invoice_id, line.data["amount"])
    ledger.clock.set("2026-12-31T09:00:00Z")  # 61 days overdue, all of it under the open dispute
    settled = settle_approved(ledger.rt, FINANCE, {"period": "2026-Q3", "run": 1})[1]
    statement = rebates.get_settlement(ledger.rt, FINANCE, settled["settlement_id"], P1)["statement"]
    assert statement["status"] == "payable"
