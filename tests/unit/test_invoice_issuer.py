"""Invoices and rebate statements name their issuer, as it was the day they were issued.

CPA-10.1: "Invoices meet the requirements of the EU VAT Directive"; Council Directive 2006/112/EC Art. 226 requires
on an invoice "(5) the full name and address of the taxable person and of the customer" and "(3) the VAT
identification number ... under which the taxable person supplied the goods or services". CPA-1.1: "'Contoso' means
Contoso Channel Services, the operator of the channel program"; PA-1.1: "'Distributor' means Northwind Distribution".
schemas/tenant.schema.json: branding "applied to the tenant's portal page and outbound documents"; the issuer is the
tenant's `issuer` (its legal name, address and VAT or tax id as the operator records them). COP-2.2: "issued
invoices are never changed": a later change of the tenant's issuer does not rewrite an issued invoice.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from test_invoice_tax import PARTNER, _check, _finalize, _ledger, _ship

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.ports import Changes, Put
from revgov.schemas import problems
from revgov.services import billing, rebates, tenant_repository, tenants
from revgov.tenant_files import load_tenant_file
from support import ROOT


def _reissue_tenant(ledger: Ledger, issuer: dict) -> None:
    """The operator records another issuer (a new legal name or address) after the invoice was issued."""
    tenant, version = tenants.load_tenant(ledger.rt, ledger.tenant_id)
    changed = replace(tenant, config={**tenant.config, "issuer": issuer})
    ledger.rt.store.commit(ledger.tenant_id, Changes(puts=[tenant_repository.profile_put(changed, version=version)]))


def test_cpa_1_1_and_art_226_5_contosos_issued_invoice_names_contoso_channel_services_as_its_supplier():
    ledger = _ledger()
    _ship(ledger, "2026-10-06", "SO-ISSUER-1")
    issued = _finalize(ledger, "2026-10", "2026-11-02T10:00:00Z")
    assert issued["issuer"]["legal_name"] == "Contoso Channel Services"  # CPA-1.1
    assert billing.get_invoice(ledger.rt, "contoso", issued["invoice_id"])["issuer"] == issued["issuer"]


def test_cop_2_2_a_later_change_of_the_tenants_issuer_does_not_rewrite_an_issued_invoice():
    ledger = _ledger()
    _ship(ledger, "2026-10-06", "SO-ISSUER-2")
    issued = _finalize(ledger, "2026-10", "2026-11-02T10:00:00Z")
    _reissue_tenant(ledger, {"legal_name": "Contoso Channel Services B.V.", "address": "Elsewhere 1, Utrecht"})
    again = billing.get_invoice(ledger.rt, "contoso", issued["invoice_id"])
    assert again["issuer"]["legal_name"] == "Contoso Channel Services"
    assert "address" not in again["issuer"] or again["issuer"]["address"] != "Elsewhere 1, Utrecht"


def test_a_draft_shows_the_issuer_it_would_be_issued_under_and_the_partner_reads_it_too():
    ledger = _ledger()
    _ship(ledger, "2026-10-06", "SO-ISSUER-3")
    draft = ledger.invoice(PARTNER, "2026-10")
    assert draft["status"] == "draft" and draft["issuer"]["legal_name"] == "Contoso Channel Services"
    _reissue_tenant(ledger, {"legal_name": "Contoso Channel Services B.V."})
    assert ledger.invoice(PARTNER, "2026-10")["issuer"]["legal_name"] == "Contoso Channel Services B.V."
    partner = Principal(tenant_id="contoso", role=Role.PARTNER, key_id="key_p", partner_id=PARTNER)
    assert billing.read_invoice(ledger.rt, partner, draft["invoice_id"])["issuer"]["legal_name"].startswith("Contoso")


def test_pa_1_1_northwinds_tenant_names_northwind_distribution():
    ledger = Ledger("2026-10-01T08:00:00Z", tenant="northwind")
    tenant, _ = tenants.load_tenant(ledger.rt, "northwind")
    assert tenant.config["issuer"]["legal_name"] == "Northwind Distribution"  # PA-1.1


def test_pa_7_8_an_approved_rebate_run_and_its_statement_name_the_issuer_as_it_was_on_approval():
    """PA-7.8: "Settlement is made by credit note"; the statement is an outbound document of the Distributor's."""
    from rebate_runs import NORTHWIND_P1, september, settle_run

    finance = Principal("northwind", Role.FINANCE, "key_01JFINANCEISSUER0000000000")
    ledger, _ = september(finance)
    settled = settle_run(ledger, finance, "2026-Q3", "2026-10-02T09:00:00Z")
    assert settled["issuer"] == {"legal_name": "Northwind Distribution"}  # PA-1.1
    _reissue_tenant(ledger, {"legal_name": "Northwind Distribution LLC"})
    read = rebates.get_settlement(ledger.rt, finance, settled["settlement_id"], NORTHWIND_P1)
    assert read["issuer"] == {"legal_name": "Northwind Distribution"}
    partner = Principal("northwind", Role.PARTNER, "key_p", partner_id=NORTHWIND_P1)
    assert rebates.get_settlement(ledger.rt, partner, settled["settlement_id"], None)["issuer"]["legal_name"] == (
        "Northwind Distribution")


# Art. 226 item by item against contoso's issued invoice: (1) "the date of issue" is `finalized_at`; (6)-(10) the
# lines' quantity, description, service period, unit price, rate and VAT amount; (11) "Reverse charge" is each line's
# notice (tests/unit/test_invoice_tax.py). What it lacked besides the supplier: the customer (4)/(5).


def test_art_226_5_the_issued_invoice_names_its_customer_as_it_was_on_the_issue_day():
    """Art. 226(5): "the full name and address of the taxable person and of the customer"; the partner records its
    legal name and country (no postal address is recorded, so none is shown)."""
    ledger = _ledger()
    _ship(ledger, "2026-10-06", "SO-ISSUER-5")
    issued = _finalize(ledger, "2026-10", "2026-11-02T10:00:00Z")
    assert issued["customer"]["legal_name"] == "Steuer 1 GmbH" and issued["customer"]["country"] == "DE"
    assert issued["customer"]["partner_id"] == PARTNER
    renamed = {**ledger.rt.store.get("contoso", "PARTNER", PARTNER).data, "legal_name": "Steuer Neu GmbH"}
    ledger.rt.store.commit("contoso", Changes(puts=[Put("PARTNER", PARTNER, renamed)]))
    assert billing.get_invoice(ledger.rt, "contoso", issued["invoice_id"])["customer"]["legal_name"] == "Steuer 1 GmbH"


def test_art_226_4_a_reverse_charge_invoice_carries_the_customers_vat_number_it_rests_on():
    """Art. 226(4): "the customer's VAT identification number ... under which the customer received a supply of
    goods or services for which he is liable for payment of VAT" (the reverse charge); CPA-2.3: reverse charge "only
    while the number validates": the number of the VIES check the treatment rests on."""
    ledger = _ledger()
    _check(ledger, "valid", "2026-10-05")
    _ship(ledger, "2026-10-06", "SO-ISSUER-6")
    issued = _finalize(ledger, "2026-10", "2026-11-02T10:00:00Z")
    assert issued["tax"]["treatment"] == "reverse_charge"
    assert issued["customer"]["vat_id"] == "DE123456789"


def test_the_partner_portal_shows_the_invoices_issuer_as_the_invoice_carries_it():
    """The branded portal's invoice view (portal.js `showInvoice`) names the issuer from the invoice it read, never
    from the tenant's current branding (an issued invoice keeps its own). The page in a browser: tests/stack."""
    script = (ROOT / "functions" / "revgov" / "edge" / "portal" / "portal.js").read_text()
    shown = script[script.index("async function showInvoice"):script.index("function disputeForm")]
    assert 'issued by " + invoice.issuer.legal_name' in shown


@pytest.mark.parametrize(
    ("issuer", "pointer"),
    [
        ({}, "/issuer/legal_name"),  # the name is the one part every issuer has (Art. 226(5))
        ({"legal_name": ""}, "/issuer/legal_name"),
        ({"legal_name": "Contoso", "vat_id": "123"}, "/issuer/vat_id"),  # Art. 226(3): a member-state prefix
        ({"legal_name": "Contoso", "iban": "NL00"}, "/issuer"),  # an unknown field is refused, not dropped
    ],
)
def test_post_v1_tenants_refuses_a_malformed_issuer_naming_the_field(issuer, pointer):
    """A tenant whose issuer is malformed is a 422 naming the field (the body is checked against
    schemas/tenant.schema.json before anything is written)."""
    config = load_tenant_file(ROOT / "tenants" / "contoso" / "tenant.yaml")
    found = problems("tenant.schema.json", {**config, "issuer": issuer})
    assert found and any(e.path.startswith(pointer) for e in found), found
    assert problems("tenant.schema.json", config) == []
