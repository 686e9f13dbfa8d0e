"""Offboarding through the API on the AWS engine, with DynamoDB failing the platform's final write after the
tenant's data was deleted (services/offboarding.py).

API.md: `DELETE /v1/tenants/{tenant_id}` "(offboard: export, then delete everything)". Before the fix the caller got a
503 that means "nothing was half-done, retry", the export (only in the lost response) was gone and the retry answered
404. Now: a 503 that says the data may be deleted and the export is kept, a retry that finishes and answers the same
export, and one `tenant.offboarded` audit record."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fault_support import Fault
from security_support import make_party
from support import assert_problem

pytestmark = [pytest.mark.aws]


def _finishing(tenant_id: str) -> Any:
    """The platform's commit that removes the tenant's registry entry (the offboarding's last write)."""
    return lambda params: "T#_platform#TENANTS" in (text := json.dumps(params, default=str)) and "Delete" in text \
        and tenant_id in text


def test_a_failed_final_write_is_a_true_503_and_the_retry_answers_the_export(api, operator, stack, faults):
    party = make_party(api, operator, stack, "northwind")
    party.rt.flush_outbox(party.tenant_id)
    with faults.inject(Fault("TransactWriteItems", _finishing(party.tenant_id))) as fault:
        failed = operator.delete(f"/v1/tenants/{party.tenant_id}")
    assert fault.hits == 1
    problem = assert_problem(failed, 503)
    assert "kept until" in problem["detail"] and "repeat DELETE" in problem["detail"]
    assert "may be partly or wholly deleted" in problem["detail"]
    assert_problem(party.admin.get("/v1/keys"), 401)  # the tenant's data is gone: its keys are unknown
    finished = operator.delete(f"/v1/tenants/{party.tenant_id}")
    assert finished.status_code == 200, finished.text
    body = finished.json()
    assert body["resumed"] is True and body["remaining_items"] == 0 and body["offboarding_id"] == problem[
        "offboarding_id"]
    collections = {item["collection"] for item in body["export"]}
    assert {"TENANT", "KEY", "SECRET", "PARTNER"} <= collections and body["exported_items"] == len(body["export"])
    again = operator.delete(f"/v1/tenants/{party.tenant_id}").json()
    assert again["export"] == body["export"]
    assert_problem(operator.get(f"/v1/tenants/{party.tenant_id}"), 404)
    trail = operator.get("/v1/audit", subject=party.tenant_id).json()["items"]
    assert [r["action"] for r in trail] == ["tenant.created", "tenant.offboarded"]
