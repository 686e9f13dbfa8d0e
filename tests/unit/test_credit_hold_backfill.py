"""Credit notes held for approval before 1.46.4 get the "held" mark on the line they credit (an idempotent backfill).

SOP-2.5 (tenants/northwind/contracts/billing-sop.md): "An error is corrected by a credit note referencing the original
invoice and lines, followed where needed by a corrected charge on the next open invoice with the original service
period. ... Credit notes above USD 10,000.00 require approval by a member of the finance queue other than the
preparer." docs/api-changelog.md 1.46.4: "A line's credit markers (`LINECREDIT`, `INVOICEDISPUTELINE`) keep, of what
they count, what is only held (`held`, `holds`)"; a shipment credited in full by a credit note waiting for approval
"still stands billed" and its repeat is held as `duplicate_shipment` naming the held credit. A hold from before 1.46.4
lacks the mark, so its line read as credited and the repeat was billed as a corrected charge before any approval.
5 x NW-SRV-R2 at 5,200.00 = 26,000.00, credited in full on 3 November (26,000.00 > 10,000.00: held).
"""

from __future__ import annotations

from memory_store import Ledger
from revgov.ports import Changes, Delete, Put
from revgov.services import billing, credit_notes
from revgov.services.credit_hold_backfill import backfill_held_marks, backfill_if_unfinished
from revgov.services.credit_hold_marks import HELD_MARKS

PARTNER = "ptr_01JBNWPARTNER0000000000001"
SHIPMENT = {"partner_id": PARTNER, "order_ref": "SO-OLDHOLD-1", "shipped_on": "2026-10-20",
            "lines": [{"sku": "NW-SRV-R2", "quantity": 5}]}  # fmt: skip


def _held_before_1_46_4() -> tuple[Ledger, dict, str]:
    """The shipment billed in October, its full credit note held on 3 November, and the marker as 1.46.3 stored it:
    the 26,000.00 counted, nothing said held; the tenant without the backfill's mark (held before it)."""
    ledger = Ledger("2026-10-20T16:00:00Z")
    assert ledger.receive("shipment.confirmed", SHIPMENT, occurred_at="2026-10-20T15:00:00Z",
                          erp_id="NW-ERP-OLDHOLD-1")["status"] == "processed"  # fmt: skip
    october = ledger.invoice(PARTNER, "2026-10")
    (line,) = october["lines"]
    ledger.clock.set("2026-11-03T10:00:00Z")
    credit = {"partner_id": PARTNER, "credit_note_ref": "CN-OLDHOLD-1", "invoice_id": october["invoice_id"],
              "line_no": line["number"], "reason": "billing_error", "amount": "26000.00", "issued_on": "2026-11-03"}
    assert ledger.receive("credit_note.issued", credit, occurred_at="2026-11-03T09:00:00Z")["status"] == "processed"
    (hold,) = [s.data for s in ledger.rt.store.query("northwind", credit_notes.HOLDS, limit=10).items]
    key = f"{october['invoice_id']}#{int(line['number']):05d}"
    marker = ledger.rt.store.get("northwind", billing.LINE_CREDITS, key)
    old = {k: v for k, v in marker.data.items() if k not in ("held", "holds")}
    ledger.rt.store.commit("northwind", Changes(puts=[Put(billing.LINE_CREDITS, key, old,
                                                          expected_version=marker.version)]))  # fmt: skip
    ledger.rt.store.commit("northwind", Changes(deletes=[Delete(*HELD_MARKS)]))
    return ledger, hold, key


def _repeat(ledger: Ledger, erp_id: str) -> dict:
    return ledger.receive("shipment.confirmed", SHIPMENT, occurred_at="2026-11-03T09:30:00Z", erp_id=erp_id)


def test_a_hold_from_before_1_46_4_is_marked_held_and_its_lines_repeat_is_held_naming_it() -> None:
    ledger, hold, key = _held_before_1_46_4()
    assert backfill_if_unfinished(ledger.rt, ["northwind"], actor="operator:test") == [
        {"tenant_id": "northwind", "scanned": 1, "backfilled": 1}]
    marker = ledger.rt.store.get("northwind", billing.LINE_CREDITS, key).data
    assert (marker["credited"], marker["held"], marker["holds"]) == ("26000.00", "26000.00", [hold["hold_id"]])
    # SOP-2.5: not issued before approval, so the shipment still stands billed: the repeat is held, naming the hold
    repeat = _repeat(ledger, "NW-ERP-OLDHOLD-2")
    assert repeat["status"] == "failed" and hold["hold_id"] in repeat["reason"]
    (case,) = [e for e in ledger.exceptions() if e["category"] == "duplicate_shipment"]
    assert case["context"]["held_credit_notes"] == [{"hold_id": hold["hold_id"], "approval_id": hold["approval_id"]}]
    # idempotent: run again (the maintenance command), nothing more is marked; the mark keeps `revgov dev` from it
    assert backfill_held_marks(ledger.rt, "northwind", actor="operator:test")["backfilled"] == 0
    assert ledger.rt.store.get("northwind", billing.LINE_CREDITS, key).data["held"] == "26000.00"
    assert backfill_if_unfinished(ledger.rt, ["northwind"], actor="operator:test") == []
    records = [r for r in ledger.rt.store.audit_records("northwind")
               if r["action"] == "credit_notes.held_marks_backfilled"]  # fmt: skip
    assert [[h["hold_id"] for h in r["inputs"]["holds"]] for r in records] == [[hold["hold_id"]], []]


def test_without_the_backfill_the_unmarked_hold_read_as_issued_the_bug_it_repairs() -> None:
    # the marker as 1.46.3 left it: the repeat is billed as a corrected charge while the credit still waits
    ledger, _, _ = _held_before_1_46_4()
    assert _repeat(ledger, "NW-ERP-OLDHOLD-3")["status"] == "processed"


def test_a_decided_hold_is_left_as_its_decision_settled_it_and_a_new_tenant_is_marked_at_provisioning() -> None:
    from revgov.domain.access import Principal, Role
    from revgov.services import cases

    ledger, hold, key = _held_before_1_46_4()
    finance = Principal("northwind", Role.FINANCE, "key_finance_backfill")
    cases.decide_case(ledger.rt, finance, "approval", hold["approval_id"], "rejected", "not an error")
    released = ledger.rt.store.get("northwind", billing.LINE_CREDITS, key).data
    assert (released["credited"], released.get("held", "0.00")) == ("0.00", "0.00")  # rejection gave it back
    assert backfill_held_marks(ledger.rt, "northwind", actor="operator:test") == {
        "tenant_id": "northwind", "scanned": 0, "backfilled": 0}
    assert ledger.rt.store.get("northwind", billing.LINE_CREDITS, key).data == released
    assert Ledger("2026-10-20T16:00:00Z").rt.store.get("northwind", *HELD_MARKS) is not None  # provisioned marked
