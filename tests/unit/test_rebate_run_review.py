"""The four-eyes step of a rebate settlement run: prepared, then approved by a second member of the finance queue.

SOP-7.2 (northwind billing-sop.md): "by Q + 30 days, Finance completes review of the rebate run, approved by a second
member of the finance queue; by Q + 45 days, settlement statements and credit notes are issued under PA-7.8".
COP-7.2 (contoso operations-sop.md): "rebate run approved by a second finance queue member by Q + 30 days; settlement
statements and credit notes issued by Q + 45 days".
SOP-4.3: "A requester can never approve their own request. ... Any attempt to self-approve is rejected and recorded in
the audit log." SOP-4.4: "A rejection without a reason is not accepted."
PA-7.9: "A Partner may dispute a settlement statement within 60 days of its date".

P1 ships 30 x NW-SRV-R2 in September 2026 (2026-Q3 ends 2026-09-30: approve by 2026-10-30, issue by 2026-11-14).
In-memory engine, injected clock: no test depends on today's date.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from memory_store import Ledger
from rebate_runs import prepare, second_finance
from revgov import schemas
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict, Forbidden, NotFound
from revgov.services import billing, keys, rebates
from revgov.services.rebates import run_watch

P1 = "ptr_01JBNWPARTNER0000000000001"
P2 = "ptr_01JBNWPARTNER0000000000002"  # no September invoice until its late sale
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
SECOND = second_finance("northwind")
AS_P1 = Principal("northwind", Role.PARTNER, "key_p1", P1)


def _ship(ledger: Ledger, on: str, quantity: int, partner_id: str = P1) -> None:
    ledger.clock.set(f"{on}T12:00:00Z")
    data = {"partner_id": partner_id, "order_ref": f"SO-{on}-{quantity}", "shipped_on": on,
            "lines": [{"sku": "NW-SRV-R2", "quantity": quantity}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at=f"{on}T10:00:00Z")["status"] == "processed"


def _september() -> Ledger:
    ledger = Ledger("2026-09-05T12:00:00Z")
    _ship(ledger, "2026-09-05", 30)
    return ledger


def _prepare(ledger: Ledger, at: str = "2026-10-20T09:00:00Z", who: Principal = FINANCE) -> dict[str, Any]:
    ledger.clock.set(at)
    status, prepared = prepare(ledger.rt, who, {"period": "2026-Q3"})
    assert status == 201
    return prepared


def _events(ledger: Ledger, kind: str) -> list[dict[str, Any]]:
    return [e for e in ledger.rt.publisher.published if e["detail_type"] == kind]


def _actions(ledger: Ledger) -> list[str]:
    return [r["action"] for r in ledger.rt.store.audit_records("northwind") if r["action"].startswith("rebate_sett")]


def test_sop_7_2_a_prepared_run_is_frozen_and_audited_but_nothing_is_issued_settled_or_shown_to_the_partner():
    ledger = _september()
    prepared = _prepare(ledger)
    assert prepared["status"] == "prepared" and prepared["settled_at"] is None and prepared["replayed"] is False
    assert len(prepared["figures_hash"]) == 64 and prepared["prepared_by"] == FINANCE.actor
    assert not schemas.problems("api/responses/settlement.schema.json", prepared)
    assert _actions(ledger) == ["rebate_settlement.prepared"]
    assert _events(ledger, "settlement.completed") == []  # no money-moving event
    assert not rebates.run_approved(ledger.rt, "northwind", "2026-Q3")
    # finance reviews the statement; the partner reads nothing and cannot dispute what was not issued
    assert rebates.get_settlement(ledger.rt, FINANCE, prepared["settlement_id"], P1)["statement"]["total"] == "2760.00"
    with pytest.raises(NotFound) as hidden:
        rebates.get_settlement(ledger.rt, AS_P1, prepared["settlement_id"], None)
    with pytest.raises(NotFound) as unknown:
        rebates.get_settlement(ledger.rt, AS_P1, "set_01JX0000000000000000000000", None)
    assert hidden.value.status == unknown.value.status == 404
    dispute = {"settlement_id": prepared["settlement_id"], "partner_id": P1, "program_id": "RBT-VOLUME",
               "amount": "10.00", "reason": "missing order", "evidence": [{"kind": "order", "reference": "SO-1"}]}
    with pytest.raises(NotFound):
        rebates.file_dispute(ledger.rt, AS_P1, dispute)


def test_sop_4_3_neither_the_preparer_nor_a_key_it_minted_afterwards_approves_or_rejects_and_each_try_is_audited():
    ledger = _september()
    prepared = _prepare(ledger)
    sid = prepared["settlement_id"]
    for attempt in (lambda: rebates.approve_settlement(ledger.rt, FINANCE, sid, {}),
                    lambda: rebates.reject_settlement(ledger.rt, FINANCE, sid, {"reason": "mine"})):
        with pytest.raises(Forbidden) as refused:
            attempt()
        assert refused.value.extra["refusal"] == "self_approval" and refused.value.extra["clause"] == "SOP-4.3"
    # an admin key held by the preparer mints a finance key after the run was prepared: still the preparer's hands
    ledger.clock.set("2026-10-21T09:00:00Z")
    minted = keys.create_key(ledger.rt, FINANCE, "northwind", Role.FINANCE, None, "my second finance key")
    own = Principal("northwind", Role.FINANCE, minted["key_id"])
    with pytest.raises(Forbidden):
        rebates.approve_settlement(ledger.rt, own, sid, {})
    assert _actions(ledger).count("rebate_settlement.review_refused") == 3
    assert rebates.get_settlement(ledger.rt, FINANCE, sid, None)["status"] == "prepared"
    assert rebates.approve_settlement(ledger.rt, SECOND, sid, {})["status"] == "settled"


def test_sop_7_2_approval_by_a_second_member_issues_the_statements_once():
    ledger = _september()
    prepared = _prepare(ledger)
    ledger.clock.set("2026-10-28T09:00:00Z")
    issued = rebates.approve_settlement(ledger.rt, SECOND, prepared["settlement_id"], {"note": "checked"})
    assert issued["status"] == "settled" and issued["settled_at"].startswith("2026-10-28")
    assert issued["approved_by"] == SECOND.actor and issued["review"]["decision"]["reason"] == "checked"
    assert issued["figures_hash"] == prepared["figures_hash"] and issued["totals"] == prepared["totals"]
    assert not schemas.problems("api/responses/settlement.schema.json", issued)
    view = rebates.get_settlement(ledger.rt, AS_P1, prepared["settlement_id"], None)
    # PA-7.9's window runs from the statement's date: the day it was issued, not the day it was prepared
    assert view["statement"]["statement_date"] == "2026-10-28" and view["statement"]["total"] == "2760.00"
    assert not {"prepared_by", "prepared_by_key", "approved_by", "figures_hash", "review"} & set(view)
    assert view["settled_by"] == "finance" and "key_" not in str({k: v for k, v in view.items() if k != "statement"})
    completed = _events(ledger, "settlement.completed")
    assert [e["detail"]["settlement_id"] for e in completed] == [prepared["settlement_id"]]
    with pytest.raises(Conflict) as twice:
        rebates.approve_settlement(ledger.rt, SECOND, prepared["settlement_id"], {})
    assert twice.value.extra["current_status"] == "settled"
    # preparing the period again answers the issued run; nothing is issued twice
    again = _prepare(ledger, "2026-10-29T09:00:00Z")
    assert (again["settlement_id"], again["status"], again["replayed"]) == (prepared["settlement_id"], "settled", True)
    assert len(_events(ledger, "settlement.completed")) == 1 and rebates.run_approved(ledger.rt, "northwind", "2026-Q3")


def test_concurrent_approvals_of_one_run_issue_it_once():
    ledger = _september()
    prepared = _prepare(ledger)
    approvers = [Principal("northwind", Role.FINANCE, f"key_01JAPPROVER{n:014d}") for n in range(4)]
    answers: list[Any] = []

    def approve(who: Principal) -> None:
        try:
            answers.append(rebates.approve_settlement(ledger.rt, who, prepared["settlement_id"], {}))
        except Conflict as lost:
            answers.append(lost)

    threads = [threading.Thread(target=approve, args=(who,)) for who in approvers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([a for a in answers if isinstance(a, dict)]) == 1, answers
    assert all(isinstance(a, Conflict) for a in answers if not isinstance(a, dict))
    assert len(_events(ledger, "settlement.completed")) == 1
    assert _actions(ledger).count("rebate_settlement.settled") == 1


def test_sop_4_4_a_rejection_states_its_reason_and_sends_the_run_back_to_be_prepared_again():
    ledger = _september()
    prepared = _prepare(ledger)
    rejected = rebates.reject_settlement(ledger.rt, SECOND, prepared["settlement_id"],
                                         {"reason": "the September credit notes are missing"})
    assert rejected["status"] == "rejected"
    assert rejected["review"]["decision"] == {
        "outcome": "rejected", "by": SECOND.actor, "at": "2026-10-20T09:00:00.000Z",
        "reason": "the September credit notes are missing"}
    with pytest.raises(Conflict):
        rebates.approve_settlement(ledger.rt, SECOND, prepared["settlement_id"], {})
    assert _events(ledger, "settlement.completed") == [] and "rebate_settlement.rejected" in _actions(ledger)
    again = _prepare(ledger, "2026-10-21T09:00:00Z")
    assert again["status"] == "prepared" and again["settlement_id"] != prepared["settlement_id"]
    assert rebates.approve_settlement(ledger.rt, SECOND, again["settlement_id"], {})["status"] == "settled"


def test_preparing_again_replaces_an_unapproved_run_whose_figures_changed_and_answers_one_whose_did_not():
    ledger = _september()
    first = _prepare(ledger)
    same = _prepare(ledger, "2026-10-20T10:00:00Z")
    assert (same["settlement_id"], same["replayed"]) == (first["settlement_id"], True)
    # a September sale of P2 billed late: September's invoice of P1 was issued before the run, but P2 had none, so
    # the sale opens P2's September draft (SOP-2.2: posted to the invoice of the month it occurred); issued before
    # the run is prepared again (PA-1.2), it changes the run's figures
    _ship(ledger, "2026-09-20", 10, P2)
    second = _prepare(ledger, "2026-10-21T09:00:00Z")
    assert second["settlement_id"] != first["settlement_id"] and second["figures_hash"] != first["figures_hash"]
    old = rebates.get_settlement(ledger.rt, FINANCE, first["settlement_id"], None)
    assert (old["status"], old["replaced_by"]) == ("replaced", second["settlement_id"])
    with pytest.raises(Conflict):
        rebates.approve_settlement(ledger.rt, SECOND, first["settlement_id"], {})
    assert rebates.approve_settlement(ledger.rt, SECOND, second["settlement_id"], {})["status"] == "settled"


def test_a_run_whose_figures_changed_after_it_was_prepared_is_not_approved_and_nothing_is_settled():
    """A late September sale of P2 (no September invoice yet) opens its September draft after the run was prepared.
    PA-1.2 counts "Invoiced Revenue for invoices dated in that period": approving now would issue statements while an
    invoice of the Quarter is undated, so the approval is refused as the preparation would be (409
    invoices_not_issued naming the draft). Issued, it is dated in the Quarter (its month's invoice, SOP-2.2) and its
    5 x NW-SRV-R2 change the run's figures: 409 figures_changed, prepare again. Nothing settled either time."""
    ledger = _september()
    prepared = _prepare(ledger)
    _ship(ledger, "2026-09-25", 5, P2)  # lands in 2026-Q3 after the run was prepared
    late = ledger.invoice(P2, "2026-09")
    assert late["status"] == "draft"
    ledger.clock.set("2026-10-22T09:00:00Z")
    with pytest.raises(Conflict) as held:
        rebates.approve_settlement(ledger.rt, SECOND, prepared["settlement_id"], {})
    extra = held.value.extra
    assert (extra["refusal"], extra["rule_id"], extra["clause"], extra["draft_count"]) == (
        "invoices_not_issued", "RBT-QUALIFYING-REVENUE", "PA-1.2", 1)
    assert [(d["invoice_id"], d["partner_id"], d["period"]) for d in extra["draft_invoices"]] == [
        (late["invoice_id"], P2, "2026-09")]
    assert rebates.get_settlement(ledger.rt, FINANCE, prepared["settlement_id"], None)["status"] == "prepared"
    assert not rebates.run_approved(ledger.rt, "northwind", "2026-Q3")
    billing.finalize_invoice(ledger.rt, FINANCE, late["invoice_id"])
    with pytest.raises(Conflict) as changed:
        rebates.approve_settlement(ledger.rt, SECOND, prepared["settlement_id"], {})
    assert changed.value.extra["refusal"] == "figures_changed" and "prepare 2026-Q3 run 1 again" in changed.value.detail
    assert rebates.get_settlement(ledger.rt, FINANCE, prepared["settlement_id"], None)["status"] == "prepared"
    assert _events(ledger, "settlement.completed") == [] and not rebates.run_approved(ledger.rt, "northwind", "2026-Q3")


@pytest.mark.parametrize(
    ("tenant", "clause"), [("northwind", "SOP-7.2"), ("contoso", "COP-7.2")]
)
def test_q_plus_30_approval_and_q_plus_45_issue_are_stated_and_reported_overdue(tenant, clause):
    ledger = Ledger("2026-10-20T09:00:00Z", tenant=tenant)
    finance = Principal(tenant, Role.FINANCE, "key_fin")
    _, prepared = rebates.settle(ledger.rt, finance, {"period": "2026-Q3"})
    review = prepared["review"]
    assert (review["rule_id"], review["clause"]) == ("RBT-SETTLEMENT-APPROVAL", clause)
    assert (review["approve_by"], review["issue_by"], review["overdue"]) == ("2026-10-30", "2026-11-14", [])
    ledger.clock.set("2026-10-31T09:00:00Z")  # Q + 31: not approved by Q + 30
    assert rebates.get_settlement(ledger.rt, finance, prepared["settlement_id"], None)["review"]["overdue"] == [
        "approval"]
    ledger.clock.set("2026-11-15T09:00:00Z")  # Q + 46: and not issued by Q + 45
    late = rebates.approve_settlement(ledger.rt, second_finance(tenant), prepared["settlement_id"], {})
    assert late["review"]["overdue"] == ["approval", "issue"]
    ledger.clock.set("2027-01-10T09:00:00Z")  # what was missed stays stated, as of the approval
    view = rebates.get_settlement(ledger.rt, finance, prepared["settlement_id"], None)["review"]
    assert (view["overdue"], view["as_of"]) == (["approval", "issue"], "2026-11-15")


def test_a_monthly_run_is_approved_the_same_way_with_the_commission_deadlines_not_the_quarters():
    # SOP-7.1: "by the 3rd business day, commissions for month M are calculated under PA-8.2"; PA-8.2: "paid within
    # 30 days after the end of the month": September's run is calculated by 5 October (Thu 1, Fri 2, Mon 5) and paid
    # by 30 October; no Q + 30 approve-by day (tests/unit/test_commission_deadlines.py holds the boundaries)
    ledger = _september()
    ledger.clock.set("2026-10-05T09:00:00Z")
    _, prepared = prepare(ledger.rt, FINANCE, {"period": "2026-09"})
    assert prepared["status"] == "prepared"
    review = prepared["review"]
    assert (review["approve_by"], review["calculate_by"], review["issue_by"]) == (None, "2026-10-05", "2026-10-30")
    assert rebates.approve_settlement(ledger.rt, SECOND, prepared["settlement_id"], {})["status"] == "settled"


def _late_cases(ledger: Ledger) -> list[dict[str, Any]]:
    return [c.data for c in ledger.rt.store.query("northwind", "CASE", limit=200).items
            if c.data["category"] == "rebate_run_overdue"]


def test_a_quarters_run_not_approved_by_q_plus_30_becomes_one_exception_for_finance_refreshed_at_q_plus_45():
    # SOP-7.2: "by Q + 30 days, Finance completes review of the rebate run, approved by a second member of the
    # finance queue; by Q + 45 days, settlement statements and credit notes are issued"
    ledger = _september()
    prepared = _prepare(ledger)
    ledger.clock.set("2026-10-30T23:00:00Z")  # Q + 30: still in time
    assert run_watch.watch(ledger.rt, "northwind")["opened"] == 0 and _late_cases(ledger) == []
    ledger.clock.set("2026-10-31T06:00:00Z")  # Q + 31
    assert run_watch.watch(ledger.rt, "northwind")["opened"] == 1
    assert run_watch.watch(ledger.rt, "northwind") == {"opened": 0, "refreshed": 0, "looked_at": 1}  # one, not two
    (case,) = _late_cases(ledger)
    assert case["queue"] == "finance"
    assert {"rule_id": "RBT-SETTLEMENT-APPROVAL", "clause": "SOP-7.2"}.items() <= next(
        r for r in case["reasons"] if r["rule_id"] == "RBT-SETTLEMENT-APPROVAL").items()
    assert case["context"]["overdue"] == ["approval"] and case["context"]["settlement_id"] == prepared["settlement_id"]
    ledger.clock.set("2026-11-15T06:00:00Z")  # Q + 46: the issue deadline missed too
    assert run_watch.watch(ledger.rt, "northwind")["refreshed"] == 1
    (case,) = _late_cases(ledger)
    assert case["context"]["overdue"] == ["approval", "issue"]
    rebates.approve_settlement(ledger.rt, SECOND, prepared["settlement_id"], {})
    assert run_watch.watch(ledger.rt, "northwind") == {"opened": 0, "refreshed": 0, "looked_at": 1}


def test_a_quarter_approved_in_time_opens_no_exception():
    ledger = _september()
    prepared = _prepare(ledger)
    rebates.approve_settlement(ledger.rt, SECOND, prepared["settlement_id"], {})
    ledger.clock.set("2026-11-20T06:00:00Z")
    assert run_watch.watch(ledger.rt, "northwind")["opened"] == 0 and _late_cases(ledger) == []
