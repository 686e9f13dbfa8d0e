"""GET and PUT /v1/retention over HTTP on a throwaway tenant, and a copilot transcript erased by the sweep while the
audit chain verifies.

Seed whitepaper: "Enterprises should implement role-based access control, ... data retention policies, and approval
segregation ... Where LLMs are used, prompts and outputs should be logged according to policy". The brief: read by
staff, written by an admin only, audited, never below the floors (docs/retention.md: copilot text at least 30 days,
PA-14.2 / CPA-14.2 "within 30 days"; financial records at least 7 years, US IRS guidance and EU VAT Directive
art. 247). DESIGN.md: "verification walks the chain and names the first broken record".
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from memory_store import FixedClock
from revgov.services import retention
from support import assert_problem

pytestmark = pytest.mark.stack

VALID = {"financial_records": {"years": 8}, "copilot_text": {"days": 30, "then": "erase"},
         "partner_documents": {"days": 120}, "webhook_deliveries": {"days": 10}}


@pytest.fixture
def tenant(api: Any, fresh_tenant: dict[str, Any]) -> dict[str, Any]:
    admin = api.as_key(fresh_tenant["admin_key"]["key"])
    made = admin.post("/v1/keys", {"role": "finance", "label": "finance"})
    assert made.status_code == 201, made.text
    return {"id": fresh_tenant["tenant"]["tenant_id"], "admin": admin, "finance": api.as_key(made.json()["key"])}


def _put(who: Any, body: Any) -> Any:
    return who.request("PUT", "/v1/retention", body)


def test_staff_read_the_policy_with_each_floor_and_its_sources(tenant):
    shown = tenant["finance"].get("/v1/retention")
    assert shown.status_code == 200, shown.text
    classes = shown.json()["classes"]
    assert classes["financial_records"]["years"] == 7 and classes["financial_records"]["purged_by_sweep"] is False
    assert "art. 247" in " ".join(classes["financial_records"]["floor"]["sources"])
    assert classes["copilot_text"]["floor"]["days"] == 30 and classes["copilot_text"]["then"] == "mask"
    assert shown.json()["legal_holds"] == [] and shown.json()["last_sweep"] is None


def test_an_admin_changes_it_audited_with_before_and_after(tenant):
    changed = _put(tenant["admin"], VALID)
    assert changed.status_code == 200, changed.text
    copilot = changed.json()["classes"]["copilot_text"]
    assert (copilot["days"], copilot["then"]) == (30, "erase")
    assert tenant["admin"].get("/v1/retention").json()["classes"]["partner_documents"]["days"] == 120
    records = tenant["admin"].get("/v1/audit", subject="retention").json()["items"]
    (record,) = [r for r in records if r["action"] == "retention.policy_changed"]
    assert record["actor_role"] == "admin" and record["inputs"]["after"]["webhook_deliveries"] == {"days": 10}
    assert record["inputs"]["before"]["copilot_text"] == {"days": 365, "then": "mask"}


@pytest.mark.parametrize(("body", "status", "path"), [
    ({**VALID, "copilot_text": {"days": 29, "then": "erase"}}, 422, "/copilot_text/days"),
    ({**VALID, "financial_records": {"years": 6}}, 422, "/financial_records/years"),
    ({**VALID, "webhook_deliveries": {"days": 6}}, 422, "/webhook_deliveries/days"),
    ({**VALID, "copilot_text": {"days": 90, "then": "shred"}}, 400, "/copilot_text/then"),
    ({**VALID, "financial_records": {"years": "10"}}, 400, "/financial_records/years"),
    ({k: v for k, v in VALID.items() if k != "partner_documents"}, 400, ""),
    ({**VALID, "record_keeping": {"id": "RET-X", "clause": "PA-1.1", "years": 1}}, 400, ""),
])
def test_a_period_below_its_floor_or_malformed_names_the_field_and_changes_nothing(tenant, body, status, path):
    before = tenant["admin"].get("/v1/retention").json()
    problem = assert_problem(_put(tenant["admin"], body), status)
    assert any(e["path"].startswith(path) for e in problem.get("errors", [])), problem
    assert tenant["admin"].get("/v1/retention").json() == before


def test_only_an_admin_changes_it(tenant):
    assert_problem(_put(tenant["finance"], VALID), 403)
    assert tenant["finance"].get("/v1/retention").json()["classes"]["copilot_text"]["days"] == 365


def test_the_sweep_erases_a_transcript_and_the_audit_chain_still_verifies(tenant, stack):
    assert _put(tenant["admin"], VALID).status_code == 200
    asked = tenant["finance"].post("/v1/copilot/ask", {"question": "When are invoices payable? Ask a@b.example"})
    assert asked.status_code == 200, asked.text
    later = FixedClock(stack.runtime.clock.now_iso())
    later.advance(days=31)
    assert retention.sweep(replace(stack.runtime, clock=later), tenant["id"])["transcripts_erased"] == 1
    records = tenant["admin"].get("/v1/audit", subject="copilot").json()["items"]
    (record,) = [r for r in records if r["record_id"] == asked.json()["audit_id"]]
    assert record["transcript"]["form"] == "erased" and "question" not in record["transcript"]
    assert tenant["admin"].get("/v1/audit/verify").json()["valid"] is True
    assert tenant["admin"].get("/v1/retention").json()["last_sweep"]["transcripts_erased"] == 1
