"""Partner onboarding over HTTP on the running local stack: the lifecycle, the approval gate, entitlements,
object-level isolation of partner keys, bad input, audit and events.

Scenario data: tests/scenarios/onboarding/northwind.json, with dates relative to today.
"""

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

import pytest

import clock_support
from memory_store import memory_runtime
from onboarding_scenarios import onboarding
from revgov import schemas
from revgov.domain.access import Principal, Role
from revgov.domain.contracts import parse_contract
from revgov.domain.partners import tiers_by_rank
from revgov.local.demo_partners import demo_application, onboard
from revgov.runtime import Runtime
from revgov.services import cases, partner_departures, partner_ownership, partner_type_changes, partners, renewals
from support import ROOT, Api, assert_problem

WHY = {  # at collection: the names of the parametrized cases only; their dates are resolved when they run
    kind: [case["why"] for case in onboarding("northwind", clock_support.today())[kind]]
    for kind in ("bad_documents", "bad_certifications", "bad_applications")
}


def _s() -> dict[str, Any]:
    """The scenario dated from today on the product's clock (REVGOV_CLOCK_START; tests/clock_support.py), when used."""
    return onboarding("northwind", clock_support.today())
CLAUSES = {
    c.clause_id
    for doc in (ROOT / "tenants" / "northwind" / "contracts").glob("*.md")
    for c in parse_contract(doc.read_text()).clauses
}


class Desk:
    """Northwind's staff: two channel ops people (one applies, the other approves), legal, finance, admin."""

    def __init__(self, api: Api, keys: dict[str, Any]) -> None:
        tenant = keys["tenants"]["northwind"]
        self.api = api
        self.admin = api.as_key(tenant["admin_key"])
        self.ops = api.as_key(tenant["keys"]["channel_ops"])
        self.legal = api.as_key(tenant["keys"]["legal"])
        self.finance = api.as_key(tenant["keys"]["finance"])
        self.sales = api.as_key(tenant["keys"]["sales"])
        second = self.admin.post("/v1/keys", {"role": "channel_ops", "label": "second approver"})
        self.approver = api.as_key(second.json()["key"])

    def apply(self, name: str, **change: Any) -> str:
        created = self.ops.post("/v1/partners", {**_s()["applications"][name], **change})
        assert created.status_code == 201, created.text
        return str(created.json()["partner_id"])

    def file(self, partner_id: str, *documents: str, certifications: str | None = None) -> None:
        for document in [d for name in documents for d in _s()["documents"][name]]:
            response = self.ops.post(f"/v1/partners/{partner_id}/documents", document)
            assert response.status_code == 201, response.text
        for certification in _s()["certifications"].get(certifications or "", []):
            response = self.ops.post(f"/v1/partners/{partner_id}/certifications", certification)
            assert response.status_code == 201, response.text

    def submit(self, partner_id: str) -> dict[str, Any]:
        response = self.ops.post(f"/v1/partners/{partner_id}/submit")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def activated(self, name: str = "gold_reseller", certifications: str = "gold") -> str:
        partner_id = self.apply(name)
        self.file(partner_id, "all_partners", "reseller", certifications=certifications)
        approval = self.submit(partner_id)["approval"]
        queue = self.approver if approval["queue"] == "channel_ops" else self.legal
        decided = queue.post(f"/v1/approvals/{approval['case_id']}/decision", {"outcome": "approved", "note": "ok"})
        assert decided.status_code == 200, decided.text
        return partner_id

    def partner_key(self, partner_id: str) -> Api:
        created = self.admin.post("/v1/keys", {"role": "partner", "label": "portal", "partner_id": partner_id})
        assert created.status_code == 201, created.text
        return self.api.as_key(created.json()["key"])


@pytest.fixture(scope="module")
def desk(api, keys):
    return Desk(api, keys)


def test_a_reseller_goes_from_application_to_active_through_a_human_approval(desk):
    partner_id = desk.apply("gold_reseller")
    first = desk.submit(partner_id)
    assert first["outcome"] == "pending_documents" and first["approval"] is None
    assert {gap["name"] for gap in first["missing"]} == {
        "signed_agreement",
        "tax_form",
        "insurance_certificate",
        "compliance_screening",
        "trade_reference",
    }
    assert all(gap["action"] and gap["rule_id"] and gap["clause"] in CLAUSES for gap in first["missing"])
    assert first["decision_id"].startswith("aud_") and first["policy_version"].startswith("pv_")

    desk.file(partner_id, "all_partners", "reseller", certifications="gold")
    second = desk.submit(partner_id)
    assert second["outcome"] == "pending_approval" and second["missing"] == []
    assert second["assessment"]["qualified_tier"] == "gold"
    approval = second["approval"]
    assert (approval["queue"], approval["category"]) == ("channel_ops", "partner_activation")

    decision = f"/v1/approvals/{approval['case_id']}/decision"
    assert "segregation" in assert_problem(desk.ops.post(decision, {"outcome": "approved"}), 403)["detail"]
    assert_problem(desk.finance.post(decision, {"outcome": "approved"}), 403)  # not the approving queue
    assert_problem(desk.sales.post(decision, {"outcome": "approved"}), 403)
    assert desk.approver.post(decision, {"outcome": "approved", "note": "verified"}).json()["status"] == "approved"

    partner = desk.ops.get(f"/v1/partners/{partner_id}").json()
    assert (partner["status"], partner["tier"], partner["approval_id"]) == ("active", "gold", approval["case_id"])
    assert "created_by_key" not in partner
    trail = desk.admin.get("/v1/audit", subject=partner_id).json()["items"]
    actions = [r["action"] for r in trail]
    assert actions[0] == "partner.applied" and actions[-1] == "partner.activated"
    assert actions.count("partner.submitted") == 2 and actions.count("partner.document_recorded") == 5
    assert all(r["rule_ids"] and set(r["clauses"]) <= CLAUSES for r in trail)
    assert desk.admin.get("/v1/audit/verify").json()["valid"] is True


def test_documents_uploaded_at_once_to_one_partner_are_all_filed_on_an_unbroken_audit_chain(desk):
    """An applicant's portal sends every document together: none of them may be refused for racing the others."""
    partner_id = desk.apply("gold_reseller")
    documents = _s()["documents"]["all_partners"] + _s()["documents"]["reseller"]
    uploads = [(desk.ops.as_key(desk.ops.key), document) for document in documents]  # one connection each
    with ThreadPoolExecutor(max_workers=len(uploads)) as pool:
        answers = list(pool.map(lambda u: u[0].post(f"/v1/partners/{partner_id}/documents", u[1]), uploads))
    assert [a.status_code for a in answers] == [201] * len(documents), [a.text for a in answers if a.status_code != 201]
    partner = desk.ops.get(f"/v1/partners/{partner_id}").json()
    assert set(partner["documents"]) == {d["document_type"] for d in documents}
    trail = desk.admin.get("/v1/audit", subject=partner_id).json()["items"]
    assert [r["action"] for r in trail].count("partner.document_recorded") == len(documents)
    assert desk.admin.get("/v1/audit/verify").json()["valid"] is True


def test_entitlements_cite_a_rule_and_a_clause_that_the_contract_has(desk):
    partner_id = desk.activated()
    answers = desk.ops.get(f"/v1/partners/{partner_id}/entitlements").json()
    assert answers["effective_tier"] == "gold" and answers["policy_version"].startswith("pv_")
    for name, answer in answers["entitlements"].items():
        assert {"entitled", "value", "reason", "rule_id", "clause"} <= set(answer), name
        assert answer["clause"] in CLAUSES, (name, answer["clause"])
    one = desk.ops.get(f"/v1/partners/{partner_id}/entitlements/premium_onboarding").json()
    assert (one["entitled"], one["value"], one["rule_id"], one["clause"]) == (True, True, "ENT-GLD-ONBOARD", "PA-9.3")
    assert_problem(desk.ops.get(f"/v1/partners/{partner_id}/entitlements/free_lunch"), 404)
    assert_problem(desk.ops.get(f"/v1/partners/{partner_id}/entitlements/Bad-Name"), 404)
    assert_problem(desk.ops.get(f"/v1/partners/{partner_id}/entitlements", at="tomorrow"), 400)


def test_an_expired_certification_removes_the_entitlements_that_depended_on_it_from_that_moment(desk):
    partner_id = desk.activated()
    expiry = _s()["expiry"]
    for name, (was, now) in expiry["depends_on_it"].items():
        path = f"/v1/partners/{partner_id}/entitlements/{name}"
        before = desk.ops.get(path, at=expiry["last_valid_moment"]).json()
        after = desk.ops.get(path, at=expiry["first_lapsed_moment"]).json()
        assert before["value"] == was and before["effective_tier"] == "gold", before
        assert after["value"] == now and after["effective_tier"] == "silver", after
        assert (after["rule_id"], after["clause"]) == ("PTR-CERTIFICATION-LAPSE", "PA-4.3")
        assert expiry["certification"] in after["reason"]
    for name, value in expiry["unaffected"].items():
        after = desk.ops.get(f"/v1/partners/{partner_id}/entitlements/{name}", at=expiry["first_lapsed_moment"])
        assert after.json()["value"] == value and after.json()["entitled"] is True


def test_a_partner_that_meets_only_a_lower_tier_is_assigned_it_and_net_45_then_needs_legal(desk):
    partner_id = desk.apply("gold_reseller")
    desk.file(partner_id, "all_partners", "reseller", certifications="silver")
    submitted = desk.submit(partner_id)
    assert submitted["outcome"] == "pending_approval"
    assert (submitted["assessment"]["requested_tier"], submitted["assessment"]["qualified_tier"]) == ("gold", "silver")
    shortfall = submitted["assessment"]["tier_shortfall"]
    assert shortfall and all((r["rule_id"], r["clause"]) == ("TIER-GOLD", "PA-3.4") for r in shortfall)
    assert submitted["approval"]["queue"] == "legal"  # net 45 is standard only from gold up (PA-6.7)
    decision = f"/v1/approvals/{submitted['approval']['case_id']}/decision"
    assert_problem(desk.approver.post(decision, {"outcome": "approved"}), 403)  # channel ops is the wrong queue
    assert desk.legal.post(decision, {"outcome": "approved", "note": "net 45 accepted"}).status_code == 200
    assert desk.ops.get(f"/v1/partners/{partner_id}").json()["tier"] == "silver"


def test_non_standard_terms_route_the_activation_to_legal(desk):
    for name, certs in (("silver_reseller_net_60", "silver"), ("reseller_with_special_terms", None)):
        partner_id = desk.apply(name)
        desk.file(partner_id, "all_partners", "reseller", certifications=certs)
        submitted = desk.submit(partner_id)
        assert submitted["approval"]["queue"] == "legal" and submitted["approval"]["category"].endswith(
            "nonstandard_terms"
        )
        assert submitted["assessment"]["nonstandard_terms"][0]["clause"] == "PA-6.7"


def test_a_rejection_records_why_and_ends_the_application(desk):
    partner_id = desk.apply("reseller_with_special_terms")
    desk.file(partner_id, "all_partners", "reseller")
    decision = f"/v1/approvals/{desk.submit(partner_id)['approval']['case_id']}/decision"
    assert_problem(desk.legal.post(decision, {"outcome": "rejected"}), 422)  # a refusal needs a reason
    refused = desk.legal.post(decision, {"outcome": "rejected", "note": "Alaska exclusivity is not offered"})
    assert refused.status_code == 200
    partner = desk.ops.get(f"/v1/partners/{partner_id}").json()
    assert partner["status"] == "rejected" and partner["decision"]["note"] == "Alaska exclusivity is not offered"
    assert partner["history"][-1]["reason"] == "Alaska exclusivity is not offered"
    assert assert_problem(desk.ops.post(f"/v1/partners/{partner_id}/submit"), 409)["allowed_next"] == []
    entitlement = desk.ops.get(f"/v1/partners/{partner_id}/entitlements/partner_portal_access").json()
    assert entitlement["entitled"] is False and entitlement["clause"] in CLAUSES


def test_missing_items_keep_the_partner_waiting_until_each_is_provided(desk):
    partner_id = desk.apply("regional_reseller_without_terms")
    first = desk.submit(partner_id)
    assert first["outcome"] == "pending_documents"
    territory = next(gap for gap in first["missing"] if gap["name"] == "territory")
    assert (territory["kind"], territory["rule_id"], territory["clause"]) == (
        "term",
        "ONB-TYPE-REGIONAL-RESELLER",
        "PA-2.6",
    )
    amended = desk.ops.post(f"/v1/partners/{partner_id}/terms", _s()["regional_terms"])
    assert amended.status_code == 200 and amended.json()["terms"]["territory"] == ["US-WA", "US-OR"]
    assert not [gap for gap in amended.json()["outstanding"] if gap["kind"] == "term"]
    desk.file(partner_id, "all_partners", "reseller")
    lapsed = desk.ops.post(f"/v1/partners/{partner_id}/documents", _s()["documents"]["expired_insurance"])
    assert lapsed.status_code == 201 and lapsed.json()["counts"] is False
    second = desk.submit(partner_id)
    assert second["outcome"] == "pending_documents"
    assert [(g["name"], g["problem"], g["clause"]) for g in second["missing"]] == [
        ("insurance_certificate", "expired", "PA-2.7")
    ]
    desk.file(partner_id, "all_partners")
    assert desk.submit(partner_id)["outcome"] == "pending_approval"
    assert_problem(desk.ops.post(f"/v1/partners/{partner_id}/terms", _s()["regional_terms"]), 409)


def test_illegal_transitions_are_409_with_what_may_come_next(desk):
    partner_id = desk.apply("gold_reseller")
    reason = {"reason": "testing the state machine"}
    problem = assert_problem(desk.ops.post(f"/v1/partners/{partner_id}/suspend", reason), 409)
    assert (problem["current_status"], problem["allowed_next"]) == (
        "applied",
        ["pending_approval", "pending_documents"],
    )
    active = desk.activated()
    assert assert_problem(desk.ops.post(f"/v1/partners/{active}/submit"), 409)["allowed_next"] == [
        "suspended",
        "terminated",
    ]
    assert assert_problem(desk.ops.post(f"/v1/partners/{active}/reinstate", reason), 409)["current_status"] == "active"
    assert desk.legal.post(f"/v1/partners/{active}/terminate", reason).json()["status"] == "terminated"
    for path in ("reinstate", "suspend", "terminate"):
        assert assert_problem(desk.admin.post(f"/v1/partners/{active}/{path}", reason), 409)["allowed_next"] == []
    document = _s()["documents"]["all_partners"][0]
    assert assert_problem(desk.ops.post(f"/v1/partners/{active}/documents", document), 409)["allowed_next"] == []


def test_suspension_withholds_what_the_policy_lists_until_reinstated_and_termination_ends_everything(desk):
    partner_id = desk.activated()
    path = f"/v1/partners/{partner_id}/entitlements"
    suspended = desk.finance.post(f"/v1/partners/{partner_id}/suspend", {"reason": "invoice 60 days overdue"})
    assert suspended.json()["status"] == "suspended"
    during = desk.ops.get(path).json()["entitlements"]
    assert during["deal_registration"]["entitled"] is False and during["deal_registration"]["clause"] == "PA-13.2"
    assert during["support_level"]["value"] == "premium"
    assert_problem(desk.finance.post(f"/v1/partners/{partner_id}/terminate", {"reason": "not finance's call"}), 403)
    assert (
        desk.ops.post(f"/v1/partners/{partner_id}/reinstate", {"reason": "paid in full"}).json()["status"] == "active"
    )
    assert desk.ops.get(f"{path}/deal_registration").json()["entitled"] is True
    assert desk.ops.post(f"/v1/partners/{partner_id}/terminate", {"reason": "breach not cured"}).status_code == 200
    ended = desk.ops.get(path).json()
    assert not any(a["entitled"] for a in ended["entitlements"].values())
    assert {a["clause"] for a in ended["entitlements"].values()} == {"PA-13.3"}


@pytest.mark.parametrize("index", range(len(WHY["bad_documents"])), ids=WHY["bad_documents"])
def test_bad_documents_are_400_or_422_with_the_field_named(desk, index):
    case = _s()["bad_documents"][index]
    partner_id = desk.apply("gold_reseller")
    problem = assert_problem(desk.ops.post(f"/v1/partners/{partner_id}/documents", case["body"]), case["status"])
    assert any(e["path"] == case["path"] for e in problem.get("errors", [])), problem
    assert desk.ops.get(f"/v1/partners/{partner_id}").json()["documents"] == {}


@pytest.mark.parametrize("index", range(len(WHY["bad_certifications"])), ids=WHY["bad_certifications"])
def test_bad_certifications_are_400_or_422_with_the_field_named(desk, index):
    case = _s()["bad_certifications"][index]
    partner_id = desk.apply("gold_reseller")
    problem = assert_problem(desk.ops.post(f"/v1/partners/{partner_id}/certifications", case["body"]), case["status"])
    assert any(e["path"] == case["path"] for e in problem.get("errors", [])), problem
    assert desk.ops.get(f"/v1/partners/{partner_id}").json()["certifications"] == {}


@pytest.mark.parametrize("index", range(len(WHY["bad_applications"])), ids=WHY["bad_applications"])
def test_bad_applications_are_400_or_422_and_create_nothing(desk, index):
    case = _s()["bad_applications"][index]
    body = {**_s()["applications"]["gold_reseller"], **case["change"]}
    problem = assert_problem(desk.ops.post("/v1/partners", body), case["status"])
    assert any(e["path"] == case["path"] for e in problem.get("errors", [])), problem


def test_a_partner_key_sees_and_changes_only_its_own_partner(desk):
    mine, theirs = desk.apply("gold_reseller"), desk.apply("gold_reseller")
    partner = desk.partner_key(mine)
    own = partner.get(f"/v1/partners/{mine}").json()
    assert own["partner_id"] == mine and own["created_by"] == "channel_ops"  # the team, not the staff key
    document = _s()["documents"]["all_partners"][0]
    assert partner.post(f"/v1/partners/{mine}/documents", document).status_code == 201
    assert partner.get(f"/v1/partners/{mine}/entitlements").status_code == 200
    for response in (
        partner.get(f"/v1/partners/{theirs}"),
        partner.post(f"/v1/partners/{theirs}/documents", document),
        partner.get(f"/v1/partners/{theirs}/entitlements"),
        partner.get(f"/v1/partners/{theirs}/entitlements/support_level"),
        partner.get("/v1/partners/ptr_01JX0000000000000000000000"),
    ):
        assert_problem(response, 404)
    assert desk.ops.get(f"/v1/partners/{theirs}").json()["documents"] == {}
    for response in (
        # PA-4.2: certification records follow the certifying body's evidence; a partner key records none, its own
        # included (tests/security/test_partner_probes.py)
        partner.post(f"/v1/partners/{mine}/certifications", _s()["certifications"]["silver"][0]),
        partner.post(f"/v1/partners/{theirs}/certifications", _s()["certifications"]["silver"][0]),
        partner.post(f"/v1/partners/{mine}/submit"),
        partner.post(f"/v1/partners/{mine}/terms", _s()["regional_terms"]),
        partner.post(f"/v1/partners/{mine}/suspend", {"reason": "self-suspend"}),
        partner.post("/v1/partners", _s()["applications"]["gold_reseller"]),
        partner.get("/v1/partners"),
        partner.get("/v1/keys"),
        partner.post("/v1/keys", {"role": "admin", "label": "escalate"}),
        partner.get("/v1/tenants"),
        partner.get("/v1/approvals"),
        partner.get("/v1/audit/verify"),
        partner.get("/v1/audit", subject=theirs),
    ):
        assert_problem(response, 403)
    # PA-12.1 "provides the Partner, on request, with the records relating to the Partner": its own, never theirs
    trail = partner.get("/v1/audit").json()["items"]
    assert trail and {r["partner_id"] for r in trail} == {mine} and theirs not in str(trail)
    assert_problem(partner.get("/v1/audit", partner_id=theirs), 404)


def test_another_tenants_partner_is_404(desk, contoso):
    partner_id = desk.apply("gold_reseller")
    assert_problem(contoso.get(f"/v1/partners/{partner_id}"), 404)
    assert_problem(contoso.post(f"/v1/partners/{partner_id}/submit"), 404)
    assert partner_id not in {p["partner_id"] for p in contoso.get("/v1/partners", limit=200).json()["items"]}


def _every(client: Api, path: str, limit: int = 200, **query: Any) -> list[dict[str, Any]]:
    """Every item of a list, page by page: northwind is the demo tenant every stack test of the worker shares, and
    earlier modules leave their partners and cases in it (19 modules onboard silver partners there,
    `support.northwind_silver_partners`), so a newly made one need not be on the first page."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get(path, limit=limit, **query, **({"cursor": cursor} if cursor else {})).json()
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def test_partners_are_listed_by_status_and_tier_page_by_page(desk):
    active = desk.activated(certifications="silver")  # downgraded to silver
    applied = desk.apply("implementation_partner")
    listed = [p["partner_id"] for p in _every(desk.ops, "/v1/partners", limit=2)]
    assert {active, applied} <= set(listed) and len(listed) == len(set(listed))
    by_status = _every(desk.ops, "/v1/partners", status="active", tier="silver")
    assert {(p["status"], p["tier"]) for p in by_status} == {("active", "silver")}
    assert active in {p["partner_id"] for p in by_status} and applied not in {p["partner_id"] for p in by_status}
    by_tier = {p["partner_id"] for p in _every(desk.ops, "/v1/partners", tier="silver")}
    assert active in by_tier
    applied_only = _every(desk.ops, "/v1/partners", status="applied")
    assert applied in {p["partner_id"] for p in applied_only} and {p["status"] for p in applied_only} == {"applied"}
    assert_problem(desk.ops.get("/v1/partners", status="dormant"), 400)


def test_the_demo_seed_lists_partners_and_a_working_key_for_the_active_one(api, keys):
    for tenant_id, tenant in keys["tenants"].items():
        statuses = {p["status"] for p in tenant["partners"]}
        assert {"active", "pending_approval", "pending_documents"} <= statuses, tenant_id
        for partner in tenant["partners"]:
            if partner["status"] == "active":
                own = api.as_key(tenant["keys"][partner["partner_id"]]).get(f"/v1/partners/{partner['partner_id']}")
                assert own.status_code == 200 and own.json()["tier"] == partner["tier"]


class Recorder:
    """An event publisher that keeps what it is given (and publishes nothing)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def publish(self, tenant_id: str, events: list[dict[str, Any]]) -> list[str]:
        self.events += events
        return []


def _term_sweep_events() -> list[dict[str, Any]]:
    """The year-end sweep's events (PA-13.1), on an in-memory runtime with its own clock: the session stack's
    partners are never moved through a Program Year end."""
    mem, clock = memory_runtime("2026-03-10T09:00:00.000Z")
    policy = mem.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]
    application = demo_application("Term Event Networks", "reseller", tiers_by_rank(policy)[0])
    sales = Principal("northwind", Role.SALES, "key_01JX0000000000000000TRMS")
    onboard(mem, policy, application, "active", sales=sales,
            approver=Principal("northwind", Role.CHANNEL_OPS, "key_01JX0000000000000000TRMA"))
    for day in ("2026-10-15T02:00:00.000Z", "2027-01-01T02:00:00.000Z"):
        clock.set(day)
        renewals.sweep_terms(mem, "northwind")
    return [e for e in mem.publisher.published if e["detail_type"] in {"partner.renewal_due", "partner.renewed"}]


def _reminder_events() -> list[dict[str, Any]]:
    """The lifecycle run's reminders before expiry (PA-2.7, PA-4.2), on an in-memory runtime with its own clock: a
    certification valid through 2026-12-16 is reminded on 2026-10-17, 60 days before."""
    from revgov.ports import Changes, Put

    mem, _ = memory_runtime("2026-10-17T02:00:00.000Z")
    partner = {"partner_id": "ptr_01JX0000000000000000000RMD", "partner_type": "reseller", "tier": "registered",
               "status": "active", "documents": {},
               "certifications": {"cert-network-core": {"earned_at": "2025-12-17", "expires_at": "2026-12-16"}}}
    mem.store.commit("northwind", Changes(puts=[Put("PARTNER", partner["partner_id"], partner)]))
    partners.send_expiry_reminders(mem, "northwind")
    return [e for e in mem.publisher.published if e["detail_type"] == "partner.expiry_reminder"]


def _tier_change_events() -> list[dict[str, Any]]:
    """A watch placed by the July review, and a tier change recorded from the January review and made on its
    effective day (PA-3.6 / PA-3.7), on the billing ledger's in-memory runtime: the Platinum sample partner invoiced
    nothing before July and USD 52,000.00 in 2026, below every commitment."""
    from datetime import date

    from memory_store import Ledger
    from revgov.services import tier_changes

    ledger = Ledger("2026-08-05T12:00:00Z")
    platinum = "ptr_01JBNWPARTNER0000000000001"
    ship = {"partner_id": platinum, "order_ref": "SO-TC-EV", "shipped_on": "2026-08-05",
            "lines": [{"sku": "NW-SRV-R2", "quantity": 10}]}
    ledger.bill("shipment.confirmed", ship, occurred_at="2026-08-05T10:00:00Z")
    ops = Principal("northwind", Role.CHANNEL_OPS, "key_01JX000000000000000000TCOP")
    # PA-3.6's July review: nothing invoiced January to June 2026, below 40% of Platinum's commitment: on watch
    tier_changes.record_review(ledger.rt, ops, platinum, date(2026, 7, 15), requested=False)
    ledger.clock.set("2027-01-20T12:00:00Z")
    tier_changes.record_review(ledger.rt, ops, platinum, date(2027, 1, 20), requested=False)
    ledger.clock.set("2027-04-01T02:00:00Z")
    tier_changes.sweep_tier_changes(ledger.rt, "northwind")
    kinds = {"partner.tier_change_scheduled", "partner.tier_changed", "partner.placed_on_watch"}
    return [e for e in ledger.rt.publisher.published if e["detail_type"] in kinds]


def test_every_partner_event_matches_the_catalogue_schema_and_has_a_sample(stack):
    recorder = Recorder()
    base = stack.runtime
    rt = Runtime(base.settings, base.store, recorder, base.clock, base.ids)
    creator = Principal("northwind", Role.SALES, "key_01JX000000000000000000CRTR")
    approver = Principal("northwind", Role.CHANNEL_OPS, "key_01JX000000000000000000APRV")
    decided = {}
    for name, outcome in (("gold_reseller", "approved"), ("reseller_with_special_terms", "rejected")):
        partner_id = partners.apply(rt, creator, _s()["applications"][name])["partner_id"]
        partners.submit(rt, creator, partner_id)
        partners.amend_terms(rt, creator, partner_id, {"payment_terms_days": 30})
        for document in _s()["documents"]["all_partners"] + _s()["documents"]["reseller"]:
            partners.add_document(rt, creator, partner_id, document)
        for certification in _s()["certifications"]["gold"]:
            partners.add_certification(rt, creator, partner_id, certification)
        approval = partners.submit(rt, creator, partner_id)["approval"]
        role = Role.CHANNEL_OPS if approval["queue"] == "channel_ops" else Role.LEGAL
        cases.decide_case(
            rt, Principal("northwind", role, approver.key_id), "approval", approval["case_id"], outcome, "x"
        )
        decided[outcome] = partner_id
    certified = _s()["certifications"]["gold"][-1]["certification_id"]  # PA-4.4: its only holder leaves today
    partner_departures.record(rt, approver, decided["approved"],
                              {"certification_id": certified, "last_day": rt.clock.now_iso()[:10]})
    year_end = renewals.get_term(rt, approver, decided["approved"])["year_end"]  # PA-13.1: in time for the next one
    renewals.give_notice(rt, approver, decided["approved"],
                         {"reason": "scenario", "effective_at": f"{int(year_end[:4]) + 1}-12-31"})
    # PA-2.8 "Screening is repeated ... whenever ownership changes": a change of beneficial ownership is an event too
    partner_ownership.record_ownership_change(rt, approver, decided["approved"], {
        "changed_on": rt.clock.now_iso()[:10], "description": "Harbor Capital acquired 40% of the shares",
        "beneficial_owners": [{"name": "Harbor Capital LP", "share_percent": "40.00"}]})
    # PA-2.1: "A Partner may apply to change its partner type by submitting the onboarding documents required for the
    # new type; the change takes effect when Channel Operations approves it": one asked and rejected, one approved
    # with PA-2.4's MSP documents on file (requested, rejected, changed)
    change = {"partner_type": "msp", "reason": "we now run managed services"}
    admin = Principal("northwind", Role.ADMIN, "key_01JX000000000000000000ADMN")  # SOP-4.3: not the approver
    asked = partner_type_changes.request_change(rt, admin, decided["approved"], change)["type_change"]
    cases.decide_case(rt, approver, "approval", asked["approval_id"], "rejected", "not operating services yet")
    asked = partner_type_changes.request_change(rt, admin, decided["approved"], change)["type_change"]
    today = rt.clock.now_iso()[:10]
    a_year_on = (date.fromisoformat(today) + timedelta(days=365)).isoformat()
    for kind, coverage in (("professional_liability_insurance", "2000000.00"), ("cyber_liability_insurance",
                           "2000000.00"), ("security_attestation", None), ("operations_contact", None)):  # fmt: skip
        document = {"document_type": kind, "reference": f"dms://{kind}", "checksum": "sha256:" + "7" * 64,
                    "issued_at": today, **({"coverage_amount": coverage, "expires_at": a_year_on} if coverage else {})}
        partners.add_document(rt, approver, decided["approved"], document)
    cases.decide_case(rt, approver, "approval", asked["approval_id"], "approved", "documents verified")
    for status in ("suspended", "active", "terminated"):
        partners.change_status(rt, approver, decided["approved"], status, "scenario")
    mine = [e for e in recorder.events if e["source"] == "revgov.partner"] + _term_sweep_events() + _reminder_events()
    mine += _tier_change_events()
    seen = {e["detail_type"] for e in mine}
    samples = {p.stem for p in (ROOT / "events" / "revgov.partner").glob("*.json")}
    assert seen == samples
    for envelope in mine:
        event = {"source": envelope["source"], "detail-type": envelope["detail_type"], "detail": envelope["detail"]}
        assert schemas.problems("events/revgov.partner.schema.json", event) == [], event
    for sample in (ROOT / "events" / "revgov.partner").glob("*.json"):
        assert schemas.problems("events/revgov.partner.schema.json", json.loads(sample.read_text())) == [], sample.name


def _screening(outcome: str | None) -> dict[str, Any]:
    body = {"document_type": "compliance_screening", "reference": "dms://screening/api.pdf",
            "checksum": "sha256:" + "8" * 64, "issued_at": clock_support.today().isoformat()}  # fmt: skip
    return {**body, "outcome": outcome} if outcome else body


def test_pa_2_8_a_screening_outcome_over_http_who_records_it_and_what_a_partner_may_not(desk):
    """PA-2.8: "A potential match is routed to Legal, and no quote, order or incentive may be processed for the
    Partner while the match is unresolved." SOP-1.2: legal handles "compliance screening matches". The partner is
    screened by the Distributor: its key records no outcome (403); a bad outcome is refused naming the field."""
    partner_id = desk.activated()
    own = desk.partner_key(partner_id)
    url = f"/v1/partners/{partner_id}/documents"
    assert_problem(own.post(url, _screening("clear")), 403)
    assert_problem(desk.sales.post(url, _screening("clear")), 403)
    bad = assert_problem(desk.ops.post(url, _screening("maybe")), 400)  # the schema names the field
    assert "/outcome" in json.dumps(bad)
    assert_problem(desk.legal.post(url, {**_screening(None), "document_type": "signed_agreement"}), 403)
    held = desk.ops.post(url, _screening("potential_match"))
    assert held.status_code == 201 and held.json()["document"]["outcome"] == "potential_match"
    assert_problem(desk.ops.post(url, _screening("clear")), 403)  # "routed to Legal": only Legal resolves it
    queue = _every(desk.legal, "/v1/exceptions", queue="legal")
    assert any(c["category"] == "compliance_screening_match" and c["partner_id"] == partner_id for c in queue)
    cleared = desk.legal.post(url, _screening("clear"))
    assert cleared.status_code == 201 and cleared.json()["document"]["outcome"] == "clear"
    seen = own.get(f"/v1/partners/{partner_id}").json()["documents"]["compliance_screening"]
    assert seen["outcome"] == "clear"
