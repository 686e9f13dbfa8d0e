"""Human review of the automated decisions other than quote checks (PA-14.2 / CPA-14.2).

PA-14.2: "Quote checks, discount approval routing, rebate calculations, entitlement checks and invoice validations may
be made automatically under the policy in force. [...] A Partner may request human review of any automated decision
within 30 days of being notified of it; the review is completed within 10 business days."

Notified (domain.decision_review): a rebate statement when its run is issued (`settled_at`), an invoice line when its
invoice is issued (`finalized_at`), an entitlement check at the instant checked. The queue is the SOP's (SOP-1.2:
"finance (invoicing, credit notes, rebates, ...) ... customer_success (entitlement checks, ...)"). Due dates are
hand-counted on northwind's PA-1.3 holidays (2026-11-11 Veterans Day, 2026-11-26 Thanksgiving). In-memory store,
fixed clock.
"""

from __future__ import annotations

from typing import Any

import pytest

from memory_store import Ledger
from rebate_runs import settle_approved
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict, Forbidden, MalformedRequest, NotFound, RuleViolation
from revgov.services import audit, billing, cases, decision_reviews

P1 = "ptr_01JBNWPARTNER0000000000001"
P2 = "ptr_01JBNWPARTNER0000000000002"
PARTNER1 = Principal("northwind", Role.PARTNER, "key_p1", P1)
RIVAL = Principal("northwind", Role.PARTNER, "key_p2", P2)
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
FINANCE2 = Principal("northwind", Role.FINANCE, "key_fin2")
OPS = Principal("northwind", Role.CHANNEL_OPS, "key_ops")
SUCCESS = Principal("northwind", Role.CUSTOMER_SUCCESS, "key_cs")
REASON = "The line bills a switch we returned before it shipped"


def _ship(ledger: Ledger, partner: str, sku: str, quantity: int, on: str) -> None:
    answer = ledger.bill("shipment.confirmed", {"partner_id": partner, "order_ref": f"SO-{partner[-1]}-{on}",
                                                "shipped_on": on, "lines": [{"sku": sku, "quantity": quantity}]},
                         occurred_at=f"{on}T09:00:00Z")  # fmt: skip
    assert answer["status"] == "processed", answer


def _issued_invoice() -> tuple[Ledger, dict[str, Any]]:
    """P1 shipped 5 switches in October; the invoice is issued Monday 2 Nov 2026 09:00 UTC."""
    ledger = Ledger("2026-10-12T10:00:00Z")
    _ship(ledger, P1, "NW-SW-24P", 5, "2026-10-12")
    ledger.clock.set("2026-11-02T09:00:00Z")
    billing.finalize_invoice(ledger.rt, FINANCE, ledger.invoice(P1, "2026-10")["invoice_id"])
    return ledger, ledger.invoice(P1, "2026-10")


def _line(invoice: dict[str, Any], reason: str = REASON) -> dict[str, Any]:
    return {"kind": "invoice_line", "invoice_id": invoice["invoice_id"], "line_no": 1, "reason": reason}


def _settled() -> tuple[Ledger, str]:
    """P1 shipped 30 servers in September; the Q3 run is issued (approved) on Saturday 3 Oct 2026 10:00 UTC."""
    ledger = Ledger("2026-09-05T12:00:00Z")
    _ship(ledger, P1, "NW-SRV-R2", 30, "2026-09-05")
    ledger.clock.set("2026-10-03T10:00:00Z")
    _, settlement = settle_approved(ledger.rt, FINANCE, {"period": "2026-Q3", "run": 1})
    return ledger, settlement["settlement_id"]


def _statement(settlement_id: str, **more: Any) -> dict[str, Any]:
    return {"kind": "rebate_statement", "settlement_id": settlement_id, "program_id": "RBT-VOLUME",
            "reason": "Our September servers were not all counted", **more}  # fmt: skip


# --- invoice validations --------------------------------------------------------------------------------------------
def test_pa_14_2_a_partner_requests_review_of_an_issued_invoice_line_and_finance_owns_it_for_10_business_days():
    # Requested Friday 13 Nov 10:00: 16,17,18,19,20,23,24,25 (8), 26 Nov Thanksgiving, 27 (9), 30 Nov (10).
    ledger, invoice = _issued_invoice()
    ledger.clock.set("2026-11-13T10:00:00Z")
    answer = decision_reviews.request_automated_review(ledger.rt, PARTNER1, _line(invoice))
    review = answer["human_review"]
    assert (answer["kind"], answer["outcome"], answer["notified_at"]) == ("invoice_line", "billed",
                                                                          invoice["finalized_at"])
    assert (review["status"], review["queue"], review["clause"]) == ("open", "finance", "PA-14.2")
    assert review["due_at"] == "2026-11-30T10:00:00.000Z" and review["requested_by"] == "partner"
    assert "cost" not in answer["decided"]["line"]  # the distributor's unit cost is never the partner's to read
    case, _ = cases.get_case(ledger.rt, "northwind", "approval", review["approval_id"])
    assert (case["queue"], case["partner_id"], case["subject"]["id"]) == ("finance", P1, answer["review_id"])
    assert {("ROUTE-AUTOMATED-FINANCE-REVIEW", "PA-14.2"), ("HUMAN-REVIEW", "PA-14.2")} <= {
        (r.get("rule_id"), r.get("clause")) for r in case["reasons"]}


@pytest.mark.parametrize(("at", "in_time"), [("2026-12-02T23:59:59Z", True), ("2026-12-03T00:00:00Z", False)])
def test_pa_14_2_an_invoice_line_may_be_reviewed_until_day_30_after_the_invoice_was_issued(at: str, in_time: bool):
    # "within 30 days of being notified of it": the invoice was issued 2 Nov; 2 Dec is day 30, 3 Dec day 31.
    ledger, invoice = _issued_invoice()
    ledger.clock.set(at)
    if in_time:
        assert decision_reviews.request_automated_review(ledger.rt, PARTNER1, _line(invoice))["human_review"][
            "window_closes_at"] == "2026-12-03T00:00:00.000Z"
        return
    opened = len(ledger.exceptions())
    with pytest.raises(RuleViolation) as refused:
        decision_reviews.request_automated_review(ledger.rt, PARTNER1, _line(invoice))
    assert refused.value.extra["window_closed_at"] == "2026-12-03T00:00:00.000Z"
    assert len(ledger.exceptions()) == opened


def test_a_draft_invoice_has_notified_nothing_and_a_rivals_or_unknown_line_is_not_found():
    ledger = Ledger("2026-10-12T10:00:00Z")
    _ship(ledger, P1, "NW-SW-24P", 1, "2026-10-12")
    draft = ledger.invoice(P1, "2026-10")
    with pytest.raises(RuleViolation, match="not issued"):
        decision_reviews.request_automated_review(ledger.rt, PARTNER1, _line(draft))
    ledger, invoice = _issued_invoice()
    for who, body in ((RIVAL, _line(invoice)), (PARTNER1, {**_line(invoice), "line_no": 9}),
                      (PARTNER1, {**_line(invoice), "invoice_id": "inv_01JX0000000000000000000000"})):
        with pytest.raises(NotFound):
            decision_reviews.request_automated_review(ledger.rt, who, body)
    assert ledger.exceptions() == []


def test_pa_14_2_finance_confirms_the_line_with_a_written_reason_and_a_second_request_is_refused():
    ledger, invoice = _issued_invoice()
    ledger.clock.set("2026-11-05T10:00:00Z")
    requested = decision_reviews.request_automated_review(ledger.rt, PARTNER1, _line(invoice))
    with pytest.raises(Conflict):  # one review at a time
        decision_reviews.request_automated_review(ledger.rt, PARTNER1, _line(invoice, "again"))
    approval_id = requested["human_review"]["approval_id"]
    with pytest.raises(RuleViolation):  # "the review is completed" by a person who states why
        cases.decide_case(ledger.rt, FINANCE, "approval", approval_id, "approved", "  ")
    cases.decide_case(ledger.rt, FINANCE, "approval", approval_id, "approved", "shipped 12 Oct per the POD")
    read = decision_reviews.read_automated_review(ledger.rt, PARTNER1, requested["review_id"])
    review = read["human_review"]
    assert (review["status"], review["decided_by"], review["note"], review["late"]) == (
        "confirmed", "finance", "shipped 12 Oct per the POD", False)
    with pytest.raises(NotFound):
        decision_reviews.read_automated_review(ledger.rt, RIVAL, requested["review_id"])
    assert decision_reviews.read_automated_review(ledger.rt, FINANCE, requested["review_id"])["human_review"][
        "decided_by"] == "finance:key_fin"
    with pytest.raises(RuleViolation, match="reviewed by a person"):  # a person has now confirmed it
        decision_reviews.request_automated_review(ledger.rt, PARTNER1, _line(invoice))
    actions = [r["action"] for r in audit.list_records(ledger.rt, "northwind", subject=requested["review_id"],
                                                         limit=100, cursor=None)["items"]]  # fmt: skip
    assert {"decision.review_requested", "decision.review_confirmed"} <= set(actions)


# --- rebate calculations ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("at", "in_time"), [("2026-11-02T23:59:59Z", True), ("2026-11-03T00:00:00Z", False)])
def test_pa_14_2_a_statement_line_may_be_reviewed_until_day_30_after_the_run_was_issued(at: str, in_time: bool):
    # The Q3 run was issued (approved) 3 Oct: 2 Nov is day 30, 3 Nov day 31.
    ledger, settlement_id = _settled()
    ledger.clock.set(at)
    if not in_time:
        with pytest.raises(RuleViolation, match=r"window closed at 2026-11-03T00:00:00\.000Z"):
            decision_reviews.request_automated_review(ledger.rt, PARTNER1, _statement(settlement_id))
        return
    answer = decision_reviews.request_automated_review(ledger.rt, PARTNER1, _statement(settlement_id))
    assert (answer["kind"], answer["outcome"], answer["partner_id"]) == ("rebate_statement", "issued", P1)
    assert answer["notified_at"] == "2026-10-03T10:00:00.000Z"
    assert {ln["program_id"] for ln in answer["decided"]["lines"]} == {"RBT-VOLUME"}
    assert answer["human_review"]["queue"] == "finance"


def test_a_rivals_statement_and_one_not_issued_are_the_same_404_and_channel_ops_files_for_the_partner():
    ledger, settlement_id = _settled()
    with pytest.raises(NotFound):
        decision_reviews.request_automated_review(ledger.rt, RIVAL, _statement(settlement_id, partner_id=P1))
    with pytest.raises(NotFound):  # a partner key names only itself
        decision_reviews.request_automated_review(ledger.rt, RIVAL, _statement(settlement_id))
    with pytest.raises(RuleViolation) as unnamed:  # staff name the partner
        decision_reviews.request_automated_review(ledger.rt, OPS, _statement(settlement_id))
    assert unnamed.value.errors[0].path == "/partner_id"
    filed = decision_reviews.request_automated_review(ledger.rt, OPS, _statement(settlement_id, partner_id=P1))
    assert filed["human_review"]["requested_by"] == "channel_ops:key_ops"
    with pytest.raises(Forbidden):  # the requester never decides it (SOP-4.3); finance's queue does
        cases.decide_case(ledger.rt, OPS, "approval", filed["human_review"]["approval_id"], "approved", "fine")
    cases.decide_case(ledger.rt, FINANCE2, "approval", filed["human_review"]["approval_id"], "rejected",
                      "12 servers shipped 30 Sep were left out: corrected in the next run")  # fmt: skip
    assert decision_reviews.read_automated_review(ledger.rt, PARTNER1, filed["review_id"])["human_review"][
        "status"] == "changed"


# --- entitlement checks ---------------------------------------------------------------------------------------------
def _entitlement(**more: Any) -> dict[str, Any]:
    return {"kind": "entitlement_check", "entitlement": "premium_onboarding", "reason": "We hold the Gold tier",
            **more}  # fmt: skip


def test_pa_14_2_an_entitlement_check_is_reviewed_by_customer_success_counting_30_days_from_the_instant_checked():
    ledger = Ledger("2026-11-02T10:00:00Z")
    now = decision_reviews.request_automated_review(ledger.rt, PARTNER1, _entitlement())
    assert (now["kind"], now["notified_at"], now["human_review"]["queue"]) == (
        "entitlement_check", "2026-11-02T10:00:00.000Z", "customer_success")
    assert now["outcome"] in ("entitled", "not_entitled") and now["decided"]["clause"]
    # at 1 Oct 10:00: day 30 is 31 Oct, so on 1 Nov the window is closed; at 3 Oct it is open until 2 Nov ends.
    with pytest.raises(RuleViolation, match=r"window closed at 2026-11-01T00:00:00\.000Z"):
        decision_reviews.request_automated_review(ledger.rt, PARTNER1, _entitlement(at="2026-10-01T10:00:00Z"))
    with pytest.raises(RuleViolation) as future:
        decision_reviews.request_automated_review(ledger.rt, PARTNER1, _entitlement(at="2026-11-02T10:00:01Z"))
    assert future.value.errors[0].path == "/at"
    with pytest.raises(NotFound):
        decision_reviews.request_automated_review(ledger.rt, RIVAL, _entitlement(partner_id=P1))
    with pytest.raises(NotFound):
        decision_reviews.request_automated_review(ledger.rt, PARTNER1, _entitlement(entitlement="no_such_thing"))
    cases.decide_case(ledger.rt, SUCCESS, "approval", now["human_review"]["approval_id"], "approved",
                      "the tier held on 2 Nov grants it as answered")  # fmt: skip
    assert decision_reviews.read_automated_review(ledger.rt, PARTNER1, now["review_id"])["human_review"][
        "status"] == "confirmed"
    # the window counts from the instant checked; asked once the review of the same entitlement above is decided
    # (PA-14.2 "any automated decision": one open review per partner and entitlement, below)
    assert decision_reviews.request_automated_review(ledger.rt, PARTNER1, _entitlement(at="2026-10-03T00:00:00Z"))[
        "human_review"]["window_closes_at"] == "2026-11-03T00:00:00.000Z"


INV = "inv_01JX0000000000000000000000"


@pytest.mark.parametrize(("body", "paths"), [
    ({"kind": "invoice_line", "invoice_id": INV}, ["/line_no"]),
    ({"kind": "invoice_line", "invoice_id": INV, "line_no": 1, "at": "2026-11-01T00:00:00Z"}, ["/at"]),
    ({"kind": "rebate_statement", "program_id": "RBT-VOLUME", "line_no": 1}, ["/settlement_id", "/line_no"]),
    ({"kind": "entitlement_check", "settlement_id": "set_01JX0000000000000000000000"},
     ["/entitlement", "/settlement_id"]),
])  # fmt: skip
def test_each_kind_takes_its_own_fields_and_a_bad_request_names_each_field_and_opens_nothing(body, paths):
    ledger = Ledger("2026-11-02T10:00:00Z")
    with pytest.raises(MalformedRequest) as bad:
        decision_reviews.request_automated_review(ledger.rt, PARTNER1, {**body, "reason": "why"})
    assert [e.path for e in bad.value.errors] == paths
    assert ledger.exceptions() == []


def test_two_partners_reviews_of_the_same_entitlement_at_the_same_instant_are_two_decisions():
    # PA-11.1: one partner's request neither blocks nor reveals another's; each check is its own partner's decision
    ledger = Ledger("2026-11-02T10:00:00Z")
    mine = decision_reviews.request_automated_review(ledger.rt, PARTNER1, _entitlement(at="2026-11-01T00:00:00Z"))
    theirs = decision_reviews.request_automated_review(ledger.rt, RIVAL, _entitlement(at="2026-11-01T00:00:00Z"))
    assert (mine["partner_id"], theirs["partner_id"]) == (P1, P2) and mine["review_id"] != theirs["review_id"]


@pytest.mark.parametrize("spelled", ["2026-11-01T00:00:00.0Z", "2026-11-01T00:00:00.000Z",
                                     "2026-11-01T00:00:00.000000Z"])
def test_red_team_7_one_instant_spelled_another_way_is_the_same_entitlement_check_reviewed_once(spelled: str):
    # The changelog (1.41.0) and `automated_decisions`: "one review per decision"; an entitlement check is "the answer
    # for one entitlement at an instant" (domain.decision_review), and 2026-11-01T00:00:00Z, …00.0Z and …00.000000Z
    # are one instant (RFC 3339 5.6: time-secfrac is a fraction of the same second). A partner sent the same instant
    # spelled with more zeros and opened a second case of the same decision in customer_success's queue, each time.
    ledger = Ledger("2026-11-02T10:00:00Z")
    first = decision_reviews.request_automated_review(ledger.rt, PARTNER1, _entitlement(at="2026-11-01T00:00:00Z"))
    assert first["subject"]["at"] == first["notified_at"] == "2026-11-01T00:00:00.000Z"
    opened = len(ledger.exceptions())
    with pytest.raises(Conflict) as again:
        decision_reviews.request_automated_review(ledger.rt, PARTNER1, _entitlement(at=spelled))
    assert again.value.extra["approval_id"] == first["human_review"]["approval_id"]
    assert len(ledger.exceptions()) == opened


def test_pa_14_2_one_open_review_per_partner_and_entitlement_a_second_instant_is_the_409_naming_the_open_one():
    """PA-14.2: "A Partner may request human review of any automated decision within 30 days of being notified of
    it; the review is completed within 10 business days." An entitlement check is "the answer at an instant", and a
    request without `at` checks now: every request named a new instant, so a partner key opened a customer_success
    case per request (red team 7; only the rate limit bounded it), though each answer comes from the same record and
    policy and no check at those instants was ever made or notified to the partner. One review of an entitlement is
    open per partner at a time: a second, at any instant, is a 409 naming the open review and its case, and opens
    nothing; once customer success decides it, the partner may ask again (another entitlement, or another partner's
    check of the same one, is its own)."""
    ledger = Ledger("2026-11-02T10:00:00Z")
    first = decision_reviews.request_automated_review(ledger.rt, PARTNER1, _entitlement())
    opened = len(ledger.exceptions())
    for at in (None, "2026-11-02T09:59:59Z", "2026-10-20T00:00:00Z"):
        ledger.clock.advance(seconds=1)
        with pytest.raises(Conflict) as again:
            decision_reviews.request_automated_review(ledger.rt, PARTNER1, _entitlement(**({"at": at} if at else {})))
        assert again.value.extra["review_id"] == first["review_id"]
        assert again.value.extra["approval_id"] == first["human_review"]["approval_id"]
        assert first["review_id"] in again.value.detail
    assert len(ledger.exceptions()) == opened
    with pytest.raises(Conflict):  # staff filing for the partner reach the same open review
        decision_reviews.request_automated_review(ledger.rt, OPS, _entitlement(partner_id=P1))
    theirs = decision_reviews.request_automated_review(ledger.rt, RIVAL, _entitlement())
    assert theirs["review_id"] != first["review_id"]
    other = decision_reviews.request_automated_review(ledger.rt, PARTNER1, _entitlement(entitlement="managed_support"))
    assert other["subject"]["entitlement"] == "managed_support"
    cases.decide_case(ledger.rt, SUCCESS, "approval", first["human_review"]["approval_id"], "approved",
                      "the tier held on 2 Nov grants it as answered")  # fmt: skip
    later = decision_reviews.request_automated_review(ledger.rt, PARTNER1, _entitlement(at="2026-11-01T00:00:00Z"))
    assert later["review_id"] != first["review_id"] and later["human_review"]["status"] == "open"


def test_a_second_request_names_the_open_review_the_partner_can_read_not_a_store_key():
    # API.md: 409 is a "state conflict" the caller resolves; the partner resolves it by reading the open review
    # (GET /v1/review-requests/{review_id}, the id the 201 gave it). The detail read "a human review of
    # entitlement_check entitlement_check#ptr_…#2026-11-01T00:00:00.000Z#premium_onboarding is already open": a store
    # key, and no review id.
    ledger = Ledger("2026-11-02T10:00:00Z")
    first = decision_reviews.request_automated_review(ledger.rt, PARTNER1, _entitlement(at="2026-11-01T00:00:00Z"))
    with pytest.raises(Conflict) as again:
        decision_reviews.request_automated_review(ledger.rt, PARTNER1, _entitlement(at="2026-11-01T00:00:00Z"))
    assert first["review_id"] in again.value.detail and "#" not in again.value.detail, again.value.detail
    assert again.value.extra["review_id"] == first["review_id"]
