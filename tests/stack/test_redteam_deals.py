"""Red team: deal registrations of a terminated partner.

PA-13.3: "On termination: [...] deal registrations end". CPA-13.3: "On termination, [...] registrations end".
PA-5.5: "Once the winning registration expires or is withdrawn, other Partners may register the opportunity afresh."

Before the fix a registration still pending when its partner was terminated could be approved afterwards: the
terminated partner got 90 days of exclusivity (PA-5.3) and every live partner registering the same customer and
family was refused under PA-5.5; an approved one kept barring them until its exclusivity ran out.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from test_idempotency_api import close_date

from support import assert_problem, northwind_silver_partners

pytestmark = pytest.mark.stack


@pytest.fixture
def pair(stack: Any, api: Any) -> dict[str, Any]:
    return northwind_silver_partners(stack, api, ("Leaving", "Staying"), "Termination")


def _register(pair: dict[str, Any], stack: Any, index: int, customer: str) -> dict[str, Any]:
    partner_id, client = pair["partners"][index]
    body = {
        "partner_id": partner_id,
        "customer": {"id": customer, "name": "Harbor Logistics", "contact": "Dana Ortiz"},
        "family": "networking",
        "estimated_value": "84000.00",
        "expected_close": close_date(stack),
    }
    registered = client.post("/v1/deals", body)
    assert registered.status_code == 201, registered.text
    return dict(registered.json())


def _terminate(pair: dict[str, Any], index: int) -> None:
    partner_id, _ = pair["partners"][index]
    ended = pair["roles"]["legal"].post(f"/v1/partners/{partner_id}/terminate", {"reason": "material breach"})
    assert ended.status_code == 200, ended.text


def test_a_registration_pending_at_termination_is_never_approved(pair, stack):
    """PA-13.3 "deal registrations end": the reviewer's approval after the termination resolves as a rejection
    citing the termination clause, and the staying partner may register the opportunity and be approved."""
    ops = pair["roles"]["channel_ops"]
    customer = f"CUST-{uuid.uuid4().hex[:8]}"
    leaving = _register(pair, stack, 0, customer)
    _terminate(pair, 0)
    decided = ops.post(f"/v1/approvals/{leaving['approval_id']}/decision", {"outcome": "approved", "note": "ok"})
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "rejected"
    assert decided.json()["decision"]["resolved_by_rule"]["clause"] == "PA-13.3"
    read = ops.get(f"/v1/deals/{leaving['deal_id']}").json()
    assert read["status"] != "approved" and read["expires_at"] is None
    staying = _register(pair, stack, 1, customer)
    approved = ops.post(f"/v1/approvals/{staying['approval_id']}/decision", {"outcome": "approved"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text


def test_an_approved_registration_ends_with_its_partners_termination(pair, stack):
    """An approved registration of a terminated partner no longer bars others (PA-13.3 with PA-5.5), reads as
    `ended` citing the clause, and cannot be extended (PA-5.3 extends a live registration only)."""
    ops = pair["roles"]["channel_ops"]
    customer = f"CUST-{uuid.uuid4().hex[:8]}"
    leaving = _register(pair, stack, 0, customer)
    assert ops.post(f"/v1/approvals/{leaving['approval_id']}/decision", {"outcome": "approved"}).status_code == 200
    _terminate(pair, 0)
    read = ops.get(f"/v1/deals/{leaving['deal_id']}").json()
    assert read["status"] == "ended"
    assert read["ended"]["clause"] == "PA-13.3" and read["ended"]["rule_id"] == "PTR-TERMINATION"
    listed = [d for d in ops.get("/v1/deals", limit=200).json()["items"] if d["deal_id"] == leaving["deal_id"]]
    assert [d["status"] for d in listed] in ([], ["ended"])
    staying = _register(pair, stack, 1, customer)  # not a PA-5.5 conflict any more
    approved = ops.post(f"/v1/approvals/{staying['approval_id']}/decision", {"outcome": "approved"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
    _, leaving_key = pair["partners"][0]
    extension = leaving_key.post(f"/v1/deals/{leaving['deal_id']}/extension",
                                 {"proposal_reference": "PROP-1", "proposal_date": stack.runtime.clock.now_iso()[:10]})
    assert assert_problem(extension, 422)["clause"] == "PA-13.3"


def _decoded(cursor: str) -> str:
    """What a cursor says to whoever base64-decodes it (the embedded engine's cursors are base64 JSON)."""
    import base64
    import binascii

    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return cursor


def test_a_partner_paging_its_registrations_never_learns_a_rivals(pair, stack):
    """PA-11.1: "The Distributor does not disclose one Partner's pricing, registrations, rebates or Customers to
    another Partner"; API.md: "a partner never sees another partner's identity, prices or registrations".
    Before the fix a partner's `GET /v1/deals` paged the tenant's registrations and dropped the others': its pages
    came back empty where a rival's registration stood, with a `next_cursor` naming that registration's id."""
    (_, own), (rival_id, _) = pair["partners"]
    mine = [_register(pair, stack, 0, f"CUST-{uuid.uuid4().hex[:8]}")["deal_id"]]
    theirs = [_register(pair, stack, 1, f"CUST-{uuid.uuid4().hex[:8]}")["deal_id"] for _ in range(2)]
    mine.append(_register(pair, stack, 0, f"CUST-{uuid.uuid4().hex[:8]}")["deal_id"])
    others = {d["deal_id"] for d in _all_deals(pair["roles"]["channel_ops"])} - set(mine)
    assert set(theirs) <= others
    seen: list[str] = []
    cursor = None
    for _ in range(len(mine) + 2):
        page = own.get("/v1/deals", limit=1, **({"cursor": cursor} if cursor else {}))
        assert page.status_code == 200, page.text
        said = page.text + _decoded(page.json()["next_cursor"] or "")
        assert not [d for d in others if d in said] and rival_id not in said
        seen += [d["deal_id"] for d in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(mine)
    # a cursor of the staff list (it may stand on anyone's registration) is refused, not followed
    staff_cursor = pair["roles"]["channel_ops"].get("/v1/deals", limit=1).json()["next_cursor"]
    assert staff_cursor is not None
    assert_problem(own.get("/v1/deals", limit=1, cursor=staff_cursor), 400)


def _all_deals(staff: Any) -> list[dict[str, Any]]:
    found, cursor = [], None
    while True:
        page = staff.get("/v1/deals", limit=200, **({"cursor": cursor} if cursor else {})).json()
        found += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return found


def test_one_customer_is_one_customer_whatever_the_case_of_its_registration_number(pair, stack):
    """PA-5.4: "Only one approved registration may exist for a given Customer and Product Family at any time across
    all Partners"; PA-5.2: a registration "identifies the Customer legal entity and its tax or company registration
    number" (the customer id). A registration number reads the same in capitals or not (DE123456789 is de123456789):
    before the fix a rival registering the lower-cased number got a second approved registration for the customer."""
    ops = pair["roles"]["channel_ops"]
    number = f"DE{uuid.uuid4().int % 10**9:09d}"
    first = _register(pair, stack, 0, number)
    assert ops.post(f"/v1/approvals/{first['approval_id']}/decision", {"outcome": "approved"}).status_code == 200
    _, rival = pair["partners"][1]
    again = rival.post("/v1/deals", {
        "partner_id": pair["partners"][1][0],
        "customer": {"id": number.lower(), "name": "Harbor Logistics", "contact": "Dana Ortiz"},
        "family": "networking",
        "estimated_value": "84000.00",
        "expected_close": close_date(stack),
    })
    refused = assert_problem(again, 409)
    assert refused["clause"] == "PA-5.5" and "exclusivity_ends" in refused
