"""Partners read their own invoices and dispute their lines (issue 24; SOP-6.1 / COP-6.1, SOP-2.5 / COP-2.4).

Expectations are written from the clauses, quoted. The use cases run on the in-memory DocumentStore with a fixed
clock (tests/memory_store.py), so nothing depends on today's date.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict, Forbidden, NotFound, RuleViolation
from revgov.services import billing, cases, invoice_disputes

P1 = "ptr_01JBNWPARTNER0000000000001"
P2 = "ptr_01JBNWPARTNER0000000000002"
PARTNER1 = Principal("northwind", Role.PARTNER, "key_p1", P1)
PARTNER2 = Principal("northwind", Role.PARTNER, "key_p2", P2)
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
FINANCE2 = Principal("northwind", Role.FINANCE, "key_fin2")
CHANNEL = Principal("northwind", Role.CHANNEL_OPS, "key_ops")


def _ship(ledger: Ledger, partner: str, quantity: int, *, on: str = "2026-10-12") -> None:
    answer = ledger.bill(
        "shipment.confirmed",
        {
            "partner_id": partner,
            "order_ref": f"SO-{partner[-1]}-{on}",
            "shipped_on": on,
            "lines": [{"sku": "NW-SW-24P", "quantity": quantity}],
        },
        occurred_at=f"{on}T09:00:00Z",
    )
    assert answer["status"] == "processed", answer


def _issued_october(tenant: str = "northwind") -> tuple[Ledger, dict, dict]:
    """Partner 1 shipped 5 switches (5 x 1,250.00) and partner 2 one in October; both invoices issued on 2 Nov."""
    ledger = Ledger("2026-10-12T10:00:00Z", tenant=tenant)
    _ship(ledger, P1, 5)
    _ship(ledger, P2, 1)
    ledger.clock.set("2026-11-02T09:00:00Z")
    mine, theirs = ledger.invoice(P1, "2026-10"), ledger.invoice(P2, "2026-10")
    for invoice in (mine, theirs):
        billing.finalize_invoice(ledger.rt, FINANCE, invoice["invoice_id"])
    return ledger, ledger.invoice(P1, "2026-10"), ledger.invoice(P2, "2026-10")


# --- partners read their own invoices ----------------------------------------------------------------------------
def test_a_partner_key_lists_and_reads_its_own_invoices_and_never_another_partners():
    # SOP-6.1: "A Partner may dispute an invoice line ... through the Partner Portal": it must be able to read them.
    ledger, mine, theirs = _issued_october()
    listed = billing.list_invoices_for(ledger.rt, PARTNER1, status="finalized", period=None, limit=50, cursor=None)
    assert [i["invoice_id"] for i in listed["items"]] == [mine["invoice_id"]]
    # the partner_id asked for is ignored for a partner key
    asked = billing.list_invoices_for(
        ledger.rt, PARTNER1, status="finalized", period="2026-10", limit=50, cursor=None, partner_id=P2
    )
    assert [i["invoice_id"] for i in asked["items"]] == [mine["invoice_id"]]
    assert billing.read_invoice(ledger.rt, PARTNER1, mine["invoice_id"])["total"] == "6250.00"
    with pytest.raises(NotFound) as other:
        billing.read_invoice(ledger.rt, PARTNER1, theirs["invoice_id"])
    with pytest.raises(NotFound) as missing:
        billing.read_invoice(ledger.rt, PARTNER1, "inv_01JBNW0000000000000000000Z")
    assert str(other.value).replace(theirs["invoice_id"], "X") == str(missing.value).replace(
        "inv_01JBNW0000000000000000000Z", "X"
    )
    # staff still see the tenant's invoices, or one partner's
    staff = billing.list_invoices_for(ledger.rt, FINANCE, status="finalized", period=None, limit=50, cursor=None)
    assert {i["invoice_id"] for i in staff["items"]} == {mine["invoice_id"], theirs["invoice_id"]}
    one = billing.list_invoices_for(
        ledger.rt, FINANCE, status="finalized", period=None, limit=50, cursor=None, partner_id=P2
    )
    assert [i["invoice_id"] for i in one["items"]] == [theirs["invoice_id"]]


# --- the dispute ---------------------------------------------------------------------------------------------------
def test_a_dispute_is_an_invoice_dispute_for_the_finance_queue_with_the_policys_sla():
    # SOP-6.1: "(1) the dispute is logged as an invoice_dispute exception and acknowledged within 1 business day";
    # exception routing (SOP-4.1 table): "invoice_dispute | finance | 24".
    ledger, mine, _ = _issued_october()
    ledger.clock.set("2026-11-10T08:00:00Z")
    dispute = invoice_disputes.file_dispute(
        ledger.rt, PARTNER1, mine["invoice_id"], {"line_no": 1, "amount": "1250.00", "reason": "4 shipped, 5 billed"}
    )
    assert (dispute["status"], dispute["amount"], dispute["clause"]) == ("open", "1250.00", "SOP-6.1")
    case, _ = cases.get_case(ledger.rt, "northwind", "approval", dispute["approval_id"])
    assert (case["category"], case["queue"]) == ("invoice_dispute", "finance")
    assert case["due_at"] == dispute["due_at"] == "2026-11-11T08:00:00.000Z"  # 24 hours (ROUTE-INVOICE-DISPUTE)
    assert case["subject"] == {"kind": "invoice_dispute", "id": dispute["dispute_id"]}
    trail = [r for r in ledger.rt.store.audit_records("northwind") if r["action"] == "invoice_dispute.filed"]
    assert trail and trail[0]["clauses"] == ["SOP-6.1"]


def test_upheld_by_the_finance_queue_a_credit_note_references_the_line_on_the_next_invoice():
    # SOP-6.1 (4): "where the line was wrong, a credit note is issued under SOP-2.5"; SOP-2.5: "An error is corrected
    # by a credit note referencing the original invoice and lines ... Every credit note states its reason code
    # (billing error, return, cancellation, dispute outcome, ...)". "An issued invoice is immutable" (SOP-2.1).
    ledger, mine, _ = _issued_october()
    ledger.clock.set("2026-11-10T08:00:00Z")
    dispute = invoice_disputes.file_dispute(
        ledger.rt, PARTNER1, mine["invoice_id"], {"line_no": 1, "amount": "1250.00", "reason": "4 shipped, 5 billed"}
    )
    with pytest.raises(Forbidden):  # "resolved by that queue": not channel ops, never the partner
        cases.decide_case(ledger.rt, CHANNEL, "approval", dispute["approval_id"], "approved", "ok")
    with pytest.raises(Forbidden):
        cases.decide_case(ledger.rt, PARTNER1, "approval", dispute["approval_id"], "approved", "ok")
    ledger.clock.set("2026-11-12T08:00:00Z")
    cases.decide_case(ledger.rt, FINANCE, "approval", dispute["approval_id"], "approved", "delivery note DN-1182")
    resolved = invoice_disputes.get_dispute(ledger.rt, PARTNER1, dispute["dispute_id"])
    assert resolved["status"] == "upheld"
    november = ledger.invoice(P1, "2026-11")
    (note,) = [x for x in november["lines"] if x["kind"] == "credit_note"]
    assert note["amount"] == "-1250.00" and november["total"] == "-1250.00"
    assert note["references_line"] == mine["lines"][0]["line_id"]
    assert note["detail"]["reason"] == "dispute_outcome" and note["detail"]["credited_invoice_id"] == mine["invoice_id"]
    assert note["service_period"] == mine["lines"][0]["service_period"]  # "with the original service period"
    assert "SOP-2.5" in note["clauses"] and "SOP-6.1" in note["clauses"]
    assert resolved["resolution"]["credit_note_line_id"] == note["line_id"]
    assert ledger.invoice(P1, "2026-10") == mine  # the issued invoice is unchanged
    fact = ledger.rt.store.get("northwind", billing.SALES_FACTS, note["line_id"])
    assert fact is not None and fact.data["net_amount"] == "-1250.00"  # PA-1.2: revenue net of credit notes


def test_rejected_the_reason_is_kept_and_nothing_is_credited():
    ledger, mine, _ = _issued_october()
    ledger.clock.set("2026-11-10T08:00:00Z")
    dispute = invoice_disputes.file_dispute(
        ledger.rt, PARTNER1, mine["invoice_id"], {"line_no": 1, "reason": "too expensive"}
    )
    assert dispute["amount"] == "6250.00"  # by default the whole line
    with pytest.raises(RuleViolation):  # a rejection needs a reason
        cases.decide_case(ledger.rt, FINANCE, "approval", dispute["approval_id"], "rejected", None)
    cases.decide_case(ledger.rt, FINANCE, "approval", dispute["approval_id"], "rejected", "billed at the price list")
    resolved = invoice_disputes.get_dispute(ledger.rt, FINANCE, dispute["dispute_id"])
    assert resolved["status"] == "rejected" and resolved["resolution"]["reason"] == "billed at the price list"
    assert ledger.rt.store.get("northwind", billing.INVOICE_KEYS, f"{P1}#2026-11") is None


def test_one_open_dispute_per_invoice_line_and_never_more_than_the_line_less_its_credits():
    ledger, mine, _ = _issued_october()
    ledger.clock.set("2026-11-10T08:00:00Z")
    first = invoice_disputes.file_dispute(
        ledger.rt, PARTNER1, mine["invoice_id"], {"line_no": 1, "amount": "1250.00", "reason": "one too many"}
    )
    with pytest.raises(Conflict) as second:
        invoice_disputes.file_dispute(
            ledger.rt, FINANCE, mine["invoice_id"], {"line_no": 1, "amount": "10.00", "reason": "again"}
        )
    assert second.value.extra["open_dispute_id"] == first["dispute_id"]
    cases.decide_case(ledger.rt, FINANCE2, "approval", first["approval_id"], "approved", "confirmed")
    with pytest.raises(RuleViolation):  # 6,250.00 charged, 1,250.00 credited: at most 5,000.00 left
        invoice_disputes.file_dispute(
            ledger.rt, PARTNER1, mine["invoice_id"], {"line_no": 1, "amount": "5000.01", "reason": "more"}
        )
    again = invoice_disputes.file_dispute(ledger.rt, PARTNER1, mine["invoice_id"], {"line_no": 1, "reason": "all"})
    assert again["amount"] == "5000.00"


@pytest.mark.parametrize(
    ("tenant", "last_day", "too_late"),
    [
        # SOP-6.1: "A Partner may dispute an invoice line within 30 days of the invoice date"
        ("northwind", "2026-12-02T23:00:00Z", "2026-12-03T00:00:00Z"),
    ],
)
def test_the_window_counts_from_the_invoice_date(tenant, last_day, too_late):
    ledger, mine, _ = _issued_october(tenant)  # issued 2026-11-02
    ledger.clock.set(too_late)
    with pytest.raises(RuleViolation) as closed:
        invoice_disputes.file_dispute(ledger.rt, PARTNER1, mine["invoice_id"], {"line_no": 1, "reason": "late"})
    assert "SOP-6.1" in str(closed.value)
    ledger.clock.set(last_day)
    assert (
        invoice_disputes.file_dispute(ledger.rt, PARTNER1, mine["invoice_id"], {"line_no": 1, "reason": "in time"})[
            "status"
        ]
        == "open"
    )


def test_contoso_disputes_close_21_days_after_the_invoice_date():
    # COP-6.1: "Partners may dispute invoice lines within 21 days of the invoice date via the Partner Portal."
    from revgov.domain.billing import BillingPolicy
    from revgov.services import tenants

    ledger = Ledger("2026-10-12T10:00:00Z", tenant="contoso")
    tenant, _ = tenants.load_tenant(ledger.rt, "contoso")
    book = BillingPolicy.from_policy(tenant.policy)
    assert (book.dispute_window_days, book.disputes.clause, book.credit_notes.clause) == (21, "COP-6.1", "COP-2.4")


def test_bad_disputes_are_refused_and_change_nothing():
    ledger, mine, theirs = _issued_october()
    ledger.clock.set("2026-11-10T08:00:00Z")
    before = len(ledger.exceptions())
    with pytest.raises(NotFound):  # another partner's invoice: like one that does not exist
        invoice_disputes.file_dispute(ledger.rt, PARTNER1, theirs["invoice_id"], {"line_no": 1, "reason": "x"})
    with pytest.raises(NotFound):  # no such line
        invoice_disputes.file_dispute(ledger.rt, PARTNER1, mine["invoice_id"], {"line_no": 9, "reason": "x"})
    for amount in ("0.00", "6250.01"):
        with pytest.raises(RuleViolation):
            invoice_disputes.file_dispute(
                ledger.rt, PARTNER1, mine["invoice_id"], {"line_no": 1, "amount": amount, "reason": "x"}
            )
    _ship(ledger, P1, 1, on="2026-11-09")  # November's invoice is a draft: not issued, nothing to dispute yet
    draft = ledger.invoice(P1, "2026-11")
    with pytest.raises(RuleViolation):
        invoice_disputes.file_dispute(ledger.rt, PARTNER1, draft["invoice_id"], {"line_no": 1, "reason": "x"})
    with pytest.raises(NotFound):  # another partner's dispute
        invoice_disputes.get_dispute(ledger.rt, PARTNER2, "ivd_01JBNW0000000000000000000Z")
    assert len(ledger.exceptions()) == before
    assert ledger.rt.store.query("northwind", invoice_disputes.DISPUTES, limit=10).items == []


def test_a_partner_cannot_read_another_partners_dispute():
    ledger, mine, _ = _issued_october()
    ledger.clock.set("2026-11-10T08:00:00Z")
    dispute = invoice_disputes.file_dispute(ledger.rt, PARTNER1, mine["invoice_id"], {"line_no": 1, "reason": "x"})
    with pytest.raises(NotFound):
        invoice_disputes.get_dispute(ledger.rt, PARTNER2, dispute["dispute_id"])
    assert Decimal(invoice_disputes.get_dispute(ledger.rt, PARTNER1, dispute["dispute_id"])["amount"]) == Decimal(
        "6250.00"
    )


# --- the decision reads the line again (redteam: tests/stack/test_redteam_billing.py) ------------------------------
def _upheld_after_an_erp_credit(disputed: str, erp_credited: str) -> tuple[Ledger, dict, dict, list[str]]:
    """Line 1 (6,250.00) disputed for `disputed` on 10 Nov; the ERP credits `erp_credited` of the same line on 11 Nov
    while the dispute is open; finance upholds it on 12 Nov. The issued invoice, the resolved dispute, and the
    amounts of the credit notes on November's invoice."""
    ledger, mine, _ = _issued_october()
    ledger.clock.set("2026-11-10T08:00:00Z")
    dispute = invoice_disputes.file_dispute(
        ledger.rt, PARTNER1, mine["invoice_id"], {"line_no": 1, "amount": disputed, "reason": "damaged"}
    )
    ledger.clock.set("2026-11-11T17:00:00Z")
    data = {"partner_id": P1, "credit_note_ref": "CN-1111", "invoice_id": mine["invoice_id"], "line_no": 1,
            "reason": "billing_error", "amount": erp_credited, "issued_on": "2026-11-11"}  # fmt: skip
    assert ledger.bill("credit_note.issued", data, occurred_at="2026-11-11T16:00:00Z")["status"] == "processed"
    ledger.clock.set("2026-11-12T08:00:00Z")
    cases.decide_case(ledger.rt, FINANCE, "approval", dispute["approval_id"], "approved", "carrier confirms")
    resolved = invoice_disputes.get_dispute(ledger.rt, PARTNER1, dispute["dispute_id"])
    notes = [x["amount"] for x in ledger.invoice(P1, "2026-11")["lines"] if x["kind"] == "credit_note"]
    return ledger, mine, resolved, sorted(notes)


def test_upheld_after_the_erp_credited_part_of_the_line_only_what_is_left_is_credited():
    # SOP-2.5: "An error is corrected by a credit note referencing the original invoice and lines"; SOP-6.3: "Every
    # decision states the reason, the amounts before and after". The line charged 6,250.00; the partner disputes
    # 2,000.00 of it; while the dispute is open the ERP credits 5,000.00 of the same line. Upheld, the decision credits
    # what is left of the line (1,250.00), never 2,000.00: the line ends credited 6,250.00, not 7,000.00.
    ledger, mine, resolved, notes = _upheld_after_an_erp_credit("2000.00", "5000.00")
    assert resolved["status"] == "upheld" and resolved["resolution"]["credited"] == "1250.00"
    assert notes == ["-1250.00", "-5000.00"]
    assert billing.credited_against(ledger.rt, "northwind", mine["invoice_id"], 1).amount == Decimal("6250.00")
    trail = [r for r in ledger.rt.store.audit_records("northwind") if r["action"] == "invoice_dispute.upheld"]
    assert trail[-1]["inputs"]["disputed"] == "2000.00" and trail[-1]["inputs"]["credited"] == "1250.00"


def test_upheld_after_the_erp_credited_the_whole_line_no_credit_note_is_posted():
    _, _, resolved, notes = _upheld_after_an_erp_credit("1250.00", "6250.00")
    assert resolved["status"] == "upheld" and resolved["resolution"]["credited"] == "0.00"
    assert resolved["resolution"]["credit_note_line_id"] is None
    assert notes == ["-6250.00"]  # the ERP's only


@pytest.mark.parametrize("note", [None, "", "   "])
def test_upheld_without_a_reason_is_refused_and_decides_nothing(note):
    # SOP-6.3: "Every decision states the reason"; the approvals queue asks a note of a rejection only.
    ledger, mine, _ = _issued_october()
    ledger.clock.set("2026-11-10T08:00:00Z")
    dispute = invoice_disputes.file_dispute(
        ledger.rt, PARTNER1, mine["invoice_id"], {"line_no": 1, "amount": "100.00", "reason": "broken"}
    )
    with pytest.raises(RuleViolation, match=r"SOP-6\.3"):
        cases.decide_case(ledger.rt, FINANCE, "approval", dispute["approval_id"], "approved", note)
    assert invoice_disputes.get_dispute(ledger.rt, PARTNER1, dispute["dispute_id"])["status"] == "open"
    assert ledger.rt.store.get("northwind", billing.INVOICE_KEYS, f"{P1}#2026-11") is None
