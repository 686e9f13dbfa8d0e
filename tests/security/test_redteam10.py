"""Red team, tenth round: a partner key (and the staff whose writes decide what it reads) against what landed in the
last two sessions and the edges earlier rounds left: partner-specific contracts through the API (the copilot over a
tenant's own documents, PA-14.1 / PA-11.1), ...

Each test quotes the rule it holds the product to and failed before its fix. A tenant of the module's own
(make_party), so nothing here reads what the shared tenants' background events did.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

import clock_support
from revgov.ports import Changes, Put
from security_support import make_party, offboard, random_id
from support import assert_problem

pytestmark = pytest.mark.stack

QUESTION = "What extra special rebate is earned on fiber optic transceivers?"


@pytest.fixture(scope="module")
def party(api: Any, operator: Any, stack: Any) -> Any:
    made = make_party(api, operator, stack, "northwind")
    yield made
    offboard(operator, made)


def _letter(partner_line: str, *, where: str) -> str:
    """A side letter granting one partner a confidential extra rebate; its `Partner:` line in the header (where the
    schema puts it), after the first section heading as a hurried edit would put it, or in the clause's text of a
    letter without sections."""
    header = "# Acme side letter\n\nDocument: ASL\nVersion: 2026.1\nEffective: 2026-01-01\n"
    body = ("## 1. Special terms\n\n### ASL-1.1 Special rebate\nAcme earns an extra special rebate of 7% on fiber "
            "optic transceivers, paid quarterly by credit note.\n")
    if where == "header":
        return f"{header}{partner_line}\n\n{body}"
    if where == "clause":  # a letter without sections, its Partner line in the clause's text
        return f"{header}\n{body.split(chr(10) * 2, 1)[1]}{partner_line}\n"
    section, rest = body.split("\n\n", 1)
    return f"{header}\n{section}\n{partner_line}\n\n{rest}"


def _cited(answer: dict[str, Any]) -> set[str]:
    return {c["clause"] for c in answer["citations"]}


@pytest.mark.parametrize("where, line", [
    ("section", "Partner: {mine}"),  # after the first section heading: the tenant-wide header ends before it
    ("header", "Partner: {mine} (Acme Ltd)"),  # a partner named with words after its id
    ("header", "partner: {mine}"),  # the header's key in lower case
    ("header", "Partner: {mine}\nPartner: {other}"),  # two partners: which one was meant?
    ("clause", "Partner: {mine}"),  # in a clause's text: read as the header of a letter without sections
], ids=["after-a-section", "words-after-the-id", "lower-case", "two-partners", "in-a-clause"])
def test_pa_11_1_a_side_letter_whose_partner_line_is_not_read_is_refused_not_published(
        party: Any, where: str, line: str) -> None:
    """PA-11.1: "The Distributor does not disclose one Partner's pricing, registrations, rebates or Customers to
    another Partner, including through the contract copilot"; PA-14.1 "The copilot only accesses data of the Partner
    asking". The contract schema (contract-document.schema.json): "An optional `Partner: ptr_…` header line makes it
    that partner's own contract." A side letter whose Partner line was not where or as the parser reads it (after the
    first `## ` section, an id followed by words, `partner:` in lower case) was stored and indexed as a tenant-wide
    document: every other partner's copilot quoted the 7% rebate; with two Partner lines the first silently won; and
    in a document without sections a Partner line in a clause's text was read as its header (a tenant-wide contract
    amended with one became that partner's alone, gone from every other partner's copilot).
    Now each is a 400 naming /markdown (RFC 9457), nothing stored or indexed; the same letter with its Partner line
    in the header is that partner's alone (positive control)."""
    mine, other = party.partners
    legal = party.by_role["legal"]
    letter = _letter(line.format(mine=mine, other=other), where=where)
    problem = assert_problem(legal.request("PUT", "/v1/contracts/ASL", {"markdown": letter}), 400)
    assert [e["path"] for e in problem["errors"]] == ["/markdown"], problem
    assert legal.get("/v1/contracts/ASL").status_code == 404
    rival = party.partner_keys[other].post("/v1/copilot/ask", {"question": QUESTION})
    assert rival.status_code == 200 and "ASL-1.1" not in _cited(rival.json()), rival.text
    assert "ASL" not in rival.json()["searched"]["documents"]


def test_pa_11_1_a_side_letter_with_its_partner_line_in_the_header_is_that_partners_only(party: Any) -> None:
    """The positive control of the test above: `Partner: ptr_…` in the header makes the letter the partner's own
    contract; the partner's copilot quotes it, the other partner's neither quotes nor lists it (PA-11.1, PA-14.1)."""
    mine, other = party.partners
    legal = party.by_role["legal"]
    put = legal.request("PUT", "/v1/contracts/ASL", {"markdown": _letter(f"Partner: {mine}", where="header")})
    assert put.status_code == 200, put.text
    try:
        own = party.partner_keys[mine].post("/v1/copilot/ask", {"question": QUESTION}).json()
        assert "ASL-1.1" in _cited(own) and "7%" in own["answer"], own
        rival = party.partner_keys[other].post("/v1/copilot/ask", {"question": QUESTION}).json()
        assert "ASL-1.1" not in _cited(rival) and "ASL" not in rival["searched"]["documents"], rival
    finally:
        assert legal.delete("/v1/contracts/ASL").status_code == 200


# --- orders recorded against a registration (PA-5.3: "expires at the end of its exclusivity period unless an order has
# been accepted") while the partner may not order -------------------------------------------------------------------
def _approved_registration(party: Any, partner_id: str) -> dict[str, Any]:
    """An approved northwind registration of a fresh customer in networking (the family its certification covers)."""
    close = (clock_support.today() + timedelta(days=45)).isoformat()
    made = party.partner_keys[partner_id].post("/v1/deals", {
        "partner_id": partner_id, "customer": {"id": f"CUST-{uuid.uuid4().hex[:8]}", "name": "Ordered GmbH",
                                               "contact": "Dana Ortiz"},
        "family": "networking", "estimated_value": "50000.00", "expected_close": close})
    assert made.status_code == 201, made.text
    decided = party.by_role["channel_ops"].post(f"/v1/approvals/{made.json()['approval_id']}/decision",
                                                {"outcome": "approved", "note": "first"})
    assert decided.status_code == 200, decided.text
    deal = party.by_role["channel_ops"].get(f"/v1/deals/{made.json()['deal_id']}").json()
    assert deal["status"] == "approved", deal
    return dict(deal)


def _now() -> str:
    return clock_support.now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_pa_13_2_no_order_accepted_during_a_suspension_keeps_a_registration_past_its_period(party: Any) -> None:
    """PA-13.2: "The Distributor may suspend a Partner from new quotes, orders, deal registrations and incentive
    accrual [...] Orders already accepted are fulfilled unless the reason is (b)" (CPA-13.2). PA-5.3: a registration
    "expires at the end of its exclusivity period unless an order has been accepted". Channel ops recorded an order
    accepted while the partner was suspended (POST /v1/deals/{id}/order): the registration then outlived its period and
    kept barring every other partner from the customer, on an order the suspension withheld. Round nine closed the
    same gap for a quote's approval and a registration's review. Now an order whose accepted_at falls in a suspension
    (while it lasts or after it was lifted) is a 422 naming PTR-SUSPENSION / PA-13.2 and /accepted_at, nothing
    recorded; an order accepted before the suspension is recorded as before (positive control: "already accepted")."""
    mine = party.partners[1]
    ops = party.by_role["channel_ops"]
    deal = _approved_registration(party, mine)
    before_suspension = _now()
    moved = ops.post(f"/v1/partners/{mine}/suspend", {"reason": "PA-13.2(c) an amount more than 60 days overdue"})
    assert moved.status_code == 200 and moved.json()["status"] == "suspended", moved.text
    during = _now()
    try:
        problem = assert_problem(ops.post(f"/v1/deals/{deal['deal_id']}/order",
                                          {"order_ref": "SO-SUSPENDED-1", "accepted_at": during}), 422)
        assert (problem["rule_id"], problem["clause"]) == ("PTR-SUSPENSION", "PA-13.2"), problem
        assert [e["path"] for e in problem["errors"]] == ["/accepted_at"], problem
        assert "order" not in ops.get(f"/v1/deals/{deal['deal_id']}").json() or \
            not ops.get(f"/v1/deals/{deal['deal_id']}").json()["order"]
    finally:
        assert ops.post(f"/v1/partners/{mine}/reinstate", {"reason": "PA-13.2 reason cured"}).status_code == 200
    # lifted: an order accepted during the suspension is still one the suspension withheld
    problem = assert_problem(ops.post(f"/v1/deals/{deal['deal_id']}/order",
                                      {"order_ref": "SO-SUSPENDED-1", "accepted_at": during}), 422)
    assert problem["rule_id"] == "PTR-SUSPENSION", problem
    kept = ops.post(f"/v1/deals/{deal['deal_id']}/order",
                    {"order_ref": "SO-BEFORE-1", "accepted_at": before_suspension})
    assert kept.status_code == 200, kept.text
    assert kept.json()["order"]["order_ref"] == "SO-BEFORE-1", kept.json()


def test_pa_4_3_no_order_accepted_after_the_familys_certification_expired_keeps_a_registration(party: Any) -> None:
    """PA-4.3: "From the moment a certification expires [...] (b) where the Partner holds no other valid certification
    in the same Product Family, the Partner may not quote, order or register deals for Products of that Product
    Family; [...] (d) approved deal registrations in that Product Family are suspended, with the exclusivity period
    continuing to run [...] Orders accepted before the expiry are fulfilled." An order channel ops recorded as
    accepted after the expiry, while the registration was suspended under (d), was kept: the suspended registration
    outlived its period on an order (b) forbids. Now a 422 naming the hold's rule (DR-CERT-LAPSE / PA-4.3)
    and /accepted_at, nothing recorded."""
    mine = party.partners[0]
    ops = party.by_role["channel_ops"]
    deal = _approved_registration(party, mine)
    stored = party.rt.store.get(party.tenant_id, "PARTNER", mine)
    certifications = dict(stored.data["certifications"])
    yesterday = (clock_support.today() - timedelta(days=1)).isoformat()
    earlier = (clock_support.today() - timedelta(days=400)).isoformat()
    for cert_id, record in certifications.items():  # every certification ended yesterday: networking is barred
        certifications[cert_id] = {**record, "issued_at": earlier, "earned_at": earlier, "valid_since": earlier,
                                   "expires_at": yesterday}
    party.rt.store.commit(party.tenant_id, Changes(puts=[Put("PARTNER", mine, {**stored.data,
                                                                                "certifications": certifications})]))
    held = ops.get(f"/v1/deals/{deal['deal_id']}").json()
    assert held["status"] == "suspended", held  # PA-4.3(d), the registration's own answer
    problem = assert_problem(ops.post(f"/v1/deals/{deal['deal_id']}/order",
                                      {"order_ref": "SO-LAPSED-1", "accepted_at": _now()}), 422)
    assert problem["clause"] == "PA-4.3" and [e["path"] for e in problem["errors"]] == ["/accepted_at"], problem
    assert not ops.get(f"/v1/deals/{deal['deal_id']}").json().get("order"), "an order was recorded"


# --- an audit record explained (GET /v1/decisions/{aud_…}/explain, `dec|aud`) ----------------------------------------
def test_pa_12_1_a_partner_explains_every_record_it_is_given_and_reads_there_what_the_list_shows(party: Any) -> None:
    """PA-12.1: the Distributor "keeps an audit trail of every automated decision and approval [...] and provides the
    Partner, on request, with the records relating to the Partner"; PA-14.2: "Each automated decision records the rules
    and clauses applied and can be explained on request". `GET /v1/audit` gives a partner key its records (masked by
    `audit_view.partner_view`); `GET /v1/decisions/{id}/explain` takes "a decision, or an audit record" (`dec|aud`).
    The explanation of the partner's own quote check, of channel ops' approval and rejection of its registration was a
    404 "no decision" (the record's subject is a decision or registration id, which the explain path did not count as
    the partner's), though the list had just shown it. And what the explain path did show was masked only as a
    decision is (actors to teams), not as the list masks a record (key ids and e-mail addresses in any text, another
    partner's id). Now each listed record is explained, from the list's own masked view; the other partner's key gets
    the 404 of an id that does not exist."""
    other, mine = party.partners  # the first one's certifications were ended by the order test above
    key, ops = party.partner_keys[mine], party.by_role["channel_ops"]
    close = (clock_support.today() + timedelta(days=45)).isoformat()
    customer = {"id": f"CUST-{uuid.uuid4().hex[:8]}", "name": "Ex AG", "contact": "Dana Ortiz"}
    made = key.post("/v1/deals", {"partner_id": mine, "customer": customer, "family": "networking",
                                  "estimated_value": "1000.00", "expected_close": close})
    assert made.status_code == 201, made.text
    rejected = ops.post(f"/v1/approvals/{made.json()['approval_id']}/decision",
                        {"outcome": "rejected", "note": f"ask jane.doe@distributor.example; not {other}"})
    assert rejected.status_code == 200, rejected.text
    checked = key.post("/v1/pricing/check", {
        "partner_id": mine, "quote_ref": "Q-EXPLAIN", "customer": {"id": "CUST-EXPLAIN", "name": "Ex AG"},
        "lines": [{"line_id": "1", "sku": "NW-SW-24P", "quantity": 1, "discount_percent": "1.00"}]})
    assert checked.status_code == 200, checked.text
    listed = key.get("/v1/audit", limit=200).json()["items"]
    actions = {r["action"] for r in listed}
    assert {"deal.registered", "deal.rejected", "pricing.checked"} <= actions, actions
    staff_keys = set(party.key_ids.values())
    for record in listed:
        explained = key.get(f"/v1/decisions/{record['record_id']}/explain")
        assert explained.status_code == 200, (record["action"], explained.text)
        text = explained.text
        assert not [k for k in staff_keys if k in text] and "@" not in text and other not in text, text
        assert record["action"] in text and explained.json()["decision_id"] == record["record_id"], text
        foreign = party.partner_keys[other].get(f"/v1/decisions/{record['record_id']}/explain")
        unknown = party.partner_keys[other].get(f"/v1/decisions/{random_id('aud')}/explain")
        assert (foreign.status_code, foreign.json()["type"]) == (unknown.status_code, unknown.json()["type"]) == (
            404, unknown.json()["type"]), foreign.text
