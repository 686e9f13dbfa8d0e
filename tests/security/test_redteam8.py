"""Red team, eighth round: what a partner key (and the staff acting on what it sends) can make of the surface that
landed after round seven: security incidents (PA-11.2 / CPA-11.2), partner audits and their repayment (PA-12.1 /
CPA-12.1), commissions by payment month and referral acceptance (PA-8.1 / PA-8.2), review requests (PA-14.2) and the
copilot's own-data answers (PA-14.1).

Each test quotes the rule it holds the product to and failed before its fix.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

import clock_support
from security_support import make_party, offboard
from support import assert_problem

pytestmark = pytest.mark.stack

# Trojan Source (CVE-2021-42574): U+202E reverses what follows, so legal reads "…1000" where "0001…" was sent; ESC
# opens a terminal control sequence; U+200B hides a difference between two look-alike texts
SPOOFS = ["customer list of inv_01JX0000000000000000000001\u202e", "mailbox \u001b[31mcompromised", "ph\u200bishing"]


@pytest.fixture(scope="module")
def party(api: Any, operator: Any, stack: Any) -> Any:
    made = make_party(api, operator, stack, "northwind")
    yield made
    offboard(operator, made)


@pytest.mark.parametrize("summary", SPOOFS, ids=["rlo", "esc", "zwsp"])
def test_a_partners_incident_report_takes_no_invisible_or_control_character(party: Any, summary: str) -> None:
    """PA-11.2: "Each party notifies the other [...] of a security incident affecting the other's data, and cooperates
    in its investigation": the partner's report is its notice, and legal reads its summary to investigate it (SOP-1.2;
    the sweep's exception for legal). schemas/api/text.schema.json is "the one definition of caller text that staff
    read": it refuses bidirectional overrides (U+202A-U+202E), C0/C1 controls other than line breaks and tabs, and
    zero-width characters (Unicode TR#36 / UTS#39, CVE-2021-42574). The summary took them all and kept them as sent.
    Now: a 400 naming /summary (RFC 9457), nothing recorded."""
    mine = party.partners[0]
    partner = party.partner_keys[mine]
    before = partner.get("/v1/security-incidents").json()["items"]
    problem = assert_problem(partner.post("/v1/security-incidents",
                                          {"became_aware_at": "2026-12-01T08:00:00Z", "summary": summary}), 400)
    assert [e["path"] for e in problem["errors"]] == ["/summary"], problem
    assert partner.get("/v1/security-incidents").json()["items"] == before
    legal = party.by_role["legal"]
    problem = assert_problem(legal.post("/v1/security-incidents", {"partner_id": mine, "summary": summary,
                                                                   "became_aware_at": "2026-12-01T08:00:00Z"}), 400)
    assert [e["path"] for e in problem["errors"]] == ["/summary"], problem
    # ordinary text, line breaks included, is kept
    kept = partner.post("/v1/security-incidents", {"became_aware_at": "2026-12-01T08:00:00Z",
                                                   "summary": "Phishing: support mailbox\nZürich office, 12 contacts"})
    assert kept.status_code == 201, kept.text
    assert kept.json()["summary"] == "Phishing: support mailbox\nZürich office, 12 contacts"


def test_pa_11_2_a_suspended_partner_still_gives_its_incident_notice(party: Any) -> None:
    """PA-11.2: "Each party notifies the other without undue delay, and in any event within 72 hours, of a security
    incident affecting the other's data". PA-13.2 suspends a Partner "from new quotes, orders, deal registrations and
    incentive accrual, without terminating this Agreement": the duty to notify goes on, and the partner's report
    through its key is its notice (1.43.0). PA-9.6 keeps a suspended partner's portal read-only, and the edge refused
    the report with that 403 (a write not declared `open_when_suspended`): a suspended partner that found a breach of
    the distributor's data could not give the notice the agreement requires of it, and legal's watch never learned of
    it. Now the report is taken (201, its notice received now) and nothing else of the partner's opens."""
    mine = party.partners[1]
    partner, ops = party.partner_keys[mine], party.by_role["channel_ops"]
    moved = ops.post(f"/v1/partners/{mine}/suspend", {"reason": "PA-13.2(e) suspension for the probe"})
    assert moved.status_code == 200 and moved.json()["status"] == "suspended", moved.text
    try:
        reported = partner.post("/v1/security-incidents", {
            "became_aware_at": "2026-12-01T08:00:00Z", "summary": "Stolen laptop with the distributor's price list"})
        assert reported.status_code == 201, reported.text
        assert (reported.json()["partner_id"], reported.json()["notifying_party"]) == (mine, "partner")
        listed = party.by_role["legal"].get(f"/v1/security-incidents?partner_id={mine}").json()["items"]
        assert [i["incident_id"] for i in listed] == [reported.json()["incident_id"]]
        # PA-9.6 still holds for what the suspension stops (PA-13.2 "deal registrations"; a non-renewal notice, once
        # the example here, is a notice PA-13.1 keeps open since 1.46.2: tests/stack/test_redteam2_suspended_partner.py)
        refused = partner.post("/v1/deals/dl_01JX0000000000000000000000/extension",
                               {"proposal_reference": "PROP-SUSP-8", "proposal_date": "2026-12-01"})
        assert refused.status_code == 403 and refused.json()["clause"] == "PA-9.6", refused.text
    finally:
        assert ops.post(f"/v1/partners/{mine}/reinstate", {"reason": "probe over"}).status_code == 200


@pytest.mark.parametrize(("quarter", "status"), [("0000-Q1", 400), ("9999-Q4", 422)])
def test_an_audit_finding_for_a_quarter_at_the_calendars_edge_is_a_problem_not_a_500(party: Any, quarter: str,
                                                                                     status: int) -> None:
    """COMMON / RFC 9457: bad input is a problem naming the field, never a 500. The finding's schema takes any
    `^[0-9]{4}-Q[1-4]$`: 0000-Q1 names a year no calendar has (datetime.date refuses year 0) and 9999-Q4 ends on
    9999-12-31, whose next day the code computed to find the Quarter's last (year 10000). Both were a 500 from
    `POST /v1/partners/{partner_id}/audits/{audit_id}/findings`; now 0000-Q1 is a 400 on /quarter and 9999-Q4 the
    422 of a Quarter that has not ended (PA-12.1 findings are of audited, ended Quarters); nothing recorded."""
    mine = party.partners[0]
    finance = party.by_role["finance"]
    starts = clock_support.today() + timedelta(days=60)
    while starts.weekday() >= 5:
        starts += timedelta(days=1)
    listed = finance.get(f"/v1/partners/{mine}/audits").json()["audits"]
    audit = listed[0] if listed else finance.post(f"/v1/partners/{mine}/audits",
                                                  {"starts_on": starts.isoformat()}).json()
    nil = {"rebate": "0.00", "spiff": "0.00", "commission": "0.00", "mdf": "0.00"}
    answer = finance.post(f"/v1/partners/{mine}/audits/{audit['audit_id']}/findings",
                          {"quarter": quarter, "verified": nil})
    problem = assert_problem(answer, status)
    assert "/quarter" in {e["path"] for e in problem.get("errors", [])}, problem
    assert finance.get(f"/v1/partners/{mine}/audits/{audit['audit_id']}").json()["findings"] == []


def test_pa_14_2_a_suspended_partner_may_still_ask_for_human_review_of_an_automated_decision(party: Any) -> None:
    """PA-14.2: "Quote checks, discount approval routing, rebate calculations, entitlement checks and invoice
    validations may be made automatically [...] A Partner may request human review of any automated decision within
    30 days of being notified of it" (CPA-14.2 likewise). PA-13.2 suspends a Partner "from new quotes, orders, deal
    registrations and incentive accrual": not from asking for review, and the 30 days run during the suspension. The
    edge refused the request with PA-9.6's read-only 403, so a suspended partner could not have a person look at the
    entitlement check that withholds its entitlements (the very decision the suspension changed) before its window
    closed. Now the request is taken (201, a customer_success case) on either review route; PA-9.6 still refuses
    what the suspension stops."""
    mine = party.partners[1]
    partner, ops = party.partner_keys[mine], party.by_role["channel_ops"]
    moved = ops.post(f"/v1/partners/{mine}/suspend", {"reason": "PA-13.2(e) suspension for the probe"})
    assert moved.status_code == 200 and moved.json()["status"] == "suspended", moved.text
    try:
        checked = partner.get(f"/v1/partners/{mine}/entitlements/managed_support")
        assert checked.status_code == 200 and checked.json()["entitled"] is False, checked.text
        asked = partner.post("/v1/review-requests", {"kind": "entitlement_check", "entitlement": "managed_support",
                                                     "reason": "our entitlements were withheld in error"})
        assert asked.status_code == 201, asked.text
        review = partner.get(f"/v1/review-requests/{asked.json()['review_id']}")
        assert review.status_code == 200 and review.json()["partner_id"] == mine, review.text
        refused = partner.post("/v1/deals", {"partner_id": mine, "family": "networking",
                                             "customer": {"id": "C-SUSP-8", "name": "Harbor", "contact": "A. Lee"},
                                             "estimated_value": "1000.00",
                                             "expected_close": clock_support.today().isoformat()})
        assert refused.status_code == 403 and refused.json()["clause"] == "PA-9.6", refused.text
    finally:
        assert ops.post(f"/v1/partners/{mine}/reinstate", {"reason": "probe over"}).status_code == 200


def test_pa_11_2_a_partners_incident_report_reaches_legal_at_once(party: Any) -> None:
    """PA-11.2: "Each party notifies the other without undue delay, and in any event within 72 hours, of a security
    incident affecting the other's data, and cooperates in its investigation" (CPA-11.2: breaches "notified to the
    other party"); SOP-1.2 / COP-1.2: legal handles them ("data protection requests"). A partner's report through
    its key is its notice to the distributor (1.43.0). Reported in time, it opened no case, published nothing and
    told no one: the notice lay in a table until someone listed the incidents, and the distributor's own clock for
    its data (and the investigation the clause has both parties cooperate in) started unseen. Now the report opens
    one exception for legal at once, naming the incident, the partner and when the notice was received (a report
    while it is open joins it: one case per partner at a time); the hourly watch opens no second one."""
    mine = party.partners[0]
    partner, legal = party.partner_keys[mine], party.by_role["legal"]
    aware = (clock_support.now() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    reported = partner.post("/v1/security-incidents", {"became_aware_at": aware,
                                                       "summary": "Customer contact export sent to a wrong address"})
    assert reported.status_code == 201 and reported.json()["notice"] == "on_time", reported.text
    incident_id = reported.json()["incident_id"]
    exception_id = legal.get(f"/v1/security-incidents/{incident_id}").json()["exception_id"]
    assert exception_id, reported.text
    case = legal.get(f"/v1/exceptions/{exception_id}").json()
    assert (case["queue"], case["partner_id"], case["status"]) == ("legal", mine, "open")
    assert case["subject"]["kind"] == "security_incident" and incident_id in case["context"]["incidents"]
    assert {"rule_id": "SEC-INCIDENT-NOTICE", "clause": "PA-11.2"}.items() <= case["reasons"][-1].items()
    # a report after it joins the same open exception: one case at a time per partner, not one per request
    again = partner.post("/v1/security-incidents", {"became_aware_at": aware, "summary": "A second export"})
    assert again.status_code == 201 and again.json()["exception_id"] == exception_id, again.text
    legal_cases = [c for c in legal.get("/v1/exceptions", limit=200).json()["items"]
                   if c["partner_id"] == mine and c["category"] == case["category"] and c["status"] == "open"]
    assert len(legal_cases) == 1, legal_cases
