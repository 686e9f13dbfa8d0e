"""#18: "Baselines: each KPI and workflow metric keeps the value of the period before a tenant went live (or a
configured baseline period) beside its current value, so a tenant can show what changed." The seed: "instrument
every workflow with baseline and post-implementation metrics". Expectations from the definitions in
revgov.domain.workflow_metrics.DEFINITIONS, worked by hand."""

import pytest

from memory_store import memory_runtime
from revgov.domain import cases as case_rules
from revgov.domain import workflow_metrics as core
from revgov.domain.access import Principal, Role
from revgov.domain.errors import MalformedRequest
from revgov.domain.kpis import Period
from revgov.ports import Changes
from revgov.services import case_repository, workflow_metrics


def _case(kind, opened, due, *, status=None, decided=None, queue="channel_ops", category="discount_above_tier_cap"):
    return {"kind": kind, "opened_at": opened, "due_at": due, "queue": queue, "category": category,
            "status": status or ("pending" if kind == "approval" else "open"),
            "decision": {"at": decided, "outcome": status} if decided else None}


def test_figures_count_each_case_by_the_instant_its_figure_is_about():
    cases_ = [
        # opened and decided in November within its SLA: 2 h to decision
        _case("approval", "2026-11-02T10:00:00Z", "2026-11-03T10:00:00Z", status="approved",
              decided="2026-11-02T12:00:00Z"),
        # opened in October, decided late in November (due 1 Nov): 30 days 2 h = 722 h; a breach of November
        _case("approval", "2026-10-31T08:00:00Z", "2026-11-01T08:00:00Z", status="rejected",
              decided="2026-11-30T10:00:00Z", queue="finance"),
        # opened in November, still pending past its due time (as of 20 Nov): a breach, not a decision
        _case("approval", "2026-11-10T08:00:00Z", "2026-11-11T08:00:00Z"),
        # due in November but after "now": not a breach yet
        _case("approval", "2026-11-19T08:00:00Z", "2026-11-25T08:00:00Z"),
        _case("exception", "2026-11-05T08:00:00Z", "2026-11-05T16:00:00Z", status="resolved",
              decided="2026-11-05T12:00:00Z", category="unknown_partner_or_sku"),
        _case("exception", "2026-11-06T08:00:00Z", "2026-11-06T16:00:00Z", category="unknown_partner_or_sku"),
        _case("exception", "2026-09-06T08:00:00Z", "2026-09-06T16:00:00Z", category="other"),  # not November's
    ]
    got = core.figures(cases_, Period.parse("2026-11"), "2026-11-20T12:00:00Z")
    assert got["approvals_opened"] == {"value": 3, "by_queue": {"channel_ops": 3}}
    assert got["approvals_decided"] == {"value": 2, "by_outcome": {"approved": 1, "rejected": 1}}
    assert got["approval_rate_percent"]["value"] == 50.0
    # nearest rank over [2, 722]: p50 is the 1st value, p90 the 2nd
    assert got["approval_hours_to_decision"] == {"value": 2.0, "p50": 2.0, "p90": 722.0}
    assert got["approval_sla_breaches"]["value"] == 2
    assert got["exceptions_opened"] == {"value": 2, "by_category": {"unknown_partner_or_sku": 2}}
    assert got["exceptions_closed"]["value"] == 1 and got["exception_sla_breaches"]["value"] == 1
    empty = core.figures([], Period.parse("2026-Q3"), "2026-11-20T12:00:00Z")
    assert empty["approval_rate_percent"]["value"] is None and empty["approval_hours_to_decision"]["p90"] is None


def test_every_workflow_metric_has_its_baseline_periods_value_beside_it():
    """A tenant gone live on 2026-11-20: November's figures beside October's (the month before go-live)."""
    rt, clock = memory_runtime("2026-11-20T09:00:00.000Z")
    tenant = "northwind"
    policy = rt.store.get(tenant, "TENANT", "PROFILE").data["config"]["policy"]
    route = case_rules.route_for(policy, "discount_above_tier_cap")
    ops = Principal(tenant, Role.CHANNEL_OPS, "key_01JX0000000000000000EQUOPS")
    made = []
    for n, (opened, decided, outcome) in enumerate([
        ("2026-10-05T09:00:00.000Z", "2026-10-07T09:00:00.000Z", "approved"),  # before go-live: 48 h
        ("2026-10-06T09:00:00.000Z", "2026-10-06T13:00:00.000Z", "rejected"),  # before go-live: 4 h
        ("2026-11-20T09:00:00.000Z", "2026-11-20T10:00:00.000Z", "approved"),  # after: 1 h
    ]):
        case = case_rules.new_case(case_id=f"apr_01JX00000000000000000000{n:02d}", kind="approval", route=route,
                                   subject_kind="decision", subject_id=f"dec_{n}", requested_by="sales:key_x",
                                   opened_at=opened, risk_score=10, partner_id=None,
                                   reasons=[{"rule_id": "PRC-TIER-CAPS", "clause": "PA-6.2", "message": "cap"}])
        note = "not this time" if outcome == "rejected" else None
        made.append(case_repository.put(case_rules.decide(case, ops, outcome, note, decided), version=None))
    rt.store.commit(tenant, Changes(puts=made))
    clock.set("2026-11-25T09:00:00.000Z")
    who = Principal(tenant, Role.FINANCE, "key_f")
    got = workflow_metrics.report(rt, who, "2026-11")
    assert got["baseline"]["period"] == "2026-10" and got["baseline"]["source"] == "before_go_live"
    metrics = got["metrics"]
    assert set(metrics) == set(core.DEFINITIONS)
    for figure in metrics.values():
        assert {"value", "baseline", "unit", "description"} <= set(figure)
    assert (metrics["approvals_decided"]["value"], metrics["approvals_decided"]["baseline"]["value"]) == (1, 2)
    assert metrics["approval_rate_percent"]["value"] == 100.0
    assert metrics["approval_rate_percent"]["baseline"]["value"] == 50.0
    assert metrics["approval_hours_to_decision"]["baseline"]["p90"] == 48.0
    # a configured baseline period wins over the month before go-live
    profile = rt.store.get(tenant, "TENANT", "PROFILE")
    config = {**profile.data["config"], "kpi_baseline_period": "2026-Q3"}
    from revgov.ports import Put

    rt.store.commit(tenant, Changes(puts=[Put("TENANT", "PROFILE", {**profile.data, "config": config})]))
    configured = workflow_metrics.report(rt, who, "2026-Q4")
    assert configured["baseline"] == {"period": "2026-Q3", "months": ["2026-07", "2026-08", "2026-09"],
                                      "source": "configured", "went_live_on": "2026-11-20"}
    assert configured["metrics"]["approvals_decided"]["baseline"]["value"] == 0
    for bad in ("2026-13", "2026-Q5", "Q4", "2026-11-01"):
        with pytest.raises(MalformedRequest):
            workflow_metrics.report(rt, who, bad)
