"""A customer's sales-tax exemption certificate, recorded by staff, exempts the Distributor's direct invoice to it.

PA-10.1: "Taxes are calculated per line on the basis of the ship-to or service location [...]; a Partner claiming
exemption must have a valid certificate on file before the invoice is issued." PA-8.1: "Where the Distributor accepts
the referral and invoices the Customer directly": on the direct invoice the buyer is the Customer, so its own
certificate is the one "on file" (the partner's exempts none of the customer's purchases,
test_direct_sales_kpis_tax_agents.py). The same rule the partner's invoices follow (domain.billing.sales_tax
`exemptions_on`): verified before the invoice is issued, valid on the issue day (issued on or before it, expiring on or
after it), in the line's jurisdiction.

One NW-SW-24P (1,250.00) referred to CUST-CA-1, shipped to California on 2027-01-05, the direct invoice issued
2027-02-01: exempt, tax 0.00, gross 1,250.00; taxed, 1,250.00 x 7.25 % = 90.625 -> 90.62 (PA-1.3 half to even),
gross 1,340.62.
"""

from __future__ import annotations

import pytest
from test_rebates_mdf_and_referral_window import accepted
from test_sales_tax import CA, CHECKSUM, FINANCE, P2, _ledger

from revgov.domain.access import Principal, Role
from revgov.domain.errors import NotFound, RuleViolation
from revgov.services import billing, tax_exemptions

CUSTOMER = "CUST-CA-1"
EXEMPT = {"net": "1250.00", "tax": "0.00", "gross": "1250.00"}
TAXED = {"net": "1250.00", "tax": "90.62", "gross": "1340.62"}


def _record(ledger, at: str, jurisdiction: str = "US-CA", issued_at: str = "2026-06-01",
            expires_at: str = "2027-12-31", customer: str = CUSTOMER) -> dict:
    ledger.clock.set(at)
    body = {"jurisdiction": jurisdiction, "reference": f"dms://customers/{customer}/{jurisdiction}.pdf",
            "checksum": CHECKSUM, "issued_at": issued_at, "expires_at": expires_at}
    return tax_exemptions.record_customer_certificate(ledger.rt, FINANCE, customer, body)


def _issued(ledger) -> dict:
    ledger.clock.set("2027-01-05T10:00:00Z")
    data = {"partner_id": P2, "order_ref": "SO-CUST-EX", "shipped_on": "2027-01-05", "tax_location": CA,
            "lines": [{"sku": "NW-SW-24P", "quantity": 1}], "channel": "referral", "customer_id": CUSTOMER,
            **accepted("2027-01-05")}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2027-01-05T09:00:00Z")["status"] == "processed"
    (direct,) = ledger.direct_invoices(P2, "2027-01")
    ledger.clock.set("2027-02-01T10:00:00Z")
    return billing.finalize_invoice(ledger.rt, FINANCE, direct["invoice_id"])


@pytest.mark.parametrize(
    ("jurisdiction", "expires_at", "treatment", "totals"),
    [
        ("US-CA", "2027-12-31", "sales_tax_exempt", EXEMPT),
        ("US-CA", "2027-02-01", "sales_tax_exempt", EXEMPT),  # valid through its expiry day, the issue day
        ("US-CA", "2027-01-31", "sales_tax", TAXED),  # expired the day before the invoice was issued
        ("US-TX", "2027-12-31", "sales_tax", TAXED),  # a certificate for another jurisdiction
    ],
)
def test_pa_10_1_the_customers_own_certificate_exempts_its_direct_invoice(jurisdiction, expires_at, treatment,
                                                                         totals):  # fmt: skip
    ledger = _ledger("2027-01-04T08:00:00Z")
    _record(ledger, "2027-01-04T09:00:00Z", jurisdiction=jurisdiction, expires_at=expires_at)
    issued = _issued(ledger)
    assert [ln["tax"]["treatment"] for ln in issued["lines"]] == [treatment]
    assert issued["totals"] == totals


def test_pa_10_1_a_certificate_recorded_after_issue_exempts_nothing_issued():
    ledger = _ledger("2027-01-04T08:00:00Z")
    issued = _issued(ledger)
    _record(ledger, "2027-02-02T09:00:00Z")
    assert billing.read_invoice(ledger.rt, FINANCE, issued["invoice_id"])["totals"] == TAXED


def test_another_customers_certificate_exempts_nothing():
    ledger = _ledger("2027-01-04T08:00:00Z")
    _record(ledger, "2027-01-04T09:00:00Z", customer="CUST-CA-2")
    assert _issued(ledger)["totals"] == TAXED


def test_bad_certificates_are_refused_naming_the_field_and_partners_read_none():
    ledger = _ledger("2027-01-04T08:00:00Z")
    for more, path in (({"jurisdiction": "US-ZZ"}, "/jurisdiction"), ({"expires_at": "2027-01-03"}, "/expires_at")):
        with pytest.raises(RuleViolation) as refused:
            _record(ledger, "2027-01-04T09:00:00Z", **more)
        assert [e.path for e in refused.value.errors] == [path]
    with pytest.raises(NotFound):  # nothing was recorded
        tax_exemptions.get_customer_certificates(ledger.rt, FINANCE, CUSTOMER)
    recorded = _record(ledger, "2027-01-04T09:00:00Z")
    assert [c["jurisdiction"] for c in recorded["current"]] == ["US-CA"] and recorded["customer_id"] == CUSTOMER
    audit = [r for r in ledger.rt.store.audit_records("northwind") if r["action"] == "customer_tax_exemption.recorded"]
    assert [(r["subject"], r["clauses"]) for r in audit] == [(CUSTOMER, ["PA-10.1"])]
    with pytest.raises(NotFound):
        tax_exemptions.get_customer_certificates(ledger.rt, Principal("northwind", Role.PARTNER, "k", P2), CUSTOMER)


def test_a_certificate_issued_after_today_is_not_on_file():
    """Red team 12. PA-10.1: "a valid certificate on file before the invoice is issued"; a partner's own document
    "cannot be issued in the future" (domain/partners/evidence.py, 422 naming /issued_at): a customer's certificate
    dated after the day staff record it is no certificate on file yet either (before, one issued 2027-03-01 was
    recorded on 2026-12-10). Nothing is recorded."""
    ledger = _ledger("2026-12-10T08:00:00Z")
    with pytest.raises(RuleViolation) as refused:
        _record(ledger, "2026-12-10T10:00:00Z", issued_at="2027-03-01", expires_at="2028-12-31")
    assert [e.path for e in refused.value.errors] == ["/issued_at"]
    with pytest.raises(NotFound):
        tax_exemptions.get_customer_certificates(ledger.rt, FINANCE, CUSTOMER)
    assert _record(ledger, "2026-12-10T10:00:00Z", issued_at="2026-12-10", expires_at="2028-12-31")["current"]
