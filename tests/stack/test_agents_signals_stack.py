"""The support-cost-vs-margin and milestones-at-risk agents on the running stack: the task each opens, for the queue
the contracts name, with the rule and clause in its audit record; escalation below the bar; nothing new on a re-run;
nothing that moves money.

Clauses quoted:
- SOP-4.1 routing matrix: "| support_hours_overage | customer_success | 8 |"; "An item that matches no category
  goes to channel_ops for triage within 8 hours."
- PA-9.2: "Each tier includes a number of technical support hours per Quarter"; SOP-5.4 support hour overage.
- PA-10.6: "Unless the statement of work provides otherwise, milestones are: 30% on project kickoff, 40% on
  completion of deployment and 30% on final acceptance."
- PA-14.2: "Each automated decision records the rules and clauses applied".
"""

import json
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

import clock_support
from analytics_support import analytics_tenant_in
from revgov.domain import kpis
from revgov.domain.billing import quarter_of, with_milestone
from revgov.ports import Changes, Delete, Put
from revgov.runtime import OUTBOX
from revgov.services import agents, billing, tasks
from revgov.services.agents.support_margin import quarters

STEADY_HOURS = (28, 32, 30, 30)  # per Quarter, baseline then recent: ~1 hour per 1,000 of net margin


def _quarter_rollups(partner_id, quarter, hours, margin_per_month, cost_per_month=40_000):
    """A partner's three monthly rollups of a Quarter: its support time in the first month, revenue every month."""
    made = []
    for i, month in enumerate(kpis.Period.parse(quarter).months):
        rollup = kpis.empty(month, f"partner:{partner_id}")
        revenue = cost_per_month + margin_per_month
        rollup.update(revenue_minor=revenue * 100, margin_revenue_minor=revenue * 100, cost_minor=cost_per_month * 100,
                      support_minutes=round(hours * 60) if i == 0 else 0)
        made.append(rollup)
    return made


def _sow(rt, tenant_id, partner_id, ref, accepted):
    """A statement of work as billing leaves it after billing each accepted milestone (its SOW record, and the sales
    fact of each milestone's line, dated the day it was accepted)."""
    record, puts = None, []
    for number, (milestone, day) in enumerate(accepted.items(), start=1):
        line_id = f"inv_{ref}.{number}"
        percent = {"kickoff": Decimal(30), "deployment": Decimal(40), "acceptance": Decimal(30)}[milestone]
        record = with_milestone(record, partner_id=partner_id, sow_ref=ref, milestone=milestone, percent=percent,
                                value=Decimal("120000.00"), line_id=line_id, erp_event_id=f"ERP-{ref}-{number}")
        fact = {"line_id": line_id, "kind": "milestone", "partner_id": partner_id,
                "service_period": {"start": day.isoformat(), "end": day.isoformat()}}
        puts.append(Put(billing.SALES_FACTS, line_id, fact))
    puts.append(Put(billing.STATEMENTS_OF_WORK, f"{partner_id}#{ref}", record))
    rt.store.commit(tenant_id, Changes(puts=puts))


@pytest.fixture(scope="module")
def world(api, operator, stack):
    clock_support.within_one_month(0, minutes_ahead=10)  # the agents' Quarters are those of the data written
    for tenant in analytics_tenant_in(api, operator, stack):
        rt, tid = stack.runtime, tenant.tenant_id
        recent, baseline = quarters(quarter_of(clock_support.today()))
        steady = [tenant.onboard(f"steady{i}", 1) for i in range(7)]
        rising, collapsed = tenant.onboard("rising", 1), tenant.onboard("collapsed", 1)
        rollups = []
        for i, partner in enumerate(steady):
            hours = STEADY_HOURS[i % 3:] + STEADY_HOURS[:i % 3]
            for quarter, h in zip([*baseline, recent], hours, strict=True):
                rollups += _quarter_rollups(partner["partner_id"], quarter, h, 10_000)
        for quarter, h in zip([*baseline, recent], (30, 29, 31, 90), strict=True):  # tripled on the same margin
            rollups += _quarter_rollups(rising["partner_id"], quarter, h, 10_000)
        for quarter, (h, margin) in zip([*baseline, recent], ((30, 10_000), (30, 10_000), (31, 10_000), (30, -500)),
                                        strict=True):  # the margin went below zero under steady support
            rollups += _quarter_rollups(collapsed["partner_id"], quarter, h, margin)
        tenant.write_rollups(rollups)
        today = clock_support.today()
        for i in range(20):  # twenty finished statements of work: kickoff -> deployment 30..49 days,
            kickoff = today - timedelta(days=300 + i)  # deployment -> acceptance 10, 12, .., 48 days
            deployed = kickoff + timedelta(days=30 + i)
            accepted = {"kickoff": kickoff, "deployment": deployed, "acceptance": deployed + timedelta(days=10 + 2 * i)}
            _sow(rt, tid, "P-REF", f"SOW-R{i}", accepted)
        _sow(rt, tid, "P-LATE", "SOW-LATE", {"kickoff": today - timedelta(days=100)})
        _sow(rt, tid, "P-LATE", "SOW-SLOW", {"kickoff": today - timedelta(days=85),
                                             "deployment": today - timedelta(days=45)})
        _sow(rt, tid, "P-LATE", "SOW-ONPACE", {"kickoff": today - timedelta(days=20)})
        reports = {name: agents.run(rt, name, [tid])[0] for name in ("support_margin", "milestones_at_risk")}
        yield {"tenant": tenant, "rising": rising, "collapsed": collapsed, "steady": steady, "reports": reports,
               "recent": recent}


def _tasks(world, agent):
    listed = world["tenant"].roles["admin"].get("/v1/tasks", limit=200).json()["items"]
    return [t for t in listed if t["agent"] == agent]


def _audit(world, task):
    (record,) = world["tenant"].roles["admin"].get("/v1/audit", subject=task["task_id"]).json()["items"]
    return record


def test_a_partner_whose_support_hours_per_margin_dollar_tripled_gets_a_task_for_customer_success(world):
    by_partner = {t["partner_id"]: t for t in _tasks(world, "support_margin")}
    task = by_partner[world["rising"]["partner_id"]]
    assert task["queue"] == "customer_success" and not task["escalated"] and task["confidence"] >= 0.99
    assert task["kind"] == "support_cost_rising"
    evidence = task["evidence"]
    assert evidence["recent"]["quarter"] == world["recent"] and evidence["recent"]["support_hours"] == "90.00"
    assert evidence["hours_per_1000_net_margin"]["ratio"] == pytest.approx(3.0, rel=0.02)
    assert evidence["allowance_hours_per_quarter"] == 40  # PA-3.3 / PA-9.2: Silver 40 hours per Quarter
    # 90 of 40 included hours: 225 %, 50 hours beyond the allowance (SOP-5.4 overage)
    assert evidence["allowance_use"] == {"included_hours": "40", "used_percent": "225.00",
                                         "beyond_allowance_hours": "50.00"}
    record = _audit(world, task)
    assert record["actor"] == "agent:support_margin" and record["action"] == "task.opened"
    assert {"ENT-SLV-HOURS", "BILL-SUPPORT-OVERAGE", "ROUTE-SUPPORT-HOURS-OVERAGE"} <= set(record["rule_ids"])
    assert {"PA-9.2", "SOP-5.4", "SOP-4.1"} <= set(record["clauses"])


def test_support_on_a_negative_margin_is_escalated_and_steady_partners_are_left_alone(world):
    by_partner = {t["partner_id"]: t for t in _tasks(world, "support_margin")}
    escalated = by_partner[world["collapsed"]["partner_id"]]
    assert escalated["escalated"] and escalated["queue"] == "customer_success"
    assert "net realized margin is not positive" in escalated["evidence"]["escalation"]["why"]
    assert not {p["partner_id"] for p in world["steady"]} & set(by_partner)
    assert world["reports"]["support_margin"]["looked_at"] == 9


def test_a_late_deployment_is_a_triage_task_with_the_milestone_billing_at_risk(world):
    by_sow = {t["subject"]["id"]: t for t in _tasks(world, "milestones_at_risk")}
    late = by_sow["P-LATE#SOW-LATE"]
    # 100 days since kickoff, later than all 21 reference steps (30..49 days, and SOW-SLOW's 40): p = 1/22, 0.955
    assert not late["escalated"] and late["queue"] == "channel_ops"
    assert late["evidence"]["next_milestone"] == "deployment" and late["evidence"]["elapsed_days"] == 100
    # PA-10.6: 40% + 30% of 120,000.00 are not billed yet; the next milestone alone is 40%
    assert late["evidence"]["billing_at_risk"] == "84000.00"
    assert late["evidence"]["next_milestone_amount"] == "48000.00"
    record = _audit(world, late)
    assert {"BILL-MILESTONES", "ROUTE-TRIAGE"} <= set(record["rule_ids"]) and {"PA-10.6", "SOP-4.1"} <= set(
        record["clauses"])


def test_a_late_acceptance_not_yet_significant_is_escalated_and_an_on_pace_sow_is_not_flagged(world):
    by_sow = {t["subject"]["id"]: t for t in _tasks(world, "milestones_at_risk")}
    # 45 days since deployment: past 1.5 x the median step (29 days), but two of twenty reference steps (46, 48 days)
    # took longer: p = (1 + 2) / 21, 0.857 sure, below the 0.95 to act
    slow = by_sow["P-LATE#SOW-SLOW"]
    assert slow["escalated"] and slow["evidence"]["next_milestone"] == "acceptance"
    assert slow["evidence"]["billing_at_risk"] == "36000.00"
    assert "P-LATE#SOW-ONPACE" not in by_sow
    assert world["reports"]["milestones_at_risk"]["looked_at"] == 23


def test_running_both_again_opens_nothing_new(world, stack):
    tid = world["tenant"].tenant_id
    for name in ("support_margin", "milestones_at_risk"):
        (report,) = agents.run(stack.runtime, name, [tid])
        first = world["reports"][name]
        assert (report["tasks_opened"], report["escalated"]) == (0, 0), report
        assert report["already_open"] == first["tasks_opened"] + first["escalated"]


def test_both_write_only_tasks_and_their_keys_never_an_invoice(world, stack):
    """Every finding made new again, the two agents run over a store that records each commit: they write tasks,
    their dedupe keys and the outbox only (PA-10.6's billing follows the milestone's acceptance, not the agent)."""
    rt, tid = stack.runtime, world["tenant"].tenant_id
    commits = []

    class Spy:
        def commit(self, tenant_id, changes):
            commits.append(changes)
            return rt.store.commit(tenant_id, changes)

        def __getattr__(self, name):
            return getattr(rt.store, name)

    keys = [i.key for i in rt.store.query(tid, tasks.TASK_KEYS, limit=200).items
            if i.key.startswith(("support_margin#", "milestones_at_risk#"))]
    rt.store.commit(tid, Changes(deletes=[Delete(tasks.TASK_KEYS, key) for key in keys]))
    for name in ("support_margin", "milestones_at_risk"):
        agents.run(replace(rt, store=Spy()), name, [tid])
    puts = [put for changes in commits for put in changes.puts]
    assert len([p for p in puts if p.collection == tasks.TASKS]) == len(keys) > 0
    assert {put.collection for put in puts} <= {tasks.TASKS, tasks.TASK_KEYS, OUTBOX}
    assert {entry.action for changes in commits for entry in changes.audit} <= {"task.opened", "task.escalated"}


# --- redteam4: what the partner reads of the task about it (PA-12.1) ----------------------------------------------
# PA-12.1: the Distributor keeps "an audit trail of every automated decision and approval" and "provides the Partner,
# on request, with the records relating to the Partner". An agent decides nothing (it opens work for the staff): its
# task is the distributor's assessment of the partner. Here its evidence holds the net realized margin of each Quarter
# (30,000.00) and the hours per 1,000 of it; PA-6.1: Line Margin is stated "for internal review"; API.md: "a partner
# never sees [...] the distributor's costs and margins". Staff list the task under the partner; the partner's own
# trail does not hold it.
def test_the_rising_partner_reads_no_agent_task_about_it_nor_the_distributors_margin(world):
    partner_id = world["rising"]["partner_id"]
    staff = world["tenant"].roles["admin"].get("/v1/audit", partner_id=partner_id, limit=200).json()["items"]
    assert "task.opened" in {r["action"] for r in staff}
    page = world["tenant"].partner_keys["rising"].get("/v1/audit", limit=200)
    assert page.status_code == 200, page.text
    mine = page.json()["items"]
    assert mine and not {r["action"] for r in mine} & {"task.opened", "task.escalated"}
    assert "margin" not in json.dumps(mine) and "30000.00" not in json.dumps(mine)
