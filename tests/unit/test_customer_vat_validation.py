"""A customer's VIES check, recorded by staff, decides the VAT treatment of the Distributor's direct invoice to it.

CPA-8.1: "A Partner that refers an End Customer that Contoso then invoices directly earns a referral fee"; the direct
invoice's buyer is the End Customer. CPA-2.3: "Cross-border supplies within the EU are invoiced under the
reverse-charge mechanism only while the number validates"; COP-2.2: "the Partner's VAT number must have validated in
VIES within the last 30 days for reverse-charge lines, otherwise VAT is charged at the applicable rate". The same
rules the partner's own invoices follow (domain.billing.tax.treatment), read with the customer's own checks: the
customer's country is its VAT number's member-state prefix (VIES writes it), a supply within NL (Contoso's country,
tenant.yaml) is always taxed, a check more than 30 days before the issue day or a failed one is no ground for the
reverse charge. Contoso's standard rate: 21 %.

100 x CT-DEV-DOCK at 210.00 referred to CUST-DIR-1, shipped 2026-10-06: 21,000.00 on October's direct invoice,
issued 2026-11-01. Under the reverse charge: tax 0.00, gross 21,000.00. Charged VAT: 21,000.00 x 21 % = 4,410.00,
gross 25,410.00.
"""

from __future__ import annotations

import pytest
from test_invoice_tax import FINANCE, PARTNER, _ledger
from test_rebates_mdf_and_referral_window import _ship, accepted

from revgov.domain.access import Principal, Role
from revgov.domain.errors import MalformedRequest, NotFound, RuleViolation
from revgov.services import billing, vat_validation

CUSTOMER = "CUST-DIR-1"
REVERSE = {"net": "21000.00", "tax": "0.00", "gross": "21000.00"}
CHARGED = {"net": "21000.00", "tax": "4410.00", "gross": "25410.00"}


def _check(ledger, result: str, day: str, vat_number: str | None = "BE0123456789", customer: str = CUSTOMER) -> dict:
    ledger.clock.set(f"{day}T09:00:00Z")
    body = {"result": result, "checked_at": f"{day}T09:00:00Z", "reference": f"WAPI-C-{day}"}
    if vat_number:
        body["vat_number"] = vat_number
    return vat_validation.record_customer_check(ledger.rt, FINANCE, customer, body)


def _direct_issued(ledger) -> dict:
    _ship(ledger, PARTNER, "2026-10-06", [{"sku": "CT-DEV-DOCK", "quantity": 100}], "SO-RC-DIR", channel="referral",
          customer_id=CUSTOMER, **accepted("2026-10-06"))  # fmt: skip
    (direct,) = ledger.direct_invoices(PARTNER, "2026-10")
    ledger.clock.set("2026-11-01T10:00:00Z")
    return billing.finalize_invoice(ledger.rt, FINANCE, direct["invoice_id"])


@pytest.mark.parametrize(
    ("result", "checked", "vat_number", "treatment", "totals"),
    [
        ("valid", "2026-10-20", "BE0123456789", "reverse_charge", REVERSE),  # 12 days before issue, Belgium
        ("valid", "2026-10-02", "BE0123456789", "reverse_charge", REVERSE),  # 30 days: "within the last 30 days"
        ("valid", "2026-10-01", "BE0123456789", "vat", CHARGED),  # 31 days before the issue day
        ("invalid", "2026-10-20", "BE0123456789", "vat", CHARGED),  # the number does not validate
        ("valid", "2026-10-20", "NL123456789B01", "vat", CHARGED),  # within NL, the supplier's own country
        ("valid", "2026-10-20", "CHE123456789", "vat", CHARGED),  # CH: not an EU member state
        ("valid", "2026-10-20", None, "vat", CHARGED),  # no number: no country to read
    ],
)
def test_cop_2_2_the_customers_own_vies_check_decides_the_direct_invoices_treatment(
    result, checked, vat_number, treatment, totals
):
    ledger = _ledger()
    _check(ledger, result, checked, vat_number)
    issued = _direct_issued(ledger)
    assert issued["tax"]["treatment"] == treatment and issued["totals"] == totals
    assert CUSTOMER in issued["tax"]["reason"] or treatment == "reverse_charge"
    assert issued["tax"]["rests_on"] is None or issued["tax"]["rests_on"]["reference"] == f"WAPI-C-{checked}"
    if treatment == "reverse_charge":
        assert (issued["tax"]["rule_id"], issued["tax"]["clause"]) == ("BILL-VAT-REVERSE-CHARGE", "CPA-2.3")
        assert [ln["tax"]["notice"] for ln in issued["lines"]] == ["Reverse charge"]


def test_another_customers_check_and_the_partners_own_check_do_not_apply():
    ledger = _ledger()
    _check(ledger, "valid", "2026-10-20", customer="CUST-OTHER-9")
    issued = _direct_issued(ledger)
    assert issued["tax"]["treatment"] == "vat" and issued["totals"] == CHARGED


def test_a_check_recorded_after_issue_changes_nothing_issued():
    ledger = _ledger()
    issued = _direct_issued(ledger)
    _check(ledger, "valid", "2026-11-02")
    assert billing.read_invoice(ledger.rt, FINANCE, issued["invoice_id"])["totals"] == CHARGED


def test_the_customer_id_is_compared_case_insensitively_as_the_erp_sends_it():
    ledger = _ledger()
    _check(ledger, "valid", "2026-10-20", customer="cust-dir-1")
    assert _direct_issued(ledger)["tax"]["treatment"] == "reverse_charge"


def test_staff_read_and_record_checks_audited_bad_input_named_and_partners_never():
    ledger = _ledger()
    recorded = _check(ledger, "valid", "2026-10-20")
    assert recorded["customer_id"] == CUSTOMER and recorded["latest"]["reference"] == "WAPI-C-2026-10-20"
    assert vat_validation.get_customer_checks(ledger.rt, FINANCE, CUSTOMER) == recorded
    audit = [r for r in ledger.rt.store.audit_records("contoso") if r["action"] == "customer_vat_validation.recorded"]
    assert [(r["subject"], r["rule_ids"], r["clauses"]) for r in audit] == [
        (CUSTOMER, ["BILL-VAT-CHECK-BEFORE-ISSUE"], ["COP-2.2"])]
    ledger.clock.set("2026-10-21T09:00:00Z")
    for body, path in (({"result": "maybe", "checked_at": "2026-10-20T09:00:00Z", "reference": "R"}, "/result"),
                       ({"result": "valid", "checked_at": "2026-10-22T09:00:00Z", "reference": "R"}, "/checked_at"),
                       ({"result": "valid", "checked_at": "2026-10-20T09:00:00Z"}, "/reference")):  # fmt: skip
        with pytest.raises((MalformedRequest, RuleViolation)) as refused:
            vat_validation.record_customer_check(ledger.rt, FINANCE, CUSTOMER, body)
        assert [e.path for e in refused.value.errors] == [path]
    with pytest.raises(NotFound):  # not the form of an ERP customer id
        vat_validation.record_customer_check(ledger.rt, FINANCE, "../x", {"result": "valid"})
    assert vat_validation.get_customer_checks(ledger.rt, FINANCE, CUSTOMER) == recorded  # nothing changed
    with pytest.raises(NotFound):  # nothing recorded: nothing to read
        vat_validation.get_customer_checks(ledger.rt, FINANCE, "CUST-NEVER")
    with pytest.raises(NotFound):
        vat_validation.get_customer_checks(ledger.rt, Principal("contoso", Role.PARTNER, "k", PARTNER), CUSTOMER)


def test_a_sales_tax_tenant_records_no_vies_check():
    """Northwind's invoices are under sales tax (PA-10.1): a VIES check decides nothing there, so recording one is
    refused (422), not stored to no effect."""
    from memory_store import Ledger

    ledger = Ledger("2026-10-01T08:00:00Z")
    with pytest.raises(RuleViolation):
        vat_validation.record_customer_check(ledger.rt, Principal("northwind", Role.FINANCE, "k"), CUSTOMER,
                                             {"result": "valid", "checked_at": "2026-09-30T09:00:00Z",
                                              "reference": "R"})  # fmt: skip
