"""Human review of an automated decision on the partner's request (PA-14.2 / CPA-14.2).

PA-14.2: "Quote checks, discount approval routing, rebate calculations, entitlement checks and invoice validations may
be made automatically under the policy in force. ... Decisions outside the thresholds of this Agreement, including
discount approvals, ... are always made or confirmed by an authorised person of the Distributor. A Partner may request
human review of any automated decision within 30 days of being notified of it; the review is completed within 10
business days." CPA-14.2: "A Partner may request human review of an automated decision within 30 days of notification;
Contoso completes it within 15 business days."

Notified = the decision's `created_at`: the quote check answers its caller with the decision in the same response.
Due dates are hand-counted: northwind on PA-1.3's program holidays (2026-11-26 Thanksgiving), contoso on the
holidays of the partner's country of establishment (CPA-1.3; DE: 2026-12-25, 2026-12-26, 2027-01-01). In-memory store,
fixed clock.
"""

from __future__ import annotations

from typing import Any

import pytest

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict, Forbidden, NotFound, RuleViolation
from revgov.ports import Changes, Put
from revgov.services import audit, cases, decision_reviews, decisions, pricing

P2 = "ptr_01JBNWPARTNER0000000000002"  # an active Registered reseller: networking cap 5% (PA-6.2)
P1 = "ptr_01JBNWPARTNER0000000000001"
PARTNER2 = Principal("northwind", Role.PARTNER, "key_ptr2", partner_id=P2)
RIVAL = Principal("northwind", Role.PARTNER, "key_ptr1", partner_id=P1)
OPS = Principal("northwind", Role.CHANNEL_OPS, "key_ops1")
OPS2 = Principal("northwind", Role.CHANNEL_OPS, "key_ops2")
REASON = {"reason": "The discount was within the promotion we were granted in writing"}


def _quote(ledger: Ledger, discount: str, who: Principal = PARTNER2) -> dict[str, Any]:
    """A quote check of one NW-SW-24P for P2: 3% is within the 5% cap (allow), 8% needs channel ops (PA-6.6(a)),
    60% is refused (deny)."""
    return pricing.check(ledger.rt, who, {
        "partner_id": P2, "customer": {"id": f"CUST-HR-{discount}", "name": "Lakeside"},
        "lines": [{"line_id": "1", "sku": "NW-SW-24P", "quantity": 1, "discount_percent": discount}]})  # fmt: skip


def _denied() -> tuple[Ledger, str]:
    """A deny decided Monday 2 Nov 2026 10:00 UTC (the partner is notified in the check's answer)."""
    ledger = Ledger("2026-11-02T10:00:00.000Z")
    decision = _quote(ledger, "60")
    assert (decision["outcome"], decision["status"]) == ("deny", "final")
    return ledger, decision["decision_id"]


def test_pa_14_2_a_partner_requests_review_and_it_is_due_in_10_business_days_skipping_thanksgiving() -> None:
    # Requested Friday 13 Nov 10:00: business days 16,17,18,19,20,23,24,25 (8), 26 Nov is a PA-1.3 holiday, 27 (9),
    # 30 Nov (10): due Monday 30 Nov 10:00 (without the holiday it would be Friday 27 Nov).
    ledger, decision_id = _denied()
    ledger.clock.set("2026-11-13T10:00:00.000Z")
    answer = decision_reviews.request_review(ledger.rt, PARTNER2, decision_id, REASON)
    review = answer["human_review"]
    assert review["status"] == "open" and review["due_at"] == "2026-11-30T10:00:00.000Z"
    assert (review["queue"], review["rule_id"], review["clause"]) == ("channel_ops", "HUMAN-REVIEW", "PA-14.2")
    case, _ = cases.get_case(ledger.rt, "northwind", "approval", review["approval_id"])
    assert (case["queue"], case["due_at"], case["partner_id"]) == ("channel_ops", "2026-11-30T10:00:00.000Z", P2)
    assert {("HUMAN-REVIEW", "PA-14.2"), ("ROUTE-AUTOMATED-DECISION-REVIEW", "PA-14.2")} <= {
        (r.get("rule_id"), r.get("clause")) for r in case["reasons"]}
    published = [e for e in ledger.rt.publisher.published if e["detail_type"] == "quote.review_requested"]
    assert [e["detail"]["review"] for e in published] == ["open"]


@pytest.mark.parametrize(("at", "in_time"), [("2026-12-02T23:59:59.000Z", True), ("2026-12-03T00:00:00.000Z", False)])
def test_pa_14_2_the_request_is_in_time_on_day_30_after_notification_and_refused_on_day_31(at: str, in_time: bool):
    # "within 30 days of being notified of it": notified 2 Nov; 2 Dec is day 30 (accepted all day), 3 Dec day 31.
    ledger, decision_id = _denied()
    ledger.clock.set(at)
    if in_time:
        assert decision_reviews.request_review(ledger.rt, PARTNER2, decision_id, REASON)["human_review"]["status"] == \
            "open"
        return
    with pytest.raises(RuleViolation) as refused:
        decision_reviews.request_review(ledger.rt, PARTNER2, decision_id, REASON)
    assert refused.value.extra["clause"] == "PA-14.2"
    assert refused.value.extra["window_closed_at"] == "2026-12-03T00:00:00.000Z"
    assert "human_review" not in decisions.head(ledger.rt, "northwind", decision_id).data


def test_a_second_request_while_a_review_is_open_is_a_conflict_and_opens_no_case() -> None:
    ledger, decision_id = _denied()
    decision_reviews.request_review(ledger.rt, PARTNER2, decision_id, REASON)
    opened = len(ledger.exceptions())
    with pytest.raises(Conflict):
        decision_reviews.request_review(ledger.rt, PARTNER2, decision_id, REASON)
    assert len(ledger.exceptions()) == opened


def test_a_rivals_decision_is_not_found() -> None:
    ledger, decision_id = _denied()
    with pytest.raises(NotFound):
        decision_reviews.request_review(ledger.rt, RIVAL, decision_id, REASON)
    assert "human_review" not in decisions.head(ledger.rt, "northwind", decision_id).data


def test_pa_14_2_a_decision_made_by_an_authorised_person_is_not_automated_and_cannot_be_reviewed() -> None:
    # "Decisions outside the thresholds ... including discount approvals ... are always made or confirmed by an
    # authorised person": an 8% quote waits for channel ops, then channel ops approves it; neither is automated.
    ledger = Ledger("2026-11-02T10:00:00.000Z")
    pending = _quote(ledger, "8")
    with pytest.raises(RuleViolation, match="waits for its approvals"):
        decision_reviews.request_review(ledger.rt, PARTNER2, pending["decision_id"], REASON)
    cases.decide_case(ledger.rt, OPS, "approval", pending["approvals"][0]["approval_id"], "approved", "in policy")
    with pytest.raises(RuleViolation, match="decided by its approvers"):
        decision_reviews.request_review(ledger.rt, PARTNER2, pending["decision_id"], REASON)


def test_pa_6_4_a_review_cannot_approve_a_deny_the_agreement_lets_no_one_approve() -> None:
    """Red team 6. PA-6.4: "The combined discount on any line may not exceed 30% of List Price; a line above 30% cannot
    be approved under this Agreement and requires a written amendment." PA-6.3: "A line priced below Line Cost cannot
    be approved." PA-14.2 gives the partner a review by a person, not an approval the Agreement withholds from every
    person: the reviewer who answers `rejected` on the review of the 60% deny is refused (422 naming the rules the
    deny rests on), nothing changes (the decision stays a deny, the review open, the case pending), and the reviewer
    then confirms it with the written reason."""
    ledger, decision_id = _denied()
    ledger.clock.set("2026-11-13T10:00:00.000Z")
    approval_id = decision_reviews.request_review(ledger.rt, PARTNER2, decision_id, REASON)["human_review"][
        "approval_id"]
    ledger.clock.set("2026-11-20T15:00:00.000Z")
    with pytest.raises(RuleViolation) as refused:
        cases.decide_case(ledger.rt, OPS, "approval", approval_id, "rejected", "the written promotion covers 60% on it")
    rules = {(r["rule_id"], r["clause"]) for r in refused.value.extra["deny_rules"]}
    assert rules == {("PRC-MAX-COMBINED", "PA-6.4"), ("PRC-BELOW-COST", "PA-6.3")}
    assert "900.00" not in refused.value.detail  # the reviewer's answer names rules, not the Line Cost
    mine = decisions.view(ledger.rt, PARTNER2, decision_id)
    assert (mine["outcome"], mine["status"], mine["human_review"]["status"]) == ("deny", "final", "open")
    case, _ = cases.get_case(ledger.rt, "northwind", "approval", approval_id)
    assert case["status"] == "pending"
    assert not [e for e in ledger.rt.publisher.published if e["detail_type"] == "quote.reviewed"]
    cases.decide_case(ledger.rt, OPS, "approval", approval_id, "approved",
                      "60% is above PA-6.4's 30% maximum: only a written amendment allows it")
    mine = decisions.view(ledger.rt, PARTNER2, decision_id)
    assert (mine["outcome"], mine["status"]) == ("deny", "final")
    review = mine["human_review"]
    assert (review["status"], review["previous_outcome"], review["late"]) == ("confirmed", "deny", False)
    assert review["note"] == "60% is above PA-6.4's 30% maximum: only a written amendment allows it"
    assert mine["history"][-1]["outcome"] == "review_confirmed"
    records = audit.list_records(ledger.rt, "northwind", subject=decision_id, limit=100, cursor=None)["items"]
    assert {"decision.review_requested", "decision.review_confirmed"} <= {r["action"] for r in records}
    (event,) = [e for e in ledger.rt.publisher.published if e["detail_type"] == "quote.reviewed"]
    assert (event["detail"]["outcome"], event["detail"]["review"]) == ("deny", "confirmed")
    with pytest.raises(RuleViolation, match="was reviewed by a person"):  # now decided by a person
        decision_reviews.request_review(ledger.rt, PARTNER2, decision_id, REASON)


def test_pa_14_2_the_reviewer_changes_an_allow_with_a_written_reason_and_the_partner_reads_it() -> None:
    """PA-14.2: the review is "made or confirmed by an authorised person": one who finds an automated allow wrong
    changes it to a deny (status rejected), with its written reason, which the partner reads."""
    ledger = Ledger("2026-11-02T10:00:00.000Z")
    decision_id = _quote(ledger, "3")["decision_id"]
    approval_id = decision_reviews.request_review(ledger.rt, PARTNER2, decision_id, REASON)["human_review"][
        "approval_id"]
    cases.decide_case(ledger.rt, OPS, "approval", approval_id, "rejected", "the customer is outside the territory")
    mine = decisions.view(ledger.rt, PARTNER2, decision_id)
    assert (mine["outcome"], mine["status"]) == ("deny", "rejected")
    review = mine["human_review"]
    assert (review["status"], review["previous_outcome"]) == ("changed", "allow")
    assert review["note"] == "the customer is outside the territory"
    assert mine["history"][-1]["outcome"] == "review_changed"
    (event,) = [e for e in ledger.rt.publisher.published if e["detail_type"] == "quote.reviewed"]
    assert (event["detail"]["outcome"], event["detail"]["review"]) == ("deny", "changed")


def test_the_reviewer_confirms_an_allow_after_the_due_date_and_it_is_kept_as_late() -> None:
    ledger = Ledger("2026-11-02T10:00:00.000Z")
    decision_id = _quote(ledger, "3")["decision_id"]
    approval_id = decision_reviews.request_review(ledger.rt, PARTNER2, decision_id, REASON)["human_review"][
        "approval_id"]
    ledger.clock.set("2026-11-17T10:00:00.001Z")  # 10 business days after Mon 2 Nov (11 Nov a holiday): 17 Nov 10:00
    cases.decide_case(ledger.rt, OPS, "approval", approval_id, "approved", "the 3% is within the Registered cap")
    review = decisions.view(ledger.rt, PARTNER2, decision_id)["human_review"]
    assert (review["status"], review["late"], review["due_at"]) == ("confirmed", True, "2026-11-17T10:00:00.000Z")


def test_sop_4_3_channel_ops_filing_on_the_partners_behalf_may_not_decide_the_review() -> None:
    ledger, decision_id = _denied()
    approval_id = decision_reviews.request_review(ledger.rt, OPS, decision_id, REASON)["human_review"]["approval_id"]
    with pytest.raises(Forbidden):
        cases.decide_case(ledger.rt, OPS, "approval", approval_id, "approved", "the automated outcome stands")
    cases.decide_case(ledger.rt, OPS2, "approval", approval_id, "approved", "the automated outcome stands")
    assert decisions.view(ledger.rt, PARTNER2, decision_id)["human_review"]["status"] == "confirmed"


def test_a_review_decided_without_a_written_reason_is_refused() -> None:
    ledger, decision_id = _denied()
    approval_id = decision_reviews.request_review(ledger.rt, PARTNER2, decision_id, REASON)["human_review"][
        "approval_id"]
    with pytest.raises(RuleViolation, match="states its reason"):
        cases.decide_case(ledger.rt, OPS, "approval", approval_id, "approved", None)
    assert decisions.view(ledger.rt, PARTNER2, decision_id)["human_review"]["status"] == "open"


CT_PARTNER = "ptr_01JBCTAVD4TR000000000000H1"
CT_CERTS = {c: {"cert_id": c, "holder": "A. Reviewer", "earned_at": "2025-01-01", "expires_at": "2029-12-31"}
            for c in ("cert-collab-associate", "cert-secops-analyst", "cert-data-engineer", "cert-devices-field")}


def test_cpa_14_2_contoso_completes_it_within_15_business_days_of_the_partners_german_calendar() -> None:
    # Requested Friday 18 Dec 2026 10:00 by a partner established in DE (CPA-1.3): 21,22,23,24 (4), 25 and 26 Dec are
    # holidays, 28,29,30,31 (8), 1 Jan 2027 a holiday, 4,5,6,7,8 (13), 11 (14), 12 Jan (15): due 12 Jan 2027 10:00.
    ledger = Ledger("2026-12-04T10:00:00.000Z", tenant="contoso")
    partner = {"partner_id": CT_PARTNER, "legal_name": "Review GmbH", "partner_type": "msp", "status": "active",
               "tier": "elite", "country": "DE", "activated_at": "2025-01-01T00:00:00Z", "certifications": CT_CERTS}
    ledger.rt.store.commit("contoso", Changes(puts=[Put("PARTNER", CT_PARTNER, partner)]))
    mine = Principal("contoso", Role.PARTNER, "key_ct_h1", partner_id=CT_PARTNER)
    decision = pricing.check(ledger.rt, mine, {
        "partner_id": CT_PARTNER, "customer": {"id": "CUST-HR-CT", "name": "Stadtwerke"},
        "lines": [{"line_id": "1", "sku": "CT-DEV-DOCK", "quantity": 1}]})  # fmt: skip
    assert decision["status"] == "final", decision
    ledger.clock.set("2026-12-18T10:00:00.000Z")
    review = decision_reviews.request_review(ledger.rt, mine, decision["decision_id"], REASON)["human_review"]
    assert (review["due_at"], review["clause"], review["queue"]) == ("2027-01-12T10:00:00.000Z", "CPA-14.2",
                                                                     "channel_ops")


def test_an_overdue_review_is_polled_by_the_escalation_flow_like_every_other_case_clock() -> None:
    # SOP-4.2: "When the SLA is breached, the exception is escalated to the queue lead" (approvals carry the marks):
    # requested Fri 13 Nov 10:00, due Mon 30 Nov 10:00; at 10:00:00.001 it is in the channel_ops queue's overdue list.
    from datetime import UTC, datetime

    ledger, decision_id = _denied()
    ledger.clock.set("2026-11-13T10:00:00.000Z")
    approval_id = decision_reviews.request_review(ledger.rt, PARTNER2, decision_id, REASON)["human_review"][
        "approval_id"]
    case, _ = cases.get_case(ledger.rt, "northwind", "approval", approval_id)
    assert (case["escalation"]["lead_at"], case["escalation"]["clause"]) == ("2026-11-30T10:00:00.000Z", "SOP-4.2")

    def overdue(at: datetime) -> list[str]:
        page = cases.list_cases(ledger.rt, "northwind", "approval", status="pending", queue="channel_ops", limit=50,
                                cursor=None, due_before=at)  # fmt: skip
        return [item.data["case_id"] for item in page.items]

    assert approval_id not in overdue(datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
    assert approval_id in overdue(datetime(2026, 11, 30, 10, 0, 0, 1000, tzinfo=UTC))


def test_the_pure_rules_count_calendar_days_from_notification_and_change_an_allow_only() -> None:
    """The domain alone, no store: notified 2026-01-31 23:30 UTC, day 30 is 2 Mar (February has 28 days in 2026)."""
    from datetime import UTC, datetime

    from revgov.domain import decision_review
    from revgov.domain.rules import Rule

    policy = decision_review.ReviewPolicy(Rule("HUMAN-REVIEW", "PA-14.2"), 30, "automated_decision_review")
    notified = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
    assert decision_review.window(policy, notified, datetime(2026, 3, 2, 23, 59, tzinfo=UTC)) == \
        "2026-03-03T00:00:00.000Z"
    with pytest.raises(RuleViolation):
        decision_review.window(policy, notified, datetime(2026, 3, 3, 0, 0, tzinfo=UTC))
    deny = {"decision_id": "dec_x", "outcome": "deny", "status": "final", "approvals": [], "history": []}
    assert decision_review.concluded(deny, "approved", policy.rule) == ("confirmed", "deny", "final")
    with pytest.raises(RuleViolation):  # a deny is never approved by a review (PA-6.4 / PA-6.3 "cannot be approved")
        decision_review.concluded(deny, "rejected", policy.rule)
    assert decision_review.concluded({**deny, "outcome": "allow"}, "rejected", policy.rule) == \
        ("changed", "deny", "rejected")
