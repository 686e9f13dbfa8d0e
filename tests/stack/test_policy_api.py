"""Issue #19 over HTTP on the running stack: the catalog (import, versions, diff, price in force), and a policy change
through drafts, JSON Patch, validation, proposal and four-eyes approval, with every bad input a problem+json that
changes nothing.

PA-6.1: "Products are quoted from the Distributor's price list in force on the quote date. The Distributor may change
the price list with 30 days' notice". SOP-4.3: "A requester can never approve their own request. [...] Where a
request needs two approvals [...] they must be given by two different people, neither of whom is the requester.
[...] Any attempt to self-approve is rejected and recorded in the audit log." Dates are relative to the stack's own
clock, so no test depends on the calendar.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from clause_amendment import move_margin_floor_http
from security_support import make_party, offboard, without_change_calendar
from support import assert_problem

pytestmark = pytest.mark.stack

HEADER = "sku,name,family,billing,list_price,unit_cost,currency,effective_from,effective_to\n"


@pytest.fixture(scope="module")
def party(api: Any, operator: Any, stack: Any) -> Any:
    made = make_party(api, operator, stack, "northwind", edit=without_change_calendar)
    yield made
    offboard(operator, made)


@pytest.fixture(scope="module")
def calendar_party(api: Any, operator: Any, stack: Any) -> Any:
    made = make_party(api, operator, stack, "northwind")
    yield made
    offboard(operator, made)


def test_a_policy_change_off_the_change_calendar_is_a_problem_citing_sop_7_3_and_changes_nothing(calendar_party):
    """SOP-7.3: "Changes to the tenant policy [...] take effect only on the first day of a Billing Month and are not
    made during the last 5 business days of a Quarter or before the rebate run for the Quarter is approved." Whatever
    today is, the 2nd of a month is refused (and so is anything made in a freeze: the same clause)."""
    ops, finance = calendar_party.by_role["channel_ops"], calendar_party.by_role["finance"]
    draft_id = ops.post("/v1/policy/drafts", {}).json()["draft_id"]
    path = f"/v1/policy/drafts/{draft_id}"
    move_margin_floor_http(ops, calendar_party.admin, path, "12", "14")  # PA-6.3 amended with it: the clause wins
    year = _today(calendar_party).year + 1
    problem = assert_problem(ops.post(f"{path}/propose", {"effective_at": f"{year}-03-02T00:00:00.000Z"}), 422)
    assert problem["clause"] == "SOP-7.3" and problem["rule_id"] == "POLICY-CHANGE-MONTH-START"
    assert [e["path"] for e in problem["errors"]] == ["/effective_at"]
    assert finance.get(path).json()["status"] == "draft"
    trail = [r["action"] for r in calendar_party.admin.get("/v1/audit", subject=draft_id).json()["items"]]
    assert "policy.proposed" not in trail


def test_a_price_change_with_less_than_30_days_notice_is_a_problem_naming_the_row(calendar_party):
    """PA-6.1: "The Distributor may change the price list with 30 days' notice in the Partner Portal"."""
    finance = calendar_party.by_role["finance"]
    soon = (_today(calendar_party) + timedelta(days=29)).isoformat()
    rows = HEADER + (f"NW-SW-24P,24-port managed switch,networking,shipment,1250.00,900.00,USD,,{soon}\n"
                     f"NW-SW-24P,24-port managed switch,networking,shipment,1300.00,910.00,USD,{soon},\n")
    problem = assert_problem(finance.post("/v1/catalog/imports", {"source": "soon.csv", "csv": rows}), 422)
    assert problem["clause"] == "PA-6.1" and [e["path"] for e in problem["errors"]] == ["/rows/1/list_price"]
    assert finance.get("/v1/catalog/versions").json()["current"] == 0  # nothing imported


def _today(party: Any) -> date:
    return date.fromisoformat(party.rt.clock.now_iso()[:10])


def _quote(party: Any, discount: str = "0") -> Any:
    partner = party.partners[0]
    return party.partner_keys[partner].post("/v1/pricing/check", {
        "partner_id": partner, "customer": {"id": "CUST-POLICY", "name": "Policy Co"},
        "lines": [{"line_id": "1", "sku": "NW-SW-24P", "quantity": 2, "discount_percent": discount}]})


def test_the_catalog_over_http_prices_from_each_effective_date(party):
    finance, viewer = party.by_role["finance"], party.by_role["viewer"]
    partner = party.partner_keys[party.partners[0]]
    before = _quote(party).json()
    assert before["lines"][0]["list_price"] == "1250.00"
    change = (_today(party) + timedelta(days=31)).isoformat()

    bad = HEADER + ("NW-SW-24P,Switch,networking,shipment,1250.00,900.00,USD,,\n"
                    "nw-bad,Lower,networking,shipment,1.00,1.00,USD,,\n"
                    "NW-X-1,Other,networking,shipment,1.999,1.00,EUR,2027-02-30,\n")
    problem = assert_problem(finance.post("/v1/catalog/imports", {"source": "bad.csv", "csv": bad}), 422)
    assert [e["path"] for e in problem["errors"]] == ["/rows/1/sku", "/rows/2/list_price", "/rows/2/currency",
                                                      "/rows/2/effective_from"]
    assert finance.get("/v1/catalog/versions").json()["current"] == 0  # nothing imported
    assert_problem(partner.post("/v1/catalog/imports", {"source": "x.csv", "csv": HEADER}), 403)
    assert_problem(viewer.post("/v1/catalog/imports", {"source": "x.csv", "csv": HEADER}), 403)
    assert_problem(partner.get("/v1/catalog/skus/NW-SW-24P"), 403)  # unit costs are the Distributor's
    assert_problem(finance.post("/v1/catalog/imports", {"source": "x", "csv": HEADER, "rows": []}), 400)

    good = HEADER + (f"NW-SW-24P,24-port managed switch,networking,shipment,1250.00,900.00,USD,,{change}\n"
                     f"NW-SW-24P,24-port managed switch,networking,shipment,1300.00,910.00,USD,{change},\n"
                     "NW-RTR-EDGE,Edge router,networking,shipment,2100.00,1470.00,USD,,\n")
    imported = finance.post("/v1/catalog/imports", {"source": "next-month.csv", "csv": good})
    assert imported.status_code == 201, imported.text
    summary = imported.json()
    assert (summary["seq"], summary["rows"]) == (1, 3)
    versions = viewer.get("/v1/catalog/versions").json()
    assert versions["current"] == 1 and versions["items"][1]["source"] == "next-month.csv"
    diff = viewer.get("/v1/catalog/diff", **{"from": "0", "to": "1"}).json()
    assert {e["sku"] for e in diff["added"]} == {"NW-SW-24P"}  # the scheduled version
    assert_problem(viewer.get("/v1/catalog/diff", **{"from": "0", "to": "9"}), 404)
    assert_problem(viewer.get("/v1/catalog/diff", **{"from": "0"}), 400)

    today = viewer.get("/v1/catalog/skus/NW-SW-24P").json()
    assert (today["list_price"], today["catalog_version"]) == ("1250.00", summary["version"])
    assert viewer.get("/v1/catalog/skus/NW-SW-24P", on=change).json()["list_price"] == "1300.00"
    assert_problem(viewer.get("/v1/catalog/skus/NW-SW-24P", on="2027-02-30"), 400)
    assert_problem(viewer.get("/v1/catalog/skus/NW-SEC-SUITE"), 404)  # not in the import: off the price list

    after = _quote(party).json()
    assert after["lines"][0]["list_price"] == "1250.00"  # today's quotes untouched
    staff = party.by_role["finance"]
    assert staff.get(f"/v1/decisions/{before['decision_id']}/replay").json()["identical"] is True
    trail = party.admin.get("/v1/audit", subject=summary["version"]).json()["items"]
    assert trail[0]["action"] == "catalog.imported"


def test_a_policy_change_needs_finance_and_legal_and_never_its_proposer(party):
    ops, finance, legal, admin = (party.by_role[r] for r in ("channel_ops", "finance", "legal", "admin"))
    active = _quote(party, "15").json()["policy_version"]
    created = ops.post("/v1/policy/drafts", {"reason": "raise the margin floor"})
    assert created.status_code == 201, created.text
    draft_id = created.json()["draft_id"]
    path = f"/v1/policy/drafts/{draft_id}"

    bad_patch = ops.post(f"{path}/patch", {"operations": [{"op": "replace", "path": "/pricing/nope", "value": 1}]})
    assert assert_problem(bad_patch, 422)["errors"][0]["path"] == "/operations/0"
    assert_problem(ops.post(f"{path}/patch", {"operations": [{"op": "merge", "path": "/x"}]}), 400)
    unknown = ops.post(f"{path}/patch", {"operations": [
        {"op": "replace", "path": "/pricing/margin_floor/clause", "value": "ZZ-99.9"}]})
    assert unknown.status_code == 200, unknown.text
    assert finance.get(f"{path}/validation").json()["problems"][0]["path"] == "/policy/pricing/margin_floor/clause"
    assert_problem(ops.post(f"{path}/propose", {}), 422)  # an unknown clause is never proposed
    patched = ops.post(f"{path}/patch", {"operations": [
        {"op": "replace", "path": "/pricing/margin_floor/clause", "value": "PA-6.3"},
        {"op": "replace", "path": "/pricing/margin_floor/percent", "value": "16"}]})
    assert patched.status_code == 200 and patched.json()["revision"] == 3
    # PA-6.3 says "below 12%": a 16 the clause does not say is a problem naming the figure, and is never proposed
    mismatch = finance.get(f"{path}/validation").json()
    assert mismatch["valid"] is False and [e["path"] for e in mismatch["problems"]] == [
        "/policy/pricing/margin_floor/percent"] and "PA-6.3" in mismatch["problems"][0]["message"]
    refused = assert_problem(ops.post(f"{path}/propose", {}), 422)
    assert [e["path"] for e in refused["errors"]] == ["/policy/pricing/margin_floor/percent"]
    move_margin_floor_http(ops, admin, path, "12", "16")  # both rules citing PA-6.3 move and the clause with them
    diff = finance.get(f"{path}/diff").json()
    assert [(c["rule_id"], c["clause"], c["changes"]) for c in diff["changed"]] == [
        ("PRC-MARGIN-FLOOR", "PA-6.3", [{"path": "/percent", "from": "12", "to": "16"}]),
        ("RBT-MARGIN-FLOOR", "PA-6.3", [{"path": "/percent", "from": "12", "to": "16"}])]
    assert finance.get(f"{path}/validation").json() == {"draft_id": draft_id, "revision": 5, "valid": True,
                                                        "problems": []}

    past = party.rt.clock.now_iso()[:10] + "T00:00:00.000Z"
    assert_problem(ops.post(f"{path}/propose", {"effective_at": past}), 422)
    proposed = ops.post(f"{path}/propose", {"note": "16% floor", "expected_revision": 5})
    assert proposed.status_code == 200, proposed.text
    assert proposed.json()["required_roles"] == ["finance", "legal"]
    assert_problem(ops.post(f"{path}/patch", {"operations": [{"op": "remove", "path": "/calendar"}]}), 409)

    assert_problem(ops.post(f"{path}/approve", {}), 403)  # the proposer, and not a role the policy names
    assert_problem(party.partner_keys[party.partners[0]].post(f"{path}/approve", {}), 403)
    assert finance.post(f"{path}/approve", {"note": "margin checked"}).json()["status"] == "proposed"
    assert_problem(finance.post(f"{path}/approve", {}), 409)  # approving twice
    assert_problem(admin.post(f"{path}/activate", {}), 409)  # unapproved: never takes effect
    assert _quote(party, "15").json()["policy_version"] == active
    done = legal.post(f"{path}/approve", {})
    assert done.status_code == 200 and done.json()["status"] == "active", done.text
    requoted = _quote(party, "15").json()
    assert requoted["policy_version"] == done.json()["policy_version"] != active
    assert requoted["outcome"] == "approval_required"  # 15% off: 15.3% margin, under the new 16% floor
    history = finance.get("/v1/policy/versions").json()
    assert history["items"][-1]["policy_version"] == history["active_version"] == done.json()["policy_version"]
    assert history["items"][-1]["previous_version"] == active
    actions = [r["action"] for r in admin.get("/v1/audit", subject=draft_id, limit=50).json()["items"]]
    assert {"policy.proposed", "policy.approved", "policy.activated", "policy.approval_refused"} <= set(actions)
    assert admin.get("/v1/audit/verify").json()["valid"] is True
    assert_problem(legal.post(f"{path}/reject", {"note": "too late"}), 409)  # it is active now
    assert_problem(finance.post(f"{path}/reject", {"note": " "}), 400)  # a rejection needs a reason


def test_the_operators_registry_lists_the_version_in_force_after_an_activation(party, operator):
    """The activation commits in the tenant's partition; `policy.activated` (rule tenant-registry) brings the new
    `policy_version` to the platform's registry that `GET /v1/tenants` lists (SOP-7.3: "Every change creates a new
    policy version"). The test makes its own activation, so it does not depend on the order tests run in."""
    from billing_support import wait_until

    ops, finance, legal = (party.by_role[r] for r in ("channel_ops", "finance", "legal"))
    created = ops.post("/v1/policy/drafts", {"reason": "a change for the registry"})
    assert created.status_code == 201, created.text
    path = f"/v1/policy/drafts/{created.json()['draft_id']}"
    floor = finance.get("/v1/policy").json()["policy"]["pricing"]["margin_floor"]["percent"]
    move_margin_floor_http(ops, party.admin, path, floor, str(Decimal(floor) + 1))  # PA-6.3 amended with it
    assert ops.post(f"{path}/propose", {"note": "registry"}).status_code == 200
    assert finance.post(f"{path}/approve", {}).status_code == 200
    activated = legal.post(f"{path}/approve", {})
    assert activated.status_code == 200 and activated.json()["status"] == "active", activated.text
    in_force = finance.get("/v1/policy").json()["policy_version"]
    assert in_force == activated.json()["policy_version"]

    def listed() -> Any:
        cursor = None
        while True:
            page = operator.get("/v1/tenants", limit=100, **({"cursor": cursor} if cursor else {})).json()
            for item in page["items"]:
                if item["tenant_id"] == party.tenant_id:
                    return item["policy_version"]
            cursor = page.get("next_cursor")
            if not cursor:
                return None

    wait_until(lambda: listed() == in_force, 30, what="the registry's policy_version")


def test_whatif_over_http_names_the_decisions_that_would_change(party):
    ops, finance = party.by_role["channel_ops"], party.by_role["finance"]
    made = [_quote(party, d).json()["decision_id"] for d in ("0", "10", "15")]
    draft_id = ops.post("/v1/policy/drafts", {}).json()["draft_id"]
    path = f"/v1/policy/drafts/{draft_id}"
    ops.post(f"{path}/patch", {"operations": [{"op": "replace", "path": "/pricing/margin_floor/percent",
                                                "value": "25"}]})
    today = party.rt.clock.now_iso()[:10]
    report = finance.post(f"{path}/whatif", {"from": today, "to": today}).json()
    assert report["decisions"] >= 3
    rows = [finance.get(f"{path}/whatif/{d}").json() for d in made]
    assert [r["after"]["outcome"] for r in rows] == ["allow", "approval_required", "approval_required"]
    changed = {e for c in report["outcome_changes"] for e in c["examples"]}
    assert set(made[1:]) & changed or report["outcome_changes"][0]["count"] > 5
    assert_problem(finance.post(f"{path}/whatif", {"from": today, "to": "2020-01-01"}), 422)
    assert_problem(finance.post(f"{path}/whatif", {"from": "2026-02-30", "to": today}), 422)


def test_rebate_whatif_over_http_answers_its_schema_and_refuses_bad_input_changing_nothing(party):
    """The rebates what-if writes nothing (docs/policy.md); every bad input is a problem+json naming it."""
    from revgov import schemas

    ops, finance = party.by_role["channel_ops"], party.by_role["finance"]
    draft_id = ops.post("/v1/policy/drafts", {}).json()["draft_id"]
    path = f"/v1/policy/drafts/{draft_id}"
    ops.post(f"{path}/patch", {"operations": [{"op": "replace", "path": "/rebates/programs/0/tiers/1/percent",
                                                "value": "1.5"}]})
    chain = party.admin.get("/v1/audit/verify").json()
    answer = finance.post(f"{path}/rebates-whatif", {"period": "2026-Q3", "examples": 2})
    assert answer.status_code == 200, answer.text
    schemas.validate("api/responses/policy-rebate-whatif.schema.json", answer.json())
    assert set(answer.json()["kpis"]) >= {"before", "after", "net_margin_change"}
    for body, status in (({"period": "2026-Q5"}, 400), ({"period": "20２６-Q3"}, 400), ({"period": "2026-13"}, 422),
                         ({"period": "2026-Q3", "examples": 51}, 400), ({"period": "2026-Q3", "examples": "3"}, 400),
                         ({"period": "2026-Q3", "tenant_id": "other"}, 400), ({}, 400)):
        assert_problem(finance.post(f"{path}/rebates-whatif", body), status)
    partner = party.partner_keys[party.partners[0]]
    assert_problem(partner.post(f"{path}/rebates-whatif", {"period": "2026-Q3"}), 403)
    assert party.admin.get("/v1/audit/verify").json()["records"] == chain["records"]


def test_usage_whatif_over_http_answers_its_schema_and_refuses_bad_input(party):
    from revgov import schemas

    ops, finance = party.by_role["channel_ops"], party.by_role["finance"]
    draft_id = ops.post("/v1/policy/drafts", {}).json()["draft_id"]
    path = f"/v1/policy/drafts/{draft_id}/usage-whatif"
    answer = finance.post(path, {"period": "2026-10"})
    assert answer.status_code == 200, answer.text
    schemas.validate("api/responses/policy-usage-whatif.schema.json", answer.json())
    for body in ({"period": "2026-13"}, {"period": "2026-Q5"}, {"period": "20２６-10"}, {"period": 202610},
                 {"period": "2026-10", "examples": -1}, {"period": "2026-10", "draft_id": draft_id}, {}):
        assert_problem(finance.post(path, body), 400)
    assert_problem(party.partner_keys[party.partners[0]].post(path, {"period": "2026-10"}), 403)


def test_billing_whatif_over_http_answers_its_schema_and_refuses_bad_input(party):
    from revgov import schemas

    ops, finance = party.by_role["channel_ops"], party.by_role["finance"]
    draft_id = ops.post("/v1/policy/drafts", {}).json()["draft_id"]
    ops.post(f"/v1/policy/drafts/{draft_id}/patch", {"operations": [
        {"op": "replace", "path": "/billing/credit_notes/approval_above", "value": "0.00"}]})
    path = f"/v1/policy/drafts/{draft_id}/billing-whatif"
    chain = party.admin.get("/v1/audit/verify").json()
    answer = finance.post(path, {"period": "2026-Q4", "examples": 2})
    assert answer.status_code == 200, answer.text
    schemas.validate("api/responses/policy-billing-whatif.schema.json", answer.json())
    assert answer.json()["credit_notes"]["limit_after"] == "0.00"
    for body in ({"period": "2026-13"}, {"period": "2026-Q5"}, {"period": "20２６-10"}, {"period": 202610},
                 {"period": "2026-10", "examples": -1}, {"period": "2026-10", "examples": 51},
                 {"period": "2026-10", "tenant_id": "other"}, {}):
        assert_problem(finance.post(path, body), 400)
    assert_problem(party.partner_keys[party.partners[0]].post(path, {"period": "2026-10"}), 403)
    assert_problem(finance.post("/v1/policy/drafts/pdr_01JBNW000000000000000000XX/billing-whatif",
                                {"period": "2026-10"}), 404)
    assert party.admin.get("/v1/audit/verify").json()["records"] == chain["records"]


def test_the_policy_cli_diffs_proposes_whatifs_and_approves_a_tenant_yaml(party, tmp_path, capsys):
    import json

    import yaml

    from revgov import cli
    from support import ROOT

    config = yaml.safe_load((ROOT / "tenants" / "northwind" / "tenant.yaml").read_text())
    active = party.by_role["finance"].get("/v1/policy").json()
    config["policy"] = json.loads(json.dumps(active["policy"]))
    config["policy"]["pricing"]["payment_terms"]["standard_days"] = [30, 45]
    edited = tmp_path / "tenant.yaml"
    edited.write_text(yaml.safe_dump(config))

    def run(*argv: str, role: str) -> Any:
        key = party.by_role[role].key
        code = cli.main(["policy", *argv, "--url", party.admin.base_url, "--key", key, "--json"])
        out = capsys.readouterr()
        return code, (json.loads(out.out) if out.out.strip() else None), out.err

    code, diff, _ = run("diff", str(edited), role="finance")
    assert code == 0 and [c["rule_id"] for c in diff["changed"]] == ["PRC-PAYMENT-TERMS"]
    code, proposed, _ = run("propose", str(edited), "--note", "net 45 for all", role="channel_ops")
    assert code == 0 and proposed["status"] == "proposed", proposed
    today = party.rt.clock.now_iso()[:10]
    code, report, _ = run("whatif", proposed["draft_id"], "--from", today, "--to", today, role="finance")
    assert code == 0 and report["draft_id"] == proposed["draft_id"] and "by_segment" in report
    code, _, err = run("approve", proposed["draft_id"], role="channel_ops")  # its proposer
    assert code == 1 and "403" in err and "not by channel_ops" in err
    assert run("approve", proposed["draft_id"], role="finance")[0] == 0
    code, approved, _ = run("approve", proposed["draft_id"], "--note", "terms reviewed", role="legal")
    assert code == 0 and approved["status"] == "active"
    assert party.by_role["finance"].get("/v1/policy").json()["policy_version"] == approved["policy_version"]


def test_a_draft_takes_an_rfc6902_patch_document_with_its_own_media_type(party):
    """RFC 6902 §1: "This document defines the media type 'application/json-patch+json'"; §5: if an operation is
    not successful, "application of the entire patch document SHALL NOT be deemed successful"."""
    ops = party.by_role["channel_ops"]
    draft_id = ops.post("/v1/policy/drafts", {}).json()["draft_id"]
    media = {"Content-Type": "application/json-patch+json"}
    floor = ops.get(f"/v1/policy/drafts/{draft_id}").json()["policy"]["pricing"]["margin_floor"]["percent"]
    raised = str(int(floor) + 1)
    patch = [{"op": "test", "path": "/pricing/margin_floor/percent", "value": floor},
             {"op": "replace", "path": "/pricing/margin_floor/percent", "value": raised}]
    patched = ops.request("PATCH", f"/v1/policy/drafts/{draft_id}", patch, headers=media)
    assert patched.status_code == 200, patched.text
    assert patched.json()["policy"]["pricing"]["margin_floor"]["percent"] == raised
    failing = [{"op": "replace", "path": "/pricing/margin_floor/percent", "value": "40"},
               {"op": "test", "path": "/pricing/margin_floor/percent", "value": floor}]
    problem = assert_problem(ops.request("PATCH", f"/v1/policy/drafts/{draft_id}", failing, headers=media), 422)
    assert problem["errors"][0]["path"] == "/operations/1"
    assert ops.get(f"/v1/policy/drafts/{draft_id}").json()["revision"] == 2  # nothing changed
    assert_problem(ops.request("PATCH", f"/v1/policy/drafts/{draft_id}", [{"op": "jump", "path": "/x"}],
                               headers=media), 400)
    assert_problem(ops.request("PATCH", f"/v1/policy/drafts/{draft_id}", raw=b"[]", headers=media), 400)
    assert_problem(ops.request("PATCH", f"/v1/policy/drafts/{draft_id}", patch,
                               headers={"Content-Type": "text/plain"}), 415)
    assert_problem(party.by_role["viewer"].request("PATCH", f"/v1/policy/drafts/{draft_id}", patch,
                                                   headers=media), 403)


def test_a_contract_amendment_takes_effect_over_http_only_with_the_policy_change_it_carries(party):
    """A draft carries the amendment it implements; both take effect in the activation (docs/policy.md). SOP-4.3:
    "The person who created or last changed [...] may not approve it" (attaching the amendment changes the draft)."""
    ops, finance, legal, admin = (party.by_role[r] for r in ("channel_ops", "finance", "legal", "admin"))
    floor = finance.get("/v1/policy").json()["policy"]["pricing"]["margin_floor"]["percent"]
    raised = str(int(floor) + 1)
    draft_id = ops.post("/v1/policy/drafts", {}).json()["draft_id"]
    path = f"/v1/policy/drafts/{draft_id}"
    assert ops.post(f"{path}/patch", {"operations": [  # both rules citing PA-6.3 move with it
        {"op": "replace", "path": "/pricing/margin_floor/percent", "value": raised},
        {"op": "replace", "path": "/rebates/margin_floor/percent", "value": raised}]}).status_code == 200
    clause = {"clause_id": "PA-6.3", "title": "Margin floor",
              "text": f"No quote line may be priced with a Line Margin below {raised}% without Finance approval."}
    body = {"document": "PA", "reason": "amendment: margin floor", "clauses": [clause]}
    before = finance.get("/v1/contracts/PA").json()["contract"]
    assert_problem(ops.request("PUT", f"{path}/amendment", body), 403)  # channel ops does not amend contracts
    assert_problem(admin.request("PUT", f"{path}/amendment", {**body, "document": "ZZ"}), 404)
    assert_problem(admin.request("PUT", f"{path}/amendment", {**body, "clauses": [
        {**clause, "clause_id": "SOP-1.1"}]}), 422)
    assert_problem(admin.request("PUT", f"{path}/amendment", {**body, "extra": 1}), 400)
    assert_problem(admin.request("DELETE", f"{path}/amendment"), 404)  # none yet
    attached = admin.request("PUT", f"{path}/amendment", body)
    assert attached.status_code == 200, attached.text
    assert attached.json()["amendment"]["base_revision"] == before["revision"]
    assert ops.post(f"{path}/propose", {}).status_code == 200
    assert_problem(admin.post(f"{path}/approve", {}), 403)  # not a role the policy names
    assert finance.post(f"{path}/approve", {}).json()["status"] == "proposed"
    assert finance.get("/v1/contracts/PA").json()["contract"]["revision"] == before["revision"]
    done = legal.post(f"{path}/approve", {})
    assert done.status_code == 200 and done.json()["status"] == "active", done.text
    after = finance.get("/v1/contracts/PA").json()["contract"]
    assert after["revision"] == done.json()["activation"]["amendment"]["revision"] == before["revision"] + 1
    assert f"below {raised}% without Finance approval" in after["markdown"]
    trail = [r["action"] for r in admin.get("/v1/audit", subject="PA", limit=50).json()["items"]]
    assert "contract.amended" in trail
    assert admin.get("/v1/audit/verify").json()["valid"] is True


def test_shadow_mode_over_http_records_live_checks_under_a_proposed_draft_without_effect(party):
    """PA-6.3: "No quote line may be priced with a Line Margin below 12% without Finance approval" (the floor the
    draft moves to 30%): 1,250.00 over a 900.00 cost without discount is a 28% margin, allowed by the floor in force
    (at most 17% after the tests above) and needing finance under the draft."""
    from billing_support import wait_until

    ops, finance = party.by_role["channel_ops"], party.by_role["finance"]
    assert int(finance.get("/v1/policy").json()["policy"]["pricing"]["margin_floor"]["percent"]) < 28
    draft_floor, live, shadowed = "30", "allow", "approval_required"
    draft_id = ops.post("/v1/policy/drafts", {}).json()["draft_id"]
    path = f"/v1/policy/drafts/{draft_id}"
    floor = finance.get("/v1/policy").json()["policy"]["pricing"]["margin_floor"]["percent"]
    move_margin_floor_http(ops, party.admin, path, floor, draft_floor)  # PA-6.3 amended with it: the clause wins
    assert_problem(ops.request("PUT", f"{path}/shadow", {"enabled": True}), 409)  # not proposed yet
    assert ops.post(f"{path}/propose", {}).status_code == 200
    assert_problem(ops.request("PUT", f"{path}/shadow", {"enabled": "yes"}), 400)
    assert_problem(party.by_role["viewer"].request("PUT", f"{path}/shadow", {"enabled": True}), 403)
    started = ops.request("PUT", f"{path}/shadow", {"enabled": True})
    assert started.status_code == 200 and started.json()["shadowing"] is True, started.text
    checked = _quote(party, "0").json()
    assert checked["outcome"] == live  # the live answer is the policy in force's

    def recorded() -> list[dict[str, Any]]:
        return [r for r in finance.get(f"{path}/shadow", all="true").json()["items"]
                if r["decision_id"] == checked["decision_id"]]

    wait_until(lambda: bool(recorded()), 30, what="the shadow evaluation of the quote")
    [row] = recorded()
    assert (row["before"]["outcome"], row["after"]["outcome"], row["differs"]) == (live, shadowed, True)
    report = finance.get(f"{path}/shadow").json()
    assert report["differing"] >= 1 and checked["decision_id"] in {r["decision_id"] for r in report["items"]}
    assert finance.get(f"/v1/decisions/{checked['decision_id']}").json()["outcome"] == live  # without effect
    assert ops.request("PUT", f"{path}/shadow", {"enabled": False}).json()["shadowing"] is False


@pytest.fixture
def billing_tenant(api, operator, stack):
    from billing_support import billing_tenant_in

    yield from billing_tenant_in(api, operator, stack)


def test_shadow_mode_bills_posted_lines_again_under_a_proposed_draft_on_the_running_stack(billing_tenant):
    """PA-10.6: "Unless the statement of work provides otherwise, milestones are: 30% on project kickoff, 40% on
    completion of deployment": the deployment milestone of a 12,500.00 statement of work is 5,000.00 in force and
    6,250.00 under a draft whose deployment share is 50%. The ERP event goes webhook → bus → billing; the posted line
    is billed again under the shadowed draft after billing's commit (rule policy-shadow), without effect."""
    from dataclasses import replace

    from billing_support import sample, wait_until, webhook_body
    from revgov import schemas
    from revgov.domain.contracts import parse_contract
    from revgov.domain.tenants import policy_version
    from revgov.ports import Changes
    from revgov.services import tenant_repository
    from support import scenario

    tenant = billing_tenant
    tenant.add_partners(scenario("billing/erp-samples.json")["partners"])
    stored, version = tenant_repository.load(tenant.rt.store, tenant.tenant_id)  # proposing at once on any day:
    config = {**stored.config, "policy": dict(stored.policy)}  # the calendar rules off (security_support says why)
    without_change_calendar(config)
    tenant.rt.store.commit(tenant.tenant_id, Changes(puts=[tenant_repository.profile_put(
        replace(stored, config=config, policy_version=policy_version(config["policy"])), version=version)]))
    draft_id = tenant.channel_ops.post("/v1/policy/drafts", {}).json()["draft_id"]
    path = f"/v1/policy/drafts/{draft_id}"
    tenant.channel_ops.post(f"{path}/patch", {"operations": [{"op": "replace", "path": "/billing/milestones/schedule",
                                                              "value": {"kickoff": 20, "deployment": 50,
                                                                        "acceptance": 30}}]})
    # the clause wins: the draft carries PA-10.6 amended to the same 20 / 50 / 30 (admin amends contracts)
    pa = tenant.admin.get("/v1/contracts/PA").json()["contract"]["markdown"]
    (pa_10_6,) = [c for c in parse_contract(pa).clauses if c.clause_id == "PA-10.6"]
    amended = pa_10_6.text.replace("30% on project kickoff, 40% on completion",
                                   "20% on project kickoff, 50% on completion")
    assert amended != pa_10_6.text
    assert tenant.admin.request("PUT", f"{path}/amendment", {
        "document": "PA", "reason": "milestones 20 / 50 / 30",
        "clauses": [{"clause_id": "PA-10.6", "title": pa_10_6.title, "text": amended}]}).status_code == 200
    assert tenant.channel_ops.post(f"{path}/propose", {}).status_code == 200
    assert tenant.channel_ops.request("PUT", f"{path}/shadow", {"enabled": True}).status_code == 200
    received = tenant.send(webhook_body(sample("service.completed")))
    tenant.wait_for([received["event_id"]])

    def billed() -> dict[str, Any]:
        return dict(tenant.finance.get(f"{path}/shadow").json()["billing"])

    wait_until(lambda: billed()["evaluated"] >= 1, 30, what="the shadow billing of the milestone line")
    report = tenant.finance.get(f"{path}/shadow")
    schemas.validate("api/responses/policy-shadow.schema.json", report.json())
    [line] = report.json()["billing"]["items"]
    assert (line["kind"], line["before"]["amount"], line["after"]["amount"]) == ("milestone", "5000.00", "6250.00")
    invoice = tenant.finance.get(line["invoice"]).json()
    assert [x["amount"] for x in invoice["lines"]] == ["5000.00"]  # without effect
