"""Reviewer round 6, the bounded agents as the seed describes them: "AI agents are better suited to bounded
operational tasks: [...] monitoring threshold attainment, or escalating anomalies. [...] agents should not operate as
unsupervised decision-makers for material financial actions"; "AI agents can monitor these signals and open tasks
automatically". DESIGN.md: "Every automated decision, approval action, agent action [...] produces one audit record".

The agents run as the scheduler runs them (`services.agents.run`, the entry of `revgov agents run NAME` and of each
agent's scheduled handler) on a tenant the operator provisioned (northwind's program, its own brand: the helper
module). What they open is read and acted on through the HTTP API only.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from reviewer6_support import ALPHA, branded_fixture, quote, walk
from reviewer_support import instant, party_today

from billing_support import wait_until
from revgov.services import agents
from security_support import Party, make_party, offboard, shipment
from support import Api

pytestmark = pytest.mark.stack

tenant = branded_fixture("northwind", ALPHA, "pool")


def _tasks(party: Party, agent: str) -> list[dict]:
    return [t for t in walk(party.by_role["channel_ops"], "/v1/tasks", 200)[0] if t["agent"] == agent]


def _agent_records(party: Party, agent: str) -> list[dict]:
    return [r for r in _all_records(party) if r["actor"] == f"agent:{agent}"]


def test_the_threshold_watcher_opens_a_task_per_partner_and_level_for_channel_ops_citing_its_clause(tenant, operator):
    """PA-7.2 (volume rebate): "USD 0.00 to 99,999.99 | 0.0%", "USD 100,000.00 to 249,999.99 | 1.0%". PA-3.3: "The
    Silver tier requires an annual commitment of USD 250,000.00". docs/kpis.md: the threshold watcher finds "per active
    partner and program, the lowest threshold not reached this quarter with P(miss) ≥ 0.5" (the tier's commitment
    "prorated (months/12)") and opens "a task for channel ops with the forecast as evidence [...]; confidence = months
    of own history / 6, so a partner with 4 months or fewer is escalated". DESIGN.md: every agent action's audit record
    holds "actor, action, subject, inputs [...], policy version, rule ids, clause refs".

    By hand, for each of the two Silver partners of the new tenant (nothing invoiced, onboarded today):
    - RBT-VOLUME: lowest level not reached USD 100,000.00 (PA-7.2); to date 0.00; the naive P(miss) (100,000.00 -
      0.00) / 100,000.00 = 1, and with nothing invoiced and no history the projection is 0.00, so P(miss) = 1.0;
    - TIER-SILVER: 250,000.00 x 3/12 = 62,500.00 for the Quarter (PA-3.3); P(miss) = 1.0 likewise;
    - own history 0 months: confidence 0 / 6 = 0 < 0.7, so each is an escalation in channel_ops' queue.
    That is 2 x 2 = 4 tasks, each audited by `agent:threshold_watcher` (actor_role agent) citing its program and
    clause under the tenant's policy version. A second run opens nothing new. An escalation carries no drafted note."""
    agents.run(tenant.rt, "threshold_watcher", [tenant.tenant_id])
    tasks = {(t["partner_id"], t["evidence"]["threshold"]["program_id"]): t
             for t in _tasks(tenant, "threshold_watcher")}
    expected = {(p, program): (level, clause) for p in tenant.partners
                for program, level, clause in (("RBT-VOLUME", "100000.00", "PA-7.2"),
                                               ("TIER-SILVER", "62500.00", "PA-3.3"))}
    assert set(tasks) == set(expected), sorted(tasks)
    for (partner_id, program), task in tasks.items():
        level, clause = expected[(partner_id, program)]
        threshold = task["evidence"]["threshold"]
        assert (threshold["threshold"], threshold["clause"], threshold["p_miss"]) == (level, clause, 1.0), task
        assert task["evidence"]["to_date"] == "0.00" and task["evidence"]["history_months"] == 0
        assert (task["queue"], task["status"], task["opened_by"]) == ("channel_ops", "open", "agent:threshold_watcher")
        assert task["escalated"] is True and task["confidence"] == 0.0 and task["draft_message"] is None
    version = operator.get(f"/v1/tenants/{tenant.tenant_id}").json()["policy_version"]
    records = {r["subject"]: r for r in _agent_records(tenant, "threshold_watcher")}
    assert set(records) == {t["task_id"] for t in tasks.values()}
    for (_, program), task in tasks.items():
        record = records[task["task_id"]]
        assert record["action"] == "task.escalated" and record["actor_role"] == "agent"
        assert record["rule_ids"] == [program] and record["clauses"] == [expected[(_, program)][1]], record
        assert record["policy_version"] == version, "the agent's record names no policy version"
    assert tenant.admin.get("/v1/audit/verify").json()["valid"] is True

    agents.run(tenant.rt, "threshold_watcher", [tenant.tenant_id])
    assert len(_tasks(tenant, "threshold_watcher")) == len(tasks)
    # PA-12.1 gives the partner "the records relating to the Partner" (decisions and approvals); docs/audit.md: an
    # agent's record is the distributor's assessment, left out of the partner's list
    mine = tenant.partner_keys[tenant.partners[0]].get("/v1/audit", limit=200).json()["items"]
    assert not [r for r in mine if str(r.get("actor", "")).startswith("agent")]


def _approved_deal(party: Party, partner_id: str, family: str, value: str) -> dict:
    today = party_today(party)
    registered = party.partner_keys[partner_id].post("/v1/deals", {
        "partner_id": partner_id, "customer": {"id": f"CUST-{uuid.uuid4().hex[:8]}", "name": "Watcher Customer",
                                               "contact": "Pat Buyer"},
        "family": family, "estimated_value": value, "expected_close": (today + timedelta(days=60)).isoformat()})
    assert registered.status_code in (201, 202), registered.text
    deal = registered.json()
    if deal["status"] != "approved":
        approval_id = deal["approval_id"]
        decided = party.by_role["channel_ops"].post(f"/v1/approvals/{approval_id}/decision", {"outcome": "approved"})
        assert decided.status_code == 200, decided.text
        deal = party.admin.get(f"/v1/deals/{deal['deal_id']}").json()
    assert deal["status"] == "approved", deal
    return deal


def test_the_certification_watcher_opens_a_renewal_task_for_a_live_deal_whose_certification_lapses_soon(tenant):
    """PA-4.3: "From the moment a certification expires [...] every entitlement that depends on that certification is
    removed". docs/kpis.md: the certification watcher finds "live deal registrations whose partner's certification for
    the family has expired, or lapses before the deal closes (or within 30 days)" and opens "a renewal task with a
    drafted reminder", citing `deal_registration.certification_lapse` (DR-CERT-LAPSE, PA-4.3).

    By hand: the partner's cert-network-core is recorded again ending in 10 days; its networking registration closes in
    60 days, so the certification lapses before the deal closes (10 < 60) and within 30 days: one task for this
    partner naming that deal, in channel_ops' queue (SOP-1.2: channel_ops owns "certifications"), audited by
    `agent:certification_watcher` with DR-CERT-LAPSE / PA-4.3. The other partner, with no registration, gets none."""
    partner_id = tenant.partners[0]
    deal = _approved_deal(tenant, partner_id, "networking", "40000.00")
    today = party_today(tenant)
    recorded = tenant.by_role["channel_ops"].post(f"/v1/partners/{partner_id}/certifications", {
        "certification_id": "cert-network-core", "earned_at": (today - timedelta(days=300)).isoformat(),
        "expires_at": (today + timedelta(days=10)).isoformat()})
    assert recorded.status_code in (200, 201), recorded.text

    agents.run(tenant.rt, "certification_watcher", [tenant.tenant_id])
    tasks = _tasks(tenant, "certification_watcher")
    assert [t["partner_id"] for t in tasks] == [partner_id], tasks
    (task,) = tasks
    assert deal["deal_id"] in repr(task["subject"]) + repr(task["evidence"]), task
    assert task["draft_message"], "a renewal task carries a drafted reminder"
    # SOP-1.2: "channel_ops (partner onboarding, tier changes, certifications, deal registration, ...)"
    assert task["queue"] == "channel_ops" and task["escalated"] is False, task
    records = _agent_records(tenant, "certification_watcher")
    assert records and all("DR-CERT-LAPSE" in r["rule_ids"] and "PA-4.3" in r["clauses"] for r in records), records


MONEY_ROUTES = (
    ("/v1/approvals/{id}/decision", {"outcome": "approved"}, "finance"),
    ("/v1/approvals/{id}/decision", {"outcome": "approved"}, "channel_ops"),
    ("/v1/invoices/{id}/finalize", {}, "finance"),
    ("/v1/rebates/settlements/{id}/approve", {}, "finance"),
    ("/v1/rebates/disputes/{id}/resolve", {"outcome": "accepted"}, "finance"),
    ("/v1/exceptions/{id}/resolve", {"outcome": "resolved", "note": "done"}, "channel_ops"),
)


def test_no_money_route_takes_an_agents_task_and_resolving_nothing_moves_money(tenant):
    """The seed: "agents should not operate as unsupervised decision-makers for material financial actions"; README:
    agents "open tasks and exceptions but never approve or settle". An agent's output given to every route that
    approves, issues, settles or credits must change nothing: a task id is not an approval, invoice, settlement,
    dispute or exception, so each such route answers the 404 of an unknown id (API.md) and no invoice, settlement or
    approval appears. The agents have no key either: `POST /v1/keys` with role `agent` is a 422 naming `/role`."""
    agents.run(tenant.rt, "threshold_watcher", [tenant.tenant_id])
    (task, *_) = _tasks(tenant, "threshold_watcher")
    finance = tenant.by_role["finance"]
    before = {path: finance.get(path).json() for path in ("/v1/invoices", "/v1/rebates/settlements")}
    for route, body, role in MONEY_ROUTES:
        answer = tenant.by_role[role].post(route.format(id=task["task_id"]), body)
        assert answer.status_code in (400, 404), (route, answer.status_code, answer.text)
        if answer.status_code == 400:  # the id's shape is refused before the body: the path names it
            assert any("id" in e["path"] for e in answer.json().get("errors", [])), answer.text
    assert {path: finance.get(path).json() for path in before} == before
    refused = tenant.admin.post("/v1/keys", {"role": "agent", "label": "let the agent approve"})
    assert refused.status_code in (400, 422) and any(e["path"] == "/role" for e in refused.json()["errors"])
    # the task itself cannot be changed through the API: only GET /v1/tasks exists (docs/routes.md)
    assert tenant.by_role["channel_ops"].post(f"/v1/tasks/{task['task_id']}", {}).status_code in (404, 405)


def test_a_forecast_the_agent_reads_is_what_the_api_states_for_the_partner(tenant, api: Api):
    """docs/kpis.md: the threshold watcher opens its task "with the forecast as evidence"; API.md: `GET
    /v1/partners/{partner_id}/forecast?period=` gives the probability of missing each threshold. By hand: the current
    Quarter's volume so far is 0.00 and the first threshold is 100,000.00 (PA-7.2), so the forecast's P(miss) of the
    100,000.00 level is at least 0.5 (the agent acts only then) and the task's evidence shows the same P(miss)."""
    agents.run(tenant.rt, "threshold_watcher", [tenant.tenant_id])
    partner_id = tenant.partners[0]
    (task,) = [t for t in _tasks(tenant, "threshold_watcher")
               if t["partner_id"] == partner_id and t["evidence"]["threshold"]["program_id"] == "RBT-VOLUME"]
    today = party_today(tenant)
    period = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    forecast = tenant.partner_keys[partner_id].get(f"/v1/partners/{partner_id}/forecast", period=period)
    assert forecast.status_code == 200, forecast.text
    body = forecast.json()
    levels = [t for p in body.get("programs", [body]) for t in p.get("thresholds", [])]
    first = [t for t in levels if Decimal(str(t.get("threshold", t.get("min", "-1")))) == Decimal("100000.00")]
    assert first, body
    p_miss = first[0]["p_miss"]
    assert p_miss >= 0.5
    assert str(p_miss) in repr(task["evidence"]) or f"{p_miss:.2f}" in repr(task["evidence"]), (p_miss, task)


def _money_state(party: Party) -> dict:
    """What moves money, as finance reads it: every invoice with its lines, every settlement run, every pending
    approval and open exception (what a person decides), and the overdue statement of each partner."""
    finance = party.by_role["finance"]
    state: dict = {}
    invoices = finance.get("/v1/invoices", limit=200).json()["items"]
    state["invoices"] = {i["invoice_id"]: finance.get(f"/v1/invoices/{i['invoice_id']}").json() for i in invoices}
    state["settlements"] = finance.get("/v1/rebates/settlements", limit=200).json()["items"]
    state["approvals"] = sorted(a["approval_id"] for a in
                                party.admin.get("/v1/approvals", status="pending", limit=200).json()["items"])
    return state


def test_running_every_agent_on_a_tenant_with_live_money_changes_no_money(tenant):
    """README: "seven bounded agents [...] that open tasks and exceptions but never approve or settle"; the seed: agents
    must not be "unsupervised decision-makers for material financial actions". Set up through the API: a shipment the
    ERP reports (a line on the partner's draft invoice) and a quote whose discount waits for approval. Then every agent
    of `revgov agents run` runs on the tenant. Expected: the invoices (every line, status and total), the settlement
    runs and the pending approvals read by finance are exactly as before; every audit record an agent sealed is the
    opening or escalation of a task or exception, by `agent:<name>` with actor_role agent, citing at least one rule
    and clause."""
    partner_id = tenant.partners[0]
    sent = tenant.erp.post(shipment(tenant, partner_id))
    assert sent.status_code == 202, sent.text
    event_id = sent.json()["events"][0]["event_id"] if "events" in sent.json() else sent.json()["event_id"]
    wait_until(lambda: tenant.admin.get(f"/v1/events/{event_id}").json().get("status") == "processed", 30,
               what="the shipment billed")
    assert quote(tenant, partner_id, "25.00")["approvals"]
    before = _money_state(tenant)
    assert before["invoices"] and before["approvals"]

    for name in agents.AGENTS:
        agents.run(tenant.rt, name, [tenant.tenant_id])
    assert _money_state(tenant) == before
    records = [r for r in _all_records(tenant) if r.get("actor_role") == "agent" or r["actor"].startswith("agent:")]
    assert records, "no agent acted"
    for record in records:
        assert record["action"] in ("task.opened", "task.escalated", "exception.opened"), record["action"]
        assert record["actor"].split(":", 1)[1] in agents.AGENTS
        assert record["rule_ids"] and record["clauses"], record


def _all_records(party: Party) -> list[dict]:
    return walk(party.admin, "/v1/audit", 200)[0]


def _without_deal_lapse(config: dict) -> None:
    ALPHA.apply("pool")(config)
    del config["policy"]["deal_registration"]["certification_lapse"]


@pytest.fixture
def unheld(api, operator, stack):
    """Northwind's program without PA-4.3(d)'s holding of registrations (`deal_registration.certification_lapse`):
    docs/kpis.md: an expired certification on a live deal is then the certification watcher's exception."""
    made = make_party(api, operator, stack, "northwind", edit=_without_deal_lapse)
    yield made
    offboard(operator, made)


def test_an_expired_certification_on_a_live_deal_is_the_agents_exception_for_channel_ops_and_moves_no_money(
        unheld, operator):
    """PA-4.3: "From the moment a certification expires, and until a valid certification of the same id is recorded:
    (a) every entitlement that depends on that certification is removed". docs/kpis.md: the certification watcher opens
    "An expired certification on a live deal [as] a `certification_expired_active_deal` exception [...] by the agent"
    where the policy does not hold registrations; SOP-4.1's route for it is channel_ops (tenant.yaml
    ROUTE-CERTIFICATION-EXPIRED-ACTIVE-DEAL, 8 hours). DESIGN.md: the agent's action is audited with the policy version.

    By hand: the partner's cert-network-core is recorded again with its last valid day yesterday; its approved
    networking registration is live, so one exception in channel_ops' queue, requested by the agent, citing PA-4.3 and
    the route's SOP-4.1, due 8 hours after it opened; its `exception.opened` record is by
    `agent:certification_watcher` under the tenant's policy version. Channel ops resolving it changes no invoice,
    settlement or pending approval."""
    party, partner_id = unheld, unheld.partners[0]
    deal = _approved_deal(party, partner_id, "networking", "30000.00")
    today = party_today(party)
    recorded = party.by_role["channel_ops"].post(f"/v1/partners/{partner_id}/certifications", {
        "certification_id": "cert-network-core", "earned_at": (today - timedelta(days=400)).isoformat(),
        "expires_at": (today - timedelta(days=1)).isoformat()})
    assert recorded.status_code in (200, 201), recorded.text
    agents.run(party.rt, "certification_watcher", [party.tenant_id])

    listed = party.by_role["channel_ops"].get("/v1/exceptions", queue="channel_ops", status="open", limit=200)
    mine = [e for e in listed.json()["items"] if str(e.get("requested_by", "")).startswith("agent:")]
    assert len(mine) == 1, listed.json()
    (exception,) = mine
    assert exception["category"] == "certification_expired_active_deal" and exception["partner_id"] == partner_id
    assert exception["requested_by"] == "agent:certification_watcher"
    assert deal["deal_id"] in json.dumps(exception)
    clauses = {r.get("clause") for r in exception["reasons"]}
    assert {"PA-4.3", "SOP-4.1"} <= clauses, exception["reasons"]
    assert (instant(exception["due_at"]) - instant(exception["opened_at"])).total_seconds() == 8 * 3600
    version = operator.get(f"/v1/tenants/{party.tenant_id}").json()["policy_version"]
    (record,) = [r for r in _agent_records(party, "certification_watcher") if r["subject"] == exception["exception_id"]]
    assert record["action"] == "exception.opened" and record["policy_version"] == version, record

    before = _money_state(party)
    resolved = party.by_role["channel_ops"].post(f"/v1/exceptions/{exception['exception_id']}/resolve",
                                                  {"outcome": "resolved", "note": "renewal evidence requested"})
    assert resolved.status_code == 200, resolved.text
    assert _money_state(party) == before
