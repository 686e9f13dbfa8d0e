"""Dashboards and alarms in the synthesized stacks: three dashboards (executive, channel ops, platform) over the
metrics of revgov.metrics.CATALOG, and the product alarms wired to the application's alarm topic.

The issue asks for dashboards "executive: margin, leakage, cycle time, attainment; channel ops: approvals, SLA,
exceptions, equity; platform: latency, errors, DLQs, webhook deliveries, copilot quality" and alarms on "dead-letter
depth, 5xx rate, p99 latency, SLA breach rate, copilot refusal spike, equity finding"."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from test_stacks import ALL_STACKS, resources

from conftest import Synth
from revgov.metrics import CATALOG, NAMESPACE


def body_text(dashboard: dict[str, Any]) -> str:
    body = dashboard["Properties"]["DashboardBody"]
    if isinstance(body, str):
        return body
    return "".join(part if isinstance(part, str) else json.dumps(part) for part in body["Fn::Join"][1])


def dashboards(template: dict[str, Any]) -> dict[str, str]:
    found = {}
    for resource in resources(template, "AWS::CloudWatch::Dashboard").values():
        name = resource["Properties"]["DashboardName"]
        name = name if isinstance(name, str) else json.dumps(name)
        found[name.rsplit("-", 1)[-1] if not name.endswith("channel-ops") else "channel-ops"] = body_text(resource)
    return found


def metric_names(text: str) -> set[str]:
    plain = set(re.findall(rf'\["{NAMESPACE}","(\w+)"', text))
    searched = set(re.findall(r'MetricName=\\\\?"(\w+)\\\\?"', text))
    return plain | searched


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_three_dashboards_show_only_declared_metrics_and_every_signal(synth: Synth, stack: str) -> None:
    boards = dashboards(synth.templates[stack])
    assert set(boards) == {"executive", "channel-ops", "platform"}
    shown = set().union(*(metric_names(text) for text in boards.values()))
    assert shown <= set(CATALOG), shown - set(CATALOG)
    assert {CATALOG[m].signal for m in shown} == {m.signal for m in CATALOG.values()}
    assert {"RequestLatency", "Requests", "DeadLetters", "WebhookDeliveries", "CopilotAnswers"} <= metric_names(
        boards["platform"])
    assert {"CaseDecisions", "ApprovalSlaBreaches", "CasesOpened", "EquityFindings"} <= metric_names(
        boards["channel-ops"])
    assert "ApproximateNumberOfMessagesVisible" in boards["platform"]  # the DLQs' depth
    assert "/v1/kpis" in boards["executive"] and "CasesOpened" in boards["executive"]
    assert {"KpiNetMarginPercent", "KpiInvoiceCycleP50Hours", "KpiThresholdsReachedPercent"} <= metric_names(
        boards["executive"])  # margin, cycle time, attainment


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_product_alarms_watch_their_metrics_and_notify_the_alarm_topic(synth: Synth, stack: str) -> None:
    template = synth.templates[stack]
    [(topic_key, topic)] = resources(template, "AWS::SNS::Topic").items()
    assert topic["Properties"]["KmsMasterKeyId"]
    alarms = list(resources(template, "AWS::CloudWatch::Alarm").values())
    assert all(a["Properties"]["AlarmActions"] == [{"Ref": topic_key}] for a in alarms)

    def named(metric: str) -> list[dict[str, Any]]:
        return [a["Properties"] for a in alarms if metric in json.dumps(a["Properties"])]

    [latency] = [a for a in named("RequestLatency")]
    assert latency["ExtendedStatistic"] == "p99" and latency["Threshold"] == 3000
    [errors] = named('"status_class"')
    assert "server" in json.dumps(errors["Metrics"]) and errors["Threshold"] == 1
    [sla] = named("ApprovalSlaBreaches")
    [refusals] = named("CopilotAnswers")
    assert "0.28" in json.dumps(refusals["Metrics"]) and refusals["Threshold"] == 0.25
    [equity] = named("EquityFindings")
    assert equity["Threshold"] == 0 and equity["ComparisonOperator"] == "GreaterThanThreshold"
    assert sla["Namespace"] == NAMESPACE
    assert len(named("ApproximateNumberOfMessagesVisible")) >= 1  # the DLQ depth alarms
