"""How a rebate settlement is paid: by credit note, or by bank transfer where the partner asked and owes nothing.

PA-7.8 (northwind): "Settlement is made by credit note applied to the Partner's account or, where the Partner has no
open balance and requests it, by bank transfer. Rebates are withheld while the Partner has an invoice more than 60 days
overdue and are released in the first settlement after the overdue amount is paid."
CPA-7.8 (contoso): "Settlement is by credit note, or by bank transfer if the Partner has no open balance and asks for
it."
PA-6.7: "Standard payment terms are net 30 days from the invoice date."

The request is a standing one: neither clause ties it to a Quarter or a statement ("requests it", "asks for it"), and
the condition it is read with ("has no open balance") is the partner's at each settlement; so it stands until the
partner (or staff on its behalf) withdraws it, and each run reads it with the partner's open balance then.
Open balance: an invoice Revgov holds for the partner that is issued (finalized) by the run's as-of day, not paid by
then, and not fully credited (its net total less what credit notes, returns and upheld disputes credited of its lines
is above 0.00). A bank transfer is an instruction on the statement for finance and the ERP: Revgov moves no money and
stores no bank details (the ERP holds them).

Scenario: P1 (platinum) ships 30 x NW-SRV-R2 on 2026-09-05; September's invoice is issued on 2026-10-01, due
2026-10-31 (net 30). Settled on 2026-10-25 (Q3 has ended; nothing is overdue yet, so nothing is withheld).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from memory_store import Ledger
from rebate_runs import issue, pay, prepare, second_finance, september, settle_run, ship
from revgov.domain.access import Principal, Role
from revgov.domain.billing.balance import open_invoices
from revgov.domain.errors import Conflict, NotFound
from revgov.services import rebates
from revgov.services.rebates import bank_transfer

P1, P2 = "ptr_01JBNWPARTNER0000000000001", "ptr_01JBNWPARTNER0000000000002"
UNKNOWN = "ptr_01JBNWPARTNER0000000000999"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
OPS = Principal("northwind", Role.CHANNEL_OPS, "key_ops")
AS_P1 = Principal("northwind", Role.PARTNER, "key_p1", P1)
AS_P2 = Principal("northwind", Role.PARTNER, "key_p2", P2)


def _request(ledger: Ledger, who: Principal, at: str = "2026-10-02T10:00:00Z", partner_id: str = P1) -> dict:
    ledger.clock.set(at)
    return bank_transfer.request(ledger.rt, who, partner_id, {"note": "pay our rebates to the account on file"})


def _statement(ledger: Ledger, at: str, period: str = "2026-Q3") -> tuple[dict[str, Any], dict[str, Any]]:
    settled = settle_run(ledger, FINANCE, period, at)
    return settled, rebates.get_settlement(ledger.rt, FINANCE, settled["settlement_id"], P1)["statement"]


def _settled_audit(ledger: Ledger) -> dict[str, Any]:
    return [r for r in ledger.rt.store.audit_records("northwind") if r["action"] == "rebate_settlement.settled"][-1]


def test_pa_7_8_a_partner_that_asked_and_owes_nothing_is_paid_by_bank_transfer():
    ledger, invoice_id = september(FINANCE)
    asked = _request(ledger, AS_P1)
    assert (asked["status"], asked["partner_id"], asked["rule_id"], asked["clause"]) == (
        "standing", P1, "RBT-SETTLEMENT-METHOD", "PA-7.8")
    pay(ledger, P1, invoice_id, "2026-10-20")
    _, statement = _statement(ledger, "2026-10-25T09:00:00Z")
    total = Decimal(statement["total"])
    assert total > 0 and statement["status"] == "payable"
    method = statement["settlement_method"]
    assert (method["method"], method["rule_id"], method["clause"]) == ("bank_transfer", "RBT-SETTLEMENT-METHOD",
                                                                       "PA-7.8")
    assert method["bank_transfer_requested"] is True and method["open_invoices"] == []
    assert "moves no money" in method["instruction"]
    assert statement["by_payout"] == {"bank_transfer": statement["total"]}
    assert {ln["payout"] for ln in statement["lines"] if Decimal(ln["amount"])} == {"bank_transfer"}
    audit = _settled_audit(ledger)
    assert audit["inputs"]["settlement_methods"] == {P1: "bank_transfer"}
    assert "RBT-SETTLEMENT-METHOD" in audit["rule_ids"] and "PA-7.8" in audit["clauses"]
    requested = [r for r in ledger.rt.store.audit_records("northwind")
                 if r["action"] == "rebate_settlement.bank_transfer_requested"]  # fmt: skip
    assert [(r["subject"], r["rule_ids"], r["clauses"]) for r in requested] == [(P1, ["RBT-SETTLEMENT-METHOD"],
                                                                                 ["PA-7.8"])]


def test_pa_7_8_an_unpaid_issued_invoice_is_an_open_balance_so_the_settlement_is_a_credit_note():
    ledger, invoice_id = september(FINANCE)
    _request(ledger, AS_P1)
    _, statement = _statement(ledger, "2026-10-25T09:00:00Z")  # due 2026-10-31: open, not overdue
    assert statement["status"] == "payable"
    method = statement["settlement_method"]
    assert method["method"] == "credit_note" and method["bank_transfer_requested"] is True
    assert [i["invoice_id"] for i in method["open_invoices"]] == [invoice_id]
    assert method["open_invoices"][0]["issued_on"] == "2026-10-01"
    assert "open balance" in method["reason"] and (method["rule_id"], method["clause"]) == (
        "RBT-SETTLEMENT-METHOD", "PA-7.8")
    assert statement["by_payout"] == {"credit_note": statement["total"]}
    assert _settled_audit(ledger)["inputs"]["settlement_methods"] == {P1: "credit_note"}


def test_pa_7_8_without_a_request_the_settlement_is_a_credit_note():
    ledger, invoice_id = september(FINANCE)
    pay(ledger, P1, invoice_id, "2026-10-20")
    _, statement = _statement(ledger, "2026-10-25T09:00:00Z")
    method = statement["settlement_method"]
    assert (method["method"], method["bank_transfer_requested"]) == ("credit_note", False)
    assert statement["by_payout"] == {"credit_note": statement["total"]}


def test_pa_7_8_a_withdrawn_request_no_longer_stands():
    ledger, invoice_id = september(FINANCE)
    _request(ledger, AS_P1)
    ledger.clock.set("2026-10-10T10:00:00Z")
    withdrawn = bank_transfer.withdraw(ledger.rt, AS_P1, P1, {"note": "back to credit notes, not DE89 3704 0044 0532 "
                                                                     "0130 00"})  # fmt: skip
    assert withdrawn["status"] == "withdrawn" and withdrawn["withdrawn_at"].startswith("2026-10-10T10:00:00")
    assert withdrawn["withdrawal_note"] == "back to credit notes, not [iban]"
    pay(ledger, P1, invoice_id, "2026-10-20")
    _, statement = _statement(ledger, "2026-10-25T09:00:00Z")
    assert statement["settlement_method"]["method"] == "credit_note"
    with pytest.raises(Conflict):  # nothing stands to withdraw
        bank_transfer.withdraw(ledger.rt, AS_P1, P1, {})


def test_staff_request_on_the_partners_behalf_and_a_second_request_while_one_stands_is_a_conflict():
    ledger, invoice_id = september(FINANCE)
    asked = _request(ledger, FINANCE)
    assert asked["requested_by_role"] == "finance"
    with pytest.raises(Conflict):
        _request(ledger, AS_P1)
    assert bank_transfer.get(ledger.rt, AS_P1, P1)["requested_at"] == asked["requested_at"]
    pay(ledger, P1, invoice_id, "2026-10-20")
    assert _statement(ledger, "2026-10-25T09:00:00Z")[1]["settlement_method"]["method"] == "bank_transfer"


def test_a_request_made_after_the_run_was_prepared_is_read_by_the_next_run():
    """The method is chosen when the run is prepared, from the requests standing then, and the approval pays what
    was prepared (red team 12): the partner's own request is no fact of the run's figures that it may change at will.
    Before, a request or withdrawal between preparation and approval made the approval 409 `figures_changed`, so a
    partner toggling its request held back every partner's settlement of the run. Facts still move the figures (a
    payment, a credit note): those are the ERP's and finance's, not the partner's."""
    ledger, invoice_id = september(FINANCE)
    pay(ledger, P1, invoice_id, "2026-10-20")
    ledger.clock.set("2026-10-25T09:00:00Z")
    prepared = prepare(ledger.rt, FINANCE, {"period": "2026-Q3", "run": 1})[1]
    _request(ledger, AS_P1, at="2026-10-25T10:00:00Z")
    ledger.clock.set("2026-10-25T11:00:00Z")
    settled = rebates.approve_settlement(ledger.rt, second_finance("northwind"), prepared["settlement_id"], {})
    statement = rebates.get_settlement(ledger.rt, FINANCE, settled["settlement_id"], P1)["statement"]
    method = statement["settlement_method"]
    assert (method["method"], method["bank_transfer_requested"]) == ("credit_note", False)  # as prepared
    assert bank_transfer.get(ledger.rt, AS_P1, P1)["status"] == "standing"  # the next run reads it


def test_a_partner_toggling_its_request_does_not_hold_back_the_prepared_run():
    """Asked before preparation, withdrawn and asked again before approval: the run is approved as prepared, by bank
    transfer, stating the request the run was prepared with (PA-7.8: the partner "requests it" and owes nothing)."""
    ledger, invoice_id = september(FINANCE)
    asked = _request(ledger, AS_P1)
    pay(ledger, P1, invoice_id, "2026-10-20")
    ledger.clock.set("2026-10-25T09:00:00Z")
    prepared = prepare(ledger.rt, FINANCE, {"period": "2026-Q3", "run": 1})[1]
    for minute in range(1, 4):
        ledger.clock.set(f"2026-10-25T10:0{minute}:00Z")
        bank_transfer.withdraw(ledger.rt, AS_P1, P1, {})
        _request(ledger, AS_P1, at=f"2026-10-25T10:0{minute}:30Z")
    ledger.clock.set("2026-10-25T11:00:00Z")
    settled = rebates.approve_settlement(ledger.rt, second_finance("northwind"), prepared["settlement_id"], {})
    method = rebates.get_settlement(ledger.rt, FINANCE, settled["settlement_id"], P1)["statement"]["settlement_method"]
    assert (method["method"], method["requested_at"]) == ("bank_transfer", asked["requested_at"])
    assert _settled_audit(ledger)["inputs"]["settlement_methods"] == {P1: "bank_transfer"}


def test_a_payment_after_preparation_still_changes_the_figures():
    """The ERP's facts are read again on approval (docs/rebates.md "Anything changed since ... is 409
    figures_changed"): unpaid when prepared (an open balance: credit note), paid before approval, it is a 409."""
    ledger, invoice_id = september(FINANCE)
    _request(ledger, AS_P1)
    ledger.clock.set("2026-10-25T09:00:00Z")
    prepared = prepare(ledger.rt, FINANCE, {"period": "2026-Q3", "run": 1})[1]
    pay(ledger, P1, invoice_id, "2026-10-25")
    ledger.clock.set("2026-10-25T11:00:00Z")
    with pytest.raises(Conflict) as refused:
        rebates.approve_settlement(ledger.rt, second_finance("northwind"), prepared["settlement_id"], {})
    assert refused.value.extra["refusal"] == "figures_changed"


def test_pa_7_8_a_withheld_amount_is_released_by_bank_transfer_once_the_overdue_invoice_is_paid():
    """Withheld on 2026-12-31 (61 days overdue): the withheld statement pays nothing now, so it states no method; paid
    on 2027-01-05, the Q4 run releases it, and with the request standing and nothing open it is a bank transfer."""
    ledger, invoice_id = september(FINANCE)
    _request(ledger, AS_P1)
    q3, withheld = _statement(ledger, "2026-12-31T09:00:00Z")
    assert withheld["status"] == "withheld" and withheld["settlement_method"]["method"] is None
    pay(ledger, P1, invoice_id, "2027-01-05")
    _, q4 = _statement(ledger, "2027-01-06T09:00:00Z", period="2026-Q4")
    assert [(ln["kind"], ln["references"]["settlement_id"]) for ln in q4["lines"]] == [
        ("withheld_release", q3["settlement_id"])]
    assert q4["settlement_method"]["method"] == "bank_transfer"
    assert q4["by_payout"] == {"bank_transfer": withheld["total"]}


def test_a_partner_key_cannot_request_for_a_rival_nor_read_or_withdraw_a_rivals_request():
    ledger, _ = september(FINANCE)
    _request(ledger, AS_P1)
    for call in (lambda pid: bank_transfer.request(ledger.rt, AS_P2, pid, {}),
                 lambda pid: bank_transfer.get(ledger.rt, AS_P2, pid),
                 lambda pid: bank_transfer.withdraw(ledger.rt, AS_P2, pid, {})):  # fmt: skip
        with pytest.raises(NotFound) as rival:
            call(P1)
        with pytest.raises(NotFound) as unknown:
            call(UNKNOWN)
        assert rival.value.detail == f"no partner {P1}" and unknown.value.detail == f"no partner {UNKNOWN}"
    assert bank_transfer.get(ledger.rt, AS_P1, P1)["status"] == "standing"  # the rival changed nothing
    assert bank_transfer.get(ledger.rt, AS_P2, P2)["status"] == "none"  # its own: never asked
    with pytest.raises(NotFound):
        bank_transfer.get(ledger.rt, FINANCE, UNKNOWN)


def test_another_partners_open_invoice_does_not_hold_back_a_bank_transfer():
    ledger, invoice_id = september(FINANCE)
    ship(ledger, P2, "2026-09-07", quantity=5)
    issue(ledger, FINANCE, P2, "2026-09", "2026-10-01T07:00:00Z")  # P2 never pays
    _request(ledger, AS_P1)
    pay(ledger, P1, invoice_id, "2026-10-20")
    _, statement = _statement(ledger, "2026-10-25T09:00:00Z")
    assert statement["settlement_method"]["method"] == "bank_transfer"


# --- the pure rule: what is an open balance -------------------------------------------------------------------------
def _invoice(total: str, issued: str | None = "2026-10-01", paid_on: str | None = None) -> dict[str, Any]:
    return {"invoice_id": "inv_1", "partner_id": "p", "period": "2026-09", "total": total,
            "status": "finalized" if issued else "draft", "finalized_at": f"{issued}T06:00:00Z" if issued else None,
            "paid_on": paid_on}  # fmt: skip


@pytest.mark.parametrize(
    ("invoice", "credited", "on", "outstanding"),
    [
        (_invoice("1000.00"), "0.00", "2026-10-25", "1000.00"),  # issued, unpaid: open
        (_invoice("1000.00"), "400.00", "2026-10-25", "600.00"),  # partly credited: still open
        (_invoice("1000.00"), "1000.00", "2026-10-25", None),  # fully credited: nothing owed
        (_invoice("1000.00", paid_on="2026-10-20"), "0.00", "2026-10-25", None),  # paid by then
        (_invoice("1000.00", paid_on="2026-10-25"), "0.00", "2026-10-25", None),  # paid that day
        (_invoice("1000.00", paid_on="2026-10-26"), "0.00", "2026-10-25", "1000.00"),  # paid after the as-of day
        (_invoice("1000.00", issued=None), "0.00", "2026-10-25", None),  # a draft is not issued
        (_invoice("1000.00", issued="2026-10-26"), "0.00", "2026-10-25", None),  # issued after the as-of day
        (_invoice("-50.00"), "0.00", "2026-10-25", None),  # a credit balance is not owed by the partner
    ],
)
def test_an_open_balance_is_an_issued_unpaid_invoice_not_fully_credited(invoice, credited, on, outstanding):
    found = open_invoices([invoice], {"inv_1": Decimal(credited)}, date.fromisoformat(on))
    if outstanding is None:
        assert found == []
    else:
        assert found == [{"invoice_id": "inv_1", "period": "2026-09", "issued_on": invoice["finalized_at"][:10],
                          "total": invoice["total"], "credited": credited, "outstanding": outstanding}]


def test_bank_details_typed_in_the_note_are_masked_never_stored():
    """Revgov keeps no bank details (the ERP holds the partner's account): an IBAN in the note is masked before it is
    stored or audited (domain/masking.py)."""
    ledger, _ = september(FINANCE)
    ledger.clock.set("2026-10-02T10:00:00Z")
    iban = "DE89 3704 0044 0532 0130 00"
    asked = bank_transfer.request(ledger.rt, AS_P1, P1, {"note": f"pay to {iban} please"})
    assert asked["note"] == "pay to [iban] please"
    audit = [r for r in ledger.rt.store.audit_records("northwind")
             if r["action"] == "rebate_settlement.bank_transfer_requested"]  # fmt: skip
    assert "0532" not in str(bank_transfer.get(ledger.rt, FINANCE, P1)) and "0532" not in str(audit)


def test_cpa_7_8_contoso_records_the_request_under_its_own_clause():
    """CPA-7.8: "Settlement is by credit note, or by bank transfer if the Partner has no open balance and asks for
    it": the same rule, citing contoso's clause."""
    from test_invoice_tax import PARTNER, _ledger

    ledger = _ledger()
    own = Principal("contoso", Role.PARTNER, "key_ct_own", PARTNER)
    asked = bank_transfer.request(ledger.rt, own, PARTNER, {})
    assert (asked["status"], asked["rule_id"], asked["clause"]) == ("standing", "RBT-SETTLEMENT-METHOD", "CPA-7.8")
    assert "note" not in asked


def test_a_statement_of_commissions_only_states_no_method_its_programs_payout_applies():
    """PA-7.8 is the rebates' settlement (Section 7); PA-8.2 pays commissions "within 30 days after the end of the
    month in which the Customer paid" and the policy pays them by bank transfer (`payout`): a statement of a monthly
    run with only commission lines states no PA-7.8 method, and keeps its lines' payout."""
    from revgov.domain.rebates.settlement_method import Payouts, SettlementMethod, choose
    from revgov.domain.rules import Rule

    payouts = Payouts(SettlementMethod(Rule("RBT-SETTLEMENT-METHOD", "PA-7.8")), date(2026, 12, 5))
    statement = {"partner_id": P1, "status": "payable", "total": "625.00",
                 "lines": [{"payout": "bank_transfer", "amount": "625.00"}]}  # fmt: skip
    chosen = choose(payouts, statement)
    assert chosen["method"] is None and "RBT-SETTLEMENT-METHOD" in chosen["reason"]
    rebate = {**statement, "lines": [{"payout": "credit_note", "amount": "625.00"}]}
    assert choose(payouts, rebate)["method"] == "credit_note"  # no request
