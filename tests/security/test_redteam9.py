"""Red team, ninth round: a partner key (and the staff acting on what it sent) against what landed in the last two
sessions: suspended partners' openings (1.46.2), direct invoices (PA-8.1 / PA-8.2), partner-scoped reads.

Each test quotes the rule it holds the product to and failed before its fix. A tenant of the module's own
(make_party), so nothing here reads what the shared tenants' background events did.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

import clock_support
import security_support
from security_support import make_party, offboard, quote_for
from support import assert_problem

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def party(api: Any, operator: Any, stack: Any) -> Any:
    made = make_party(api, operator, stack, "northwind")
    yield made
    offboard(operator, made)


def _pending_quote(party: Any, partner_id: str) -> dict[str, Any]:
    """A quote above the partner's tier cap (northwind silver: 10 %) with a margin above the floor: one channel_ops
    approval (PA-6.2, SOP-4.1)."""
    checked = party.partner_keys[partner_id].post("/v1/pricing/check", quote_for(party, partner_id, discount="15.00"))
    assert checked.status_code == 200, checked.text
    body = checked.json()
    assert body["outcome"] == "approval_required" and [a["queue"] for a in body["approvals"]] == ["channel_ops"], body
    return dict(body)


def test_pa_13_2_a_quote_waiting_for_approval_is_not_approved_while_its_partner_is_suspended(party: Any) -> None:
    """PA-13.2: "The Distributor may suspend a Partner from new quotes, orders, deal registrations and incentive
    accrual [...] A suspension [...] is lifted when the reason is cured" (CPA-13.2 "suspend new quotes"); the policy's
    `partner_must_be_active` (PRC-PARTNER-ACTIVE, PA-13.2) denies a suspended partner's quote check. A quote checked
    the day before the suspension and approved by channel ops during it became `allow` (an approved quote, the
    price the partner orders at), so the suspension stopped only the checks made after it. Round six closed the same
    gap for a screening hold (PA-2.8); any suspension is now the same: the approval is a 422 naming
    PRC-PARTNER-ACTIVE / PA-13.2, nothing changes, and once the suspension is lifted the quote is approved as
    before (positive control)."""
    mine = party.partners[1]
    ops, partner = party.by_role["channel_ops"], party.partner_keys[mine]
    quote = _pending_quote(party, mine)
    (approval,) = quote["approvals"]
    before = partner.get(f"/v1/decisions/{quote['decision_id']}").json()
    moved = ops.post(f"/v1/partners/{mine}/suspend", {"reason": "PA-13.2(c) an amount more than 60 days overdue"})
    assert moved.status_code == 200 and moved.json()["status"] == "suspended", moved.text
    try:
        refused = ops.post(f"/v1/approvals/{approval['approval_id']}/decision",
                           {"outcome": "approved", "note": "approved during the suspension"})
        problem = assert_problem(refused, 422)
        assert (problem["rule_id"], problem["clause"]) == ("PRC-PARTNER-ACTIVE", "PA-13.2"), problem
        after = partner.get(f"/v1/decisions/{quote['decision_id']}").json()
        assert (after["outcome"], after["status"]) == (before["outcome"], before["status"]) == (
            "approval_required", before["status"]), after
        assert ops.get(f"/v1/approvals/{approval['approval_id']}").json()["status"] == "pending"
    finally:
        assert ops.post(f"/v1/partners/{mine}/reinstate", {"reason": "PA-13.2 reason cured"}).status_code == 200
    approved = ops.post(f"/v1/approvals/{approval['approval_id']}/decision",
                        {"outcome": "approved", "note": "suspension lifted"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
    assert partner.get(f"/v1/decisions/{quote['decision_id']}").json()["outcome"] == "allow"


def test_pa_13_3_a_quote_waiting_for_approval_is_not_approved_after_its_partner_is_terminated(party: Any) -> None:
    """PA-13.3 "On termination: [...] deal registrations end"; the agreement the quote would price under has ended and
    PRC-PARTNER-ACTIVE denies a terminated partner's check. Its quote pending at termination became `allow` when
    channel ops approved it. Now the 422 of PRC-PARTNER-ACTIVE, the quote still pending (it expires as any other)."""
    tiers = sorted(party.policy["partner_tiers"], key=lambda t: t["rank"])
    leaving = security_support._onboard(party, "Leaving Reseller", "reseller", tiers[1], "active")
    minted = party.admin.post("/v1/keys", {"role": "partner", "partner_id": leaving, "label": "leaving"})
    assert minted.status_code == 201, minted.text
    party.partner_keys[leaving] = party.partner_keys[party.partners[0]].as_key(minted.json()["key"])
    ops = party.by_role["channel_ops"]
    quote = _pending_quote(party, leaving)
    (approval,) = quote["approvals"]
    ended = ops.post(f"/v1/partners/{leaving}/terminate", {"reason": "PA-13.3 termination for convenience"})
    assert ended.status_code == 200 and ended.json()["status"] == "terminated", ended.text
    refused = ops.post(f"/v1/approvals/{approval['approval_id']}/decision",
                       {"outcome": "approved", "note": "approved after the termination"})
    problem = assert_problem(refused, 422)
    assert (problem["rule_id"], problem["clause"]) == ("PRC-PARTNER-ACTIVE", "PA-13.2"), problem
    assert ops.get(f"/v1/decisions/{quote['decision_id']}").json()["outcome"] == "approval_required"


def test_pa_13_2_a_registration_waiting_for_review_is_not_approved_while_its_partner_is_suspended(party: Any) -> None:
    """PA-13.2: the Distributor "may suspend a Partner from new quotes, orders, deal registrations and incentive
    accrual"; the policy's suspension (PTR-SUSPENSION, PA-13.2) withholds `deal_registration`, and a suspended
    partner's registration is refused (PA-9.6's 403 at the edge, DR-ELIGIBILITY's 422 for staff filing it). A
    registration the partner filed the day before its suspension was approved by channel ops during it: exclusivity
    for the customer (PA-5.3), the registration discount on its quotes, a lock every rival's registration of the
    customer then loses to (PA-5.5). Now the approval is a 422 naming PTR-SUSPENSION / PA-13.2, the registration
    still pending; approved once the suspension is lifted (positive control). A terminated partner's pending
    registration was already rejected at review (PA-13.3 "deal registrations end")."""
    mine = party.partners[1]
    ops, partner = party.by_role["channel_ops"], party.partner_keys[mine]
    today = clock_support.today()
    filed = partner.post("/v1/deals", {"partner_id": mine, "family": "networking",
                                       "customer": {"id": f"C-RT9-{uuid.uuid4().hex[:8]}", "name": "Harbor Labs",
                                                    "contact": "A. Lee"},
                                       "estimated_value": "12000.00",
                                       "expected_close": (today + timedelta(days=30)).isoformat()})
    assert filed.status_code == 201 and filed.json()["status"] == "pending", filed.text
    deal = filed.json()
    approval_id = deal["approval_id"]
    moved = ops.post(f"/v1/partners/{mine}/suspend", {"reason": "PA-13.2(a) insurance certificate expired"})
    assert moved.status_code == 200 and moved.json()["status"] == "suspended", moved.text
    try:
        refused = ops.post(f"/v1/approvals/{approval_id}/decision", {"outcome": "approved", "note": "looks fine"})
        problem = assert_problem(refused, 422)
        assert (problem["rule_id"], problem["clause"]) == ("PTR-SUSPENSION", "PA-13.2"), problem
        assert partner.get(f"/v1/deals/{deal['deal_id']}").json()["status"] == "pending"
        assert ops.get(f"/v1/approvals/{approval_id}").json()["status"] == "pending"
    finally:
        assert ops.post(f"/v1/partners/{mine}/reinstate", {"reason": "PA-13.2 reason cured"}).status_code == 200
    approved = ops.post(f"/v1/approvals/{approval_id}/decision", {"outcome": "approved", "note": "lifted"})
    assert approved.status_code == 200, approved.text
    assert partner.get(f"/v1/deals/{deal['deal_id']}").json()["status"] == "approved"


@pytest.mark.parametrize(("occurred_at", "day", "pointer"), [
    (None, "9999-12-31", "/data/delivered_on"),  # the day after the fact's day, where the SLA clock stops
    ("9999-12-30T23:00:00Z", "9999-12-30", "/occurred_at"),  # 48 hours after it, the invoice SLA's due time
], ids=["fact-day", "occurred-at"])
def test_an_erp_event_dated_at_the_calendars_end_is_a_problem_not_a_500(party: Any, occurred_at: str | None,
                                                                       day: str, pointer: str) -> None:
    """RFC 9457 / API.md: bad input is a problem naming the field, never a 500. The ERP event schema takes any
    `format: date` day and date-time instant; on 9999-12-31 the invoice SLA watch the webhook writes for a shipment
    (SOP-2.1 "within 48 hours of the time the event occurred") computed the day after it, or 48 hours after an event
    of 9999-12-30 23:00: year 10000, an OverflowError and a 500 for the ERP (for a whole batch, its other events
    unanswered). Now a 400 naming the field (in a batch, that event `rejected` with its pointer, the others
    received); nothing received for it. A day far ahead but on the calendar (2199) is still received and held by
    the plausibility check (BILL-PLAUSIBILITY)."""
    mine = party.partners[0]
    event = security_support.shipment(party, mine)
    event["data"]["shipped_on"] = event["data"]["delivered_on"] = day
    if occurred_at:
        event["occurred_at"] = occurred_at
    problem = assert_problem(party.erp.post(event), 400)
    assert pointer in {e["path"] for e in problem.get("errors", [])}, problem
    ok = security_support.shipment(party, mine)
    batch = party.erp.post({"events": [event, ok]})
    assert batch.status_code == 202, batch.text
    first, second = batch.json()["results"]
    assert first["status"] == "rejected" and f"/events/0{pointer}" in {e["path"] for e in first["errors"]}, first
    assert second["status"] == "received", second
    assert party.erp.post({**event, "id": event["id"]}).status_code == 400  # never received: not a duplicate


# Trojan Source (CVE-2021-42574): U+202E reverses what follows; ESC opens a terminal control sequence; U+200B hides a
# difference between two look-alike texts
SPOOFS = ["1\u202e01", "1\u001b[31m", "1\u200b"]


@pytest.mark.parametrize("line_id", SPOOFS, ids=["rlo", "esc", "zwsp"])
def test_a_quote_line_id_is_caller_text_an_approver_reads(party: Any, line_id: str) -> None:
    """schemas/api/text.schema.json is "the one definition of caller text that staff read (reasons, notes, questions,
    replies, references, names)". A quote's `line_id` is the partner's, and the approver reads it in the decision's
    explanation ("Line 1‮01 (NW-SW-24P, networking, quantity 3, list price 1250.00): discretionary 15.00% ..."): it
    took U+202E, ESC and U+200B and kept them (quote_ref and the customer's name, beside it, refused them since red
    team 2). Now a 400 naming /lines/0/line_id (RFC 9457), nothing decided; an ordinary id is kept."""
    mine = party.partners[0]
    partner = party.partner_keys[mine]
    before = [d["decision_id"] for d in partner.get("/v1/decisions", limit=200).json()["items"]]
    quote = quote_for(party, mine, discount="15.00")
    quote["lines"][0]["line_id"] = line_id
    problem = assert_problem(partner.post("/v1/pricing/check", quote), 400)
    assert [e["path"] for e in problem["errors"]] == ["/lines/0/line_id"], problem
    assert [d["decision_id"] for d in partner.get("/v1/decisions", limit=200).json()["items"]] == before
    quote["lines"][0]["line_id"] = "L-10/a"
    kept = partner.post("/v1/pricing/check", quote)
    assert kept.status_code == 200 and kept.json()["lines"][0]["line_id"] == "L-10/a", kept.text


@pytest.mark.parametrize("question", SPOOFS, ids=["rlo", "esc", "zwsp"])
def test_a_partners_copilot_question_is_caller_text_staff_read(party: Any, question: str) -> None:
    """The partner's question is kept in the copilot's transcript on the audit trail (PA-14.1 "Questions and answers
    are logged with sensitive fields masked"), which finance, legal and admins read (`GET /v1/audit`): caller text
    staff read (text.schema.json). It took U+202E, ESC and U+200B. Now a 400 naming /question; ordinary text, line
    breaks included, is asked as before."""
    partner = party.partner_keys[party.partners[0]]
    problem = assert_problem(partner.post("/v1/copilot/ask", {"question": f"What is the rebate in Q{question}?"}),
                             400)
    assert [e["path"] for e in problem["errors"]] == ["/question"], problem
    asked = partner.post("/v1/copilot/ask", {"question": "What is the volume rebate?\nAnd its Quarter?"})
    assert asked.status_code == 200, asked.text


def test_pa_13_2_an_extension_asked_before_the_suspension_is_not_given_during_it(party: Any) -> None:
    """PA-13.2 suspends "deal registrations" (PTR-SUSPENSION withholds `deal_registration`); PA-5.3 "A registration
    may be extended once by 30 days on request with evidence of an active proposal, by Channel Operations". The
    extension a partner asked for the day before its suspension was given during it: 30 more days of exclusivity
    for a partner the Distributor had suspended from registrations, every rival barred meanwhile (PA-5.5). Now the
    approval is the 422 of PTR-SUSPENSION / PA-13.2 (as a registration's, above), the extension still pending; given
    once the suspension is lifted."""
    mine = party.partners[1]
    ops, partner = party.by_role["channel_ops"], party.partner_keys[mine]
    today = clock_support.today()
    filed = partner.post("/v1/deals", {"partner_id": mine, "family": "networking",
                                       "customer": {"id": f"C-RT9-{uuid.uuid4().hex[:8]}", "name": "Pier Nine",
                                                    "contact": "B. Ortiz"},
                                       "estimated_value": "8000.00",
                                       "expected_close": (today + timedelta(days=30)).isoformat()})
    assert filed.status_code == 201, filed.text
    deal = filed.json()
    approved = ops.post(f"/v1/approvals/{deal['approval_id']}/decision", {"outcome": "approved", "note": "ok"})
    assert approved.status_code == 200, approved.text
    asked = partner.post(f"/v1/deals/{deal['deal_id']}/extension",
                         {"proposal_reference": "PROP-RT9-1", "proposal_date": today.isoformat()})
    assert asked.status_code == 201, asked.text
    expires = asked.json()["expires_at"]
    approval_id = asked.json()["extension"]["approval_id"]
    moved = ops.post(f"/v1/partners/{mine}/suspend", {"reason": "PA-13.2(d) material breach not cured"})
    assert moved.status_code == 200, moved.text
    try:
        refused = ops.post(f"/v1/approvals/{approval_id}/decision", {"outcome": "approved", "note": "proposal seen"})
        problem = assert_problem(refused, 422)
        assert (problem["rule_id"], problem["clause"]) == ("PTR-SUSPENSION", "PA-13.2"), problem
        read = partner.get(f"/v1/deals/{deal['deal_id']}").json()
        assert (read["expires_at"], read["extension"]["status"]) == (expires, "pending"), read
    finally:
        assert ops.post(f"/v1/partners/{mine}/reinstate", {"reason": "PA-13.2 reason cured"}).status_code == 200
    given = ops.post(f"/v1/approvals/{approval_id}/decision", {"outcome": "approved", "note": "lifted"})
    assert given.status_code == 200, given.text
    assert partner.get(f"/v1/deals/{deal['deal_id']}").json()["extension"]["status"] == "approved"
