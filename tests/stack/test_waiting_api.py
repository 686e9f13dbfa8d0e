"""GET /v1/waiting over HTTP: a partner lists the approvals and exceptions that wait on it, and nothing else.

SOP-1.3 / COP-1.3: "The clock is paused only while an item is in the status "waiting on partner" and restarts when the
Partner responds." The partner must learn what it is to answer: it lists its own waiting items (the question, when it
was asked, the reply route). PA-11.1 / CPA-11.1: the Distributor does not disclose one Partner's data to another, and a
key id is the distributor's own (the staff read as their team, or not at all).
The sample shipment (4 x NW-SW-24P = 5,000.00) is billed and issued; the partner disputes its line: an approval in the
finance queue (SOP-6.1).
"""

from __future__ import annotations

import pytest

from billing_support import billing_tenant_in, issued_october
from support import assert_problem

pytestmark = pytest.mark.stack

# Fields the partner's view of a waiting item may carry: what is asked, of which item, how to answer it, and which
# desk has it (the team, never which member: 1.64.0)
SHOWN = {"kind", "approval_id", "category", "status", "subject", "question", "asked_at", "reply", "desk"}


@pytest.fixture
def billing_tenant(api, operator, stack):
    yield from billing_tenant_in(api, operator, stack)


def test_staff_ask_the_partner_lists_it_a_rival_sees_nothing_and_the_reply_ends_it(billing_tenant, api) -> None:
    tenant = billing_tenant
    october, own, rival = issued_october(tenant, api)
    filed = own.post(f"/v1/invoices/{october['invoice_id']}/disputes",
                     {"line_no": 1, "amount": "1250.00", "reason": "4 not 5"})  # fmt: skip
    assert filed.status_code == 201, filed.text
    approval, partner_id = filed.json()["approval_id"], filed.json()["partner_id"]
    rival_id = rival.get("/v1/me").json()["partner_id"]
    assert own.get("/v1/waiting").json() == {"items": [], "next_cursor": None}  # nothing asked yet
    asked = tenant.finance.post(f"/v1/approvals/{approval}/ask-partner", {"question": "signed delivery note?"})
    assert asked.status_code == 200, asked.text
    listed = own.get("/v1/waiting")
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()["items"]
    assert set(item) == SHOWN, item
    assert item["kind"] == "approval" and item["approval_id"] == approval
    assert item["status"] == "waiting_on_partner" and item["question"] == "signed delivery note?"
    assert item["asked_at"] == asked.json()["waiting"]["since"]
    assert item["reply"] == {"method": "POST", "path": f"/v1/approvals/{approval}/partner-reply"}
    assert item["desk"] == {"queue": "finance", "assigned": False}  # SOP-6.1: a line dispute is finance's
    # no staff key id, no requester, no context (the invoice's margin, the rival's id): PA-11.1
    assert "key_" not in listed.text and rival_id not in listed.text and "requested_by" not in listed.text
    # the partner names itself: the same; a rival's id, even of a partner of the tenant: 404 like one that is not
    assert own.get("/v1/waiting", partner_id=partner_id).json() == listed.json()
    assert_problem(own.get("/v1/waiting", partner_id=rival_id), 404)
    # the rival has nothing waiting on it, and cannot read the partner's
    assert rival.get("/v1/waiting").json() == {"items": [], "next_cursor": None}
    assert_problem(rival.get("/v1/waiting", partner_id=partner_id), 404)
    # staff name the partner (any partner of the tenant); without one 400, an unknown one 404, a malformed one 400
    assert tenant.finance.get("/v1/waiting", partner_id=partner_id).json() == listed.json()
    assert tenant.finance.get("/v1/waiting", partner_id=rival_id).json()["items"] == []
    assert_problem(tenant.finance.get("/v1/waiting"), 400)
    assert_problem(tenant.finance.get("/v1/waiting", partner_id="ptr_01JX0000000000000000000000"), 404)
    for bad in ("ptr_x", "' OR 1=1", partner_id.lower()):
        assert_problem(tenant.finance.get("/v1/waiting", partner_id=bad), 400)
    for bad in ({"limit": "0"}, {"limit": "abc"}, {"cursor": "not-a-cursor"}):
        assert_problem(own.get("/v1/waiting", **bad), 400)
    # the partner replies: the item is back in its queue and waits on no one
    replied = own.post(f"/v1/approvals/{approval}/partner-reply", {"reply": "DN-1182 attached"})
    assert replied.status_code == 200, replied.text
    assert own.get("/v1/waiting").json() == {"items": [], "next_cursor": None}
    assert tenant.finance.get("/v1/waiting", partner_id=partner_id).json()["items"] == []
