"""PA-5.3 over HTTP: "The Partner may request one extension of 30 days, before the period ends, where the opportunity
has reached the proposal stage; Channel Operations decides on the extension within 2 business days."
Dates are relative to the stack's clock."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from test_idempotency_api import close_date

from support import assert_problem, northwind_silver_partners

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def pair(stack: Any, api: Any) -> dict[str, Any]:
    return northwind_silver_partners(stack, api, ("Asker", "Other"), "Extension")


def _approved(pair: dict[str, Any], stack: Any, index: int = 0) -> dict[str, Any]:
    partner_id, client = pair["partners"][index]
    body = {
        "partner_id": partner_id,
        "customer": {"id": f"CUST-{uuid.uuid4().hex[:8]}", "name": "Harbor Logistics", "contact": "Dana Ortiz"},
        "family": "networking",
        "estimated_value": "84000.00",
        "expected_close": close_date(stack),
    }
    deal = client.post("/v1/deals", body).json()
    answer = pair["roles"]["channel_ops"].post(f"/v1/approvals/{deal['approval_id']}/decision", {"outcome": "approved"})
    assert answer.status_code == 200, answer.text
    return dict(client.get(f"/v1/deals/{deal['deal_id']}").json())


def _today(stack: Any) -> str:
    return str(stack.runtime.clock.now_iso()[:10])


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_partner_asks_channel_ops_grants_and_exclusivity_runs_30_days_longer(pair, stack):
    _, asker = pair["partners"][0]
    ops, admin = pair["roles"]["channel_ops"], pair["roles"]["admin"]
    deal = _approved(pair, stack)
    asked = asker.post(f"/v1/deals/{deal['deal_id']}/extension",
                       {"proposal_reference": "PROP-118", "proposal_date": _today(stack)})
    assert asked.status_code == 201, asked.text
    extension = asked.json()["extension"]
    assert extension["status"] == "pending" and extension["clause"] == "PA-5.3"
    approval = ops.get(f"/v1/approvals/{extension['approval_id']}").json()
    assert approval["queue"] == "channel_ops" and approval["sla_business_days"] == 2
    assert _at(approval["due_at"]).weekday() < 5  # business days, never a weekend
    # "one extension": a second request while the first waits is refused
    again = asker.post(f"/v1/deals/{deal['deal_id']}/extension",
                       {"proposal_reference": "PROP-119", "proposal_date": _today(stack)})
    assert assert_problem(again, 409)["clause"] == "PA-5.3"
    decided = ops.post(f"/v1/approvals/{extension['approval_id']}/decision", {"outcome": "approved"})
    assert decided.status_code == 200, decided.text
    extended = asker.get(f"/v1/deals/{deal['deal_id']}").json()
    assert (_at(extended["expires_at"]) - _at(deal["expires_at"])) == timedelta(days=30)
    assert extended["extension"]["status"] == "approved"
    assert extended["extension"]["previous_expires_at"] == deal["expires_at"]
    trail = admin.get("/v1/audit", subject=deal["deal_id"], limit=50).json()["items"]
    actions = [r["action"] for r in trail]
    assert "deal.extension_requested" in actions and "deal.extension_approved" in actions
    # and once granted, never again (PA-5.3 "one extension")
    third = asker.post(f"/v1/deals/{deal['deal_id']}/extension",
                       {"proposal_reference": "PROP-120", "proposal_date": _today(stack)})
    assert_problem(third, 409)


def test_a_refused_request_used_the_one_request_pa_5_3(pair, stack):
    _, asker = pair["partners"][0]
    ops = pair["roles"]["channel_ops"]
    deal = _approved(pair, stack)
    asked = asker.post(f"/v1/deals/{deal['deal_id']}/extension",
                       {"proposal_reference": "PROP-7", "proposal_date": _today(stack)}).json()
    refused = ops.post(f"/v1/approvals/{asked['extension']['approval_id']}/decision",
                       {"outcome": "rejected", "note": "the customer has no proposal on file"})
    assert refused.status_code == 200, refused.text
    seen = asker.get(f"/v1/deals/{deal['deal_id']}").json()
    assert seen["expires_at"] == deal["expires_at"] and seen["extension"]["status"] == "rejected"
    again = asker.post(f"/v1/deals/{deal['deal_id']}/extension",
                       {"proposal_reference": "PROP-8", "proposal_date": _today(stack)})
    assert assert_problem(again, 409)["clause"] == "PA-5.3"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, "/proposal_reference"),
        ({"proposal_reference": "", "proposal_date": "2026-01-01"}, "/proposal_reference"),
        ({"proposal_reference": "P", "proposal_date": "2026-02-30"}, "/proposal_date"),
        ({"proposal_reference": "P", "proposal_date": "yesterday"}, "/proposal_date"),
        ({"proposal_reference": "P", "proposal_date": "2026-01-01", "days": 90}, "/days"),
        ({"proposal_reference": "P", "proposal_date": "2026-01-01", "expires_at": "2030-01-01"}, "/expires_at"),
    ],
)
def test_bad_extension_requests_are_400_naming_the_field_and_change_nothing(pair, stack, body, path):
    _, asker = pair["partners"][0]
    deal = _approved(pair, stack)
    problem = assert_problem(asker.post(f"/v1/deals/{deal['deal_id']}/extension", body), 400)
    assert any(e["path"] == path for e in problem["errors"]), problem
    assert asker.get(f"/v1/deals/{deal['deal_id']}").json() == deal


def test_refused_requests_change_nothing(pair, stack):
    (_, asker), (other_id, other) = pair["partners"]
    deal = _approved(pair, stack)
    tomorrow = (date.fromisoformat(_today(stack)) + timedelta(days=1)).isoformat()
    early = {"proposal_reference": "P", "proposal_date": tomorrow}
    future = asker.post(f"/v1/deals/{deal['deal_id']}/extension", early)
    assert [e["path"] for e in assert_problem(future, 422)["errors"]] == ["/proposal_date"]
    # another partner's registration is not found, never forbidden
    foreign = other.post(f"/v1/deals/{deal['deal_id']}/extension",
                         {"proposal_reference": "P", "proposal_date": _today(stack)})
    assert_problem(foreign, 404)
    # a registration that is not approved (pending) has no exclusivity to extend
    pending = other.post("/v1/deals", {
        "partner_id": other_id,
        "customer": {"id": f"CUST-{uuid.uuid4().hex[:8]}", "name": "X", "contact": "Dana Ortiz"},
        "family": "networking", "estimated_value": "1000.00", "expected_close": close_date(stack),
    }).json()
    not_yet = other.post(f"/v1/deals/{pending['deal_id']}/extension",
                         {"proposal_reference": "P", "proposal_date": _today(stack)})
    assert assert_problem(not_yet, 422)["clause"] == "PA-5.3"
    assert asker.get(f"/v1/deals/{deal['deal_id']}").json() == deal
