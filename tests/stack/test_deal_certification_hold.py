"""PA-4.3(d) over HTTP: an approved registration whose partner's certification in the family expired.

PA-4.3: "From the moment a certification expires, and until a valid certification of the same id is recorded: [...]
(d) approved deal registrations in that Product Family are suspended, with the exclusivity period continuing to run,
and they lapse if a valid certification is not recorded within 30 days after expiry."
Dates are relative to the stack's clock (the certification is recorded as expired N days before "today").
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from test_idempotency_api import close_date

from support import assert_problem, northwind_silver_partners

pytestmark = pytest.mark.stack


@pytest.fixture()
def pair(stack: Any, api: Any) -> dict[str, Any]:
    return northwind_silver_partners(stack, api, ("Holder", "Rival"), "Hold")


def _registration(partner_id: str, customer: str, close: str) -> dict[str, Any]:
    return {
        "partner_id": partner_id,
        "customer": {"id": customer, "name": "Harbor Logistics", "contact": "Dana Ortiz"},
        "family": "networking",
        "estimated_value": "84000.00",
        "expected_close": close,
    }


def _expire(pair: dict[str, Any], partner_id: str, today: date, days_ago: int) -> None:
    """The partner's only networking certification, recorded as expired `days_ago` days before today."""
    lapsed = {
        "certification_id": "cert-network-core",
        "earned_at": (today - timedelta(days=400)).isoformat(),
        "expires_at": (today - timedelta(days=days_ago)).isoformat(),
    }
    answer = pair["roles"]["sales"].post(f"/v1/partners/{partner_id}/certifications", lapsed)
    assert answer.status_code == 201, answer.text


def test_a_registration_is_suspended_while_exclusivity_runs_then_lapses_pa_4_3_d(pair, stack):
    (holder_id, holder), (rival_id, rival) = pair["partners"]
    ops = pair["roles"]["channel_ops"]
    today = date.fromisoformat(stack.runtime.clock.now_iso()[:10])
    customer = f"CUST-{uuid.uuid4().hex[:8]}"
    deal = holder.post("/v1/deals", _registration(holder_id, customer, close_date(stack))).json()
    assert ops.post(f"/v1/approvals/{deal['approval_id']}/decision", {"outcome": "approved"}).status_code == 200
    approved = holder.get(f"/v1/deals/{deal['deal_id']}").json()
    assert approved["status"] == "approved" and "certification_hold" not in approved

    _expire(pair, holder_id, today, days_ago=1)  # expired at 00:00 UTC today: suspended
    seen = holder.get(f"/v1/deals/{deal['deal_id']}").json()
    assert seen["status"] == "suspended" and seen["certification_hold"]["clause"] == "PA-4.3"
    assert seen["expires_at"] == approved["expires_at"]  # "the exclusivity period continuing to run"
    assert seen["certification_hold"]["lapses_at"][:10] == (today + timedelta(days=30)).isoformat()
    listed = {d["deal_id"]: d for d in ops.get("/v1/deals", limit=100).json()["items"]}
    assert listed[deal["deal_id"]]["status"] == "suspended"
    # still exclusive: the rival is refused under PA-5.5 and learns only when the exclusivity ends
    refused = assert_problem(rival.post("/v1/deals", _registration(rival_id, customer, close_date(stack))), 409)
    assert refused["clause"] == "PA-5.5" and holder_id not in str(refused)
    # no registration discount while suspended: the quote naming it is refused with the clause
    quote = {
        "partner_id": holder_id,
        "customer": {"id": customer, "name": "Harbor Logistics"},
        "deal_registration_id": deal["deal_id"],
        "lines": [{"line_id": "1", "sku": "NW-SW-24P", "quantity": 1}],
    }
    problem = assert_problem(holder.post("/v1/pricing/check", quote), 422)
    assert problem["clause"] == "PA-4.3" and "suspended" in problem["detail"]

    _expire(pair, holder_id, today, days_ago=31)  # no valid certification recorded within 30 days: lapsed
    gone = holder.get(f"/v1/deals/{deal['deal_id']}").json()
    assert gone["status"] == "lapsed" and gone["certification_hold"]["status"] == "lapsed"
    # a lapsed registration protects nobody: the rival may register the opportunity afresh
    fresh = rival.post("/v1/deals", _registration(rival_id, customer, close_date(stack)))
    assert fresh.status_code == 201, fresh.text
    # a certification recorded after the lapse does not bring the registration back ("they lapse if a valid
    # certification is not recorded within 30 days after expiry")
    renewed = {"certification_id": "cert-network-core", "earned_at": today.isoformat()}
    assert pair["roles"]["sales"].post(f"/v1/partners/{holder_id}/certifications", renewed).status_code == 201
    still = holder.get(f"/v1/deals/{deal['deal_id']}").json()
    assert still["status"] == "lapsed" and "recorded only on" in still["certification_hold"]["message"]


def test_a_certification_recorded_within_the_30_days_lifts_the_suspension_pa_4_3_d(pair, stack):
    (holder_id, holder), _ = pair["partners"]
    ops = pair["roles"]["channel_ops"]
    today = date.fromisoformat(stack.runtime.clock.now_iso()[:10])
    deal = holder.post("/v1/deals", _registration(holder_id, f"CUST-{uuid.uuid4().hex[:8]}", close_date(stack))).json()
    assert ops.post(f"/v1/approvals/{deal['approval_id']}/decision", {"outcome": "approved"}).status_code == 200
    _expire(pair, holder_id, today, days_ago=1)
    assert holder.get(f"/v1/deals/{deal['deal_id']}").json()["status"] == "suspended"
    renewed = {"certification_id": "cert-network-core", "earned_at": today.isoformat()}
    assert pair["roles"]["sales"].post(f"/v1/partners/{holder_id}/certifications", renewed).status_code == 201
    back = holder.get(f"/v1/deals/{deal['deal_id']}").json()
    assert back["status"] == "approved" and "certification_hold" not in back


@pytest.mark.parametrize(
    ("received", "status"), [("2026-11-19", 400), ("not-a-time", 400), ("2999-01-01T00:00:00Z", 422)]
)
def test_pa_4_2_a_malformed_or_future_evidence_receipt_is_refused_naming_the_field(pair, stack, received, status):
    """PA-4.2 "within 2 business days of receipt of evidence": `evidence_received_at` is an RFC 3339 UTC instant,
    not in the future; otherwise a problem+json naming /evidence_received_at, and nothing is recorded."""
    (holder_id, _), _ = pair["partners"]
    today = date.fromisoformat(stack.runtime.clock.now_iso()[:10])
    body = {"certification_id": "cert-security-pro", "earned_at": (today - timedelta(days=3)).isoformat(),
            "evidence_received_at": received}  # fmt: skip
    problem = assert_problem(pair["roles"]["sales"].post(f"/v1/partners/{holder_id}/certifications", body), status)
    assert "/evidence_received_at" in str(problem)
    partner = pair["roles"]["channel_ops"].get(f"/v1/partners/{holder_id}").json()
    assert "cert-security-pro" not in (partner.get("certifications") or {})
