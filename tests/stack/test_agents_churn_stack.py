"""The discount-churn agent on the running stack: it opens a task only where the tenant's own history links a rising
override rate to churn, cites the pricing rules watched, the termination rule that defines churn and the triage
route (PA-14.2), and opens nothing new on a re-run.

Clauses quoted: PA-13.3 (termination); SOP-4.1 "An item that matches no category goes to channel_ops for triage";
PA-14.2 "Each automated decision records the rules and clauses applied"."""

import pytest

import clock_support
from analytics_support import analytics_tenant_in
from revgov.domain import kpis
from revgov.services import agents

CALM, RISING = (10, 1), (10, 8)  # quotes, of which needing an approval


def _history(partner_id, this_month, shape):
    """Partner rollups for the 28 months before this month, oldest first: (revenue, (quotes, overrides)) each."""
    made = []
    for back, (revenue, (quotes, overrides)) in zip(range(28, 0, -1), shape, strict=True):
        rollup = kpis.empty(kpis.shift_month(this_month, -back), f"partner:{partner_id}")
        rollup.update(revenue_minor=revenue * 100, margin_revenue_minor=revenue * 100, quotes=quotes,
                      overrides=overrides)
        made.append(rollup)
    return made


@pytest.fixture(scope="module")
def world(api, operator, stack):
    this_month = clock_support.within_one_month(0, minutes_ahead=10)
    for tenant in analytics_tenant_in(api, operator, stack):
        churners = [tenant.onboard(f"churner{i}", 1) for i in range(5)]
        stayers = [tenant.onboard(f"stayer{i}", 1) for i in range(4)]
        now_rising, calm = tenant.onboard("now-rising", 1), tenant.onboard("calm", 1)
        rollups = []
        # 28..10 months back calm, 9..7 back rising (the as-of month 7 back), then no invoiced revenue for 6 months
        churn_shape = [(1000, CALM)] * 19 + [(1000, RISING)] * 3 + [(0, (0, 0))] * 6
        for partner in churners:
            rollups += _history(partner["partner_id"], this_month, churn_shape)
        for partner in [*stayers, calm]:
            rollups += _history(partner["partner_id"], this_month, [(1000, CALM)] * 28)
        rollups += _history(now_rising["partner_id"], this_month, [(1000, CALM)] * 25 + [(1000, RISING)] * 3)
        tenant.write_rollups(rollups)
        (report,) = agents.run(stack.runtime, "discount_churn", [tenant.tenant_id])
        yield {"tenant": tenant, "now_rising": now_rising, "calm": calm, "report": report}


def _tasks(world):
    listed = world["tenant"].roles["admin"].get("/v1/tasks", limit=200).json()["items"]
    return [t for t in listed if t["agent"] == "discount_churn"]


def test_a_partner_rising_where_the_history_links_that_to_churn_gets_a_triage_task(world):
    (task,) = _tasks(world)
    assert task["partner_id"] == world["now_rising"]["partner_id"] and task["queue"] == "channel_ops"
    assert not task["escalated"] and task["confidence"] >= 0.95 and task["kind"] == "churn_risk"
    table = task["evidence"]["association"]
    assert (table["rising_churned"], table["rising_stayed"], table["other_churned"]) == (5, 0, 0)
    assert task["evidence"]["recent"] == {"quotes": 30, "needing_approval": 24}
    (record,) = world["tenant"].roles["admin"].get("/v1/audit", subject=task["task_id"]).json()["items"]
    assert record["actor"] == "agent:discount_churn"
    assert {"PRC-TIER-CAPS", "PRC-FINANCE-THRESHOLD", "PTR-TERMINATION", "ROUTE-TRIAGE"} <= set(record["rule_ids"])
    assert {"PA-6.2", "PA-6.6", "PA-13.3", "SOP-4.1"} <= set(record["clauses"])
    # the churned partners are no longer current: the agent looks at the six still trading
    assert world["report"]["looked_at"] == 6


def test_running_it_again_opens_nothing_new(world, stack):
    (again,) = agents.run(stack.runtime, "discount_churn", [world["tenant"].tenant_id])
    assert (again["tasks_opened"], again["escalated"], again["already_open"]) == (0, 0, 1)
