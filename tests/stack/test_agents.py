"""Bounded agents on the running stack: each opens its tasks or exceptions (or escalates) once, with evidence and
the actor agent:<name>, and provably never touches anything that moves money."""

import ast
import copy
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

import clock_support
from analytics_support import analytics_tenant_in, monthly_revenue_rollups
from revgov import cli
from revgov.domain import kpis
from revgov.domain.billing import sla_due
from revgov.ports import Changes, Delete, Put
from revgov.runtime import OUTBOX
from revgov.services import agents, deal_holds, tasks
from revgov.services.agents.desk import CAPABILITIES, AgentDesk, BoundaryViolation
from revgov.services.case_repository import CASES, UNDECIDED_POINTERS

AGENT_DIR = Path(agents.__file__).parent


def _iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _watch(rt, tenant_id, partner_id, hours_ago, *, billed_lines=None):
    """A billable ERP event with no invoice line yet (its SLA watch), as erp.accept leaves it."""
    event_id = rt.ids.new("evt")
    occurred = _iso(clock_support.now() - timedelta(hours=hours_ago))
    due = sla_due(occurred, 48)
    watch = {"event_id": event_id, "erp_event_id": f"ERP-{event_id[-8:]}", "detail_type": "shipment.confirmed",
             "partner_id": partner_id, "occurred_at": occurred, "due_at": due, "breached": False}
    puts = [Put("SLAWATCH", event_id, watch, lookup=("SLAWATCH#open", f"{due}#{event_id}"))]
    if billed_lines:
        puts.append(Put("BILLED", watch["erp_event_id"], {"erp_event_id": watch["erp_event_id"],
                                                          "line_ids": billed_lines}))
    rt.store.commit(tenant_id, Changes(puts=puts))
    return event_id


def _deal(rt, tenant_id, partner_id, family, days_to_close):
    deal_id = rt.ids.new("dl")
    now = clock_support.now()
    deal = {"deal_id": deal_id, "partner_id": partner_id, "customer": {"id": f"C-{deal_id[-6:]}", "name": "Acme"},
            "family": family, "estimated_value": "50000.00",
            "expected_close": (now.date() + timedelta(days=days_to_close)).isoformat(), "status": "approved",
            "registered_at": _iso(now - timedelta(days=5)), "approved_at": _iso(now - timedelta(days=4)),
            "expires_at": _iso(now + timedelta(days=86)), "approval_id": None}
    rt.store.commit(tenant_id, Changes(puts=[Put("DEAL", deal_id, deal)]))
    return deal_id


def _with_certification(rt, tenant_id, partner, cert_id, expires_on):
    changed = copy.deepcopy(partner)
    changed["certifications"][cert_id] = {**changed["certifications"][cert_id], "expires_at": expires_on.isoformat()}
    rt.store.commit(tenant_id, Changes(puts=[Put("PARTNER", partner["partner_id"], changed)]))


@pytest.fixture(scope="module")
def world(api, operator, stack):
    """One tenant holding a finding for every agent, and one that each agent should leave alone."""
    # the rollups are written for "this month" and the agents run at once: not across a month's end
    this_month = clock_support.within_one_month(0, minutes_ahead=10)
    for tenant in analytics_tenant_in(api, operator, stack):
        rt, tid = stack.runtime, tenant.tenant_id
        steady = tenant.onboard("steady", 1)  # silver, a year of ~5,000 a month: far below its commitment
        newcomer = tenant.onboard("newcomer", 1)  # silver, two months of history: an unsure forecast
        lapsing = tenant.onboard("lapsing", 1)
        expired = tenant.onboard("expired", 1)
        history = {kpis.shift_month(this_month, -i): 5000.0 + 250 * (i % 3) for i in range(1, 13)}
        rollups = monthly_revenue_rollups(steady["partner_id"], "silver", history)
        rollups += monthly_revenue_rollups(newcomer["partner_id"], "silver",
                                           {kpis.shift_month(this_month, -i): 9000.0 for i in (1, 2)})
        base = [kpis.shift_month(this_month, -i) for i in (4, 3, 2)]
        recent = [kpis.shift_month(this_month, -1), this_month]
        for month in base:  # tenant-wide: 10% of quotes needed an approval; the steady partner: 20%
            rollups.append({**kpis.empty(month, "all"), "quotes": 40, "overrides": 4})
        for month in recent:  # ... and now 60% tenant-wide, 50% for the steady partner (too few quotes to be sure)
            rollups.append({**kpis.empty(month, "all"), "quotes": 10, "overrides": 6})
        by_month = {r["period"]: r for r in rollups if r["scope"] == f"partner:{steady['partner_id']}"}
        by_month[base[0]]["quotes"], by_month[base[0]]["overrides"] = 10, 2
        by_month[recent[0]]["quotes"], by_month[recent[0]]["overrides"] = 6, 3
        tenant.write_rollups(rollups)
        watches = {
            "late": _watch(rt, tid, steady["partner_id"], 40),
            "contradictory": _watch(rt, tid, steady["partner_id"], 44, billed_lines=["inv_x.1"]),
            "fresh": _watch(rt, tid, steady["partner_id"], 10),
        }
        _with_certification(rt, tid, lapsing, "cert-network-core", clock_support.now().date() + timedelta(days=10))
        _with_certification(rt, tid, expired, "cert-network-core", clock_support.now().date() - timedelta(days=3))
        deals = {
            "lapsing": _deal(rt, tid, lapsing["partner_id"], "networking", 60),
            "expired": _deal(rt, tid, expired["partner_id"], "networking", 30),
            "covered": _deal(rt, tid, steady["partner_id"], "networking", 30),
            "uncertified": _deal(rt, tid, steady["partner_id"], "hardware", 30),
        }
        reports = {name: agents.run(rt, name, [tid])[0] for name in agents.AGENTS}
        reports["deal_holds"] = deal_holds.sweep(rt, tid)  # owns certification_expired_active_deal (PA-4.3(d))
        yield {"tenant": tenant, "partners": tenant.partners, "watches": watches, "deals": deals, "reports": reports}


def _tasks(world, agent):
    listed = world["tenant"].roles["finance"].get("/v1/tasks", limit=200).json()["items"]
    return [t for t in listed if t["agent"] == agent]


def _exceptions(world, category):
    listed = world["tenant"].roles["admin"].get("/v1/exceptions", limit=200).json()["items"]
    return [e for e in listed if e["category"] == category]


def test_threshold_watcher_opens_a_task_with_the_forecast_and_escalates_a_short_history(world):
    steady, newcomer = world["partners"]["steady"]["partner_id"], world["partners"]["newcomer"]["partner_id"]
    opened = _tasks(world, "threshold_watcher")
    commitment = [t for t in opened if t["partner_id"] == steady and t["evidence"]["threshold"]["program_id"]
                  == "TIER-SILVER"]
    (task,) = commitment
    assert task["queue"] == "channel_ops" and not task["escalated"] and task["confidence"] == 1.0
    assert task["evidence"]["threshold"]["p_miss"] >= 0.5 and "seasonal run-rate" in task["evidence"]["method"]
    assert task["draft_message"]["subject"].startswith("Your ")
    assert task["evidence"]["history_months"] >= 9  # the year before, less the months of this quarter
    unsure = [t for t in opened if t["partner_id"] == newcomer]
    assert unsure and all(t["escalated"] and t["kind"] == "escalation" and t["draft_message"] is None
                          for t in unsure)
    assert "month(s) of the partner's own history" in unsure[0]["evidence"]["escalation"]["why"]


def test_billing_reconciler_raises_unbilled_fulfilments_for_finance_and_escalates_contradictions(world):
    (raised,) = _exceptions(world, "unbilled_fulfilment")
    assert raised["subject"] == {"kind": "erp_event", "id": world["watches"]["late"]}
    assert raised["queue"] == "finance" and raised["requested_by"] == "agent:billing_reconciler"
    assert raised["context"]["evidence"]["age_hours"] >= 40 and raised["context"]["evidence"]["rule"]["clause"]
    (escalated,) = _tasks(world, "billing_reconciler")
    assert escalated["escalated"] and escalated["subject"]["id"] == world["watches"]["contradictory"]
    assert escalated["queue"] == "finance"
    assert world["reports"]["billing_reconciler"]["looked_at"] == 3  # the fresh one is not late yet


def test_certification_watcher_flags_expired_and_lapsing_certifications_on_live_deals(world):
    # one exception for the expired certification, opened by the deal-certification sweep (not also by the agent)
    (expired,) = _exceptions(world, "certification_expired_active_deal")
    assert expired["subject"] == {"kind": "deal", "id": world["deals"]["expired"]} and expired["queue"] == "channel_ops"
    assert expired["requested_by"] == "system:deal_holds"
    opened = {t["subject"]["id"]: t for t in _tasks(world, "certification_watcher")}
    renewal = opened[world["deals"]["lapsing"]]
    assert renewal["kind"] == "certification_renewal"
    assert "Renew cert-network-core" in renewal["draft_message"]["subject"]
    uncertified = opened[world["deals"]["uncertified"]]  # no hardware certification on record at all: unsure
    assert uncertified["escalated"] and uncertified["evidence"]["certification_id"] is None
    assert world["deals"]["covered"] not in opened


def test_discount_drift_opens_a_task_for_finance_and_escalates_a_rise_not_yet_significant(world):
    opened = {t["subject"]["id"]: t for t in _tasks(world, "discount_drift")}
    tenant_wide = opened["all"]
    assert tenant_wide["queue"] == "finance" and not tenant_wide["escalated"] and tenant_wide["confidence"] >= 0.95
    assert tenant_wide["evidence"]["recent"]["rate"] == 0.6 and tenant_wide["evidence"]["baseline"]["rate"] == 0.1
    partner = opened[world["partners"]["steady"]["partner_id"]]
    assert partner["escalated"] and 0.75 <= partner["confidence"] < 0.95


def test_every_agent_action_is_audited_as_the_agent(world):
    admin = world["tenant"].roles["admin"]
    for task in _tasks(world, "threshold_watcher") + _tasks(world, "discount_drift"):
        (record,) = admin.get("/v1/audit", subject=task["task_id"]).json()["items"]
        assert record["actor"] == f"agent:{task['agent']}" and record["actor_role"] == "agent"
        assert record["action"] == ("task.escalated" if task["escalated"] else "task.opened")
    (exception,) = _exceptions(world, "unbilled_fulfilment")
    (record,) = admin.get("/v1/audit", subject=exception["case_id"]).json()["items"]
    assert record["actor"] == "agent:billing_reconciler" and record["action"] == "exception.opened"
    assert admin.get("/v1/audit/verify").json()["valid"] is True


def test_running_every_agent_again_opens_nothing_new(world, stack):
    tid = world["tenant"].tenant_id
    before = world["tenant"].roles["finance"].get("/v1/tasks", limit=200).json()["items"]
    for name in agents.AGENTS:
        (report,) = agents.run(stack.runtime, name, [tid])
        assert (report["tasks_opened"], report["exceptions_opened"], report["escalated"]) == (0, 0, 0), report
        first = world["reports"][name]
        assert report["already_open"] == first["tasks_opened"] + first["exceptions_opened"] + first["escalated"]
    assert cli.main(["agents", "run", "discount_drift", "--tenant", tid]) == 0
    after = world["tenant"].roles["finance"].get("/v1/tasks", limit=200).json()["items"]
    assert sorted(t["task_id"] for t in after) == sorted(t["task_id"] for t in before)


# --- the boundary ------------------------------------------------------------------------------------------------
class SpyStore:
    """The real store, with every commit recorded."""

    def __init__(self, inner):
        self.inner = inner
        self.commits = []

    def commit(self, tenant_id, changes):
        self.commits.append((tenant_id, copy.deepcopy(changes)))
        return self.inner.commit(tenant_id, changes)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_agents_never_write_anything_that_moves_money(world, stack):
    """Run with a spy store, on a tenant whose findings are fresh: only tasks, their keys, new exceptions and the
    outbox are written; no decision, approval, invoice, settlement or price, and every audit actor is an agent."""
    rt = stack.runtime
    tid = world["tenant"].tenant_id
    spy = SpyStore(rt.store)
    spying = replace(rt, store=spy)
    keys = [item.key for item in rt.store.query(tid, tasks.TASK_KEYS, limit=200).items]
    rt.store.commit(tid, Changes(deletes=[Delete(tasks.TASK_KEYS, key) for key in keys]))  # every finding is new again
    for name in agents.AGENTS:
        agents.run(spying, name, [tid])
    puts = [put for _, changes in spy.commits for put in changes.puts]
    assert puts, "the agents found nothing new: the spy proves nothing"
    # an exception carries its partner's open-case pointer (CASEOPEN), which says only that the case is undecided
    assert {put.collection for put in puts} <= {tasks.TASKS, tasks.TASK_KEYS, CASES, UNDECIDED_POINTERS, OUTBOX}
    assert all(put.data["kind"] == "exception" and put.must_be_absent for put in puts if put.collection == CASES)
    assert all(put.data["kind"] == "exception" for put in puts if put.collection == UNDECIDED_POINTERS)
    audit = [entry for _, changes in spy.commits for entry in changes.audit]
    assert {entry.action for entry in audit} <= {"task.opened", "task.escalated", "exception.opened"}
    assert all(entry.actor.startswith("agent:") for entry in audit)
    deletes = [d for _, changes in spy.commits for d in changes.deletes]
    assert {d.collection for d in deletes} <= {OUTBOX}  # published events leave the outbox; nothing else goes


def test_the_desk_offers_only_reads_and_handing_in_findings(world, stack):
    desk = AgentDesk(stack.runtime, "discount_drift", world["tenant"].tenant_id)
    assert {name for name in dir(desk) if not name.startswith("_")} == CAPABILITIES
    money_words = ("approve", "decide", "settle", "finalize", "price", "commit", "store", "send", "pay")
    assert not [name for name in CAPABILITIES if any(word in name for word in money_words)]
    with pytest.raises(AttributeError):
        desk.runtime = stack.runtime  # no room for one: __slots__
    decision = Changes(puts=[Put("DECISION", "dec_x", {"outcome": "allow"})])
    with pytest.raises(BoundaryViolation):
        desk._commit(decision)
    approval = Changes(puts=[Put(CASES, "apr_x", {"kind": "approval", "status": "approved"}, expected_version=1)])
    with pytest.raises(BoundaryViolation):
        desk._commit(approval)


def test_agent_modules_import_nothing_but_the_desk_and_the_pure_core():
    for path in sorted(AGENT_DIR.glob("*.py")):
        if path.name in ("__init__.py", "desk.py"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
                assert module in ("__future__", "typing", "datetime", ".desk") or module.startswith(
                    "...domain."), f"{path.name} imports {module}"
            elif isinstance(node, ast.Import):
                raise AssertionError(f"{path.name} imports {[a.name for a in node.names]}")
