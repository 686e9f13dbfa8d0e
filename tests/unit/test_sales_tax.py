"""Northwind's sales tax per invoice line, computed by hand from the clauses. In-memory engine, fixed clock.

PA-10.1: "Taxes are calculated per line on the basis of the ship-to or service location and shown separately; a
Partner claiming exemption must have a valid certificate on file before the invoice is issued."
PA-1.3 / DESIGN.md: amounts are "rounded once per line to two decimal places, half to even".
PA-1.2: "Invoiced Revenue" excludes "value added tax, sales tax, freight, insurance, duties and pass-through fees".
SOP-2.5: corrections of an issued invoice are credit notes (a credit of an issued line mirrors its tax).

The demo table (tenants/northwind/tenant.yaml, state base rates of the Tax Foundation's 2024 table, a demo
assumption): California 7.25 %, Texas 6.25 %, New York 4.00 %; taxed per line from a day of supply of 2027-01-01
(`calculated_from`). Price list (PA-6.1): 24-port switch NW-SW-24P USD 1,250.00, edge router NW-RTR-EDGE 2,100.00,
firewall NW-FW-200 3,400.00.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.domain.billing import sales_tax
from revgov.domain.errors import MalformedRequest, NotFound, RuleViolation
from revgov.domain.rules import Rule
from revgov.services import billing, erp, partners, tax_exemptions, tenants

P1 = "ptr_01JBNWPARTNER0000000000001"
P2 = "ptr_01JBNWPARTNER0000000000002"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin_salestax")
OWN_KEY = Principal("northwind", Role.PARTNER, "key_p2_salestax", P2)
CA = {"country": "US", "region": "US-CA", "postal_code": "94105"}
TX = {"country": "US", "region": "US-TX", "postal_code": "73301"}
NY = {"country": "US", "region": "US-NY", "postal_code": "10001"}
CHECKSUM = "sha256:" + "ab" * 32


def _ship(ledger: Ledger, on: str, ref: str, sku: str, where: dict[str, str] | None, partner: str = P2) -> dict:
    ledger.clock.set(f"{on}T10:00:00Z")
    data: dict[str, Any] = {"partner_id": partner, "order_ref": ref, "shipped_on": on,
                            "lines": [{"sku": sku, "quantity": 1}]}  # fmt: skip
    if where is not None:
        data["tax_location"] = where
    return ledger.bill("shipment.confirmed", data, occurred_at=f"{on}T09:00:00Z")


def _finalize(ledger: Ledger, period: str, at: str, partner: str = P2) -> dict[str, Any]:
    ledger.clock.set(at)
    return billing.finalize_invoice(ledger.rt, FINANCE, ledger.invoice(partner, period)["invoice_id"])


def _ledger(at: str) -> Ledger:
    """The billing samples' partners, P2 (a Reseller) with the application fields filing a document re-assesses."""
    ledger = Ledger(at)
    applied = {"requested_tier": "registered", "terms": {"annual_commitment": "0.00", "payment_terms_days": 30}}
    ledger.add_partners([{**p, **applied} for p in ledger.partners if p["partner_id"] == P2])
    return ledger


def _file_and_verify(ledger: Ledger, jurisdiction: str, expires_at: str, at: str) -> dict[str, Any]:
    """The partner files its certificate through the documents path, finance verifies it with its expiry."""
    ledger.clock.set(at)
    reference = f"dms://exemptions/{jurisdiction}.pdf"
    partners.add_document(ledger.rt, OWN_KEY, P2, {"document_type": "exemption_certificate", "reference": reference,
                                                   "checksum": CHECKSUM, "issued_at": "2026-06-01",
                                                   "jurisdiction": jurisdiction})  # fmt: skip
    body = {"jurisdiction": jurisdiction, "reference": reference, "expires_at": expires_at}
    return tax_exemptions.verify_certificate(ledger.rt, FINANCE, P2, body)


def _tax(line: dict[str, Any]) -> tuple[Any, ...]:
    t = line["tax"]
    return t["treatment"], t["jurisdiction"], t["rate"], t["amount"], t["gross_amount"]


def test_pa_10_1_two_lines_in_two_states_each_taxed_at_its_ship_to_rate_and_shown_separately():
    ledger = _ledger("2027-01-05T08:00:00Z")
    assert _ship(ledger, "2027-01-05", "SO-TX-1", "NW-RTR-EDGE", TX)["status"] == "processed"
    assert _ship(ledger, "2027-01-06", "SO-NY-1", "NW-FW-200", NY)["status"] == "processed"
    draft = ledger.invoice(P2, "2027-01")
    # Texas: 2,100.00 x 6.25 % = 131.25; New York: 3,400.00 x 4.00 % = 136.00.
    assert [_tax(ln) for ln in draft["lines"]] == [("sales_tax", "US-TX", "6.25", "131.25", "2231.25"),
                                                   ("sales_tax", "US-NY", "4.00", "136.00", "3536.00")]  # fmt: skip
    assert draft["lines"][0]["tax"]["clause"] == "PA-10.1" and draft["tax"]["fixed"] is False
    assert draft["totals"] == {"net": "5500.00", "tax": "267.25", "gross": "5767.25"}
    assert draft["total"] == "5500.00"  # `total` stays the net (PA-1.2: Invoiced Revenue excludes sales tax)
    issued = _finalize(ledger, "2027-01", "2027-02-01T10:00:00Z")
    assert issued["tax"]["fixed"] is True and sorted(issued["tax"]["sales_tax_rates"]) == ["US-NY", "US-TX"]
    assert issued["totals"] == {"net": "5500.00", "tax": "267.25", "gross": "5767.25"}
    # The sales fact rebates and KPIs read is the net: no tax in revenue.
    fact = ledger.rt.store.get("northwind", billing.SALES_FACTS, issued["lines"][0]["line_id"])
    assert fact is not None and fact.data["net_amount"] == "2100.00" and "tax" not in fact.data


def test_pa_1_3_each_line_is_rounded_once_half_to_even_so_two_half_cents_are_not_summed_first():
    # 1,250.00 x 7.25 % = 90.625: half to even is 90.62 (half up would say 90.63). Two such lines: 2 x 90.62 = 181.24,
    # not 2,500.00 x 7.25 % = 181.25 rounded over the invoice.
    ledger = _ledger("2027-01-05T08:00:00Z")
    _ship(ledger, "2027-01-05", "SO-CA-1", "NW-SW-24P", CA)
    _ship(ledger, "2027-01-07", "SO-CA-2", "NW-SW-24P", CA)
    draft = ledger.invoice(P2, "2027-01")
    assert [_tax(ln) for ln in draft["lines"]] == [("sales_tax", "US-CA", "7.25", "90.62", "1340.62")] * 2
    assert draft["totals"] == {"net": "2500.00", "tax": "181.24", "gross": "2681.24"}


def test_the_rate_is_the_one_in_force_on_the_lines_day_of_supply_a_change_applies_from_its_first_day():
    # A table whose Texas rate changes on 2027-02-01 (6.25 -> 6.50): a line supplied 2027-01-31 is taxed at 6.25,
    # one supplied 2027-02-01 at 6.50. 2,100.00 x 6.25 % = 131.25; 2,100.00 x 6.50 % = 136.50.
    table = sales_tax.SalesTaxTable(date(2027, 1, 1), {"US-TX": ((date(2024, 1, 1), Decimal("6.25")),
                                                                 (date(2027, 2, 1), Decimal("6.50")))})  # fmt: skip
    rule = Rule("BILL-SALES-TAX", "PA-10.1")

    def line(day: str) -> dict[str, Any]:
        return {"line_id": "inv_1.1", "amount": "2100.00", "service_period": {"start": day, "end": day},
                "detail": {"tax_location": TX}}  # fmt: skip

    before = sales_tax.line_sales_tax(table, rule, {"treatment": "sales_tax"}, line("2027-01-31"), None)
    after = sales_tax.line_sales_tax(table, rule, {"treatment": "sales_tax"}, line("2027-02-01"), None)
    assert (before["rate"], before["amount"]) == ("6.25", "131.25")
    assert (after["rate"], after["amount"]) == ("6.50", "136.50")
    # An issued invoice keeps the rates it was fixed with, whatever the table says later.
    kept = {"US-TX": [{"percent": "6.25", "effective_from": "2024-01-01"}]}
    fixed = {"treatment": "sales_tax", "sales_tax_rates": kept}
    assert sales_tax.line_sales_tax(table, rule, fixed, line("2027-02-01"), None)["amount"] == "131.25"


def test_pa_10_1_an_event_without_a_ship_to_location_is_held_as_an_exception_not_billed_with_a_guessed_tax():
    ledger = _ledger("2027-01-05T08:00:00Z")
    answer = _ship(ledger, "2027-01-05", "SO-NOLOC", "NW-SW-24P", None)
    assert answer["status"] == "failed" and "no ship-to or service location" in answer["reason"]
    (case,) = [c for c in ledger.exceptions() if c["category"] == "sales_tax_location_missing"]
    cited = {(r["rule_id"], r["clause"]) for r in case["reasons"]}
    assert ("BILL-SALES-TAX-LOCATION", "PA-10.1") in cited
    # SOP-4.1: "An item that matches no category goes to channel_ops for triage" (it reroutes to Finance, SOP-2.2).
    assert case["queue"] == "channel_ops" and ("ROUTE-TRIAGE", "SOP-4.1") in cited
    assert ledger.rt.store.get("northwind", billing.INVOICE_KEYS, f"{P2}#2027-01") is None  # nothing billed
    # A state the table has no rate for (Alaska levies no state sales tax and is not in the demo table): held too.
    alaska = _ship(ledger, "2027-01-06", "SO-AK", "NW-SW-24P", {"country": "US", "region": "US-AK"})
    assert alaska["status"] == "failed" and "no rate for US-AK" in alaska["reason"]


def test_a_line_supplied_before_the_table_applies_keeps_showing_sales_tax_without_an_amount():
    # calculated_from 2027-01-01: December 2026's shipments were posted when no event carried a location.
    ledger = _ledger("2026-12-10T08:00:00Z")
    assert _ship(ledger, "2026-12-10", "SO-DEC", "NW-SW-24P", None)["status"] == "processed"
    invoice = ledger.invoice(P2, "2026-12")
    assert _tax(invoice["lines"][0]) == ("sales_tax", None, None, None, None)
    assert invoice["totals"] == {"net": "1250.00", "tax": None, "gross": None}


@pytest.mark.parametrize(
    ("where", "path"),
    [
        ({"country": "CA", "region": "US-CA"}, "/data/tax_location/region"),  # a region outside its country
        ({"country": "US", "region": "US-ZZ"}, "/data/tax_location/region"),  # no such US state
        ({"country": "US", "region": "US-CA", "postal_code": "9410"}, "/data/tax_location/postal_code"),  # not a ZIP
        ({"country": "usa", "region": "US-CA"}, "/data/tax_location/country"),
        ({"region": "US-CA"}, "/data/tax_location"),
        ({"country": "US", "region": "US-CA", "county": "SF"}, "/data/tax_location"),
    ],
)
def test_a_bad_location_is_rejected_at_the_webhook_naming_the_field_and_nothing_is_received(where, path):
    ledger = _ledger("2027-01-05T08:00:00Z")
    tenant, _ = tenants.load_tenant(ledger.rt, "northwind")
    event = {"id": "NW-LOC-1", "type": "shipment.confirmed", "occurred_at": "2027-01-05T09:00:00Z",
             "data": {"partner_id": P2, "order_ref": "SO-BAD", "shipped_on": "2027-01-05",
                      "lines": [{"sku": "NW-SW-24P", "quantity": 1}], "tax_location": where}}  # fmt: skip
    with pytest.raises(MalformedRequest) as refused:
        erp.accept(ledger.rt, tenant, event)
    assert any(e.path.startswith(path) for e in refused.value.errors), refused.value.errors
    assert ledger.rt.store.get("northwind", erp.DEDUPE, "NW-LOC-1") is None


def test_pa_10_1_a_certificate_expiring_on_the_issue_day_is_still_valid_and_the_line_shows_its_reference():
    ledger = _ledger("2027-01-05T08:00:00Z")
    _file_and_verify(ledger, "US-CA", "2027-02-01", "2027-01-04T09:00:00Z")
    _ship(ledger, "2027-01-05", "SO-EX-1", "NW-SW-24P", CA)
    _ship(ledger, "2027-01-06", "SO-EX-2", "NW-RTR-EDGE", TX)  # no certificate for Texas: taxed
    issued = _finalize(ledger, "2027-01", "2027-02-01T10:00:00Z")  # issued on the expiry day itself
    exempt, taxed = issued["lines"]
    assert _tax(exempt) == ("sales_tax_exempt", "US-CA", None, "0.00", "1250.00")
    assert exempt["tax"]["certificate"]["reference"] == "dms://exemptions/US-CA.pdf"
    assert "dms://exemptions/US-CA.pdf" in exempt["tax"]["notice"]
    assert _tax(taxed) == ("sales_tax", "US-TX", "6.25", "131.25", "2231.25")
    assert issued["totals"] == {"net": "3350.00", "tax": "131.25", "gross": "3481.25"}
    # The certificate expires that evening; read the next day, the issued invoice is unchanged.
    ledger.clock.set("2027-02-02T10:00:00Z")
    assert ledger.invoice(P2, "2027-01")["totals"] == {"net": "3350.00", "tax": "131.25", "gross": "3481.25"}


def test_pa_10_1_a_certificate_that_expired_the_day_before_issue_exempts_nothing_and_the_change_is_audited():
    ledger = _ledger("2027-01-05T08:00:00Z")
    _file_and_verify(ledger, "US-CA", "2027-01-31", "2027-01-04T09:00:00Z")
    _ship(ledger, "2027-01-05", "SO-EX-3", "NW-SW-24P", CA)
    assert ledger.invoice(P2, "2027-01")["lines"][0]["tax"]["treatment"] == "sales_tax_exempt"  # as posted
    issued = _finalize(ledger, "2027-01", "2027-02-01T10:00:00Z")
    assert _tax(issued["lines"][0]) == ("sales_tax", "US-CA", "7.25", "90.62", "1340.62")
    (audit,) = [r for r in ledger.rt.store.audit_records("northwind") if r["action"] == "invoice.tax_retreated"]
    assert audit["outcome"] == "exempt in US-CA -> exempt in none" and "PA-10.1" in audit["clauses"]
    assert "BILL-SALES-TAX-EXEMPTION" in audit["rule_ids"]


def test_pa_10_1_a_certificate_verified_after_issue_changes_nothing_already_issued():
    # "on file before the invoice is issued": verified an hour after issue, it exempts only later invoices.
    ledger = _ledger("2027-01-05T08:00:00Z")
    _ship(ledger, "2027-01-05", "SO-LATE", "NW-SW-24P", CA)
    _finalize(ledger, "2027-01", "2027-02-01T10:00:00Z")
    _file_and_verify(ledger, "US-CA", "2027-12-31", "2027-02-01T11:00:00Z")
    ledger.clock.set("2027-02-02T10:00:00Z")
    again = ledger.invoice(P2, "2027-01")
    assert _tax(again["lines"][0]) == ("sales_tax", "US-CA", "7.25", "90.62", "1340.62")
    assert again["tax"]["exemptions"] == {}
    _ship(ledger, "2027-02-03", "SO-AFTER", "NW-SW-24P", CA)
    assert ledger.invoice(P2, "2027-02")["lines"][0]["tax"]["treatment"] == "sales_tax_exempt"


def test_sop_2_5_a_credit_note_on_an_issued_line_mirrors_its_jurisdiction_and_rate():
    # 1,250.00 at 7.25 % issued; a credit of 1,250.00 on it: -1,250.00 x 7.25 % = -90.625 -> -90.62 (half to even).
    ledger = _ledger("2027-01-05T08:00:00Z")
    _ship(ledger, "2027-01-05", "SO-CN", "NW-SW-24P", CA)
    issued = _finalize(ledger, "2027-01", "2027-02-01T10:00:00Z")
    ledger.clock.set("2027-02-03T17:00:00Z")
    data = {"partner_id": P2, "credit_note_ref": "CN-1", "invoice_id": issued["invoice_id"], "line_no": 1,
            "reason": "billing_error", "amount": "1250.00", "issued_on": "2027-02-03"}  # fmt: skip
    assert ledger.bill("credit_note.issued", data, occurred_at="2027-02-03T16:00:00Z")["status"] == "processed"
    (credit,) = ledger.invoice(P2, "2027-02")["lines"]
    assert _tax(credit) == ("sales_tax", "US-CA", "7.25", "-90.62", "-1340.62")
    assert credit["tax"]["mirrors_line"] == issued["lines"][0]["line_id"]


def test_sop_2_5_a_return_credited_on_its_own_draft_takes_back_the_tax_of_the_line_it_credits():
    """Reviewer 5: two switches shipped to Texas and one returned in the same month. PA-10.1 taxes "per line on the
    basis of the ship-to or service location", and the return's credit (SOP-2.5, referencing the original line) is a
    line of the same invoice with no location of its own: it is taxed at the credited line's. Charge 2,500.00 x
    6.25 % = 156.25; credit -1,250.00 x 6.25 % = -78.125 -> -78.12 (PA-1.3, each line rounded once, half to even);
    the invoice: net 1,250.00, tax 156.25 - 78.12 = 78.13, gross 1,328.13 (before, the credit showed no tax and the
    invoice's tax and gross were unknown)."""
    ledger = _ledger("2027-01-05T10:00:00Z")
    data: dict[str, Any] = {"partner_id": P2, "order_ref": "SO-RET", "shipped_on": "2027-01-05", "tax_location": TX,
                            "lines": [{"sku": "NW-SW-24P", "quantity": 2}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2027-01-05T09:00:00Z")["status"] == "processed"
    ledger.clock.set("2027-01-06T10:00:00Z")
    invoice_id = ledger.invoice(P2, "2027-01")["invoice_id"]
    returned = {"partner_id": P2, "rma_ref": "RMA-TX-1", "invoice_id": invoice_id, "line_no": 1, "quantity": 1,
                "returned_on": "2027-01-06"}  # fmt: skip
    assert ledger.bill("return.received", returned, occurred_at="2027-01-06T09:00:00Z")["status"] == "processed"
    charge, credit = ledger.invoice(P2, "2027-01")["lines"]
    assert _tax(charge) == ("sales_tax", "US-TX", "6.25", "156.25", "2656.25")
    assert _tax(credit) == ("sales_tax", "US-TX", "6.25", "-78.12", "-1328.12")
    assert ledger.invoice(P2, "2027-01")["totals"] == {"net": "1250.00", "tax": "78.13", "gross": "1328.13"}
    issued = _finalize(ledger, "2027-01", "2027-02-01T10:00:00Z")
    assert _tax(issued["lines"][1]) == ("sales_tax", "US-TX", "6.25", "-78.12", "-1328.12")
    assert issued["totals"] == {"net": "1250.00", "tax": "78.13", "gross": "1328.13"}


def test_an_exemption_certificate_names_its_jurisdiction_and_is_verified_only_as_filed_and_unexpired():
    ledger = _ledger("2027-01-05T08:00:00Z")
    base = {"document_type": "exemption_certificate", "reference": "dms://x.pdf", "checksum": CHECKSUM,
            "issued_at": "2026-06-01"}  # fmt: skip
    with pytest.raises(RuleViolation) as no_place:
        partners.add_document(ledger.rt, OWN_KEY, P2, base)
    assert [e.path for e in no_place.value.errors] == ["/jurisdiction"]
    with pytest.raises(RuleViolation) as not_filed:  # nothing on file for Texas
        tax_exemptions.verify_certificate(ledger.rt, FINANCE, P2, {"jurisdiction": "US-TX", "reference": "dms://x.pdf",
                                                                    "expires_at": "2027-12-31"})  # fmt: skip
    assert [e.path for e in not_filed.value.errors] == ["/jurisdiction"]
    partners.add_document(ledger.rt, OWN_KEY, P2, {**base, "jurisdiction": "US-TX"})
    for body, path in [({"reference": "dms://other.pdf", "expires_at": "2027-12-31"}, "/reference"),
                       ({"reference": "dms://x.pdf", "expires_at": "2027-01-04"}, "/expires_at")]:  # fmt: skip
        with pytest.raises(RuleViolation) as refused:
            tax_exemptions.verify_certificate(ledger.rt, FINANCE, P2, {"jurisdiction": "US-TX", **body})
        assert [e.path for e in refused.value.errors] == [path]
    assert tax_exemptions.get_certificates(ledger.rt, FINANCE, P2)["current"] == []  # nothing recorded
    done = tax_exemptions.verify_certificate(ledger.rt, FINANCE, P2, {"jurisdiction": "US-TX",
                                                                      "reference": "dms://x.pdf",
                                                                      "expires_at": "2027-12-31"})  # fmt: skip
    assert [(c["jurisdiction"], c["expires_at"], c["checksum"]) for c in done["current"]] == [
        ("US-TX", "2027-12-31", CHECKSUM)]
    (audit,) = [r for r in ledger.rt.store.audit_records("northwind") if r["action"] == "tax_exemption.verified"]
    assert audit["clauses"] == ["PA-10.1"] and audit["inputs"]["jurisdiction"] == "US-TX"


def test_support_within_the_allowance_bills_nothing_so_it_is_not_held_but_a_billed_overage_without_location_is():
    # SOP-5.x: hours within the Quarter's allowance are not billed (no line, no tax to calculate); a severity 1 overage
    # the Partner approved in writing (PA-9.2) is billed, so without a service location it is held (PA-10.1) and its
    # hours are not counted either.
    ledger = _ledger("2027-01-05T20:00:00Z")
    data = {"partner_id": P2, "ticket_id": "T-ST-1", "family": "networking", "hours": "40",
            "performed_on": "2027-01-05", "severity": 2}  # fmt: skip
    answer = ledger.bill("support.logged", data, occurred_at="2027-01-05T17:00:00Z")
    assert answer["status"] == "processed" and "not billed" in answer["reason"]  # the overage exception, no line
    held = ledger.bill("support.logged", {**data, "ticket_id": "T-ST-2", "severity": 1, "overage_approved": True},
                       occurred_at="2027-01-05T18:00:00Z")  # fmt: skip
    assert held["status"] == "failed" and "BILL-SALES-TAX-LOCATION" in held["reason"]
    billed = ledger.bill("support.logged", {**data, "ticket_id": "T-ST-3", "severity": 1, "overage_approved": True,
                                            "tax_location": TX},
                         occurred_at="2027-01-05T19:00:00Z")  # fmt: skip
    assert billed["status"] == "processed"
    (line,) = [ln for ln in ledger.invoice(P2, "2027-01")["lines"] if ln["kind"] == "support_overage"]
    assert line["tax"]["jurisdiction"] == "US-TX" and line["tax"]["rate"] == "6.25"


def test_a_subscription_is_taxed_every_month_at_the_service_location_its_activation_reported():
    # PA-10.2: subscriptions are billed monthly in advance; PA-10.1: on the service location. NW-NET-MGMT is USD 99.00 a
    # month; activated 2027-01-01 in New York (4.00 %): January 99.00 -> 3.96; the run charges February the same.
    from revgov.services import subscription_billing

    ledger = _ledger("2027-01-01T12:00:00Z")
    data = {"partner_id": P2, "subscription_id": "SUB-ST-1", "sku": "NW-NET-MGMT", "quantity": 1,
            "activated_on": "2027-01-01", "order_ref": "SO-SUB-ST", "tax_location": NY}  # fmt: skip
    assert ledger.bill("subscription.activated", data, occurred_at="2027-01-01T09:00:00Z")["status"] == "processed"
    ledger.clock.set("2027-02-01T01:00:00Z")
    subscription_billing.run(ledger.rt, "northwind")
    for period in ("2027-01", "2027-02"):
        (line,) = ledger.invoice(P2, period)["lines"]
        assert _tax(line) == ("sales_tax", "US-NY", "4.00", "3.96", "102.96"), period


def test_only_an_exemption_certificate_names_a_jurisdiction():
    ledger = _ledger("2027-01-05T08:00:00Z")
    reference = {"document_type": "trade_reference", "reference": "dms://bank-letter.pdf", "checksum": CHECKSUM,
                 "issued_at": "2026-06-01", "jurisdiction": "US-CA"}  # fmt: skip
    with pytest.raises(RuleViolation) as refused:
        partners.add_document(ledger.rt, OWN_KEY, P2, reference)
    assert [e.path for e in refused.value.errors] == ["/jurisdiction"]


def test_pa_10_1_a_partner_reads_its_own_certificates_on_file_and_until_when_but_no_staff_key_nor_a_rivals():
    """PA-10.1: "a Partner claiming exemption must have a valid certificate on file before the invoice is issued" —
    the partner needs to know whether its certificate is on file and until when. API.md: a partner key reads only its
    own objects, another partner's id is a 404 (never confirm it exists); PA-11.1: which of the distributor's keys
    (people) verified it is the distributor's own, so the partner reads the team."""
    ledger = _ledger("2027-01-05T08:00:00Z")
    assert tax_exemptions.get_certificates(ledger.rt, OWN_KEY, P2) == {"partner_id": P2, "current": [], "history": []}
    _file_and_verify(ledger, "US-CA", "2027-02-01", "2027-01-04T09:00:00Z")
    _file_and_verify(ledger, "US-CA", "2027-12-31", "2027-01-05T09:00:00Z")
    own = tax_exemptions.get_certificates(ledger.rt, OWN_KEY, P2)
    assert [(c["jurisdiction"], c["expires_at"]) for c in own["current"]] == [("US-CA", "2027-12-31")]
    assert [c["expires_at"] for c in own["history"]] == ["2027-02-01", "2027-12-31"]
    assert {c["verified_by"] for c in own["current"] + own["history"]} == {"finance"}
    assert FINANCE.key_id not in str(own)
    staff = tax_exemptions.get_certificates(ledger.rt, FINANCE, P2)
    assert {c["verified_by"] for c in staff["history"]} == {f"finance:{FINANCE.key_id}"}  # staff keep the key
    rival = Principal("northwind", Role.PARTNER, "key_p1_salestax", P1)
    for asked in (P2, "ptr_01JBNWPARTNER0000000000099"):  # the rival's certificates and an id that names nothing
        with pytest.raises(NotFound) as hidden:
            tax_exemptions.get_certificates(ledger.rt, rival, asked)
        assert hidden.value.detail == f"no partner {asked}"


def test_pa_10_1_staff_cannot_verify_a_certificate_past_the_expiry_on_the_one_on_file() -> None:
    """Red team 5 (a careless staff user). PA-10.1: "a Partner claiming exemption must have a valid certificate on
    file". The partner filed its California certificate stating its last valid day, 2027-03-31 (the document's
    `expires_at`, schemas/api/partner-document.schema.json "Last day the document is valid"); a verification that
    reads a later expiry on it (2029-03-31, a slip of the keyboard) would exempt lines for two years after the
    certificate on file stopped being valid. It is a 422 naming /expires_at, and nothing is recorded."""
    ledger = _ledger("2026-12-01T09:00:00Z")
    reference = "dms://exemptions/US-CA.pdf"
    partners.add_document(ledger.rt, OWN_KEY, P2, {"document_type": "exemption_certificate", "reference": reference,
                                                   "checksum": CHECKSUM, "issued_at": "2026-06-01",
                                                   "expires_at": "2027-03-31", "jurisdiction": "US-CA"})  # fmt: skip
    body = {"jurisdiction": "US-CA", "reference": reference, "expires_at": "2029-03-31"}
    with pytest.raises(RuleViolation) as refused:
        tax_exemptions.verify_certificate(ledger.rt, FINANCE, P2, body)
    assert [e.path for e in refused.value.errors] == ["/expires_at"]
    assert tax_exemptions.get_certificates(ledger.rt, FINANCE, P2)["history"] == []
    kept = tax_exemptions.verify_certificate(ledger.rt, FINANCE, P2, {**body, "expires_at": "2027-03-31"})
    assert [c["expires_at"] for c in kept["current"]] == ["2027-03-31"]


@pytest.mark.parametrize("jurisdiction", ["ZZ-Q9", "US-ZZ", "DE-BY", "US-999"])
def test_red_team_7_an_exemption_certificate_is_for_a_united_states_state(jurisdiction: str):
    # PA-2.3(b): "a valid resale or exemption certificate for each United States state in which it takes delivery of
    # Products"; the jurisdiction is its ISO 3166-2:US code (US-CA). Any two letters, a dash and 1-3 letters or digits
    # were taken, each a document of its own on the partner record (one per jurisdiction): a partner key filing
    # made-up jurisdictions grew its record past the store's 400 KB item limit, and no write of the partner (a
    # screening, a suspension, a termination) could follow. A 422 naming /jurisdiction, nothing recorded.
    ledger = _ledger("2027-01-05T08:00:00Z")
    before = partners.load_partner(ledger.rt, "northwind", P2)[0].get("documents")
    with pytest.raises(RuleViolation) as refused:
        partners.add_document(ledger.rt, OWN_KEY, P2, {"document_type": "exemption_certificate", "reference":
                                                       "dms://x.pdf", "checksum": CHECKSUM, "issued_at": "2026-06-01",
                                                       "jurisdiction": jurisdiction})  # fmt: skip
    assert [e.path for e in refused.value.errors] == ["/jurisdiction"]
    assert partners.load_partner(ledger.rt, "northwind", P2)[0].get("documents") == before
    for state in ("US-CA", "US-DC", "US-PR", "US-WY"):
        partners.add_document(ledger.rt, OWN_KEY, P2, {"document_type": "exemption_certificate", "reference":
                                                       "dms://x.pdf", "checksum": CHECKSUM, "issued_at": "2026-06-01",
                                                       "jurisdiction": state})  # fmt: skip


@pytest.mark.parametrize("cancelled_on, period, credit_tax", [
    # The activation month's own charge, still on its draft: 99.00 x 21 / 31 = 67.064... -> 67.06; x 4.00 % = 2.6824
    # -> 2.68.
    ("2027-01-10", "2027-01", ("sales_tax", "US-NY", "4.00", "-2.68", "-69.74")),
    # A month the billing run charged in advance (its line keeps the activation's location): 99.00 x 18 / 28 =
    # 63.642... -> 63.64; x 4.00 % = 2.5456 -> 2.55.
    ("2027-02-10", "2027-02", ("sales_tax", "US-NY", "4.00", "-2.55", "-66.19")),
])  # fmt: skip
def test_pa_10_4_a_cancellation_credit_is_taxed_at_the_location_of_the_charge_it_credits(cancelled_on, period,
                                                                                          credit_tax):  # fmt: skip
    # SOP-2.4: the credit "is issued as a credit note line referencing the original invoice line"; PA-10.1: "Taxes are
    # calculated per line on the basis of the ship-to or service location". A `subscription.cancelled` event carries no
    # location (schemas/events/subscription.cancelled.schema.json): the service is the one the activation located, so
    # the credit takes back the tax its charge added, never leaving the partner billed tax on days it did not get.
    from revgov.services import subscription_billing

    ledger = _ledger("2027-01-01T12:00:00Z")
    data = {"partner_id": P2, "subscription_id": "SUB-ST-CX", "sku": "NW-NET-MGMT", "quantity": 1,
            "activated_on": "2027-01-01", "order_ref": "SO-SUB-CX", "tax_location": NY}  # fmt: skip
    assert ledger.bill("subscription.activated", data, occurred_at="2027-01-01T09:00:00Z")["status"] == "processed"
    ledger.clock.set("2027-02-01T01:00:00Z")
    subscription_billing.run(ledger.rt, "northwind")
    ledger.clock.set(f"{cancelled_on}T12:00:00Z")
    cancel = {"partner_id": P2, "subscription_id": "SUB-ST-CX", "effective_on": cancelled_on}
    answer = ledger.bill("subscription.cancelled", cancel, occurred_at=f"{cancelled_on}T11:00:00Z")
    assert answer["status"] == "processed"
    charge, credit = ledger.invoice(P2, period)["lines"]
    assert credit["kind"] == "credit" and credit["references_line"] == charge["line_id"]
    assert _tax(charge) == ("sales_tax", "US-NY", "4.00", "3.96", "102.96")
    assert _tax(credit) == credit_tax
