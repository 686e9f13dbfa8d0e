"""PA-8.1 / CPA-8.1: a referral sale is the Distributor's direct sale to the Customer, not the referring partner's.

PA-8.1: "A Partner that introduces a Customer to the Distributor without reselling to it may register a referral
through the Partner Portal. Where the Distributor accepts the referral and invoices the Customer directly within 180
days, the Partner earns a referral commission of 5.0% of the Distributor's Invoiced Revenue from that Customer, net of
credit notes, during the 12 months following the first invoice."
CPA-8.1: "A Partner that refers an End Customer that Contoso then invoices directly earns a referral fee of 4.0% of
Contoso's Invoiced Revenue from that End Customer".
PA-1.2: "'Invoiced Revenue' means the amounts invoiced by the Distributor to the Partner for Products and Services"
(CPA-1.2: "amounts invoiced by Contoso to the Partner"); "A Partner's 'Annual Revenue' for a Program Year is the sum of
its Qualifying Revenue for the four Quarters of that Program Year" (the tier review's measure, PA-3.6 / CPA-3.5).

So the referral shipment is on the Distributor's invoice to the Customer, never on the partner's invoice, and is none
of the partner's Invoiced Revenue (tier review) while it is the whole base of the commission.

Worked numbers. Northwind, October 2026: P1 resells 2 x NW-SW-24P (2 x 1,250.00 = 2,500.00) and refers CUST-DIR-1,
which the Distributor ships 10 x NW-SW-24P (12,500.00). P1's October invoice is 2,500.00 with one line; the direct
invoice to CUST-DIR-1 is 12,500.00; paid on 2026-11-10, November's commission is 5.0 % x 12,500.00 = 625.00 (PA-8.2:
the month the Customer paid); P1's 2026 revenue for the tier review is 2,500.00 (was 15,000.00).
Contoso, October 2026: 100 x CT-DEV-DOCK referred (100 x 210.00 = 21,000.00): 4.0 % = 840.00, no partner invoice.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from test_commission_paid_month import _invoice_and_pay
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
from revgov.domain.errors import NotFound
from revgov.services import automated_decisions, billing, invoice_disputes, tier_review

CASES = {  # tenant: (partner, finance, referred line, resold line, partner invoice total, commission)
    "northwind": (P1, NW_FINANCE, {"sku": "NW-SW-24P", "quantity": 10}, {"sku": "NW-SW-24P", "quantity": 2},
                  "12500.00", "625.00"),
    "contoso": (CT_PARTNER, CT_FINANCE, {"sku": "CT-DEV-DOCK", "quantity": 100}, {"sku": "CT-DEV-DOCK", "quantity": 5},
                "21000.00", "840.00"),
}  # fmt: skip


def _october(tenant: str) -> tuple[Ledger, tuple[Any, ...]]:
    """A resale and a referral shipped in October 2026, issued 2026-11-02, paid 2026-11-10."""
    ledger = Ledger("2026-10-05T12:00:00Z") if tenant == "northwind" else _contoso("2026-10-05T12:00:00Z")
    partner, _, referred, resold, *_ = CASES[tenant]
    _ship(ledger, partner, "2026-10-05", [resold], "SO-OWN-1")
    _ship(ledger, partner, "2026-10-06", [referred], "SO-DIR-1", channel="referral", customer_id="CUST-DIR-1",
          **accepted("2026-10-06"))  # fmt: skip
    _invoice_and_pay(ledger, partner, "2026-10", "2026-11-02", "2026-11-10")
    return ledger, CASES[tenant]


@pytest.mark.parametrize("tenant", sorted(CASES))
def test_a_referral_is_invoiced_to_the_customer_not_on_the_partners_invoice(tenant):
    """PA-8.1 "invoices the Customer directly": the referral's line is on the direct invoice to CUST-DIR-1; the
    partner's October invoice carries only its own resale."""
    ledger, (partner, _, _, resold, direct_total, _) = _october(tenant)
    own = ledger.invoice(partner, "2026-10")
    unit = Decimal("1250.00") if tenant == "northwind" else Decimal("210.00")
    assert [(ln["sku"], ln["quantity"], ln["amount"]) for ln in own["lines"]] == [
        (resold["sku"], str(resold["quantity"]), str(unit * resold["quantity"]))
    ]
    assert all(ln.get("channel", "resale") != "referral" for ln in own["lines"])
    (direct,) = ledger.direct_invoices(partner, "2026-10")
    assert (direct["billed_to"], direct["customer_id"], direct["partner_id"]) == ("customer", "CUST-DIR-1", partner)
    assert [(ln["channel"], ln["amount"]) for ln in direct["lines"]] == [("referral", direct_total)]


@pytest.mark.parametrize("tenant", sorted(CASES))
def test_the_commission_is_earned_on_the_direct_invoice_the_customer_paid(tenant):
    """PA-8.1: 5.0 % (CPA-8.1: 4.0 %) of the Distributor's Invoiced Revenue from that Customer; PA-8.2 / CPA-8.2: in
    the month the Customer paid (November): 625.00 / 840.00. The resale earns no commission."""
    ledger, (partner, finance, *_, commission) = _october(tenant)
    statement = _settle(ledger, finance, partner, "2026-11", "2026-12-02T10:00:00Z")[1]
    assert _lines(statement)["RBT-REFERRAL"]["amount"] == commission


def test_pa_1_2_the_tier_reviews_annual_revenue_leaves_the_referral_out():
    """PA-1.2 / PA-3.6: Annual Revenue is the partner's Qualifying Revenue, "amounts invoiced by the Distributor to the
    Partner": 2,500.00, not 15,000.00."""
    ledger, _ = _october("northwind")
    measured = tier_review.measured_revenue(ledger.rt, "northwind", P1, date(2026, 1, 1), date(2026, 12, 31),
                                            date(2027, 1, 15))  # fmt: skip
    assert measured == Decimal("2500.00")


def test_cpa_1_2_the_tier_reviews_revenue_leaves_the_referral_out():
    """CPA-1.2 / CPA-3.5: the January review measures the previous Program Year's Qualifying Revenue: 5 docks =
    1,050.00, not 22,050.00."""
    ledger, _ = _october("contoso")
    measured = tier_review.measured_revenue(ledger.rt, "contoso", CT_PARTNER, date(2026, 1, 1), date(2026, 12, 31),
                                            date(2027, 1, 15))  # fmt: skip
    assert measured == Decimal("1050.00")


NO_SUCH_INVOICE = "inv_" + "0" * 26  # a well-formed invoice id no tenant has


@pytest.mark.parametrize("tenant", sorted(CASES))
def test_a_partner_key_reads_nothing_of_the_customers_invoice(tenant):
    """The direct invoice is the customer's: a partner key lists only its own invoice, and reading, disputing or asking
    review of the direct one answers as for an invoice that does not exist (the same 404), so none of its fields
    (lines, unit prices, costs, tax, due date, payment) reach the partner beyond its commission statement; finance
    reads it."""
    ledger, (partner, finance, *_) = _october(tenant)
    (direct,) = ledger.direct_invoices(partner, "2026-10")
    key = Principal(tenant, Role.PARTNER, "key_ptr", partner_id=partner)
    listed = billing.list_invoices_for(ledger.rt, key, status="finalized", period=None, limit=50, cursor=None)
    assert [i["invoice_id"] for i in listed["items"]] == [ledger.invoice(partner, "2026-10")["invoice_id"]]
    assert billing.read_invoice(ledger.rt, finance, direct["invoice_id"])["customer_id"] == "CUST-DIR-1"
    with pytest.raises(NotFound) as unknown:
        billing.read_invoice(ledger.rt, key, NO_SUCH_INVOICE)
    with pytest.raises(NotFound) as hidden:
        billing.read_invoice(ledger.rt, key, direct["invoice_id"])
    assert str(hidden.value.detail).replace(direct["invoice_id"], "X") == str(unknown.value.detail).replace(
        NO_SUCH_INVOICE, "X")
    with pytest.raises(NotFound):
        invoice_disputes.file_dispute(ledger.rt, key, direct["invoice_id"],
                                      {"line_no": 1, "reason": "pricing", "description": "not ours"})  # fmt: skip
    with pytest.raises(NotFound):
        automated_decisions.named(ledger.rt, key, {"kind": "invoice_line", "invoice_id": direct["invoice_id"],
                                                   "line_no": 1})  # fmt: skip


def test_the_customers_unpaid_direct_invoice_is_no_debt_of_the_partner():
    """PA-10.8 / PA-13.2(c) suspend a Partner for "any amount [...] more than 60 days overdue": the customer's invoice
    is not the partner's amount, so it is not among the partner's issued invoices that fall due."""
    ledger = Ledger("2026-10-05T12:00:00Z")
    _ship(ledger, P1, "2026-10-06", [{"sku": "NW-SW-24P", "quantity": 10}], "SO-DIR-2", channel="referral",
          customer_id="CUST-DIR-2", **accepted("2026-10-06"))  # fmt: skip
    (direct,) = ledger.direct_invoices(P1, "2026-10")
    ledger.clock.set("2026-11-02T06:00:00Z")
    billing.finalize_invoice(ledger.rt, NW_FINANCE, direct["invoice_id"])
    from revgov.services.billing.repository import issued_invoices

    assert [i["invoice_id"] for i in issued_invoices(ledger.rt, "northwind")] == []


def test_a_referred_subscription_and_a_credit_note_on_the_referral_go_on_the_customers_invoice():
    """PA-8.1 "invoices the Customer directly" holds for every line of the referral: a subscription the partner
    referred (NW-CLOUD-PLATFORM activated 2026-08-05) is charged on the direct invoice to CUST-DIR-3, and the ERP's
    credit note against the referral shipment (SOP-2.5: "a credit note referencing the original invoice and lines")
    goes on the customer's next direct invoice, net of which the commission is counted ("net of credit notes"); the
    partner has no invoice at all."""
    ledger = Ledger("2026-08-05T12:00:00Z")
    subscription = {"partner_id": P1, "subscription_id": "SUB-DIR-3", "sku": "NW-CLOUD-PLATFORM", "quantity": 1,
                    "activated_on": "2026-08-05", "order_ref": "SO-DIR-3", "channel": "referral",
                    "customer_id": "CUST-DIR-3", **accepted("2026-08-05")}  # fmt: skip
    assert ledger.bill("subscription.activated", subscription, occurred_at="2026-08-05T10:00:00Z")["status"] == \
        "processed"  # fmt: skip
    _ship(ledger, P1, "2026-08-06", [{"sku": "NW-SW-24P", "quantity": 10}], "SO-DIR-4", channel="referral",
          customer_id="CUST-DIR-3", **accepted("2026-08-06"))  # fmt: skip
    (august,) = ledger.direct_invoices(P1, "2026-08")
    assert [ln["kind"] for ln in august["lines"]] == ["subscription", "shipment"]
    assert ledger.month_invoice_ids(P1, "2026-08") == [august["invoice_id"]]  # no partner invoice
    ledger.clock.set("2026-09-02T06:00:00Z")
    billing.finalize_invoice(ledger.rt, NW_FINANCE, august["invoice_id"])
    ledger.clock.set("2026-09-03T10:00:00Z")
    credit = {"partner_id": P1, "credit_note_ref": "CN-DIR-3", "invoice_id": august["invoice_id"], "line_no": 2,
              "reason": "billing_error", "amount": "1250.00", "quantity": 1, "issued_on": "2026-09-03"}  # fmt: skip
    assert ledger.bill("credit_note.issued", credit, occurred_at="2026-09-03T09:00:00Z")["status"] == "processed"
    (september,) = ledger.direct_invoices(P1, "2026-09")
    assert (september["customer_id"], [(ln["kind"], ln["amount"]) for ln in september["lines"]]) == (
        "CUST-DIR-3", [("credit_note", "-1250.00")])
    assert ledger.month_invoice_ids(P1, "2026-09") == [september["invoice_id"]]


def test_a_referral_line_already_on_a_partners_invoice_is_left_out_of_its_tier_revenue():
    """Referral lines posted on the partner's invoice before referral sales were invoiced directly (a sales fact of
    `channel: referral` on the partner's own invoice) are not its revenue either (PA-8.1: introduced "without
    reselling to it"; PA-1.2): 2,500.00 of resale and 12,500.00 of such a line measure 2,500.00."""
    ledger, _ = _october("northwind")
    (direct,) = ledger.direct_invoices(P1, "2026-10")
    from revgov.ports import Changes, Put
    from revgov.services.billing.repository import SALES_FACTS

    facts = [f for f in ledger.rt.store.query("northwind", SALES_FACTS, limit=100).items
             if f.data["invoice_id"] == direct["invoice_id"]]  # fmt: skip
    own = ledger.invoice(P1, "2026-10")["invoice_id"]
    legacy = [Put(SALES_FACTS, f.key, {k: v for k, v in {**f.data, "invoice_id": own}.items() if k != "billed_to"},
                  lookup=(f"{SALES_FACTS}#2026-10", f.key)) for f in facts]  # fmt: skip
    ledger.rt.store.commit("northwind", Changes(puts=legacy))
    measured = tier_review.measured_revenue(ledger.rt, "northwind", P1, date(2026, 1, 1), date(2026, 12, 31),
                                            date(2027, 1, 15))  # fmt: skip
    assert measured == Decimal("2500.00")
