"""The local stand-in for EventBridge schedules runs every handler of events/schedules.json on its cadence."""

import time

from revgov.local.scheduler import Scheduler, from_schedules
from revgov.resources import load_schedules
from support import ROOT


def test_each_job_runs_on_its_cadence_until_stopped():
    calls = []
    scheduler = Scheduler({"fast": (0.1, lambda event, context: calls.append(event))})
    scheduler.start()
    time.sleep(0.55)
    scheduler.stop()
    assert 3 <= scheduler.runs["fast"] <= 6 and calls[0]["source"] == "aws.events"
    stopped_at = scheduler.runs["fast"]
    time.sleep(0.25)
    assert scheduler.runs["fast"] == stopped_at


def test_every_schedule_of_the_catalog_has_a_handler_and_the_agents_are_scheduled():
    from revgov.edge import handlers

    schedules = load_schedules(ROOT / "events")
    scheduler = from_schedules(ROOT / "events", vars(handlers), None)
    assert set(scheduler.runs) == {s.name for s in schedules}
    assert {s.handler for s in schedules} >= {f"agent_{name}" for name in
                                              ("threshold_watcher", "billing_reconciler", "certification_watcher",
                                               "discount_drift", "support_margin", "milestones_at_risk",
                                               "discount_churn")}
    assert from_schedules(ROOT / "events", vars(handlers), 0).runs == {}
