"""KPIs of a referral sale (PA-8.1 / CPA-8.1) and of a sales agent's listed account (PA-8.2): the Distributor's own
sale to the Customer, counted in the tenant's figures and in a `direct` bucket, never in the referring partner's tier
or its own figures.

PA-1.2: "'Invoiced Revenue' means the amounts invoiced by the Distributor to the Partner for Products and Services"
(CPA-1.2: "amounts invoiced by Contoso to the Partner"). PA-8.1: "Where the Distributor accepts the referral and
invoices the Customer directly" (CPA-8.1: "an End Customer that Contoso then invoices directly"). PA-8.2: "A Partner
appointed in writing as a sales agent for a named account list earns a commission of 3.0% of the Distributor's
Invoiced Revenue, net of credit notes, from the listed accounts [...] paid within 30 days after the end of the month
in which the Customer paid the invoice": the listed account is invoiced by the Distributor and pays it itself.
docs/kpis.md: "Net realized margin by partner tier [...] over the invoice lines (sales facts) of the period's
invoices"; "Policy exceptions per 100 transactions [...] transactions = quotes checked + ERP events billed".

Worked numbers (northwind, October 2026): P1 resells 2 x NW-SW-24P (2,500.00) and refers CUST-DIR-1, shipped
10 x NW-SW-24P (12,500.00). The tenant's revenue is 15,000.00 over 2 billed ERP events; P1's tier and P1 itself
2,500.00 over 1 event (threshold attainment measures 2,500.00); the direct bucket 12,500.00 over 1 event.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_commission_paid_month import _invoice_and_pay
from test_rebates_mdf_and_referral_window import P1, _ship, accepted

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.services import analytics, tier_review

STAFF = Principal("northwind", Role.FINANCE, "key_fin")


def _fold(ledger: Ledger) -> None:
    """The `update_kpis` handler's work: every `invoice.lines_posted` folded into the rollups."""
    for envelope in ledger.rt.publisher.published:
        if envelope["detail_type"] == "invoice.lines_posted":
            analytics.record_fact(ledger.rt, {"source": envelope["source"], "detail-type": envelope["detail_type"],
                                              "detail": envelope["detail"]})  # fmt: skip


def _october(channel: str, **more: Any) -> Ledger:
    ledger = Ledger("2026-10-05T12:00:00Z")
    _ship(ledger, P1, "2026-10-05", [{"sku": "NW-SW-24P", "quantity": 2}], "SO-OWN-1")
    _ship(ledger, P1, "2026-10-06", [{"sku": "NW-SW-24P", "quantity": 10}], "SO-DIR-1", channel=channel,
          customer_id="CUST-DIR-1", **more)  # fmt: skip
    _fold(ledger)
    return ledger


def _tier() -> str:
    from revgov.services.partners import load_partner

    ledger = Ledger("2026-10-05T12:00:00Z")
    return str(load_partner(ledger.rt, "northwind", P1)[0]["tier"])


CHANNELS = {"referral": accepted("2026-10-06"), "sales_agent": {}}


@pytest.mark.parametrize("channel", sorted(CHANNELS))
def test_the_direct_sale_counts_for_the_tenant_and_the_direct_bucket_not_the_partners_tier(channel):
    ledger = _october(channel, **CHANNELS[channel])
    tier = _tier()
    everything = analytics.kpis(ledger.rt, STAFF, "2026-10", partner_id=None, tier=None)
    margin = everything["net_realized_margin"]
    assert margin["revenue"] == "15000.00"
    assert {t["tier"]: t["revenue"] for t in margin["by_tier"]}[tier] == "2500.00"
    assert margin["direct_sales"]["revenue"] == "12500.00"
    assert everything["policy_exceptions_per_100_transactions"]["transactions"] == 2
    own_tier = analytics.kpis(ledger.rt, STAFF, "2026-10", partner_id=None, tier=tier)
    assert own_tier["net_realized_margin"]["revenue"] == "2500.00"
    assert own_tier["policy_exceptions_per_100_transactions"]["transactions"] == 1
    own = analytics.kpis(ledger.rt, STAFF, "2026-10", partner_id=P1, tier=None)
    assert own["net_realized_margin"]["revenue"] == "2500.00"
    _, revenue = analytics.partner_history(ledger.rt, "northwind", P1, analytics._period("2026-10"))
    assert revenue == 2500.0


def test_pa_8_2_a_listed_accounts_sale_is_the_distributors_direct_invoice():
    """PA-8.2: "the Distributor's Invoiced Revenue [...] from the listed accounts", paid by "the Customer": the
    sale is on the direct invoice to CUST-DIR-1, the partner's invoice holds its 2,500.00 resale only, and the tier
    review's Annual Revenue (PA-1.2, PA-3.6) is 2,500.00."""
    from datetime import date
    from decimal import Decimal

    ledger = _october("sales_agent")
    own = ledger.invoice(P1, "2026-10")
    assert [ln["amount"] for ln in own["lines"]] == ["2500.00"]
    (direct,) = ledger.direct_invoices(P1, "2026-10")
    assert (direct["billed_to"], direct["customer_id"]) == ("customer", "CUST-DIR-1")
    assert [(ln["channel"], ln["amount"]) for ln in direct["lines"]] == [("sales_agent", "12500.00")]
    _invoice_and_pay(ledger, P1, "2026-10", "2026-11-02", "2026-11-10")
    measured = tier_review.measured_revenue(ledger.rt, "northwind", P1, date(2026, 1, 1), date(2026, 12, 31),
                                            date(2027, 1, 15))  # fmt: skip
    assert measured == Decimal("2500.00")


def test_cpa_2_3_the_partners_vies_check_does_not_put_the_customers_direct_invoice_under_the_reverse_charge():
    """CPA-2.3: "Cross-border supplies within the EU are invoiced under the reverse-charge mechanism only while the
    number validates" -- the number of the buyer: on the Partner's invoice the Partner (CPA-10.1 "the Partner's
    country"), on the direct invoice the End Customer (CPA-8.1 "an End Customer that Contoso then invoices
    directly"). COP-2.2: "the Partner's VAT number must have validated in VIES within the last 30 days for
    reverse-charge lines, otherwise VAT is charged at the applicable rate". Revgov records no VIES check of a
    customer, so the direct invoice is charged VAT: the German partner (validated 2026-10-02) is invoiced 210.00 under
    the reverse charge; the 100 docks referred to CUST-DIR-1 (21,000.00) carry NL VAT 21 % = 4,410.00, gross 25,410.00,
    and the treatment names the customer, not the partner's check."""
    from test_invoice_tax import FINANCE, PARTNER, _check, _ledger

    from revgov.services import billing

    ledger = _ledger()
    _check(ledger, "valid", "2026-10-02")
    _ship(ledger, PARTNER, "2026-10-05", [{"sku": "CT-DEV-DOCK", "quantity": 1}], "SO-RC-OWN")
    _ship(ledger, PARTNER, "2026-10-06", [{"sku": "CT-DEV-DOCK", "quantity": 100}], "SO-RC-DIR", channel="referral",
          customer_id="CUST-DIR-1", **accepted("2026-10-06"))  # fmt: skip
    assert ledger.invoice(PARTNER, "2026-10")["lines"][0]["tax"]["treatment"] == "reverse_charge"
    (direct,) = ledger.direct_invoices(PARTNER, "2026-10")
    assert direct["tax"]["treatment"] == "vat" and direct["tax"]["rests_on"] is None
    assert "CUST-DIR-1" in direct["tax"]["reason"]
    ledger.clock.set("2026-11-01T10:00:00Z")
    issued = billing.finalize_invoice(ledger.rt, FINANCE, direct["invoice_id"])
    assert issued["totals"] == {"net": "21000.00", "tax": "4410.00", "gross": "25410.00"}
    assert [ln["tax"]["rule_id"] for ln in issued["lines"]] == ["BILL-VAT"]


def test_pa_10_1_the_partners_exemption_certificate_exempts_none_of_the_customers_direct_purchase():
    """PA-10.1: "Taxes are calculated per line on the basis of the ship-to or service location [...]; a Partner
    claiming exemption must have a valid certificate on file" -- the Partner's claim on its own purchases (PA-2.3(b):
    "a valid resale or exemption certificate for each United States state in which it takes delivery"). A referral to
    California is the Distributor's sale to the Customer, which claimed nothing: with P2's US-CA certificate on file,
    its own switch to California is exempt, the referred one taxed at 7.25 %: 1,250.00 x 7.25 % = 90.625 -> 90.62
    (PA-1.3 half to even), gross 1,340.62."""
    from test_sales_tax import CA, FINANCE, P2, _file_and_verify, _ledger

    from revgov.services import billing

    ledger = _ledger("2027-01-05T08:00:00Z")
    _file_and_verify(ledger, "US-CA", "2027-12-31", "2027-01-04T09:00:00Z")
    for ref, more in (("SO-EX-OWN", {}), ("SO-EX-DIR", {"channel": "referral", "customer_id": "CUST-CA-1",
                                                        **accepted("2027-01-05")})):  # fmt: skip
        ledger.clock.set("2027-01-05T10:00:00Z")
        data = {"partner_id": P2, "order_ref": ref, "shipped_on": "2027-01-05", "tax_location": CA,
                "lines": [{"sku": "NW-SW-24P", "quantity": 1}], **more}  # fmt: skip
        assert ledger.bill("shipment.confirmed", data, occurred_at="2027-01-05T09:00:00Z")["status"] == "processed"
    ledger.clock.set("2027-02-01T10:00:00Z")
    own = billing.finalize_invoice(ledger.rt, FINANCE, ledger.invoice(P2, "2027-01")["invoice_id"])
    assert own["lines"][0]["tax"]["treatment"] == "sales_tax_exempt"
    (direct,) = ledger.direct_invoices(P2, "2027-01")
    issued = billing.finalize_invoice(ledger.rt, FINANCE, direct["invoice_id"])
    assert [(ln["tax"]["treatment"], ln["tax"]["rate"], ln["tax"]["amount"]) for ln in issued["lines"]] == [
        ("sales_tax", "7.25", "90.62")]
    assert issued["totals"] == {"net": "1250.00", "tax": "90.62", "gross": "1340.62"}


def test_the_billing_what_if_moves_a_direct_line_in_the_tenants_figure_not_the_partners_tier():
    """The billing what-if's `before` is what GET /v1/kpis counts, so a re-priced direct line (PA-8.1) moves the
    tenant's revenue and no tier's. P1 (platinum) activates 2 x NW-NET-MGMT on 2026-10-10 for itself and refers
    CUST-DIR-1 to the same: each 2 x 99.00 x 22/31 = 140.52 (COP-2.3 daily inclusive); the draft's 124.00 makes each
    176.00: the tenant moves 2 x 35.48 = 70.96, platinum 35.48 (its own line only)."""
    from test_policy_whatif_billing import FINANCE, MGMT_AT_124, _billed, _counted_in_kpis, _draft

    from revgov.services.policy_whatif_billing import whatif_billing

    def activation(ref: str, **more: Any) -> tuple[str, str, dict[str, Any]]:
        return ("subscription.activated", "2026-10-10T09:00:00Z", {
            "partner_id": P1, "subscription_id": f"SUB-{ref}", "sku": "NW-NET-MGMT", "quantity": 2,
            "activated_on": "2026-10-10", "order_ref": f"SO-{ref}", **more})  # fmt: skip

    ledger = _billed([activation("OWN"), activation("DIR", channel="referral", customer_id="CUST-DIR-1",
                                                   **accepted("2026-10-10"))])  # fmt: skip
    _counted_in_kpis(ledger)
    draft_id, _ = _draft(ledger, MGMT_AT_124)
    kpis = whatif_billing(ledger.rt, FINANCE, draft_id, {"period": "2026-10"})["kpis"]
    assert (kpis["before"]["revenue"], kpis["after"]["revenue"], kpis["revenue_change"]) == (
        "281.04", "352.00", "70.96")
    assert kpis["by_tier"]["platinum"]["revenue_change"] == "35.48"
