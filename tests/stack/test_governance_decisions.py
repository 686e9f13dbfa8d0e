"""Refused governance actions leave an audit record, and a conflicting deal registration ends as a decision.

SOP-4.3: "A requester can never approve their own request. [...] Any attempt to self-approve is rejected and recorded
in the audit log." (contoso COP-4.3 likewise.) DESIGN.md: every "refused governance action (self-approval, wrong
queue)" produces one audit record.
PA-5.5: "If two or more Partners register the same Customer and Product Family, the first approved registration wins.
[...] A registration that conflicts with an approved, unexpired registration is rejected with reference to this
clause, and the rejected Partner is told the date on which the conflicting exclusivity period ends but not the
identity of the other Partner."
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from test_idempotency_api import close_date
from test_pricing_api import nw, quote  # noqa: F401 - two active silver partners of northwind

from support import ROOT, assert_problem

pytestmark = pytest.mark.stack


def _trail(admin: Any, subject: str) -> list[dict[str, Any]]:
    return list(admin.get("/v1/audit", subject=subject, limit=200).json()["items"])


def test_a_self_approval_is_refused_403_and_recorded_on_the_chain_with_sop_4_3(nw):  # noqa: F811
    ops, admin = nw["roles"]["channel_ops"], nw["roles"]["admin"]
    partner_id, _ = nw["partners"][0]
    checked = ops.post("/v1/pricing/check", quote("above_cap", partner_id)).json()
    approval_id = checked["approvals"][0]["approval_id"]
    assert_problem(ops.post(f"/v1/approvals/{approval_id}/decision", {"outcome": "approved", "note": "mine"}), 403)
    refusals = [r for r in _trail(admin, approval_id) if r["action"] == "approval.decision_refused"]
    assert len(refusals) == 1
    record = refusals[0]
    assert record["outcome"] == "refused" and "SOP-4.3" in record["clauses"]
    assert record["inputs"]["refusal"] == "self_approval" and record["inputs"]["attempted_outcome"] == "approved"
    assert ops.get(f"/v1/approvals/{approval_id}").json()["status"] == "pending"  # nothing changed
    assert admin.get("/v1/audit/verify").json()["valid"] is True


def test_a_wrong_queue_and_a_second_decision_are_refused_and_recorded(nw):  # noqa: F811
    sales, ops, finance, admin = (nw["roles"][r] for r in ("sales", "channel_ops", "finance", "admin"))
    partner_id, _ = nw["partners"][0]
    checked = sales.post("/v1/pricing/check", quote("above_cap", partner_id)).json()
    approval_id = checked["approvals"][0]["approval_id"]
    assert_problem(finance.post(f"/v1/approvals/{approval_id}/decision", {"outcome": "approved"}), 403)
    assert ops.post(f"/v1/approvals/{approval_id}/decision", {"outcome": "approved"}).status_code == 200
    assert_problem(ops.post(f"/v1/approvals/{approval_id}/decision", {"outcome": "rejected", "note": "again"}), 409)
    refusals = {r["inputs"]["refusal"]: r for r in _trail(admin, approval_id) if r["outcome"] == "refused"}
    assert set(refusals) == {"wrong_queue", "already_decided"}
    assert refusals["wrong_queue"]["actor_role"] == "finance" and refusals["wrong_queue"]["clauses"] == ["SOP-4.1"]
    assert admin.get("/v1/audit/verify").json()["valid"] is True


def _registration(partner_id: str, customer: str, close: str) -> dict[str, Any]:
    return {
        "partner_id": partner_id,
        "customer": {"id": customer, "name": "Harbor Logistics", "contact": "Dana Ortiz"},
        "family": "networking",
        "estimated_value": "84000.00",
        "expected_close": close,
    }


def test_approving_a_registration_that_lost_to_an_earlier_approval_rejects_it_with_pa_5_5(nw, stack, monkeypatch):  # noqa: F811
    tap = Tap(stack.runtime.publisher)
    monkeypatch.setattr(stack.runtime, "publisher", tap)
    (alpha_id, alpha), (beta_id, beta) = nw["partners"]
    ops, admin = nw["roles"]["channel_ops"], nw["roles"]["admin"]
    customer = f"CUST-{uuid.uuid4().hex[:8]}"
    first = alpha.post("/v1/deals", _registration(alpha_id, customer, close_date(stack))).json()
    second = beta.post("/v1/deals", _registration(beta_id, customer, close_date(stack))).json()
    assert first["status"] == second["status"] == "pending"
    assert ops.post(f"/v1/approvals/{first['approval_id']}/decision", {"outcome": "approved"}).status_code == 200
    winner = alpha.get(f"/v1/deals/{first['deal_id']}").json()

    decided = ops.post(f"/v1/approvals/{second['approval_id']}/decision", {"outcome": "approved"})
    assert decided.status_code == 200, decided.text  # a decision, not a 409
    case = decided.json()
    assert case["status"] == "rejected" and case["decision"]["requested_outcome"] == "approved"
    assert case["decision"]["resolved_by_rule"]["clause"] == "PA-5.5"
    assert ops.get(f"/v1/approvals/{second['approval_id']}").json()["status"] == "rejected"

    seen = beta.get(f"/v1/deals/{second['deal_id']}")
    assert seen.status_code == 200
    lost = seen.json()
    assert lost["status"] == "rejected" and lost["rejection"]["clause"] == "PA-5.5"
    assert lost["rejection"]["exclusivity_ends"] == winner["expires_at"]
    assert winner["expires_at"][:10] in lost["rejection_reason"]
    assert alpha_id not in seen.text and first["deal_id"] not in seen.text  # PA-11.1: never the winner's identity

    trail = _trail(admin, second["deal_id"])
    assert [r["action"] for r in trail][-1] == "deal.rejected" and "PA-5.5" in trail[-1]["clauses"]
    events = [
        e for e in tap.events if e["detail_type"] == "deal.rejected" and e["detail"]["deal_id"] == second["deal_id"]
    ]
    assert len(events) == 1
    detail = events[0]["detail"]
    assert detail["partner_id"] == beta_id and detail["reason"]["clause"] == "PA-5.5"
    assert alpha_id not in str(detail) and first["deal_id"] not in str(detail)
    from revgov import schemas

    # the tap is the whole stack's publisher while it is set: the router's handlers of earlier tests' tenants publish
    # through it too (a deal held or expired elsewhere), so only this tenant's deal events
    tenant_id = detail["tenant_id"]
    mine = [e for e in tap.events if e["source"] == "revgov.deals" and e["detail"]["tenant_id"] == tenant_id]
    samples = {p.stem for p in (ROOT / "events" / "revgov.deals").glob("*.json")}
    assert {e["detail_type"] for e in mine} == {"deal.registered", "deal.approved", "deal.rejected"}
    # the catalogue: a sample per detail-type the schema names (extension and hold events are published in
    # tests/integration/test_deal_holds_and_order.py)
    assert samples == set(json.loads((ROOT / "schemas" / "events" / "revgov.deals.schema.json").read_text())[
        "properties"]["detail-type"]["enum"])
    for event in mine:  # every deal event matches the catalogue schema
        envelope = {"source": event["source"], "detail-type": event["detail_type"], "detail": event["detail"]}
        assert schemas.problems("events/revgov.deals.schema.json", envelope) == [], envelope
    for sample in (ROOT / "events" / "revgov.deals").glob("*.json"):
        assert schemas.problems("events/revgov.deals.schema.json", json.loads(sample.read_text())) == [], sample.name
    assert admin.get("/v1/audit/verify").json()["valid"] is True


class Tap:
    """The bus as it is, plus a copy of every event put on it."""

    def __init__(self, publisher: Any) -> None:
        self.publisher, self.events = publisher, []  # type: ignore[var-annotated]

    def publish(self, tenant_id: str, events: list[dict[str, Any]]) -> list[str]:
        self.events += events
        return list(self.publisher.publish(tenant_id, events))


def test_a_registration_against_a_live_one_is_rejected_citing_pa_5_5_not_pa_5_4(nw, stack):  # noqa: F811
    (alpha_id, alpha), (beta_id, beta) = nw["partners"]
    ops = nw["roles"]["channel_ops"]
    customer = f"CUST-{uuid.uuid4().hex[:8]}"
    first = alpha.post("/v1/deals", _registration(alpha_id, customer, close_date(stack))).json()
    ops.post(f"/v1/approvals/{first['approval_id']}/decision", {"outcome": "approved"})
    refused = assert_problem(beta.post("/v1/deals", _registration(beta_id, customer, close_date(stack))), 409)
    assert refused["clause"] == "PA-5.5" and refused["reasons"][0]["clause"] == "PA-5.5"
    assert alpha_id not in str(refused) and first["deal_id"] not in str(refused)


def test_a_family_whose_certification_expired_cannot_be_registered_pa_4_3(nw, stack):  # noqa: F811
    """PA-4.3: "From the moment a certification expires [...] (b) where the Partner holds no other valid
    certification in the same Product Family, the Partner may not quote, order or register deals for Products of that
    Product Family"."""
    _, (beta_id, beta) = nw["partners"]
    today = date.fromisoformat(stack.runtime.clock.now_iso()[:10])
    lapsed = {
        "certification_id": "cert-security-pro",
        "earned_at": (today - timedelta(days=400)).isoformat(),
        "expires_at": (today - timedelta(days=1)).isoformat(),
    }
    assert nw["roles"]["sales"].post(f"/v1/partners/{beta_id}/certifications", lapsed).status_code == 201
    registration = {**_registration(beta_id, f"CUST-{uuid.uuid4().hex[:8]}", close_date(stack)), "family": "security"}
    refused = assert_problem(beta.post("/v1/deals", registration), 422)
    assert "PA-4.3" in {reason["clause"] for reason in refused["reasons"]}


def test_two_conflicting_registrations_approved_at_once_end_as_one_approval_and_one_rejection(nw, stack):  # noqa: F811
    """PA-5.5: "the first approved registration wins" — also when both approvals arrive in the same moment: the
    reviewer whose commit loses gets the rejection as a decision, not a 409."""
    (alpha_id, alpha), (beta_id, beta) = nw["partners"]
    ops = nw["roles"]["channel_ops"]
    customer = f"CUST-{uuid.uuid4().hex[:8]}"
    pending = [
        alpha.post("/v1/deals", _registration(alpha_id, customer, close_date(stack))).json(),
        beta.post("/v1/deals", _registration(beta_id, customer, close_date(stack))).json(),
    ]
    gate, answers = threading.Barrier(2), {}

    def approve(deal: dict[str, Any]) -> None:
        gate.wait(5)
        answers[deal["deal_id"]] = ops.as_key(ops.key).post(
            f"/v1/approvals/{deal['approval_id']}/decision", {"outcome": "approved"}
        )

    threads = [threading.Thread(target=approve, args=(deal,)) for deal in pending]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    first, second = (answers[d["deal_id"]] for d in pending)
    assert first.status_code == 200 and first.json()["status"] == "approved", first.text
    # PA-5.5 "Pending registrations are decided in order of submission time": the later one is either refused while
    # the earlier waits (409 naming it) or, once the earlier is approved, rejected as the losing registration
    assert second.status_code in (200, 409), second.text
    if second.status_code == 409:
        assert second.json()["clause"] == "PA-5.5"
        second = ops.post(f"/v1/approvals/{pending[1]['approval_id']}/decision", {"outcome": "approved"})
    assert second.status_code == 200 and second.json()["status"] == "rejected", second.text
    states = [ops.get(f"/v1/deals/{d['deal_id']}").json()["status"] for d in pending]
    assert states == ["approved", "rejected"]


def test_pending_registrations_are_decided_in_order_of_submission_pa_5_5(nw, stack):  # noqa: F811
    """PA-5.5: "If two or more Partners register the same Customer and Product Family, the first approved registration
    wins. Pending registrations are decided in order of submission time." Deciding the later one first is refused
    (409, the clause, the registration to decide first), recorded as a refused governance action, and changes
    nothing; once the earlier one is decided, the later one is decided."""
    (alpha_id, alpha), (beta_id, beta) = nw["partners"]
    ops, admin = nw["roles"]["channel_ops"], nw["roles"]["admin"]
    customer = f"CUST-{uuid.uuid4().hex[:8]}"
    first = alpha.post("/v1/deals", _registration(alpha_id, customer, close_date(stack))).json()
    second = beta.post("/v1/deals", _registration(beta_id, customer, close_date(stack))).json()
    for outcome in ({"outcome": "approved"}, {"outcome": "rejected", "note": "duplicate"}):
        refused = assert_problem(ops.post(f"/v1/approvals/{second['approval_id']}/decision", outcome), 409)
        assert refused["clause"] == "PA-5.5" and refused["decide_first"] == first["deal_id"]
    assert ops.get(f"/v1/deals/{second['deal_id']}").json()["status"] == "pending"  # nothing changed
    assert ops.get(f"/v1/approvals/{second['approval_id']}").json()["status"] == "pending"
    refusals = [r for r in _trail(admin, second["approval_id"]) if r["action"] == "approval.decision_refused"]
    assert [r["inputs"]["refusal"] for r in refusals] == ["out_of_order", "out_of_order"]
    assert all(r["clauses"] == ["PA-5.5"] for r in refusals)
    # the partner's own view of its waiting registration names no rival
    assert alpha_id not in beta.get(f"/v1/deals/{second['deal_id']}").text
    # the earlier one decided (here: rejected), the later one may be approved
    decided = ops.post(f"/v1/approvals/{first['approval_id']}/decision", {"outcome": "rejected", "note": "no proof"})
    assert decided.status_code == 200, decided.text
    approved = ops.post(f"/v1/approvals/{second['approval_id']}/decision", {"outcome": "approved"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
    assert admin.get("/v1/audit/verify").json()["valid"] is True


def test_a_registered_partner_without_certifications_may_quote_pa_3_2(nw, stack, api):  # noqa: F811
    """PA-3.2: "The Registered tier has no annual commitment (USD 0.00) and requires no certification. Registered
    Partners may quote and order Products at the Registered discount caps". PA-4.3(b) bars a family only once a held
    certification has expired."""
    from revgov.domain.access import Principal, Role
    from revgov.domain.partners import tiers_by_rank
    from revgov.local.demo_partners import demo_application, onboard
    from revgov.services import keys as key_service

    rt = stack.runtime
    policy = rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]
    registered = tiers_by_rank(policy)[0]
    application = demo_application(f"Registered Quotes {uuid.uuid4().hex[:6]}", "reseller", registered)
    sales = Principal("northwind", Role.SALES, "key_01JX00000000000000000SALES")
    approver = Principal("northwind", Role.CHANNEL_OPS, "key_01JX000000000000000000OPS0")
    partner = onboard(rt, policy, application, "active", sales=sales, approver=approver)
    from revgov.ports import Changes, Put
    from revgov.services.partner_repository import PARTNERS

    stored = rt.store.get("northwind", PARTNERS, partner["partner_id"])  # the demo helper certifies; this one is not
    uncertified = {**stored.data, "certifications": {}}
    listed = (f"{PARTNERS}#active", f"registered#{partner['partner_id']}")
    put = Put(PARTNERS, stored.key, uncertified, expected_version=stored.version, lookup=listed)
    rt.store.commit("northwind", Changes(puts=[put]))
    assert partner["tier"] == "registered"
    admin = Principal("northwind", Role.ADMIN, "key_01JX0000000000000000ADMIN0")
    key = key_service.create_key(rt, admin, "northwind", Role.PARTNER, partner["partner_id"], "registered")["key"]
    checked = api.as_key(key).post("/v1/pricing/check", quote("within_cap", partner["partner_id"]))
    assert checked.status_code == 200, checked.text
    assert "PRC-CERT-REQUIRED" not in {r["rule_id"] for r in checked.json()["reasons"]}
    assert checked.json()["outcome"] != "deny"
