"""PA-3.6's written commitment over HTTP: `POST /v1/partners/{partner_id}/tier-changes` with `written_commitment`.

PA-3.6: "A Partner may also request an upgrade at any time during the Program Year by demonstrating that it meets the
certification requirements of the higher tier and either has already reached the annual commitment in the current
Program Year or signs a written commitment to reach it. Upgrades take effect on the first day of the Billing Month
following approval." PA-3.4: Gold "requires [...] the certifications cert-network-core [...] and cert-security-pro".
CPA-3.5 (contoso): a request upgrades "by meeting the certification requirements and reaching the higher annual
commitment on a trailing four-Quarter basis" (no written commitment).
Dates are the stack clock's "today" when the test runs (a fresh Silver reseller onboarded today, nothing invoiced).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from support import assert_problem, northwind_silver_partners

pytestmark = pytest.mark.stack


def _first_of_next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def test_a_silver_reseller_with_golds_certifications_is_upgraded_on_its_written_commitment(stack: Any, api: Any):
    made = northwind_silver_partners(stack, api, ("Committed",), "Commitment")
    (partner_id, own), roles = made["partners"][0], made["roles"]
    today = date.fromisoformat(stack.runtime.clock.now_iso()[:10])
    cert = {"certification_id": "cert-security-pro", "earned_at": today.isoformat()}
    assert roles["sales"].post(f"/v1/partners/{partner_id}/certifications", cert).status_code == 201
    path = f"/v1/partners/{partner_id}/tier-changes"
    commitment = {"tier": "gold", "signed_on": today.isoformat()}
    # bad input first: each names its field, nothing is recorded
    alone = assert_problem(roles["channel_ops"].post(path, {"written_commitment": commitment}), 422)
    assert alone["errors"] == [{"path": "/written_commitment", "message": "only with request: true"}]
    unsigned_body = {"request": True, "written_commitment": {"tier": "gold"}}
    unsigned = assert_problem(roles["channel_ops"].post(path, unsigned_body), 400)
    assert [e["path"] for e in unsigned["errors"]] == ["/written_commitment/signed_on"]
    later = {"tier": "gold", "signed_on": (today + timedelta(days=1)).isoformat()}
    future = assert_problem(roles["channel_ops"].post(path, {"request": True, "written_commitment": later}), 422)
    assert [e["path"] for e in future["errors"]] == ["/written_commitment/signed_on"]
    assert own.post(path, {"request": True, "written_commitment": commitment}).status_code in (403, 404)
    assert roles["channel_ops"].get(f"/v1/partners/{partner_id}").json().get("tier_changes") is None
    # the commitment upgrades it to Gold from the first day of the next Billing Month; nothing was invoiced
    answer = roles["channel_ops"].post(path, {"request": True, "written_commitment": commitment})
    assert answer.status_code == 201, answer.text
    change = answer.json()["change"]
    assert (change["outcome"], change["from_tier"], change["tier"], change["revenue"]) == (
        "upgrade", "silver", "gold", "0.00")
    assert change["effective_on"] == _first_of_next_month(today).isoformat()
    assert change["written_commitment"] == {
        "tier": "gold", "signed_on": today.isoformat(), "program_year": today.year,
        "annual_commitment": "1000000.00", "rule_id": "TIER-WRITTEN-COMMITMENT", "clause": "PA-3.6"}  # fmt: skip
    assert own.get(f"/v1/partners/{partner_id}").json()["tier_changes"] == [change]  # the partner sees its own


def test_contoso_refuses_a_written_commitment_naming_the_field(stack: Any, api: Any):
    tenant = stack.info["tenants"]["contoso"]
    ops = api.as_key(tenant["keys"]["channel_ops"])
    partner = next(p for p in tenant["partners"] if p["status"] == "active")
    today = stack.runtime.clock.now_iso()[:10]
    body = {"request": True, "written_commitment": {"tier": "elite", "signed_on": today}}
    refused = assert_problem(ops.post(f"/v1/partners/{partner['partner_id']}/tier-changes", body), 422)
    assert refused["errors"] == [{"path": "/written_commitment", "message": "not granted by this agreement"}]
    assert "CPA-3.5" in refused["detail"]
