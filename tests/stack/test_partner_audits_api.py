"""Partner audits (PA-12.1) and security incidents (PA-11.2) over HTTP: who may do what, a partner reads its own only,
bad input is a problem+json naming the field and changes nothing.

PA-12.1: "On 30 days' written notice [...] the Distributor or an independent auditor may audit those records [...]
The Distributor [...] provides the Partner, on request, with the records relating to the Partner."
PA-11.2: "Each party notifies the other without undue delay, and in any event within 72 hours, of a security incident
affecting the other's data". PA-11.1: one partner's data is never disclosed to another.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

import clock_support
from billing_support import billing_tenant_in
from revgov import schemas
from revgov.domain import partner_audits as audit_rules
from revgov.domain.calendar import BusinessCalendar
from revgov.domain.time import instant
from revgov.tenant_files import load_tenant_file
from support import ROOT, Api, assert_problem

pytestmark = pytest.mark.stack

PARTNERS = json.loads((ROOT / "tests/scenarios/billing/erp-samples.json").read_text())["partners"]
OWNER, RIVAL = PARTNERS[0]["partner_id"], PARTNERS[1]["partner_id"]
UNKNOWN = "ptr_01JBNWPARTNER0000000000099"


@pytest.fixture
def tenant(api, operator, stack):
    yield from billing_tenant_in(api, operator, stack)


def _keys(tenant: Any, api: Api) -> dict[str, Api]:
    tenant.add_partners(PARTNERS)
    keys = {}
    for role in ("legal",):
        keys[role] = api.as_key(tenant.admin.post("/v1/keys", {"role": role, "label": role}).json()["key"])
    for name, partner_id in (("own", OWNER), ("rival", RIVAL)):
        minted = tenant.admin.post("/v1/keys", {"role": "partner", "partner_id": partner_id, "label": name})
        assert minted.status_code == 201, minted.text
        keys[name] = api.as_key(minted.json()["key"])
    return keys


def _earliest(tenant: Any) -> str:
    policy = load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml")["policy"]
    rule = audit_rules.AuditRule.of(policy)
    assert rule is not None
    return rule.earliest_start(instant(tenant.rt.clock.now_iso()), BusinessCalendar.from_policy(policy)).isoformat()


def test_pa_12_1_an_audit_on_notice_read_by_its_partner_only(tenant, api) -> None:
    keys = _keys(tenant, api)
    path = f"/v1/partners/{OWNER}/audits"
    earliest = _earliest(tenant)
    early = (clock_support.today() + timedelta(days=29)).isoformat()
    too_early = assert_problem(tenant.finance.post(path, {"starts_on": early}), 422)
    assert too_early["errors"][0]["path"] == "/starts_on" and too_early["earliest_start"] == earliest
    bad = tenant.finance.post(path, {"starts_on": "next month"})
    assert bad.status_code in (400, 422) and "/starts_on" in bad.text
    assert keys["own"].post(path, {"starts_on": earliest}).status_code == 403  # a partner never schedules
    assert tenant.finance.get(path).json()["audits"] == []  # nothing was recorded by the refusals
    created = tenant.finance.post(path, {"starts_on": earliest, "auditor": "Ledger & Co LLP"})
    assert created.status_code == 201, created.text
    audit = created.json()
    assert audit["notice"]["period"] == "30 days' written notice" and audit["clause"] == "PA-12.1"
    mine = keys["own"].get(f"{path}/{audit['audit_id']}")
    assert mine.status_code == 200 and "scheduled_by" not in mine.json()
    staff = tenant.finance.get(f"{path}/{audit['audit_id']}").json()
    for answer in (audit, mine.json(), staff):
        assert not schemas.problems("api/responses/partner-audit.schema.json", answer)
    assert [a["audit_id"] for a in keys["own"].get(path).json()["audits"]] == [audit["audit_id"]]
    theirs = assert_problem(keys["rival"].get(f"{path}/{audit['audit_id']}"), 404)
    unknown = assert_problem(keys["rival"].get(f"/v1/partners/{UNKNOWN}/audits/{audit['audit_id']}"), 404)
    assert theirs["detail"].replace(OWNER, "X") == unknown["detail"].replace(UNKNOWN, "X")
    assert_problem(keys["rival"].get(path), 404)
    finding = tenant.finance.post(f"{path}/{audit['audit_id']}/findings", {"quarter": "2026-Q3", "verified": {}})
    assert finding.status_code in (400, 422) and "/verified" in finding.text


def test_pa_11_2_a_partner_reports_an_incident_and_only_it_reads_it(tenant, api) -> None:
    keys = _keys(tenant, api)
    aware = (clock_support.now() - timedelta(hours=1)).isoformat(timespec="seconds").replace("+00:00", "Z")
    reported = keys["own"].post("/v1/security-incidents", {"became_aware_at": aware, "summary": "laptop stolen"})
    assert reported.status_code == 201, reported.text
    incident = reported.json()
    assert incident["partner_id"] == OWNER and incident["notice"] == "on_time" and incident["clause"] == "PA-11.2"
    assert_problem(keys["rival"].get(f"/v1/security-incidents/{incident['incident_id']}"), 404)
    own_read = keys["own"].get(f"/v1/security-incidents/{incident['incident_id']}").json()
    staff_read = keys["legal"].get(f"/v1/security-incidents/{incident['incident_id']}").json()
    assert "recorded_by" not in own_read and staff_read["recorded_by"].startswith("partner:")
    for answer in (incident, own_read, staff_read):
        assert not schemas.problems("api/responses/security-incident.schema.json", answer)
    assert keys["rival"].get("/v1/security-incidents").json()["items"] == []
    later = (clock_support.now() + timedelta(hours=1)).isoformat(timespec="seconds").replace("+00:00", "Z")
    future = assert_problem(keys["own"].post("/v1/security-incidents", {"became_aware_at": later, "summary": "x"}),
                            422)  # fmt: skip
    assert future["errors"][0]["path"] == "/became_aware_at"
    assert keys["own"].post(f"/v1/security-incidents/{incident['incident_id']}/notice",
                            {"notified_at": aware}).status_code == 403  # fmt: skip
    assert len(keys["legal"].get("/v1/security-incidents").json()["items"]) == 1
