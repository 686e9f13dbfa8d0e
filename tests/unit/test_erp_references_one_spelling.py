"""An ERP reference is found under any spelling that differs only in case and surrounding whitespace, wherever a
billable event is looked up by it — not only by the shipment check.

Decided in 1.50.1 (tests/unit/test_shipment_billed_once.py, `core.shipment_identity`): "A delivery note number names
one shipment however it is spelled: `DN-7`, `dn-7` and ` DN-7 ` are one (PA-10.1 / CPA-10.1 'the billable event',
billed once)"; the order reference likewise. The same rule now holds for the other lookups by reference:
- a credit note or a return is recorded against its line "once per reference" (SOP-2.5: "An error is corrected by a
  credit note referencing the original invoice and lines"): `CN-7` sent again as `cn-7` under another ERP id is the
  same credit note, not a second one;
- PA-7.7(d) "no line may earn the same incentive twice": two lines of one order, day, SKU, quantity and amount are
  one order line billed twice (RBT-NO-DOUBLE-COUNT), whether the order is spelled `SO-H-1` or `so-h-1` (a history
  import and the ERP may spell it either way).
PA-7.2 (northwind, volume, retroactive): "USD 100,000.00 to 249,999.99 | 1.0%"; below it "USD 0.00 to 99,999.99 |
0.0%" (tenants/northwind/contracts/partner-agreement.md). A fixed clock: nothing depends on today's date.
"""

from __future__ import annotations

import pytest

from memory_store import Ledger
from rebate_runs import settle_approved
from revgov.domain import billing as core
from revgov.domain.access import Principal, Role
from revgov.domain.errors import RuleViolation
from revgov.services import history, rebates

PARTNER = "ptr_01JBNWPARTNER0000000000001"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")


def test_the_reference_rule_is_one_function_case_and_surrounding_whitespace_only():
    assert core.erp_reference(" cn-7 ") == core.erp_reference("CN-7") == "CN-7"
    assert core.erp_reference("CN-7") != core.erp_reference("CN 7")
    assert core.erp_reference("  ") is None and core.erp_reference(None) is None


def _credit(invoice: dict, ref: str) -> dict:
    line = invoice["lines"][0]
    return {"partner_id": PARTNER, "credit_note_ref": ref, "invoice_id": invoice["invoice_id"],
            "line_no": line["number"], "reason": "billing_error", "amount": "100.00", "issued_on": "2026-11-03"}


def test_sop_2_5_a_credit_note_sent_again_in_another_spelling_credits_the_line_once():
    ledger = Ledger("2026-10-20T16:00:00Z")
    shipped = {"partner_id": PARTNER, "order_ref": "SO-CN-1", "shipped_on": "2026-10-20",
               "lines": [{"sku": "NW-SRV-R2", "quantity": 1}]}
    assert ledger.receive("shipment.confirmed", shipped, occurred_at="2026-10-20T15:00:00Z",
                          erp_id="NW-ERP-CNSP-0")["status"] == "processed"
    october = ledger.invoice(PARTNER, "2026-10")
    ledger.clock.set("2026-11-03T10:00:00Z")
    first = ledger.receive("credit_note.issued", _credit(october, "CN-SPELL-7"), occurred_at="2026-11-03T09:00:00Z",
                           erp_id="NW-ERP-CNSP-1")
    again = ledger.receive("credit_note.issued", _credit(october, "cn-spell-7"), occurred_at="2026-11-03T09:05:00Z",
                           erp_id="NW-ERP-CNSP-2")
    assert first["status"] == "processed" and again["status"] == "processed", again
    assert "already recorded" in again["reason"]
    assert ledger.invoice(PARTNER, "2026-11")["total"] == "-100.00"  # one credit note of 100.00, not two


def test_a_return_sent_again_in_another_spelling_credits_the_line_once():
    ledger = Ledger("2026-10-20T16:00:00Z")
    shipped = {"partner_id": PARTNER, "order_ref": "SO-RMA-1", "shipped_on": "2026-10-20",
               "lines": [{"sku": "NW-SRV-R2", "quantity": 2}]}
    ledger.receive("shipment.confirmed", shipped, occurred_at="2026-10-20T15:00:00Z", erp_id="NW-ERP-RMSP-0")
    october = ledger.invoice(PARTNER, "2026-10")
    ledger.clock.set("2026-11-03T10:00:00Z")
    rma = {"partner_id": PARTNER, "invoice_id": october["invoice_id"], "line_no": october["lines"][0]["number"],
           "quantity": 1, "returned_on": "2026-11-03"}
    ledger.receive("return.received", {**rma, "rma_ref": "RMA-SPELL-1"}, occurred_at="2026-11-03T09:00:00Z",
                   erp_id="NW-ERP-RMSP-1")
    again = ledger.receive("return.received", {**rma, "rma_ref": "rma-spell-1"}, occurred_at="2026-11-03T09:05:00Z",
                           erp_id="NW-ERP-RMSP-2")
    assert "already recorded" in again["reason"], again
    assert ledger.invoice(PARTNER, "2026-11")["total"] == "-5200.00"  # one unit at PA-6.1's 5,200.00, once


def _order_line(ref: str, invoice: str, order_ref: str) -> dict[str, str]:
    return {"partner_id": PARTNER, "invoice_ref": invoice, "invoice_date": "2025-07-31", "line_ref": ref,
            "sku": "NW-SW-24P", "quantity": "40", "amount": "60000.00", "service_date": "2025-07-14",
            "order_ref": order_ref}


def _q3_volume(spellings: tuple[str, str]) -> dict:
    ledger = Ledger("2026-10-01T08:00:00Z")
    lines = [_order_line("H1-1", "INV-H1", spellings[0]), _order_line("H2-1", "INV-H2", spellings[1])]
    history.import_history(ledger.rt, FINANCE, {"source": "orders.csv", "lines": lines, "payments": []})
    _, settled = settle_approved(ledger.rt, FINANCE, {"period": "2025-Q3", "run": 1})
    statement = rebates.get_settlement(ledger.rt, FINANCE, settled["settlement_id"], PARTNER)["statement"]
    return next(ln for ln in statement["lines"] if ln["program_id"] == "RBT-VOLUME")


def test_pa_7_7_d_one_order_line_invoiced_twice_earns_once_whatever_the_order_s_spelling():
    # Spelled alike, the second line repeats the first: Qualifying Revenue 60,000.00, under PA-7.2's 100,000.00.
    same = _q3_volume(("SO-H-1", "SO-H-1"))
    assert same["basis_revenue"] == "60000.00", same
    assert _q3_volume(("SO-H-1", "so-h-1"))["basis_revenue"] == "60000.00"  # not 120,000.00 earning 1.0%


# A history import (docs/history.md) looks up ERP references too: a credit note row names the line it credits
# (`credits_line_ref`, PA-1.2 "net of all credit notes issued against those invoices, whenever issued"), a line may be
# imported once (`line_ref`, "what a credit note names"), a payment names its ERP invoice (`invoice_ref`).
def _history_line(ref: str, invoice: str, **extra: str) -> dict[str, str]:
    return {"partner_id": PARTNER, "invoice_ref": invoice, "invoice_date": "2025-10-31", "line_ref": ref,
            "sku": "NW-SW-24P", "quantity": "40", "amount": "50000.00", "service_date": "2025-10-14", **extra}


def _credit_row(credits: str) -> dict[str, str]:
    return {"partner_id": PARTNER, "invoice_ref": "INV-C9", "invoice_date": "2025-12-15", "line_ref": "C9-1",
            "kind": "credit_note", "sku": "NW-SW-24P", "quantity": "4", "amount": "-5000.00",
            "credits_line_ref": credits, "reason": "billing_error"}


def test_a_history_credit_note_finds_the_line_it_credits_spelled_otherwise_in_the_file_and_imported_before():
    ledger = Ledger("2026-10-01T08:00:00Z")
    in_file = history.import_history(ledger.rt, FINANCE, {"source": "one.csv", "payments": [], "lines": [
        _history_line("A100-1", "INV-A100"), _credit_row("a100-1")]})
    assert in_file["replayed"] is False
    ledger = Ledger("2026-10-01T08:00:00Z")
    history.import_history(ledger.rt, FINANCE, {"source": "lines.csv", "payments": [], "lines": [
        _history_line("A100-1", "INV-A100")]})
    later = history.import_history(ledger.rt, FINANCE, {"source": "credits.csv", "payments": [], "lines": [
        _credit_row("a100-1")]})
    assert later["replayed"] is False


def test_a_history_line_spelled_otherwise_is_the_line_already_imported_or_already_in_the_file():
    ledger = Ledger("2026-10-01T08:00:00Z")
    history.import_history(ledger.rt, FINANCE, {"source": "first.csv", "payments": [], "lines": [
        _history_line("A100-1", "INV-A100")]})
    with pytest.raises(RuleViolation) as again:
        history.import_history(ledger.rt, FINANCE, {"source": "second.csv", "payments": [], "lines": [
            _history_line("a100-1", "INV-A101", invoice_date="2025-11-30", service_date="2025-11-10")]})
    assert [e.path for e in again.value.errors] == ["/lines/0/line_ref"]
    assert "was imported by" in again.value.errors[0].message
    with pytest.raises(RuleViolation) as twice:
        history.import_history(Ledger("2026-10-01T08:00:00Z").rt, FINANCE, {"source": "twice.csv", "payments": [],
                                "lines": [_history_line("B1-1", "INV-B1"), _history_line("b1-1", "INV-B1")]})
    assert [e.path for e in twice.value.errors] == ["/lines/1/line_ref"]


def test_a_history_payment_finds_its_erp_invoice_spelled_otherwise():
    ledger = Ledger("2026-10-01T08:00:00Z")
    result = history.import_history(ledger.rt, FINANCE, {"source": "paid.csv", "lines": [
        _history_line("A100-1", "INV-A100")], "payments": [
        {"partner_id": PARTNER, "invoice_ref": "inv-a100", "paid_on": "2025-11-20", "payment_ref": "RCPT-1"}]})
    assert result["replayed"] is False
    (invoice,) = [i for i in ledger.rt.store.query("northwind", "INVOICE", limit=50).items
                  if i.data.get("partner_id") == PARTNER and i.data.get("period") == "2025-10"]
    assert invoice.data["paid_on"] == "2025-11-20"


def test_a_line_recorded_by_an_import_before_1_56_4_is_found_by_the_spelling_it_was_imported_under():
    # Before 1.57.2 an import recorded each line under the reference as its file spelled it (`partner#a100-1`): a
    # later file spelling it the same still finds it (docs/history.md: another spelling of such a line is not found).
    from revgov.ports import Changes, Put
    from revgov.services.history import HISTORY_LINES

    ledger = Ledger("2026-10-01T08:00:00Z")
    ledger.rt.commit("northwind", Changes(puts=[Put(HISTORY_LINES, f"{PARTNER}#a100-1", {
        "line_id": "inv_OLDIMPORT.1", "amount": "50000.00", "family": "networking", "import_id": "imp_BEFORE",
        "period": "2025-09"})]))
    with pytest.raises(RuleViolation) as again:
        history.import_history(ledger.rt, FINANCE, {"source": "again.csv", "payments": [], "lines": [
            _history_line("a100-1", "INV-A100")]})
    assert [(e.path, "imp_BEFORE" in e.message) for e in again.value.errors] == [("/lines/0/line_ref", True)]


def _milestone(sow_ref: str, milestone: str = "kickoff") -> dict[str, str]:
    return {"partner_id": PARTNER, "sow_ref": sow_ref, "service": "deployment", "family": "security",
            "milestone": milestone, "sow_value": "12500.00", "accepted_on": "2026-10-22"}


def test_pa_10_6_a_milestone_sent_again_with_its_sow_spelled_otherwise_is_not_billed_again():
    # PA-10.6: "Milestone percentages in a statement of work must total 100%": kickoff 30% of 12,500.00 = 3,750.00,
    # once, whether the statement of work is `SOW-2026-188` or `sow-2026-188` (the same document).
    ledger = Ledger("2026-10-22T12:00:00Z")
    first = ledger.bill("service.completed", _milestone("SOW-2026-188"), occurred_at="2026-10-22T11:00:00Z",
                        erp_id="ERP-SVC-SP-1")
    again = ledger.bill("service.completed", _milestone("sow-2026-188"), occurred_at="2026-10-22T11:00:00Z",
                        erp_id="ERP-SVC-SP-2")
    assert first["status"] == again["status"] == "processed"
    assert "already billed" in again["reason"], again
    milestones = [x for x in ledger.invoice(PARTNER, "2026-10")["lines"] if x["kind"] == "milestone"]
    assert [x["amount"] for x in milestones] == ["3750.00"]


def test_a_statement_of_work_recorded_before_1_56_4_under_its_spelling_is_still_found(monkeypatch):
    # Before 1.57.2 a statement of work was recorded under its ref as sent (`partner#sow-2026-288`); the same spelling
    # still finds it, and a milestone billed on it is not billed again.
    ledger = Ledger("2026-10-22T12:00:00Z")
    monkeypatch.setattr(core, "statement_of_work_key", lambda partner_id, ref: f"{partner_id}#{ref}")  # as before
    ledger.bill("service.completed", _milestone("sow-2026-288"), occurred_at="2026-10-22T11:00:00Z",
                erp_id="ERP-SVC-OLD-1")
    monkeypatch.undo()
    assert ledger.rt.store.get("northwind", "SOW", f"{PARTNER}#sow-2026-288") is not None
    again = ledger.bill("service.completed", _milestone("sow-2026-288"), occurred_at="2026-10-22T11:00:00Z",
                        erp_id="ERP-SVC-OLD-2")
    assert "already billed" in again["reason"], again
    assert ledger.rt.store.get("northwind", "SOW", f"{PARTNER}#SOW-2026-288") is None
