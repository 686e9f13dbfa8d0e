"""Revgov's metrics (revgov.metrics): one definition each, the CloudWatch embedded metric format, the Prometheus text
format, quantiles, and a missed schedule counted by the local scheduler."""

import io
import json
import time

import pytest

from revgov import metrics
from revgov.local.scheduler import Scheduler
from revgov.metrics import CATALOG, SIGNALS, Recorder


def test_each_of_the_seeds_six_signals_has_at_least_one_metric():
    # "Monitoring and observability should cover workflow failures, model drift, retrieval quality, latency,
    # exception volumes, and user override patterns." (seed whitepaper, Responsible AI)
    covered = {m.signal for m in CATALOG.values()}
    assert {"workflow_failures", "model_drift", "retrieval_quality", "latency", "exception_volumes",
            "user_overrides"} <= covered
    assert covered <= set(SIGNALS)


def test_every_metric_declares_a_cloudwatch_unit_and_dimension_sets_from_its_labels():
    units = {"Count", "Milliseconds", "Seconds", "Percent", "None"}  # CloudWatch StandardUnit values used here
    for metric in CATALOG.values():
        assert metric.unit in units and metric.kind in ("counter", "distribution", "gauge")
        assert metric.dimension_sets and all(set(s) <= set(metric.labels) for s in metric.dimension_sets)
        assert len(metric.dimension_sets) <= 30 and all(len(s) <= 30 for s in metric.dimension_sets)  # EMF limits


def test_an_undeclared_metric_or_label_is_refused():
    recorder = Recorder()
    with pytest.raises(KeyError):
        recorder.record("RequestsPerFortnight", 1)
    with pytest.raises(KeyError):
        recorder.record("Requests", 1, operation="x", customer="y")


def test_a_record_is_written_in_the_embedded_metric_format():
    # AWS, "Specification: Embedded metric format": a root `_aws` with Timestamp (ms) and CloudWatchMetrics
    # [{Namespace, Dimensions: [[names]], Metrics: [{Name, Unit}]}]; dimension values and the metric value are
    # root members of the same document.
    out = io.StringIO()
    recorder = Recorder(emf=True, stream=out)
    recorder.record("Requests", 1, operation="get_kpis", tenant="northwind", status_class="5xx")
    document = json.loads(out.getvalue())
    directive = document["_aws"]["CloudWatchMetrics"][0]
    assert isinstance(document["_aws"]["Timestamp"], int) and directive["Namespace"] == "Revgov"
    assert directive["Metrics"] == [{"Name": "Requests", "Unit": "Count"}]
    assert directive["Dimensions"] == [["operation", "status_class"], ["tenant", "status_class"], ["status_class"]]
    assert document["Requests"] == 1 and document["tenant"] == "northwind" and document["status_class"] == "5xx"


def test_a_label_left_empty_is_not_a_dimension_in_cloudwatch():
    out = io.StringIO()
    Recorder(emf=True, stream=out).record("RequestLatency", 12.5, operation="health", status_class="2xx")
    directive = json.loads(out.getvalue())["_aws"]["CloudWatchMetrics"][0]
    assert directive["Dimensions"] == [["operation"], []] and "tenant" not in json.loads(out.getvalue())


def test_distribution_quantiles_are_within_the_bucket_resolution():
    buckets: dict[int, int] = {}
    values = [float(v) for v in range(1, 1001)]
    for v in values:
        b = metrics._bucket(v)
        buckets[b] = buckets.get(b, 0) + 1
    for q, exact in ((0.5, 500.0), (0.9, 900.0), (0.99, 990.0)):
        assert metrics.quantile(buckets, q, 1.0, 1000.0) == pytest.approx(exact, rel=0.1)


def test_the_prometheus_text_format_has_help_type_and_escaped_labels():
    # Prometheus exposition format 0.0.4: "# HELP name text", "# TYPE name counter|gauge|summary", label values
    # with backslash, double quote and newline escaped.
    view = {"metrics": {"Requests": {"series": [{"labels": {"operation": 'a"b\\c'}, "count": 2, "sum": 2.0}]},
                        "CopilotRefusalDrift": {"series": [{"labels": {}, "value": 0.25}]}}}
    text = metrics.prometheus_text(view)
    assert "# TYPE revgov_requests_total counter" in text and "# HELP revgov_requests_total " in text
    assert 'revgov_requests_total{operation="a\\"b\\\\c"} 2' in text
    assert "# TYPE revgov_copilot_refusal_drift gauge" in text and "revgov_copilot_refusal_drift 0.25" in text


def test_a_scheduled_run_later_than_one_interval_past_due_counts_as_missed():
    before = metrics.recorder().total("ScheduledRuns", job="quick", outcome="missed")
    blocked = {"once": False}

    def slow(event, context):
        if not blocked["once"]:
            blocked["once"] = True
            time.sleep(0.6)  # holds the scheduler's one thread: the quick job's runs fall behind

    scheduler = Scheduler({"slow": (0.05, slow), "quick": (0.1, lambda event, context: None)})
    scheduler.start()
    time.sleep(1.0)
    scheduler.stop()
    assert metrics.recorder().total("ScheduledRuns", job="quick", outcome="missed") >= before + 1
