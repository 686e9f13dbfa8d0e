"""Contoso's VAT half of CPA-7.8 and CPA-2.3, from the checks staff record (Revgov does not reach VIES).

CPA-7.8: "A Partner whose VAT number fails validation, or that has an invoice more than 45 days overdue, has its
settlement withheld until resolved."
CPA-2.3: "A Partner established in the European Union must provide its VAT identification number, which Contoso
validates in the VIES system at admission and again before each quarterly rebate settlement. ... A failed VAT
validation suspends new orders until it is resolved."
COP-7.2: "VIES re-validation of all Partner VAT numbers by Q + 5 days".

1,000 docking stations (CT-DEV-DOCK, EUR 210.00) in 2026-Q3 = EUR 210,000.00, CPA-7.2's own example: 2.5 % =
EUR 5,250.00. In-memory engine, fixed clock.
"""

from __future__ import annotations

from typing import Any

import pytest

from memory_store import Ledger
from rebate_runs import settle_approved
from revgov.domain.access import Principal, Role
from revgov.domain.errors import MalformedRequest, NotFound, RuleViolation
from revgov.ports import Changes, Put
from revgov.services import rebates, vat_validation

FINANCE = Principal("contoso", Role.FINANCE, "key_fin")
PARTNER = "ptr_01JBCTAVD1TR000000000000A1"
CERTS = {
    cert: {"cert_id": cert, "holder": "A. Auditor", "earned_at": "2025-01-01", "expires_at": "2027-12-31"}
    for cert in ("cert-collab-associate", "cert-secops-analyst", "cert-data-engineer", "cert-devices-field")
}


def _ledger() -> Ledger:
    ledger = Ledger("2026-07-01T10:00:00Z", tenant="contoso")
    partner = {"partner_id": PARTNER, "legal_name": "Auditor Devices GmbH", "partner_type": "reseller",
               "status": "active", "tier": "authorized", "country": "DE", "activated_at": "2025-01-01T00:00:00Z",
               "certifications": CERTS}  # fmt: skip
    ledger.rt.store.commit("contoso", Changes(puts=[Put("PARTNER", PARTNER, partner)]))
    return ledger


def _ship(ledger: Ledger, on: str, docks: int) -> dict[str, Any]:
    ledger.clock.set(f"{on}T12:00:00Z")
    data = {"partner_id": PARTNER, "order_ref": f"SO-{on}", "shipped_on": on, "delivered_on": on,
            "lines": [{"sku": "CT-DEV-DOCK", "quantity": docks}]}  # fmt: skip
    return ledger.bill("shipment.confirmed", data, occurred_at=f"{on}T10:00:00Z")


def _check(ledger: Ledger, result: str, checked_at: str, now: str | None = None) -> dict[str, Any]:
    ledger.clock.set(now or checked_at)
    body = {"result": result, "checked_at": checked_at, "reference": f"WAPI-{checked_at[:10]}"}
    return vat_validation.record_check(ledger.rt, FINANCE, PARTNER, body)


def _settle(ledger: Ledger, period: str, at: str) -> tuple[dict[str, Any], dict[str, Any]]:
    ledger.clock.set(at)
    _, settled = settle_approved(ledger.rt, FINANCE, {"period": period, "run": 1})
    statement = rebates.get_settlement(ledger.rt, FINANCE, settled["settlement_id"], PARTNER)["statement"]
    return settled, statement


def test_cpa_7_8_a_failed_vat_validation_withholds_the_settlement():
    ledger = _ledger()
    assert _ship(ledger, "2026-08-03", 1000)["status"] == "processed"
    _check(ledger, "invalid", "2026-10-02T09:00:00Z")
    settled, statement = _settle(ledger, "2026-Q3", "2026-10-05T09:00:00Z")
    assert statement["total"] == "5250.00" and statement["status"] == "withheld"
    held = statement["withholding"]
    assert (held["rule_id"], held["clause"]) == ("RBT-VAT-VALIDATION", "CPA-7.8")
    assert held["vat_validation"]["result"] == "invalid" and held["vat_validation"]["reference"] == "WAPI-2026-10-02"
    assert settled["totals"]["payable"] == "0.00"


def test_cpa_2_3_a_valid_check_made_after_the_quarter_ended_pays_the_settlement():
    ledger = _ledger()
    _ship(ledger, "2026-08-03", 1000)
    _check(ledger, "valid", "2026-10-02T09:00:00Z")
    _, statement = _settle(ledger, "2026-Q3", "2026-10-05T09:00:00Z")
    assert statement["status"] == "payable" and statement["total"] == "5250.00"


@pytest.mark.parametrize("checked_at", ["2026-09-30T23:00:00Z", "2026-07-15T09:00:00Z"])
def test_cpa_2_3_a_valid_check_not_made_again_since_the_quarter_ended_withholds(checked_at):
    # CPA-2.3: validated "again before each quarterly rebate settlement"; COP-7.2 "by Q + 5 days"
    ledger = _ledger()
    _check(ledger, "valid", checked_at)
    _ship(ledger, "2026-08-03", 1000)
    _, statement = _settle(ledger, "2026-Q3", "2026-10-05T09:00:00Z")
    assert statement["status"] == "withheld"
    assert "not again since the period ended on 2026-09-30" in statement["withholding"]["reason"]


def test_a_partner_with_no_recorded_check_is_not_withheld_for_vat():
    ledger = _ledger()
    _ship(ledger, "2026-08-03", 1000)
    _, statement = _settle(ledger, "2026-Q3", "2026-10-05T09:00:00Z")
    assert statement["status"] == "payable"


def test_cpa_7_8_the_withheld_amount_is_released_once_the_vat_number_validates():
    ledger = _ledger()
    _ship(ledger, "2026-08-03", 1000)
    _check(ledger, "invalid", "2026-10-02T09:00:00Z")
    first, _ = _settle(ledger, "2026-Q3", "2026-10-05T09:00:00Z")
    # August's invoice, issued before the run (2026-10-05, PA-1.2), paid within its 30 days (CPA-6.7): nothing is
    # overdue more than 45 days when 2026-Q4 settles, so only the VAT validation held the amount (CPA-7.8)
    august = ledger.invoice(PARTNER, "2026-08")["invoice_id"]
    ledger.clock.set("2026-11-02T09:00:00Z")
    paid = {"partner_id": PARTNER, "invoice_id": august, "paid_on": "2026-11-02", "payment_ref": "RCPT-AUG"}
    assert ledger.bill("invoice.paid", paid, occurred_at="2026-11-02T09:00:00Z")["status"] == "processed"
    _ship(ledger, "2026-11-03", 10)
    _check(ledger, "valid", "2027-01-04T09:00:00Z")  # after 2026-Q4 ended: resolved
    _, statement = _settle(ledger, "2026-Q4", "2027-01-05T09:00:00Z")
    assert statement["status"] == "payable"
    [release] = [ln for ln in statement["lines"] if ln["kind"] == "withheld_release"]
    assert release["amount"] == "5250.00" and release["references"]["settlement_id"] == first["settlement_id"]
    assert (release["rule_id"], release["clause"]) == ("RBT-VAT-VALIDATION", "CPA-7.8")


def test_a_check_is_audited_and_a_failure_opens_a_finance_exception():
    ledger = _ledger()
    _check(ledger, "invalid", "2026-10-02T09:00:00Z")
    [record] = [r for r in ledger.rt.store.audit_records("contoso") if r["action"] == "vat_validation.recorded"]
    assert record["actor"] == FINANCE.actor and record["clauses"] == ["CPA-7.8"] and record["outcome"] == "invalid"
    [case] = [c for c in ledger.exceptions() if c.get("category") == "vat_validation_failure"]
    assert case["queue"] == "finance" and case["partner_id"] == PARTNER  # COP-4.1: vat_validation_failure | finance


def test_cpa_2_3_a_failed_vat_validation_suspends_new_orders():
    ledger = _ledger()
    assert _ship(ledger, "2026-07-20", 1)["status"] == "processed"  # before the failure: billed
    _check(ledger, "invalid", "2026-08-01T09:00:00Z")
    held = _ship(ledger, "2026-08-03", 1)
    assert held["status"] != "processed" and "BILL-VAT-ORDER-HOLD, CPA-2.3" in str(held)
    _check(ledger, "valid", "2026-08-04T09:00:00Z")  # resolved: new orders are billed again
    assert _ship(ledger, "2026-08-05", 1)["status"] == "processed"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"result": "maybe", "checked_at": "2026-10-02T09:00:00Z", "reference": "R"}, MalformedRequest),
        ({"result": "valid", "checked_at": "2026-10-02T09:00:00", "reference": "R"}, MalformedRequest),
        ({"result": "valid", "checked_at": "2026-10-02", "reference": "R"}, MalformedRequest),
        ({"result": "valid", "checked_at": "2026-10-06T09:00:00Z", "reference": "R"}, RuleViolation),  # future
        ({"result": "valid", "checked_at": "2026-10-02T09:00:00Z", "reference": " "}, MalformedRequest),
        ({"result": "valid", "checked_at": "2026-10-02T09:00:00Z", "reference": "R\x1b[31m"}, MalformedRequest),
        ({"result": "valid", "checked_at": "2026-10-02T09:00:00Z", "reference": "R" * 101}, MalformedRequest),
        ({"result": "valid", "checked_at": "2026-10-02T09:00:00Z"}, MalformedRequest),
    ],
)
def test_bad_checks_are_refused_and_change_nothing(body, error):
    ledger = _ledger()
    ledger.clock.set("2026-10-05T09:00:00Z")
    before = len(ledger.rt.store.audit_records("contoso"))
    with pytest.raises(error):
        vat_validation.record_check(ledger.rt, FINANCE, PARTNER, body)
    assert len(ledger.rt.store.audit_records("contoso")) == before
    assert vat_validation.get_checks(ledger.rt, FINANCE, PARTNER)["latest"] is None


def test_an_unknown_partner_and_a_tenant_without_the_rule_are_refused():
    ledger = _ledger()
    body = {"result": "valid", "checked_at": "2026-07-01T09:00:00Z", "reference": "R"}
    with pytest.raises(NotFound):
        vat_validation.record_check(ledger.rt, FINANCE, "ptr_01JBCTAVD1TR000000000000ZZ", body)
    northwind = Ledger("2026-07-01T10:00:00Z")
    with pytest.raises(RuleViolation):  # PA-7.8 withholds for overdue invoices only
        vat_validation.record_check(northwind.rt, Principal("northwind", Role.FINANCE, "key_fin"),
                                    northwind.partners[0]["partner_id"], body)  # fmt: skip


def test_cpa_2_3_a_renewal_recorded_after_a_failed_vat_validation_is_held_like_a_new_order():
    """Red team 6. CPA-2.3: "A failed VAT validation suspends new orders until it is resolved." A subscription's
    renewal is a new order for a new term: the partner's renewal quote of CT-COLLAB-SEAT is allowed on 2026-08-10, its
    VAT check fails on 2026-08-11, and the ERP's `subscription.renewed` of 2026-08-12 is held (BILL-VAT-ORDER-HOLD,
    CPA-2.3), the renewal not recorded. Before, it was recorded and its term billed."""
    from revgov.services import billing, pricing

    ledger = _ledger()
    data = {"partner_id": PARTNER, "subscription_id": "SUB-CT-R", "sku": "CT-COLLAB-SEAT", "quantity": 10,
            "activated_on": "2026-07-01", "order_ref": "SO-CT-R"}  # fmt: skip
    activated = ledger.bill("subscription.activated", data, occurred_at="2026-07-01T10:00:00Z")
    assert activated["status"] == "processed", activated
    ledger.clock.set("2026-08-10T10:00:00Z")
    checked = pricing.check(ledger.rt, Principal("contoso", Role.SALES, "key_sales"), {
        "partner_id": PARTNER, "customer": {"id": "CUST-CT-R", "name": "Harbour GmbH"},
        "renewal": {"subscription_id": "SUB-CT-R", "renewed_from": "2026-09-01", "term_months": 12},
        "lines": [{"line_id": "1", "sku": "CT-COLLAB-SEAT", "quantity": 10, "discount_percent": "0"}]})  # fmt: skip
    assert checked["outcome"] == "allow", checked
    _check(ledger, "invalid", "2026-08-11T09:00:00Z")
    ledger.clock.set("2026-08-12T09:00:00Z")
    renewed = {"partner_id": PARTNER, "subscription_id": "SUB-CT-R", "decision_id": checked["decision_id"],
               "renewed_from": "2026-09-01", "term_months": 12, "order_ref": "SO-CT-R-2027"}  # fmt: skip
    held = ledger.bill("subscription.renewed", renewed, occurred_at="2026-08-12T09:00:00Z")
    assert held["status"] != "processed" and "BILL-VAT-ORDER-HOLD, CPA-2.3" in str(held), held
    stored = ledger.rt.store.get("contoso", billing.SUBSCRIPTIONS, "SUB-CT-R")
    assert stored is not None and not stored.data.get("renewals")


def test_red_team_7_a_quantity_increase_after_a_failed_vat_validation_is_held_like_a_new_order():
    """Red team 7. CPA-2.3: "A failed VAT validation suspends new orders until it is resolved." More seats are a new
    order for the added seats (charged from their day as an activation's seats are, CPA-10.2): SUB-CT-Q has 10 seats;
    the VAT check fails on 2026-08-11; the ERP's `subscription.changed` to 400 seats effective 2026-08-12 is held
    (BILL-VAT-ORDER-HOLD, CPA-2.3), the subscription keeps 10 seats. Before, the 390 seats were recorded and charged. A
    reduction is no order: processed as before."""
    from revgov.services import billing

    ledger = _ledger()
    data = {"partner_id": PARTNER, "subscription_id": "SUB-CT-Q", "sku": "CT-COLLAB-SEAT", "quantity": 10,
            "activated_on": "2026-07-01", "order_ref": "SO-CT-Q"}  # fmt: skip
    assert ledger.bill("subscription.activated", data, occurred_at="2026-07-01T10:00:00Z")["status"] == "processed"
    _check(ledger, "invalid", "2026-08-11T09:00:00Z")
    ledger.clock.set("2026-08-12T09:00:00Z")
    change = {"partner_id": PARTNER, "subscription_id": "SUB-CT-Q", "quantity": 400, "effective_on": "2026-08-12"}
    held = ledger.bill("subscription.changed", change, occurred_at="2026-08-12T09:00:00Z")
    assert held["status"] != "processed" and "BILL-VAT-ORDER-HOLD, CPA-2.3" in str(held), held

    def seats() -> int:
        stored = ledger.rt.store.get("contoso", billing.SUBSCRIPTIONS, "SUB-CT-Q")
        assert stored is not None
        return int(stored.data["quantity"])

    assert seats() == 10
    fewer = {**change, "quantity": 8, "effective_on": "2026-08-20"}
    reduced = ledger.bill("subscription.changed", fewer, occurred_at="2026-08-12T09:00:00Z")
    assert reduced["status"] == "processed" and seats() == 8, reduced
