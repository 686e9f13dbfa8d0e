"""Red team 8, found and reported: a referral's customer was billed on the partner (fixed: a
referral sale is the Distributor's direct invoice to the customer, docs/billing.md, test_referral_direct_invoice.py).

PA-8.1: "A Partner that introduces a Customer to the Distributor without reselling to it may register a referral [...]
Where the Distributor accepts the referral and invoices the Customer directly within 180 days, the Partner earns a
referral commission of 5.0% of the Distributor's Invoiced Revenue from that Customer". CPA-8.1: "refers an End
Customer that Contoso then invoices directly". PA-10.8 (interest, credit hold) is the Partner's payment of its own
invoices.

An ERP `shipment.confirmed` with `channel: referral` (docs/billing.md) is posted, like a resale, to the referral
partner's invoice of the month: the partner's invoice carries the customer's purchase at its price and its total, so
the partner is billed for revenue the Distributor invoiced the Customer directly, its overdue statement counts the
customer's unpaid invoice as the partner's (PA-10.8 interest and credit hold on the partner's new orders), and a
partner that both resells and refers gets one invoice mixing what it owes with what its customers owe. The commission
itself is rated from the line's sales fact and does not need the line on the partner's invoice.

The fix asked for was billing's model (services/billing/lines.py `post_lines`, domain/billing/invoices.py): a referral
(and sales-agent, PA-8.2 "the Distributor's Invoiced Revenue [...] from the listed accounts") line is the Distributor's
invoice to the Customer: kept for the commission (its sales fact, `paid_on` from the customer's `invoice.paid`) but
not on the partner's invoice, its total, its overdue statement or its credit hold. Too wide for a red-team round: the
invoice pointers, the invoice SLA, revenue recognition and the KPIs all read the partner's invoices.
"""

from __future__ import annotations

from memory_store import Ledger

PARTNER = "ptr_01JBNWPARTNER0000000000001"
REFERRAL = {"partner_id": PARTNER, "order_ref": "SO-REF-1", "shipped_on": "2026-11-30", "channel": "referral",
            "customer_id": "US-EIN-12-3456789", "referral_accepted_on": "2026-11-01",
            "lines": [{"sku": "NW-SRV-R2", "quantity": 1}]}  # fmt: skip


def test_pa_8_1_a_referral_customers_purchase_is_not_billed_to_the_referring_partner() -> None:
    ledger = Ledger("2026-12-02T12:00:00Z")
    answer = ledger.bill("shipment.confirmed", REFERRAL, occurred_at="2026-11-30T10:00:00Z")
    assert answer["status"] == "processed", answer
    try:
        invoice = ledger.invoice(PARTNER, "2026-11")
    except AssertionError:  # no invoice of the partner for the month: what PA-8.1 asks
        return
    billed = [line for line in invoice["lines"] if line.get("channel") == "referral"]
    assert billed == [], f"the partner's invoice {invoice['invoice_id']} carries the customer's purchase: {billed}"
