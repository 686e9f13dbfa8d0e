"""Red team: limits a tenant's plan and a partner's agreement put on access (the plan's partner limit, checked where
a partner is created: services/partner_plan.py; portal access after termination, ended by the onboarding policy's
termination rule when a key is resolved: services/keys.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from security_support import UNTHROTTLED, make_party, offboard
from support import assert_problem, northwind_silver_partners

pytestmark = pytest.mark.stack


def test_a_tenant_holds_no_more_partners_than_its_plan_allows(api: Any, operator: Any, stack: Any) -> None:
    """schemas/tenant.schema.json, `plan`: "Commercial plan limits for the tenant, enforced by the platform";
    `max_partners`: "Maximum number of onboarded (non-offboarded) partners the tenant may hold"."""
    party = make_party(api, operator, stack, "northwind", plan={**UNTHROTTLED, "max_partners": 2})
    try:
        application = {
            "legal_name": "One Partner Too Many",
            "partner_type": "reseller",
            "requested_tier": "silver",
            "terms": {"annual_commitment": "250000.00", "payment_terms_days": 30},
            "contact": {"name": "Desk", "email": "desk@too-many.example"},
        }
        third = party.by_role["sales"].post("/v1/partners", application)
        assert third.status_code in (409, 422), third.text  # the plan's limit is reached: nothing is created
        assert "max_partners" in third.json()["detail"]
        listed = party.admin.get("/v1/partners", limit=200).json()["items"]
        assert len(listed) == 2
    finally:
        offboard(operator, party)


def test_portal_access_ends_90_days_after_termination(stack: Any, api: Any) -> None:
    """PA-9.6: "Portal access ends 90 days after termination, after which the Partner may request an export of its
    statements." (CPA-9.8: "Access ends 60 days after termination.") The termination is dated 91 days back in the
    store, as if it had been made then; the stack's clock runs on."""
    pair = northwind_silver_partners(stack, api, ("Terminated",), "Access")
    partner_id, portal = pair["partners"][0]
    ended = pair["roles"]["legal"].post(f"/v1/partners/{partner_id}/terminate", {"reason": "material breach"})
    assert ended.status_code == 200, ended.text
    assert portal.get("/v1/me").status_code == 200  # within the 90 days the partner still reads its records
    rt = pair["rt"]
    stored = rt.store.get("northwind", "PARTNER", partner_id)
    now = datetime.fromisoformat(rt.clock.now_iso().replace("Z", "+00:00"))
    back = (now - timedelta(days=91)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    history = [{**step, "at": back} if step.get("to") == "terminated" else step for step in stored.data["history"]]
    from revgov.ports import Changes, Put

    rt.store.commit("northwind", Changes(puts=[Put("PARTNER", partner_id, {**stored.data, "history": history,
                                                                          "updated_at": back},
                                                   expected_version=stored.version)]))
    after = portal.get("/v1/me")
    assert after.status_code in (401, 403), after.text
    assert "PA-9.6" in after.json()["detail"]  # the refusal says why
    assert portal.get("/v1/invoices").status_code in (401, 403)


def test_a_tenant_is_never_provisioned_in_a_status_the_caller_chose(operator: Any) -> None:
    """API.md: "server-owned fields (`tenant_id`, `status`, `approved_by`, computed prices) are never taken from the
    client"; schemas/tenant.schema.json `status`: "Server-owned: changed only through the operator suspend/resume
    actions". Before the fix `POST /v1/tenants` with `"status": "suspended"` provisioned a suspended tenant (its keys
    refused at once) without a suspension record or reason. `active`, what provisioning makes anyway, is accepted."""
    from support import example_tenant

    config = {**example_tenant(), "status": "suspended"}
    refused = assert_problem(operator.post("/v1/tenants", config), 422)
    assert [e["path"] for e in refused["errors"]] == ["/status"]
    assert_problem(operator.get(f"/v1/tenants/{config['tenant_id']}"), 404)
    active = {**config, "status": "active"}
    created = operator.post("/v1/tenants", active)
    assert created.status_code == 201 and created.json()["tenant"]["status"] == "active", created.text
    assert operator.delete(f"/v1/tenants/{config['tenant_id']}").status_code == 200
