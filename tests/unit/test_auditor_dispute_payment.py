"""An auditor's case on how an upheld rebate dispute is paid, on the in-memory engine with a fixed clock.

PA-7.9: "An upheld dispute is paid by adjustment in the next settlement, or by separate credit note if the next
settlement is more than 30 days away." SOP-6.3: "An upheld rebate dispute is paid as an adjustment in the next
settlement or by separate credit note under PA-7.9." SOP-7.2: "by Q + 30 days, Finance completes review of the rebate
run, approved by a second member of the finance queue; by Q + 45 days, settlement statements and credit notes are
issued under PA-7.8". SOP-4.3: "A requester can never approve their own request".
CPA-7.9 (contoso): "Upheld amounts are paid in the next settlement." (no credit note)

The 2026-Q3 statement is settled on 2026-10-03 and a dispute on it is upheld on 2026-10-05. The next settlement is the
2026-Q4 run, which cannot come before the quarter ends on 2026-12-31 (87 days later) and is due by Q + 45 =
2027-02-14 (132 days later): more than 30 days away, so the upheld amount is paid by a separate credit note, not left
waiting for that run. Upheld on 2027-01-20 instead, the 2026-Q4 run (not yet approved) is due 2027-02-14, 25 days
away: the amount waits for it.
"""

from __future__ import annotations

from typing import Any

import pytest

from memory_store import Ledger
from rebate_runs import settle_approved  # SOP-7.2: prepared, then approved by a second finance member
from revgov import schemas
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict, Forbidden, NotFound
from revgov.services import cases, rebates

P1 = "ptr_01JBNWPARTNER0000000000001"
P2 = "ptr_01JBNWPARTNER0000000000002"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
DECIDER = Principal("northwind", Role.FINANCE, "key_fin2")
APPROVER = Principal("northwind", Role.FINANCE, "key_fin3")
PARTNER = Principal("northwind", Role.PARTNER, "key_partner", P1)
RIVAL = Principal("northwind", Role.PARTNER, "key_rival", P2)


def _upheld(decided_at: str = "2026-10-05T10:00:00Z", tenant: str = "northwind") -> tuple[Ledger, dict[str, Any]]:
    ledger = Ledger("2026-09-05T12:00:00Z", tenant=tenant)
    sku = "NW-SRV-R2" if tenant == "northwind" else "CT-DEV-LAPTOP14"
    partner = P1 if tenant == "northwind" else ledger.partners[0]["partner_id"]
    shipment = {"partner_id": partner, "order_ref": "SO-1", "shipped_on": "2026-09-05", "delivered_on": "2026-09-05",
                "lines": [{"sku": sku, "quantity": 30}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", shipment, occurred_at="2026-09-05T10:00:00Z")["status"] == "processed"
    ledger.clock.set("2026-10-03T10:00:00Z")
    finance = Principal(tenant, Role.FINANCE, "key_fin")
    _, settlement = settle_approved(ledger.rt, finance, {"period": "2026-Q3", "run": 1})
    body = {"settlement_id": settlement["settlement_id"], "partner_id": partner, "program_id": _program(tenant),
            "amount": "100.00", "reason": "the SPIFF units were not counted",
            "evidence": [{"kind": "invoice", "reference": "inv-2026-09", "note": "30 units"}]}  # fmt: skip
    dispute = rebates.file_dispute(ledger.rt, Principal(tenant, Role.PARTNER, "key_partner", partner), body)
    ledger.clock.set(decided_at)
    decision = {"outcome": "accepted", "amount": "60.00", "reason": "partly upheld: 18 of the 30 units"}
    resolved = rebates.resolve_dispute(ledger.rt, Principal(tenant, Role.FINANCE, "key_fin2"), dispute["dispute_id"],
                                       decision)  # fmt: skip
    assert resolved["status"] == "accepted"
    return ledger, resolved


def _program(tenant: str) -> str:
    return "RBT-HW-SPIFF" if tenant == "northwind" else "RBT-DEVICES-SPIFF"


def _adjustment(ledger: Ledger, dispute: dict[str, Any]) -> dict[str, Any]:
    stored = ledger.rt.store.get(ledger.tenant_id, rebates.ADJUSTMENTS, dispute["dispute_id"])
    assert stored is not None
    return stored.data


def _note(ledger: Ledger, dispute: dict[str, Any]) -> dict[str, Any]:
    credit_note_id = dispute["resolution"]["payment"]["credit_note_id"]
    stored = ledger.rt.store.get("northwind", rebates.CREDIT_NOTES, credit_note_id)
    assert stored is not None
    return stored.data


def _q4_run(ledger: Ledger) -> dict[str, Any]:
    ledger.clock.set("2027-01-05T10:00:00Z")
    shipment = {"partner_id": P1, "order_ref": "SO-2", "shipped_on": "2026-11-05",
                "lines": [{"sku": "NW-SRV-R2", "quantity": 1}]}  # fmt: skip
    ledger.clock.set("2026-11-05T12:00:00Z")
    ledger.bill("shipment.confirmed", shipment, occurred_at="2026-11-05T10:00:00Z")
    ledger.clock.set("2027-01-05T10:00:00Z")
    _, settled = settle_approved(ledger.rt, FINANCE, {"period": "2026-Q4", "run": 1})
    return settled


def test_pa_7_9_an_upheld_dispute_is_owed_its_accepted_amount():
    ledger, dispute = _upheld()
    assert _adjustment(ledger, dispute)["amount"] == "60.00"


def test_pa_7_9_upheld_87_days_before_the_next_settlement_is_paid_by_separate_credit_note():
    ledger, dispute = _upheld()
    adjustment = _adjustment(ledger, dispute)
    assert adjustment["status"] != "pending"  # not left waiting for the 2026-Q4 run
    payment = dispute["resolution"]["payment"]
    assert payment["method"] == "credit_note"
    assert payment["next_settlement"] == {"period": "2026-Q4", "due_by": "2027-02-14", "days_away": 132}
    assert (payment["rule_id"], payment["clause"]) == ("RBT-DISPUTE-CREDIT-NOTE", "PA-7.9")
    note = _note(ledger, dispute)
    assert (note["amount"], note["partner_id"], note["dispute_id"]) == ("60.00", P1, dispute["dispute_id"])
    assert note["status"] == "pending_approval" and note["prepared_by"] == DECIDER.actor


def test_sop_4_3_the_credit_note_is_approved_by_a_second_finance_member_not_its_preparer():
    ledger, dispute = _upheld()
    note = _note(ledger, dispute)
    with pytest.raises(Forbidden):
        cases.decide_case(ledger.rt, DECIDER, "approval", note["approval_id"], "approved", "ok")
    cases.decide_case(ledger.rt, APPROVER, "approval", note["approval_id"], "approved", "checked the units")
    issued = _note(ledger, dispute)
    assert issued["status"] == "issued" and issued["decision"]["by"] == APPROVER.actor
    assert _adjustment(ledger, dispute)["status"] == "credited"
    [event] = [e for e in ledger.rt.publisher.published if e["detail_type"] == "dispute.credit_note_issued"]
    assert (event["detail"]["credit_note_id"], event["detail"]["amount"]) == (issued["credit_note_id"], "60.00")
    schemas.validate("events/revgov.rebates.schema.json",
                     {"source": "revgov.rebates", "detail-type": event["detail_type"], "detail": event["detail"]})
    with pytest.raises(Conflict):  # once: a second approval changes nothing
        cases.decide_case(ledger.rt, APPROVER, "approval", note["approval_id"], "approved", "again")


def test_the_credit_note_is_audited_citing_pa_7_9():
    ledger, dispute = _upheld()
    note = _note(ledger, dispute)
    cases.decide_case(ledger.rt, APPROVER, "approval", note["approval_id"], "approved", "checked the units")
    audit = ledger.rt.store.audit_records("northwind")
    actions = {a["action"]: a for a in audit}
    for action in ("rebate_credit_note.prepared", "rebate_credit_note.issued"):
        assert "PA-7.9" in actions[action]["clauses"], action
    assert actions["rebate_credit_note.issued"]["actor"] == APPROVER.actor


def test_pa_7_9_the_next_settlement_does_not_pay_a_credit_noted_dispute_again():
    ledger, dispute = _upheld()
    note = _note(ledger, dispute)
    cases.decide_case(ledger.rt, APPROVER, "approval", note["approval_id"], "approved", "checked the units")
    settled = _q4_run(ledger)
    assert dispute["dispute_id"] not in str(settled.get("dispute_adjustments"))
    assert _adjustment(ledger, dispute)["status"] == "credited"


def test_a_settlement_run_before_the_credit_note_is_issued_pays_it_once_and_withdraws_the_credit_note():
    # PA-7.9 pays the upheld amount once: a run made before the credit note is approved pays it as an adjustment
    ledger, dispute = _upheld()
    note = _note(ledger, dispute)
    settled = _q4_run(ledger)
    assert dispute["dispute_id"] in str(settled["dispute_adjustments"])
    assert _adjustment(ledger, dispute)["status"] == "settled"
    assert _note(ledger, dispute)["status"] == "withdrawn"
    cases.decide_case(ledger.rt, APPROVER, "approval", note["approval_id"], "approved", "late approval")
    assert _note(ledger, dispute)["status"] == "withdrawn"
    assert [e for e in ledger.rt.publisher.published if e["detail_type"] == "dispute.credit_note_issued"] == []
    assert _adjustment(ledger, dispute)["status"] == "settled"
    # reviewer 5: the partner reads that the run paid it, not only the credit note decided (API 1.61.0)
    shown = rebates.get_dispute(ledger.rt, PARTNER, dispute["dispute_id"])[0]["resolution"]["payment"]
    assert (shown["method"], shown["status"], shown["settled_in"]) == (
        "credit_note", "settled", settled["settlement_id"]), shown


def test_a_dispute_paid_by_its_issued_credit_note_reads_credited():
    ledger, dispute = _upheld()
    shown = rebates.get_dispute(ledger.rt, PARTNER, dispute["dispute_id"])[0]["resolution"]["payment"]
    assert shown["status"] == "credit_note" and "settled_in" not in shown, shown
    cases.decide_case(ledger.rt, APPROVER, "approval", _note(ledger, dispute)["approval_id"], "approved", "checked")
    shown = rebates.get_dispute(ledger.rt, PARTNER, dispute["dispute_id"])[0]["resolution"]["payment"]
    assert shown["status"] == "credited" and shown["credited_at"], shown


def test_a_rejected_credit_note_leaves_the_upheld_amount_to_the_next_settlement():
    ledger, dispute = _upheld()
    note = _note(ledger, dispute)
    cases.decide_case(ledger.rt, APPROVER, "approval", note["approval_id"], "rejected", "pay it in the Q4 run")
    assert _note(ledger, dispute)["status"] == "rejected"
    assert _adjustment(ledger, dispute)["status"] == "pending"
    settled = _q4_run(ledger)
    assert dispute["dispute_id"] in str(settled["dispute_adjustments"])


def test_pa_7_9_upheld_25_days_before_the_next_settlement_is_paid_in_it():
    ledger, dispute = _upheld("2027-01-20T10:00:00Z")
    payment = dispute["resolution"]["payment"]
    assert payment["method"] == "next_settlement"
    assert payment["next_settlement"] == {"period": "2026-Q4", "due_by": "2027-02-14", "days_away": 25}
    assert _adjustment(ledger, dispute)["status"] == "pending"
    assert payment["credit_note_id"] is None


def test_pa_7_9_exactly_30_days_away_is_not_more_than_30():
    ledger, dispute = _upheld("2027-01-15T10:00:00Z")  # 2027-02-14 is 30 days later
    assert dispute["resolution"]["payment"]["next_settlement"]["days_away"] == 30
    assert _adjustment(ledger, dispute)["status"] == "pending"


def test_cpa_7_9_contoso_pays_upheld_amounts_in_the_next_settlement_only():
    ledger, dispute = _upheld(tenant="contoso")
    assert dispute["resolution"]["payment"]["method"] == "next_settlement"
    assert _adjustment(ledger, dispute)["status"] == "pending"


def test_a_partner_reads_its_own_credit_note_only():
    ledger, dispute = _upheld()
    credit_note_id = dispute["resolution"]["payment"]["credit_note_id"]
    assert rebates.credit_note(ledger.rt, PARTNER, credit_note_id)["amount"] == "60.00"
    with pytest.raises(NotFound):
        rebates.credit_note(ledger.rt, RIVAL, credit_note_id)


def test_pa_2_8_no_dispute_credit_note_is_issued_while_a_screening_match_holds_the_partner():
    """Red team 6. PA-2.8: "no quote, order or incentive may be processed for the Partner while the match is
    unresolved" (CPA-2.8 adds "payment"). A settlement run withholds a held partner's statement; the separate credit
    note of an upheld dispute (PA-7.9) was still issued by the second finance member. Now its approval is refused (422
    naming ONB-SCREENING and PA-2.8), nothing changes (the note pending, the case pending, no event), and once Legal
    files a clear screening the approval issues it as before."""
    from revgov.domain.errors import RuleViolation
    from revgov.ports import Changes, Put

    def screened(outcome: str, day: str) -> None:  # as channel ops (a match) or legal (clear) file it
        stored = ledger.rt.store.get("northwind", "PARTNER", P1)
        assert stored is not None
        document = {"document_type": "compliance_screening", "reference": f"dms://screening/{outcome}.pdf",
                    "checksum": "sha256:" + "7" * 64, "issued_at": day, "expires_at": None, "outcome": outcome,
                    "recorded_at": f"{day}T09:00:00Z", "recorded_by": "legal:key_legal"}  # fmt: skip
        documents = {**stored.data.get("documents", {}), "compliance_screening": document}
        ledger.rt.store.commit("northwind", Changes(puts=[Put("PARTNER", P1, {**stored.data, "documents": documents})]))

    ledger, dispute = _upheld()
    note = _note(ledger, dispute)
    screened("potential_match", "2026-10-05")
    with pytest.raises(RuleViolation) as held:
        cases.decide_case(ledger.rt, APPROVER, "approval", note["approval_id"], "approved", "checked the units")
    assert (held.value.extra["rule_id"], held.value.extra["clause"]) == ("ONB-SCREENING", "PA-2.8")
    assert _note(ledger, dispute)["status"] == "pending_approval"
    assert _adjustment(ledger, dispute)["status"] == "credit_note"
    assert cases.get_case(ledger.rt, "northwind", "approval", note["approval_id"])[0]["status"] == "pending"
    assert not [e for e in ledger.rt.publisher.published if e["detail_type"] == "dispute.credit_note_issued"]
    ledger.clock.set("2026-10-06T10:00:00Z")
    screened("clear", "2026-10-06")
    cases.decide_case(ledger.rt, APPROVER, "approval", note["approval_id"], "approved", "checked the units")
    assert _note(ledger, dispute)["status"] == "issued"


def test_pa_7_8_no_dispute_credit_note_is_issued_while_the_partner_has_an_invoice_more_than_60_days_overdue():
    """Red team 6. PA-7.8: "Rebates are withheld while the Partner has an invoice more than 60 days overdue and are
    released in the first settlement after the overdue amount is paid." An upheld rebate dispute paid by separate
    credit note (PA-7.9) is a rebate paid: September's invoice, issued on 2026-10-03 before the 2026-Q3 run (PA-1.2:
    the run counts issued invoices; net 30, PA-6.7: due 2026-11-02), is unpaid; on 2027-01-02 it is 61 days overdue
    and the credit note's approval is refused (422 naming RBT-WITHHOLDING / PA-7.8 and the invoice), nothing changes.
    On 2027-01-01 (60 days: not "more than 60") it would be issued; once the invoice is paid it is. Before, it was
    issued whatever the partner owed."""
    from revgov.domain.errors import RuleViolation

    ledger, dispute = _upheld()
    note = _note(ledger, dispute)
    invoice = ledger.invoice(P1, "2026-09")
    assert (invoice["status"], invoice["finalized_at"][:10]) == ("finalized", "2026-10-03")  # issued before the run
    invoice_id = invoice["invoice_id"]
    ledger.clock.set("2027-01-02T09:00:00Z")
    with pytest.raises(RuleViolation) as withheld:
        cases.decide_case(ledger.rt, APPROVER, "approval", note["approval_id"], "approved", "checked the units")
    assert (withheld.value.extra["rule_id"], withheld.value.extra["clause"]) == ("RBT-WITHHOLDING", "PA-7.8")
    assert withheld.value.extra["overdue_invoices"] == [invoice_id]
    assert _note(ledger, dispute)["status"] == "pending_approval"
    assert _adjustment(ledger, dispute)["status"] == "credit_note"
    paid = {"partner_id": P1, "invoice_id": invoice_id, "paid_on": "2027-01-02", "payment_ref": "RCPT-1"}
    assert ledger.bill("invoice.paid", paid, occurred_at="2027-01-02T09:00:00Z")["status"] == "processed"
    cases.decide_case(ledger.rt, APPROVER, "approval", note["approval_id"], "approved", "checked the units")
    assert _note(ledger, dispute)["status"] == "issued"


def test_pa_7_8_sixty_days_overdue_is_not_more_than_sixty_and_the_credit_note_is_issued():
    ledger, dispute = _upheld()
    note = _note(ledger, dispute)
    assert ledger.invoice(P1, "2026-09")["finalized_at"][:10] == "2026-10-03"  # issued before the run: due 2026-11-02
    ledger.clock.set("2027-01-01T09:00:00Z")
    cases.decide_case(ledger.rt, APPROVER, "approval", note["approval_id"], "approved", "checked the units")
    assert _note(ledger, dispute)["status"] == "issued"
