"""The tax each invoice line carries, computed by hand from the clauses. In-memory engine, fixed clock.

CPA-10.1: "Invoices meet the requirements of the EU VAT Directive and the Partner's country, show VAT per line or the
reverse-charge notice".
CPA-2.3: "Cross-border supplies within the EU are invoiced under the reverse-charge mechanism only while the number
validates."
COP-2.2: "Before issue, Finance checks ... that the VAT treatment is correct: the Partner's VAT number must have
validated in VIES within the last 30 days for reverse-charge lines, otherwise VAT is charged at the applicable rate.
... issued invoices are never changed."
CPA-1.3: "Calculations use exact decimal arithmetic and are rounded once per line to two decimal places, half to
even."
PA-10.1: "Taxes are calculated per line on the basis of the ship-to or service location and shown separately".

The Contoso demo tenant is established in the Netherlands (policy.billing.tax: supplier_country NL, 21 %; the
agreement does not name the country). The partner is established in Germany: a cross-border supply within the EU.
A docking station (CT-DEV-DOCK) is EUR 210.00 (CPA-6.1 price list).
"""

from __future__ import annotations

from typing import Any

import pytest

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.domain.billing import tax as rules
from revgov.domain.errors import NotFound
from revgov.ports import Changes, Put
from revgov.services import billing, vat_validation

PARTNER = "ptr_01JBCTAVD4TR0000000000VAT1"
RIVAL = "ptr_01JBCTAVD4TR0000000000VAT2"
FINANCE = Principal("contoso", Role.FINANCE, "key_fin_vat")
FAMILY_CERTS = ("cert-collab-associate", "cert-secops-analyst", "cert-data-engineer", "cert-devices-field")
CERTS = {c: {"cert_id": c, "holder": "A. Auditor", "earned_at": "2025-01-01", "expires_at": "2029-12-31"}
         for c in FAMILY_CERTS}  # fmt: skip


def _ledger(at: str = "2026-10-01T08:00:00Z", country: str = "DE") -> Ledger:
    ledger = Ledger(at, tenant="contoso")
    records = [{"partner_id": pid, "legal_name": f"Steuer {pid[-1]} GmbH", "partner_type": "reseller",
                "status": "active", "tier": "elite", "country": country, "activated_at": "2025-01-01T00:00:00Z",
                "certifications": CERTS} for pid in (PARTNER, RIVAL)]  # fmt: skip
    ledger.rt.store.commit("contoso", Changes(puts=[Put("PARTNER", r["partner_id"], r) for r in records]))
    return ledger


def _check(ledger: Ledger, result: str, day: str, partner: str = PARTNER) -> None:
    ledger.clock.set(f"{day}T09:00:00Z")
    body = {"result": result, "checked_at": f"{day}T09:00:00Z", "reference": f"WAPI-{day}", "vat_number": "DE123456789"}
    vat_validation.record_check(ledger.rt, FINANCE, partner, body)


def _ship(ledger: Ledger, on: str, ref: str, discount: str | None = None, partner: str = PARTNER) -> None:
    ledger.clock.set(f"{on}T10:00:00Z")
    line: dict[str, Any] = {"sku": "CT-DEV-DOCK", "quantity": 1}
    if discount:
        line["discount_percent"] = discount
    # CPA-10.2 "devices are billed on delivery" (reviewer finding 2): the ERP reports the delivery, the day shipped
    data = {"partner_id": partner, "order_ref": ref, "shipped_on": on, "delivered_on": on, "lines": [line]}
    assert ledger.bill("shipment.confirmed", data, occurred_at=f"{on}T09:00:00Z")["status"] == "processed"


def _finalize(ledger: Ledger, period: str, at: str, partner: str = PARTNER) -> dict[str, Any]:
    ledger.clock.set(at)
    return billing.finalize_invoice(ledger.rt, FINANCE, ledger.invoice(partner, period)["invoice_id"])


def _tax(line: dict[str, Any]) -> tuple[Any, ...]:
    t = line["tax"]
    return t["treatment"], t["rate"], t["amount"], t["gross_amount"], t["notice"], t["rule_id"], t["clause"]


def test_cpa_2_3_a_validated_cross_border_partner_is_invoiced_under_the_reverse_charge_with_the_notice():
    ledger = _ledger()
    _check(ledger, "valid", "2026-10-02")
    _ship(ledger, "2026-10-05", "SO-RC-1")
    draft = ledger.invoice(PARTNER, "2026-10")
    (line,) = draft["lines"]
    # No VAT on the line: the reverse-charge notice (Directive 2006/112/EC art. 226(11a): "Reverse charge").
    assert _tax(line) == ("reverse_charge", None, "0.00", "210.00", "Reverse charge", "BILL-VAT-REVERSE-CHARGE",
                          "CPA-2.3")  # fmt: skip
    assert draft["tax"]["fixed"] is False and draft["tax"]["rests_on"]["reference"] == "WAPI-2026-10-02"
    assert draft["totals"] == {"net": "210.00", "tax": "0.00", "gross": "210.00"}
    # COP-2.2: issued 2026-11-01, the check of 2026-10-02 is 30 days old: "within the last 30 days".
    issued = _finalize(ledger, "2026-10", "2026-11-01T10:00:00Z")
    assert issued["tax"]["fixed"] is True and issued["tax"]["treatment"] == "reverse_charge"
    assert issued["totals"] == {"net": "210.00", "tax": "0.00", "gross": "210.00"}
    assert not [r for r in ledger.rt.store.audit_records("contoso") if r["action"] == "invoice.tax_retreated"]


def test_cop_2_2_a_reverse_charge_resting_on_a_check_31_days_old_at_issue_is_re_treated_to_vat_and_audited():
    ledger = _ledger()
    _check(ledger, "valid", "2026-10-01")
    _ship(ledger, "2026-10-05", "SO-RC-2")
    assert ledger.invoice(PARTNER, "2026-10")["lines"][0]["tax"]["treatment"] == "reverse_charge"  # as posted
    # Issued 2026-11-01: the check is 31 days old. "otherwise VAT is charged at the applicable rate":
    # 210.00 x 21 % = 44.10; gross 254.10.
    issued = _finalize(ledger, "2026-10", "2026-11-01T10:00:00Z")
    (line,) = issued["lines"]
    assert _tax(line) == ("vat", "21", "44.10", "254.10", None, "BILL-VAT", "CPA-10.1")
    assert issued["totals"] == {"net": "210.00", "tax": "44.10", "gross": "254.10"}
    assert issued["total"] == "210.00"  # `total` stays the net (CPA-1.2: Invoiced Revenue excludes VAT)
    (audit,) = [r for r in ledger.rt.store.audit_records("contoso") if r["action"] == "invoice.tax_retreated"]
    assert audit["outcome"] == "reverse_charge -> vat" and "COP-2.2" in audit["clauses"]
    assert audit["inputs"]["posted_under"]["rests_on"]["checked_at"].startswith("2026-10-01T09:00:00")
    assert "more than 30 days before 2026-11-01" in audit["inputs"]["issued_under"]["reason"]
    # Issued invoices are never changed: read back a day later, the same.
    ledger.clock.set("2026-11-02T10:00:00Z")
    assert ledger.invoice(PARTNER, "2026-10")["totals"] == {"net": "210.00", "tax": "44.10", "gross": "254.10"}


def test_cop_2_2_a_fresh_check_before_issue_puts_vat_lines_under_the_reverse_charge():
    ledger = _ledger()
    _ship(ledger, "2026-10-05", "SO-RC-3")
    assert ledger.invoice(PARTNER, "2026-10")["lines"][0]["tax"]["treatment"] == "vat"  # no check yet
    _check(ledger, "valid", "2026-10-31")
    issued = _finalize(ledger, "2026-10", "2026-11-01T10:00:00Z")
    assert issued["lines"][0]["tax"]["treatment"] == "reverse_charge"
    (audit,) = [r for r in ledger.rt.store.audit_records("contoso") if r["action"] == "invoice.tax_retreated"]
    assert audit["outcome"] == "vat -> reverse_charge"


@pytest.mark.parametrize(
    ("result", "country", "why"),
    [
        ("invalid", "DE", "failed validation"),  # CPA-2.3 "only while the number validates"
        ("valid", "NL", "the supplier's own country"),  # not a cross-border supply
        ("valid", "CH", "not an EU member state"),  # CPA-2.3: only cross-border supplies within the EU
    ],
)
def test_no_reverse_charge_without_a_valid_number_or_a_cross_border_eu_supply(result, country, why):
    ledger = _ledger(country=country)
    _check(ledger, result, "2026-10-02")
    _ship(ledger, "2026-10-05", "SO-VAT-1") if result == "valid" else None
    if result == "invalid":  # CPA-2.3 holds the order itself; the partner's invoice of an earlier order:
        ledger = _ledger(country=country)
        _ship(ledger, "2026-10-01", "SO-VAT-1")
        _check(ledger, result, "2026-10-02")
    (line,) = ledger.invoice(PARTNER, "2026-10")["lines"]
    assert _tax(line)[:4] == ("vat", "21", "44.10", "254.10")
    assert why in ledger.invoice(PARTNER, "2026-10")["tax"]["reason"]


def test_cpa_1_3_vat_is_rounded_once_per_line_half_to_even():
    # 210.00 less 15 % = 178.50; VAT 178.50 x 21 % = 37.485 -> 37.48 (8 is even; half-up would give 37.49).
    # 210.00 less 5 % = 199.50; VAT 41.895 -> 41.90 (9 is odd: up to 0). Invoice: net 378.00, VAT the sum of the
    # rounded lines 37.48 + 41.90 = 79.38, gross 457.38.
    ledger = _ledger()
    _ship(ledger, "2026-10-05", "SO-HE-1", discount="15")
    _ship(ledger, "2026-10-06", "SO-HE-2", discount="5")
    invoice = ledger.invoice(PARTNER, "2026-10")
    assert [ln["tax"]["amount"] for ln in invoice["lines"]] == ["37.48", "41.90"]
    assert invoice["totals"] == {"net": "378.00", "tax": "79.38", "gross": "457.38"}


def test_a_credit_note_mirrors_the_reverse_charge_of_the_line_it_credits_while_new_lines_bear_vat():
    # October issued under the reverse charge (check 2026-10-02, issued 2026-11-01). In November the check is stale:
    # a new shipment bears VAT (44.10), but the credit note of 100.00 against October's line mirrors its reverse charge.
    ledger = _ledger()
    _check(ledger, "valid", "2026-10-02")
    _ship(ledger, "2026-10-05", "SO-CN-1")
    october = _finalize(ledger, "2026-10", "2026-11-01T10:00:00Z")
    _ship(ledger, "2026-11-10", "SO-CN-2")
    ledger.clock.set("2026-11-12T17:00:00Z")
    data = {"partner_id": PARTNER, "credit_note_ref": "CN-1", "invoice_id": october["invoice_id"], "line_no": 1,
            "reason": "billing_error", "amount": "100.00", "issued_on": "2026-11-12"}  # fmt: skip
    assert ledger.bill("credit_note.issued", data, occurred_at="2026-11-12T16:00:00Z")["status"] == "processed"
    november = ledger.invoice(PARTNER, "2026-11")
    shipped, note = november["lines"]
    assert _tax(shipped)[:3] == ("vat", "21", "44.10")
    assert (note["amount"], note["tax"]["treatment"], note["tax"]["amount"]) == ("-100.00", "reverse_charge", "0.00")
    assert note["tax"]["mirrors_line"] == october["lines"][0]["line_id"]
    assert november["totals"] == {"net": "110.00", "tax": "44.10", "gross": "154.10"}
    issued = _finalize(ledger, "2026-11", "2026-12-01T10:00:00Z")
    assert issued["lines"][1]["tax"]["treatment"] == "reverse_charge"
    assert issued["totals"] == {"net": "110.00", "tax": "44.10", "gross": "154.10"}


def test_a_credit_note_mirrors_vat_at_the_original_rate():
    # October issued with VAT (no check): 44.10. A credit note of 10.00 in November: -10.00 x 21 % = -2.10.
    ledger = _ledger()
    _ship(ledger, "2026-10-05", "SO-CN-3")
    october = _finalize(ledger, "2026-10", "2026-11-01T10:00:00Z")
    _check(ledger, "valid", "2026-11-05")  # November's own lines would now be reverse-charged
    ledger.clock.set("2026-11-12T17:00:00Z")
    data = {"partner_id": PARTNER, "credit_note_ref": "CN-2", "invoice_id": october["invoice_id"], "line_no": 1,
            "reason": "billing_error", "amount": "10.00", "issued_on": "2026-11-12"}  # fmt: skip
    assert ledger.bill("credit_note.issued", data, occurred_at="2026-11-12T16:00:00Z")["status"] == "processed"
    (note,) = ledger.invoice(PARTNER, "2026-11")["lines"]
    assert _tax(note)[:4] == ("vat", "21", "-2.10", "-12.10")


def test_sales_facts_and_kpis_keep_the_net_amount():
    # CPA-1.2: "Invoiced Revenue ... excluding VAT and other indirect taxes": the sales fact rebates and KPIs read is
    # the net line amount, whatever VAT the line bears.
    ledger = _ledger()
    _ship(ledger, "2026-10-05", "SO-NET-1")
    (line,) = ledger.invoice(PARTNER, "2026-10")["lines"]
    fact = ledger.rt.store.get("contoso", billing.SALES_FACTS, line["line_id"])
    assert fact is not None and fact.data["net_amount"] == "210.00" and "tax" not in fact.data


def test_a_partner_reads_its_own_invoice_with_its_treatment_and_never_a_rivals():
    ledger = _ledger()
    _check(ledger, "valid", "2026-10-02")
    _ship(ledger, "2026-10-05", "SO-OWN-1")
    _ship(ledger, "2026-10-05", "SO-RIVAL-1", partner=RIVAL)
    own = Principal("contoso", Role.PARTNER, "key_ptr_vat1", partner_id=PARTNER)
    mine = billing.read_invoice(ledger.rt, own, ledger.invoice(PARTNER, "2026-10")["invoice_id"])
    assert mine["lines"][0]["tax"]["treatment"] == "reverse_charge" and "cost" not in mine["lines"][0]
    assert "recorded_by" not in mine["tax"]["rests_on"]
    with pytest.raises(NotFound):
        billing.read_invoice(ledger.rt, own, ledger.invoice(RIVAL, "2026-10")["invoice_id"])


def test_pa_10_1_northwind_lines_show_sales_tax_by_location_never_vat():
    # PA-10.1: "Taxes are calculated per line on the basis of the ship-to or service location and shown separately":
    # no VAT. No event carries a ship-to location and no rate is in the policy: no amount is invented.
    ledger = Ledger("2026-10-05T10:00:00Z")
    partner = "ptr_01JBNWTAX0000000000000000A"
    record = {"partner_id": partner, "legal_name": "Tax Test LLC", "partner_type": "reseller", "status": "active",
              "tier": "registered", "country": "US", "activated_at": "2025-01-01T00:00:00Z",
              "certifications": {}}  # fmt: skip
    ledger.rt.store.commit("northwind", Changes(puts=[Put("PARTNER", partner, record)]))
    data = {"partner_id": partner, "order_ref": "SO-NW-TAX", "shipped_on": "2026-10-05",
            "lines": [{"sku": "NW-SW-24P", "quantity": 1}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-10-05T09:00:00Z")["status"] == "processed"
    invoice = ledger.invoice(partner, "2026-10")
    (line,) = invoice["lines"]
    assert (line["tax"]["treatment"], line["tax"]["amount"], line["tax"]["clause"]) == ("sales_tax", None, "PA-10.1")
    assert "ship-to or service location" in line["tax"]["notice"]
    assert invoice["totals"] == {"net": line["amount"], "tax": None, "gross": None}


def test_the_policy_check_refuses_a_supplier_outside_the_member_states_and_two_rates_on_one_day():
    policy = {"billing": {"tax": {"regime": "vat", "supplier_country": "CH", "member_states": ["DE"],
                                  "rates": [{"percent": "21", "effective_from": "2026-01-01"},
                                            {"percent": "19", "effective_from": "2026-01-01"}]}}}  # fmt: skip
    assert [p.path for p in rules.tax_problems(policy)] == ["/policy/billing/tax/supplier_country",
                                                               "/policy/billing/tax/rates"]  # fmt: skip


def test_an_issued_invoice_keeps_the_rate_it_was_fixed_with_whatever_the_policy_becomes():
    # COP-2.2: "issued invoices are never changed". Fixed at 21 %; the policy later says 19 % from 2026-01-01.
    import yaml

    from support import ROOT

    policy = yaml.safe_load((ROOT / "tenants" / "contoso" / "tenant.yaml").read_text())["policy"]
    tax = rules.TaxPolicy.of(policy)
    assert tax is not None
    fixed = {"treatment": "vat", "fixed": True, "rates": rules.rates_of(tax), "mirrors": {}}
    later = {**policy["billing"]["tax"], "rates": [*policy["billing"]["tax"]["rates"],
                                                   {"percent": "19", "effective_from": "2026-01-01"}]}  # fmt: skip
    changed = rules.TaxPolicy.of({"billing": {"tax": later}})
    assert changed is not None
    line = {"line_id": "inv_1.1", "amount": "210.00", "service_period": {"start": "2026-10-05", "end": "2026-10-05"}}
    assert rules.line_tax(changed, fixed, line)["amount"] == "44.10"  # 21 %, as issued
    assert rules.line_tax(changed, {"treatment": "vat"}, line)["amount"] == "39.90"  # a draft: 210.00 x 19 %


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"regime": "gst"}, "/policy/billing/tax"),
        ({"supplier_country": "nl"}, "/policy/billing/tax"),
        ({"rates": [{"percent": "21 %", "effective_from": "2012-10-01"}]}, "/policy/billing/tax"),
        ({"rates": []}, "/policy/billing/tax"),
        ({"validation": {"id": "BILL-VAT-CHECK-BEFORE-ISSUE", "clause": "COP-2.2", "within_days": 0}}, "/policy"),
        ({"reverse_charge": {"id": "BILL-VAT-REVERSE-CHARGE", "clause": "CPA-2.3"}}, "/policy/billing/tax"),
        ({"unit_cost": "1.00"}, "/policy/billing/tax"),
    ],
)
def test_a_tax_section_the_schema_refuses_names_the_field(tmp_path, change, path):
    # Bad policy input is refused with the field named and nothing loaded.
    import yaml

    from revgov.domain.errors import MalformedRequest
    from revgov.tenant_files import load_tenant_file
    from support import ROOT

    config = yaml.safe_load((ROOT / "tenants" / "contoso" / "tenant.yaml").read_text())
    config["policy"]["billing"]["tax"] = {**config["policy"]["billing"]["tax"], **change}
    (tmp_path / "contoso").mkdir()
    (tmp_path / "contoso" / "tenant.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(MalformedRequest) as raised:
        load_tenant_file(tmp_path / "contoso" / "tenant.yaml")
    assert raised.value.errors[0].path.startswith(path), raised.value.errors


def test_a_partner_without_a_recorded_country_is_placed_by_the_prefix_of_its_validated_vat_number():
    # CPA-2.3: the partner "must provide its VAT identification number"; its member-state prefix (VIES: EL for
    # Greece) says where it is registered when the partner record has no country.
    node = {"regime": "vat", "id": "BILL-VAT", "clause": "CPA-10.1", "supplier_country": "NL",
            "member_states": ["DE", "GR", "NL"], "rates": [{"percent": "21", "effective_from": "2012-10-01"}],
            "reverse_charge": {"id": "BILL-VAT-REVERSE-CHARGE", "clause": "CPA-2.3", "notice": "Reverse charge"},
            "validation": {"id": "BILL-VAT-CHECK-BEFORE-ISSUE", "clause": "COP-2.2", "within_days": 30}}  # fmt: skip
    tax = rules.TaxPolicy.of({"billing": {"tax": node}})
    assert tax is not None
    check = {"result": "valid", "checked_at": "2026-10-30T09:00:00Z", "reference": "WAPI-9"}
    day = rules.date(2026, 11, 2)
    assert rules.treatment(tax, None, {**check, "vat_number": "EL094259216"}, day)["treatment"] == "reverse_charge"
    assert rules.treatment(tax, None, {**check, "vat_number": "NL001234567B01"}, day)["treatment"] == "vat"
    assert rules.treatment(tax, None, {**check, "vat_number": None}, day)["treatment"] == "vat"
    assert rules.treatment(tax, None, {**check, "vat_number": "12"}, day)["treatment"] == "vat"
