"""Credit notes above the approval limit are held for a second finance member's approval (issue 24 follow-up).

SOP-2.5: "Credit notes above USD 10,000.00 require approval by a member of the finance queue other than the
preparer."
SOP-9 (automation, billing-sop.md): "Automated workflows may prepare invoices, rate usage, calculate rebates, check
quotes against the policy and route exceptions. They may not approve exceptions, issue credit notes above USD
10,000.00 or change the policy."
SOP-4.3: "A requester can never approve their own request. The person who created or last changed a quote, discount
request, credit note, ... may not approve it ... Any attempt to self-approve is rejected and recorded in the audit
log."
COP-2.4 (contoso): "Credit notes above EUR 5,000.00 are approved by a finance queue member other than the preparer."

"Above" is strictly above: a credit note of exactly 10,000.00 posts at once. Amounts by hand: NW-SRV-R2 lists at
5,200.00 (PA-6.1), so 3 servers are 15,600.00; CT-DEV-LAPTOP14 lists at EUR 1,150.00 (CPA-6.1), 5 are 5,750.00.
In-memory store, fixed clock.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from memory_store import Ledger
from revgov import tenant_files
from revgov.domain.access import Principal, Role
from revgov.domain.billing import BillingPolicy, credit_note_needs_approval
from revgov.domain.errors import Forbidden, RuleViolation
from revgov.services import billing, cases, credit_notes, invoice_disputes
from support import ROOT

P1 = "ptr_01JBNWPARTNER0000000000001"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
FINANCE2 = Principal("northwind", Role.FINANCE, "key_fin2")
CHANNEL = Principal("northwind", Role.CHANNEL_OPS, "key_ops")
PARTNER1 = Principal("northwind", Role.PARTNER, "key_p1", P1)


def _issued_servers(ledger: Ledger) -> dict:
    """3 x NW-SRV-R2 shipped 12 Oct 2026 (3 x 5,200.00 = 15,600.00), the October invoice issued 2 Nov."""
    ledger.clock.set("2026-10-12T12:00:00Z")
    answer = ledger.bill(
        "shipment.confirmed",
        {"partner_id": P1, "order_ref": "SO-CN", "shipped_on": "2026-10-12",
         "lines": [{"sku": "NW-SRV-R2", "quantity": 3}]},
        occurred_at="2026-10-12T10:00:00Z",
    )  # fmt: skip
    assert answer["status"] == "processed", answer
    assert ledger.invoice(P1, "2026-10")["lines"][0]["amount"] == "15600.00"
    ledger.clock.set("2026-11-02T09:00:00Z")
    billing.finalize_invoice(ledger.rt, FINANCE, ledger.invoice(P1, "2026-10")["invoice_id"])
    return ledger.invoice(P1, "2026-10")


def _credit_note(ledger: Ledger, invoice: dict, amount: str, ref: str, **extra) -> dict:
    ledger.clock.set("2026-11-10T17:00:00Z")
    data = {"partner_id": P1, "credit_note_ref": ref, "invoice_id": invoice["invoice_id"], "line_no": 1,
            "reason": "billing_error", "amount": amount, "issued_on": "2026-11-10", **extra}  # fmt: skip
    return ledger.bill("credit_note.issued", data, occurred_at="2026-11-10T16:00:00Z")


def _holds(ledger: Ledger) -> list[dict]:
    return [s.data for s in ledger.rt.store.query(ledger.tenant_id, credit_notes.HOLDS, limit=100).items]


def _notes(ledger: Ledger, period: str) -> list[dict]:
    try:
        lines = ledger.invoice(P1, period)["lines"]
    except Exception:  # no invoice for the month yet
        return []
    return [x for x in lines if x["kind"] == "credit_note"]


def _actions(ledger: Ledger) -> list[dict]:
    return ledger.rt.store.audit_records(ledger.tenant_id)


# --- the policy ----------------------------------------------------------------------------------------------------
def test_both_tenants_carry_their_own_limit_citing_their_clause():
    # SOP-2.5 "above USD 10,000.00"; COP-2.4 "above EUR 5,000.00".
    for tenant, limit, clause, currency in (("northwind", "10000.00", "SOP-2.5", "USD"),
                                            ("contoso", "5000.00", "COP-2.4", "EUR")):  # fmt: skip
        config = tenant_files.load_tenant_file(ROOT / "tenants" / tenant / "tenant.yaml")
        book = BillingPolicy.from_policy(config["policy"])
        assert (book.credit_note_approval_above, book.credit_notes.clause) == (Decimal(limit), clause)
        assert config["currency"] == currency
        route = config["policy"]["exception_routing"]["categories"][book.credit_note_approval_category]
        assert route["queue"] == "finance"  # "a member of the finance queue"


def test_exactly_the_limit_is_not_above_it():
    config = tenant_files.load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml")
    book = BillingPolicy.from_policy(config["policy"])
    assert not credit_note_needs_approval(Decimal("10000.00"), book)
    assert credit_note_needs_approval(Decimal("10000.01"), book)


# --- ERP credit notes ----------------------------------------------------------------------------------------------
def test_an_erp_credit_note_of_exactly_10000_posts_at_once():
    ledger = Ledger("2026-10-12T10:00:00Z")
    issued = _issued_servers(ledger)
    answer = _credit_note(ledger, issued, "10000.00", "CN-EQ")
    assert answer["status"] == "processed", answer
    (note,) = _notes(ledger, "2026-11")
    assert note["amount"] == "-10000.00"
    assert _holds(ledger) == []


def test_an_erp_credit_note_above_10000_is_held_for_the_finance_queue_and_not_posted():
    ledger = Ledger("2026-10-12T10:00:00Z")
    issued = _issued_servers(ledger)
    answer = _credit_note(ledger, issued, "10000.01", "CN-BIG", prepared_by="jdoe@northwind")
    assert answer["status"] == "processed" and "held for finance approval" in answer["reason"], answer
    assert _notes(ledger, "2026-11") == []  # nothing posted while it waits
    (held,) = _holds(ledger)
    assert (held["status"], held["amount"], held["clause"], held["prepared_by"]) == (
        "pending_approval", "10000.01", "SOP-2.5", "jdoe@northwind")  # fmt: skip
    case, _ = cases.get_case(ledger.rt, "northwind", "approval", held["approval_id"])
    assert (case["category"], case["queue"], case["status"]) == ("credit_note_approval", "finance", "pending")
    assert any(r["clause"] == "SOP-2.5" for r in case["reasons"])
    trail = [r for r in _actions(ledger) if r["action"] == "credit_note.held"]
    assert trail and trail[0]["clauses"] == ["SOP-2.5"] and trail[0]["actor"] == "system:billing"
    # the same ERP credit note again is the same hold, not a second one
    assert _credit_note(ledger, issued, "10000.01", "CN-BIG")["status"] == "processed"
    assert len(_holds(ledger)) == 1
    # the held amount counts against the line: 15,600.00 - 10,000.01 = 5,599.99 is all that is left to credit
    too_much = _credit_note(ledger, issued, "5600.00", "CN-MORE")
    assert too_much["status"] == "failed" and "at most 5599.99" in too_much["reason"]
    assert _notes(ledger, "2026-11") == []


def test_approved_by_a_finance_member_the_credit_note_posts_on_the_open_invoice():
    ledger = Ledger("2026-10-12T10:00:00Z")
    issued = _issued_servers(ledger)
    _credit_note(ledger, issued, "12000.00", "CN-OK", prepared_by="jdoe@northwind")
    (held,) = _holds(ledger)
    for stranger in (CHANNEL, PARTNER1):  # "a member of the finance queue": not channel ops, never the partner
        with pytest.raises(Forbidden):
            cases.decide_case(ledger.rt, stranger, "approval", held["approval_id"], "approved", "ok")
    assert _notes(ledger, "2026-11") == []
    ledger.clock.set("2026-11-11T09:00:00Z")
    cases.decide_case(ledger.rt, FINANCE, "approval", held["approval_id"], "approved", "checked against SO-CN")
    (note,) = _notes(ledger, "2026-11")
    assert note["amount"] == "-12000.00" and note["references_line"] == issued["lines"][0]["line_id"]
    assert note["detail"]["reason"] == "billing_error" and note["detail"]["credit_note_ref"] == "CN-OK"
    assert (note["detail"]["prepared_by"], note["detail"]["approved_by"]) == ("jdoe@northwind", FINANCE.actor)
    assert ledger.invoice(P1, "2026-11")["total"] == "-12000.00"
    (after,) = _holds(ledger)
    assert after["status"] == "posted" and after["credit_note_line_id"] == note["line_id"]
    assert [r["outcome"] for r in _actions(ledger) if r["action"] == "credit_note.posted"] == ["posted"]


def test_the_preparer_named_by_the_erp_cannot_approve_and_the_attempt_is_audited():
    # SOP-4.3 quoted above: "Any attempt to self-approve is rejected and recorded in the audit log."
    ledger = Ledger("2026-10-12T10:00:00Z")
    issued = _issued_servers(ledger)
    _credit_note(ledger, issued, "15600.00", "CN-SELF", prepared_by="key_fin")
    (held,) = _holds(ledger)
    with pytest.raises(Forbidden):
        cases.decide_case(ledger.rt, FINANCE, "approval", held["approval_id"], "approved", "mine")
    assert _notes(ledger, "2026-11") == []
    refused = [r for r in _actions(ledger) if r["action"] == "approval.decision_refused"]
    assert refused and refused[-1]["inputs"]["refusal"] == "self_approval"
    cases.decide_case(ledger.rt, FINANCE2, "approval", held["approval_id"], "approved", "second pair of eyes")
    (note,) = _notes(ledger, "2026-11")
    assert note["amount"] == "-15600.00"


def test_rejected_nothing_is_posted_the_line_is_released_and_the_rejection_is_audited():
    ledger = Ledger("2026-10-12T10:00:00Z")
    issued = _issued_servers(ledger)
    _credit_note(ledger, issued, "15000.00", "CN-NO")
    (held,) = _holds(ledger)
    with pytest.raises(RuleViolation):  # a rejection needs a reason; nothing is decided without one
        cases.decide_case(ledger.rt, FINANCE, "approval", held["approval_id"], "rejected", "  ")
    assert _holds(ledger)[0]["status"] == "pending_approval"
    cases.decide_case(ledger.rt, FINANCE, "approval", held["approval_id"], "rejected", "no billing error found")
    assert _notes(ledger, "2026-11") == []
    (after,) = _holds(ledger)
    assert after["status"] == "rejected" and after["decision"]["note"] == "no billing error found"
    trail = [r for r in _actions(ledger) if r["action"] == "credit_note.rejected"]
    assert trail and trail[0]["inputs"]["posted"] == "0.00" and trail[0]["clauses"] == ["SOP-2.5"]
    # released: a credit note of 600.00 within the limit now posts (15,600.00 still left on the line)
    assert billing.credited_against(ledger.rt, "northwind", issued["invoice_id"], 1).amount == Decimal("0.00")
    assert _credit_note(ledger, issued, "600.00", "CN-SMALL")["status"] == "processed"
    assert [n["amount"] for n in _notes(ledger, "2026-11")] == ["-600.00"]


def test_an_erp_return_above_the_limit_is_held_too():
    # 2 servers back: 2 x 5,200.00 = 10,400.00 > 10,000.00 -> held; the automated ERP bridge may not issue it.
    ledger = Ledger("2026-10-12T10:00:00Z")
    issued = _issued_servers(ledger)
    ledger.clock.set("2026-11-05T17:00:00Z")
    data = {"partner_id": P1, "rma_ref": "RMA-BIG", "invoice_id": issued["invoice_id"], "line_no": 1,
            "quantity": 2, "returned_on": "2026-11-05"}  # fmt: skip
    assert ledger.bill("return.received", data, occurred_at="2026-11-05T16:00:00Z")["status"] == "processed"
    assert _notes(ledger, "2026-11") == []
    (held,) = _holds(ledger)
    assert (held["amount"], held["reason"], held["units"]) == ("10400.00", "return", 2)
    cases.decide_case(ledger.rt, FINANCE, "approval", held["approval_id"], "approved", "RMA checked")
    (note,) = _notes(ledger, "2026-11")
    assert (note["amount"], note["quantity"], note["service_period"]["start"]) == ("-10400.00", "2", "2026-11-05")


# --- credit notes Revgov issues: an upheld invoice dispute ---------------------------------------------------------
def test_an_upheld_dispute_above_the_limit_needs_a_second_finance_member():
    # SOP-6.1 (4): "a credit note is issued under SOP-2.5"; whoever upheld the dispute prepared the credit note and
    # may not approve it (SOP-2.5 "other than the preparer").
    ledger = Ledger("2026-10-12T10:00:00Z")
    issued = _issued_servers(ledger)
    ledger.clock.set("2026-11-10T08:00:00Z")
    dispute = invoice_disputes.file_dispute(
        ledger.rt, PARTNER1, issued["invoice_id"], {"line_no": 1, "amount": "10400.00", "reason": "2 never arrived"}
    )
    cases.decide_case(ledger.rt, FINANCE, "approval", dispute["approval_id"], "approved", "carrier confirms")
    resolved = invoice_disputes.get_dispute(ledger.rt, PARTNER1, dispute["dispute_id"])
    assert resolved["status"] == "upheld" and resolved["resolution"]["credit_note_line_id"] is None
    assert _notes(ledger, "2026-11") == []
    (held,) = _holds(ledger)
    assert held["prepared_by"] == FINANCE.actor and held["reason"] == "dispute_outcome"
    with pytest.raises(Forbidden):
        cases.decide_case(ledger.rt, FINANCE, "approval", held["approval_id"], "approved", "mine")
    cases.decide_case(ledger.rt, FINANCE2, "approval", held["approval_id"], "approved", "agreed")
    (note,) = _notes(ledger, "2026-11")
    assert note["amount"] == "-10400.00" and note["detail"]["dispute_id"] == dispute["dispute_id"]
    assert credit_notes.get_hold(ledger.rt, PARTNER1, held["hold_id"])["status"] == "posted"


def test_finance_that_filed_the_dispute_cannot_approve_the_credit_note_it_asked_for():
    # SOP-4.3: "The person who created or last changed a ... credit note ... may not approve it" and "A requester can
    # never approve their own request": finance key A files for the partner, B upholds (prepares the credit note),
    # so neither A nor B approves it; a third finance member does.
    ledger = Ledger("2026-10-12T10:00:00Z")
    issued = _issued_servers(ledger)
    ledger.clock.set("2026-11-10T08:00:00Z")
    dispute = invoice_disputes.file_dispute(
        ledger.rt, FINANCE, issued["invoice_id"], {"line_no": 1, "amount": "15600.00", "reason": "never ordered"}
    )
    cases.decide_case(ledger.rt, FINANCE2, "approval", dispute["approval_id"], "approved", "no order found")
    (held,) = _holds(ledger)
    for involved in (FINANCE, FINANCE2):
        with pytest.raises(Forbidden):
            cases.decide_case(ledger.rt, involved, "approval", held["approval_id"], "approved", "mine")
    assert _notes(ledger, "2026-11") == []
    third = Principal("northwind", Role.FINANCE, "key_fin3")
    cases.decide_case(ledger.rt, third, "approval", held["approval_id"], "approved", "agreed")
    assert [n["amount"] for n in _notes(ledger, "2026-11")] == ["-15600.00"]


def test_an_upheld_dispute_of_exactly_the_limit_posts_at_once():
    ledger = Ledger("2026-10-12T10:00:00Z")
    issued = _issued_servers(ledger)
    ledger.clock.set("2026-11-10T08:00:00Z")
    dispute = invoice_disputes.file_dispute(
        ledger.rt, PARTNER1, issued["invoice_id"], {"line_no": 1, "amount": "10000.00", "reason": "overbilled"}
    )
    cases.decide_case(ledger.rt, FINANCE, "approval", dispute["approval_id"], "approved", "agreed")
    assert [n["amount"] for n in _notes(ledger, "2026-11")] == ["-10000.00"] and _holds(ledger) == []


# --- contoso: COP-2.4, EUR 5,000.00 -------------------------------------------------------------------------------
def test_contoso_holds_credit_notes_above_eur_5000():
    ledger = Ledger("2026-08-03T10:00:00Z", tenant="contoso")
    ledger.clock.set("2026-08-03T12:00:00Z")
    ledger.bill(
        "shipment.confirmed",
        # CPA-10.2 "devices are billed on delivery" (reviewer finding 2): the ERP reports the delivery, the day shipped
        {"partner_id": P1, "order_ref": "SO-C", "shipped_on": "2026-08-03", "delivered_on": "2026-08-03",
         "lines": [{"sku": "CT-DEV-LAPTOP14", "quantity": 5}]},
        occurred_at="2026-08-03T10:00:00Z",
    )  # fmt: skip
    august = ledger.invoice(P1, "2026-08")
    assert august["lines"][0]["amount"] == "5750.00"
    finance = Principal("contoso", Role.FINANCE, "key_fin")
    ledger.clock.set("2026-09-02T09:00:00Z")
    billing.finalize_invoice(ledger.rt, finance, august["invoice_id"])
    ledger.clock.set("2026-09-10T17:00:00Z")
    for amount, ref in (("5000.00", "CN-C1"), ("750.00", "CN-C0")):  # exactly 5,000.00 posts; so does the rest
        data = {"partner_id": P1, "credit_note_ref": ref, "invoice_id": august["invoice_id"], "line_no": 1,
                "reason": "goodwill", "amount": amount, "issued_on": "2026-09-10"}  # fmt: skip
        assert ledger.bill("credit_note.issued", data, occurred_at="2026-09-10T16:00:00Z")["status"] == "processed"
    assert _holds(ledger) == []
    ledger2 = Ledger("2026-08-03T10:00:00Z", tenant="contoso")
    ledger2.clock.set("2026-08-03T12:00:00Z")
    ledger2.bill(
        "shipment.confirmed",
        # CPA-10.2 "devices are billed on delivery" (reviewer finding 2): the ERP reports the delivery, the day shipped
        {"partner_id": P1, "order_ref": "SO-C", "shipped_on": "2026-08-03", "delivered_on": "2026-08-03",
         "lines": [{"sku": "CT-DEV-LAPTOP14", "quantity": 5}]},
        occurred_at="2026-08-03T10:00:00Z",
    )  # fmt: skip
    ledger2.clock.set("2026-09-02T09:00:00Z")
    billing.finalize_invoice(ledger2.rt, finance, ledger2.invoice(P1, "2026-08")["invoice_id"])
    ledger2.clock.set("2026-09-10T17:00:00Z")
    data = {"partner_id": P1, "credit_note_ref": "CN-C2", "invoice_id": ledger2.invoice(P1, "2026-08")["invoice_id"],
            "line_no": 1, "reason": "goodwill", "amount": "5000.01", "issued_on": "2026-09-10"}  # fmt: skip
    assert ledger2.bill("credit_note.issued", data, occurred_at="2026-09-10T16:00:00Z")["status"] == "processed"
    (held,) = _holds(ledger2)
    assert (held["amount"], held["currency"], held["clause"]) == ("5000.01", "EUR", "COP-2.4")


# --- bad policies: refused with the field named, nothing provisioned --------------------------------------------------
@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"approval_above": "-1.00"}, "approval_above"),  # a negative limit would hold every credit note
        ({"approval_above": "10000.001"}, "approval_above"),  # money has two decimals
        ({"approval_above": 10000}, "approval_above"),  # never a JSON number
        ({"approval_category": "nowhere"}, "approval_category"),  # not routed: it would fall to triage
    ],
)
def test_a_bad_approval_limit_in_a_tenant_policy_is_refused(change, path):
    import copy

    from revgov import schemas
    from revgov.domain.errors import MalformedRequest
    from revgov.domain.policy import policy_problems

    config = copy.deepcopy(tenant_files.load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml"))
    config.pop("contracts", None)
    config["policy"]["billing"]["credit_notes"].update(change)
    try:
        schemas.validate("tenant.schema.json", config, what="tenant")
    except MalformedRequest as refused:
        assert any(path in e.path for e in refused.errors), refused.errors
        return
    problems = policy_problems(config["policy"])
    assert any(path in p.path for p in problems), problems


def test_an_approval_category_routed_away_from_finance_is_refused():
    # SOP-2.5: "approval by a member of the finance queue"
    import copy

    from revgov.domain.policy import policy_problems

    policy = copy.deepcopy(tenant_files.load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml")["policy"])
    policy["exception_routing"]["categories"]["credit_note_approval"]["queue"] = "channel_ops"
    (problem,) = policy_problems(policy)
    assert problem.path.endswith("credit_note_approval/queue") and "finance" in problem.message


# --- redteam4: the preparer the ERP names is the Distributor's own (PA-11.1, PA-12.1) -------------------------------
@pytest.mark.parametrize("preparer", ["Maria Lopez", "mlopez"])  # a user name, as the ERP has it
def test_the_partner_reads_its_held_and_approved_credit_note_records_without_the_erps_preparer(preparer):
    """PA-12.1: the Distributor "provides the Partner, on request, with the records relating to the Partner": the held
    credit note and its approval are such records. The ERP's `prepared_by` is "a user name" of the Distributor's staff
    (schemas/events/credit_note.issued.schema.json): the partner's invoice never shows it (domain/audience.py
    `partner_invoice`), and its copy of the records reads the team that acted, never a staff member's name (PA-11.1:
    the Distributor's confidential information; docs/audit.md "who acted as the team")."""
    from revgov.services import audit

    ledger = Ledger("2026-10-12T10:00:00Z")
    issued = _issued_servers(ledger)
    _credit_note(ledger, issued, "12000.00", "CN-NAMED", prepared_by=preparer)
    (held,) = _holds(ledger)
    cases.decide_case(ledger.rt, FINANCE2, "approval", held["approval_id"], "approved", "checked")
    stored = [r for r in _actions(ledger) if r["action"] in ("credit_note.held", "credit_note.posted")]
    assert {r["inputs"]["prepared_by"] for r in stored} == {preparer}  # staff keep who prepared it
    page = audit.list_for(ledger.rt, PARTNER1, subject=None, partner_id=None, limit=200, cursor=None)
    mine = [r for r in page["items"] if r["action"] in ("credit_note.held", "credit_note.posted")]
    assert {r["action"] for r in mine} == {"credit_note.held", "credit_note.posted"}
    assert {r["inputs"]["prepared_by"] for r in mine} == {"staff"}
    assert preparer not in json.dumps(mine), mine
