"""Revgov's own metrics: every metric declared once (name, unit, labels, CloudWatch dimension sets, signal), recorded
from the code through `record`, aggregated in process and, in AWS, written as CloudWatch embedded metric format.

One definition each: `CATALOG` below is the only place a metric name appears; `record` refuses a name or a label
that is not declared. The seed whitepaper's six signals each have metrics here (`signal`): latency, workflow
failures, exception volumes, user override patterns, retrieval quality, model drift; plus channel equity.

- **In process** (every stage): counters and distributions per label set, with fixed log-scale buckets (p50/p90/p99
  within ~5%) and a per-minute history of the last `HISTORY_MINUTES`, read by `GET /v1/metrics` (JSON or the
  Prometheus text format). In AWS that view is one function instance's since it started; CloudWatch has them all.
- **CloudWatch** (`Settings.metrics_emf`, on in Lambda): one EMF line per record on stdout, declaring the metric's
  dimension sets (e.g. per operation, and per tenant), so CloudWatch extracts the metrics from the logs with no
  API call. Written here rather than with powertools `Metrics`, whose blobs carry one dimension set for all
  their metrics: a request's latency by operation and its count by tenant would need one flush each.

Recording is a dictionary update under a lock (no I/O locally); nothing heavy is imported.
"""

from __future__ import annotations

import json
import math
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .adapters.system import real_time
from .settings import settings

NAMESPACE = "Revgov"
HISTORY_MINUTES = 120
SIGNALS = (
    "latency",
    "workflow_failures",
    "exception_volumes",
    "user_overrides",
    "retrieval_quality",
    "model_drift",
    "channel_equity",
    "business_kpis",
)
# Distribution buckets: upper edges growing by 10% from 0.001 (enough for milliseconds, seconds and 0..1 scores).
_GROWTH = 1.1
_FIRST_EDGE = 0.001


@dataclass(frozen=True)
class Metric:
    name: str  # the CloudWatch metric name and, snake_cased with `revgov_`, the Prometheus one
    unit: str  # a CloudWatch unit: Count, Milliseconds, Seconds, None
    kind: str  # counter (summed) | distribution (every value kept in buckets) | gauge (the last value)
    labels: tuple[str, ...]  # what each record carries; `tenant` is the tenant the record is about
    dimension_sets: tuple[tuple[str, ...], ...]  # what CloudWatch keeps: a subset of labels each (cardinality)
    signal: str
    description: str

    @property
    def prometheus_name(self) -> str:
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in self.name).lstrip("_")
        suffix = {"Milliseconds": "_milliseconds", "Seconds": "_seconds"}.get(self.unit, "")
        return f"revgov_{snake}{suffix}{'_total' if self.kind == 'counter' else ''}"


def _m(
    name: str, unit: str, kind: str, labels: tuple[str, ...], sets: tuple[tuple[str, ...], ...], signal: str, text: str
) -> Metric:
    assert signal in SIGNALS and all(set(s) <= set(labels) for s in sets), name
    return Metric(name, unit, kind, labels, sets, signal, text)


CATALOG: dict[str, Metric] = {
    m.name: m
    for m in (
        # --- latency ---------------------------------------------------------------------------------------------
        _m("RequestLatency", "Milliseconds", "distribution", ("operation", "tenant", "status_class"),
           (("operation",), ("tenant",), ()), "latency",
           "Time the API took to answer one request, from the route's start to its response, per operation."),
        _m("Requests", "Count", "counter", ("operation", "tenant", "status_class"),
           (("operation", "status_class"), ("tenant", "status_class"), ("status_class",)), "latency",
           "Requests answered, by status class (2xx, 4xx, 5xx): errors per operation are the 4xx and 5xx."),
        # --- workflow failures -----------------------------------------------------------------------------------
        _m("HandlerFailures", "Count", "counter", ("handler", "tenant"), (("handler",), ()), "workflow_failures",
           "Bus events a handler failed on (the record goes back to its queue for a retry)."),
        _m("HandlerRetries", "Count", "counter", ("handler", "tenant"), (("handler",),), "workflow_failures",
           "Bus events delivered to a handler again after a failure (SQS receive count above 1)."),
        _m("DeadLetters", "Count", "counter", ("rule", "tenant"), (("rule",), ()), "workflow_failures",
           "Bus events moved to a rule's dead-letter queue after failing every delivery."),
        _m("WebhookDeliveries", "Count", "counter", ("tenant", "outcome"), (("tenant", "outcome"), ("outcome",)),
           "workflow_failures",
           "Outbound webhook deliveries to subscribers, by outcome: delivered, retrying (failed, will retry), failed."),
        _m("ScheduledRuns", "Count", "counter", ("job", "outcome"), (("job", "outcome"), ("outcome",)),
           "workflow_failures",
           "Runs of scheduled jobs by outcome: ok, failed, or missed (started later than one interval past due)."),
        # --- exception volumes -----------------------------------------------------------------------------------
        _m("CasesOpened", "Count", "counter", ("tenant", "kind", "category", "queue"),
           (("tenant", "kind", "queue"), ("kind", "category"), ("kind",)), "exception_volumes",
           "Approvals and exceptions opened (committed), by kind, category and the queue that owns them."),
        _m("ApprovalSlaBreaches", "Count", "counter", ("tenant", "kind", "queue"),
           (("tenant", "queue"), ("queue",), ()), "exception_volumes",
           "Approvals and exceptions decided after their due time (opened + the policy's SLA hours for the queue)."),
        # --- user overrides --------------------------------------------------------------------------------------
        _m("CaseDecisions", "Count", "counter", ("tenant", "kind", "queue", "outcome"),
           (("tenant", "kind", "outcome"), ("kind", "outcome")), "user_overrides",
           "Approvals and exceptions decided by a person, by outcome (approved, rejected, resolved, dismissed)."),
        _m("Overrides", "Count", "counter", ("tenant", "approver", "rule"),
           (("tenant", "approver"), ("tenant", "rule"), ()), "user_overrides",
           "Approvals approved: a person let through what a rule stopped. Counted once per rule the approval cites "
           "and per approver (the deciding key)."),
        _m("TimeToDecision", "Seconds", "distribution", ("tenant", "kind", "queue"), (("tenant", "queue"), ("queue",)),
           "user_overrides", "From an approval or exception being opened to a person deciding it."),
        # --- retrieval quality -----------------------------------------------------------------------------------
        _m("CopilotAnswers", "Count", "counter", ("tenant", "outcome"), (("tenant", "outcome"), ("outcome",)),
           "retrieval_quality", "Copilot questions by outcome: answered (with citations) or refused."),
        _m("CitationRejections", "Count", "counter", ("tenant",), (("tenant",), ()), "retrieval_quality",
           "Citations a draft answer made to clauses outside what was retrieved for it (the answer is withheld)."),
        _m("CopilotAnswerLatency", "Milliseconds", "distribution", ("tenant",), (("tenant",), ()),
           "retrieval_quality", "Time from a question to its checked answer or refusal (retrieval + drafting)."),
        _m("CopilotTopEvidenceScore", "None", "distribution", ("tenant",), (("tenant",), ()), "retrieval_quality",
           "The fused retrieval score of the best hit for each question (0 when nothing was retrieved)."),
        # --- model drift -----------------------------------------------------------------------------------------
        _m("ForecastBrierScore", "None", "gauge", ("tenant", "period"), (("tenant",),), "model_drift",
           "Brier score of the threshold forecasts made at the start of a closed period against what happened."),
        _m("ForecastBrierVsNaive", "None", "gauge", ("tenant", "period"), (("tenant",),), "model_drift",
           "The forecast's Brier score over the naive rule's on the same closed period (above 1: worse than naive)."),
        _m("CopilotRefusalDrift", "None", "gauge", ("tenant",), (("tenant",), ()), "model_drift",
           "The copilot's refusal rate over its last answers minus its evaluation baseline (positive: refuses more)."),
        # --- channel equity --------------------------------------------------------------------------------------
        _m("EquityComparisons", "Count", "counter", ("tenant", "outcome"), (("tenant", "outcome"),),
           "channel_equity", "Segment comparisons the equity monitor made, by outcome (finding, no finding)."),
        _m("EquityFindings", "Count", "counter", ("tenant", "measure", "dimension"), (("tenant",), ()),
           "channel_equity", "Significant unexplained gaps between partner segments that opened a new exception."),
        # --- business KPIs (for the executive dashboard; definitions in docs/kpis.md) --------------------------------
        _m("KpiNetMarginPercent", "Percent", "gauge", ("tenant",), (("tenant",),), "business_kpis",
           "Net realized margin % of the current month so far (GET /v1/kpis), sampled hourly."),
        _m("KpiInvoiceCycleP50Hours", "None", "gauge", ("tenant",), (("tenant",),), "business_kpis",
           "Invoice cycle time p50 in hours of the current month so far, sampled hourly."),
        _m("KpiThresholdsReachedPercent", "Percent", "gauge", ("tenant",), (("tenant",),), "business_kpis",
           "Share of (partner, threshold) pairs of the current quarter already reached, sampled hourly."),
        _m("KpiExceptionsPer100", "None", "gauge", ("tenant",), (("tenant",),), "business_kpis",
           "Policy exceptions per 100 transactions of the current month so far, sampled hourly."),
    )
}


def _edge(index: int) -> float:
    return _FIRST_EDGE * _GROWTH**index


def _bucket(value: float) -> int:
    if value <= _FIRST_EDGE:
        return 0
    return max(0, math.ceil(math.log(value / _FIRST_EDGE, _GROWTH) - 1e-9))


class Series:
    """One metric at one label set: count, sum, min, max, last; buckets for distributions; a per-minute history."""

    __slots__ = ("buckets", "count", "high", "last", "low", "minutes", "total")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.low = math.inf
        self.high = -math.inf
        self.last = 0.0
        self.buckets: dict[int, int] = {}
        self.minutes: dict[int, list[float]] = {}  # minute (unix // 60) -> [count, sum]

    def add(self, value: float, minute: int, distribution: bool) -> None:
        self.count += 1
        self.total += value
        self.low = min(self.low, value)
        self.high = max(self.high, value)
        self.last = value
        if distribution:
            b = _bucket(value)
            self.buckets[b] = self.buckets.get(b, 0) + 1
        slot = self.minutes.get(minute)
        if slot is None:
            self.minutes[minute] = [1, value]
            if len(self.minutes) > HISTORY_MINUTES:
                del self.minutes[min(self.minutes)]
        else:
            slot[0] += 1
            slot[1] += value


def quantile(buckets: Mapping[int, int], q: float, low: float, high: float) -> float | None:
    """The q-quantile by nearest rank, as its bucket's upper edge (clamped to the observed min and max)."""
    count = sum(buckets.values())
    if not count:
        return None
    rank = max(1, math.ceil(q * count))
    seen = 0
    for index in sorted(buckets):
        seen += buckets[index]
        if seen >= rank:
            return min(max(_edge(index), low), high)
    return high


class Recorder:
    """The process's aggregate of every record; thread-safe. `emf` also writes each record as CloudWatch EMF."""

    def __init__(self, *, emf: bool = False, stream: Any = None) -> None:
        self.emf = emf
        self._stream = stream
        self._lock = threading.Lock()
        self._series: dict[tuple[str, tuple[tuple[str, str], ...]], Series] = {}
        self.started_at = real_time()

    def record(self, name: str, value: float = 1.0, **labels: str | None) -> None:
        metric = CATALOG.get(name)
        if metric is None:
            raise KeyError(f"metric {name} is not declared in revgov.metrics.CATALOG")
        unknown = set(labels) - set(metric.labels)
        if unknown:
            raise KeyError(f"metric {name} has no label(s) {', '.join(sorted(unknown))}")
        key = (name, tuple((k, str(labels.get(k) or "")) for k in metric.labels))
        now = real_time()
        with self._lock:
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = Series()
            series.add(float(value), int(now // 60), metric.kind == "distribution")
        if self.emf:
            self._write_emf(metric, float(value), dict(key[1]), now)

    def _write_emf(self, metric: Metric, value: float, labels: dict[str, str], now: float) -> None:
        line = emf_line(metric, value, labels, int(now * 1000))
        (self._stream or sys.stdout).write(line + "\n")

    def series(self) -> Iterator[tuple[Metric, dict[str, str], Series]]:
        with self._lock:
            items = list(self._series.items())
        for (name, labels), series in items:
            yield CATALOG[name], dict(labels), series

    def total(self, name: str, **match: str) -> float:
        """The sum of a metric's values over the series whose labels match (tests and bench read this)."""
        return sum(s.total for m, labels, s in self.series() if m.name == name and _matches(labels, match))

    def count(self, name: str, **match: str) -> int:
        return sum(s.count for m, labels, s in self.series() if m.name == name and _matches(labels, match))

    def last(self, name: str, **match: str) -> float | None:
        found = [s.last for m, labels, s in self.series() if m.name == name and _matches(labels, match)]
        return found[-1] if found else None

    def reset(self) -> None:
        with self._lock:
            self._series.clear()


def _matches(labels: Mapping[str, str], match: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in match.items())


def emf_line(metric: Metric, value: float, labels: Mapping[str, str], timestamp_ms: int) -> str:
    """One record in CloudWatch embedded metric format: the root keys carry the dimension values and the value."""
    sets = [[d for d in dims if labels.get(d)] for dims in metric.dimension_sets]
    sets = [s for i, s in enumerate(sets) if s not in sets[:i]]
    document: dict[str, Any] = {
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {"Namespace": NAMESPACE, "Dimensions": sets, "Metrics": [{"Name": metric.name, "Unit": metric.unit}]}
            ],
        },
        **{k: v for k, v in labels.items() if v},
        metric.name: value,
    }
    return json.dumps(document, separators=(",", ":"))


_recorder: Recorder | None = None
_recorder_lock = threading.Lock()


def recorder() -> Recorder:
    """The process's recorder, made on first use from the settings (EMF on in Lambda)."""
    global _recorder
    if _recorder is None:
        with _recorder_lock:
            if _recorder is None:
                _recorder = Recorder(emf=settings().metrics_emf)
    return _recorder


def record(name: str, value: float = 1.0, **labels: str | None) -> None:
    """Record one value of a declared metric (an undeclared name or label raises KeyError: a bug the tests catch)."""
    recorder().record(name, value, **labels)


def status_class(status: int) -> str:
    return f"{status // 100}xx"


# --- reading: the JSON view and the Prometheus text format -------------------------------------------------------
def snapshot(tenant_id: str | None, *, signal: str | None = None, name: str | None = None) -> dict[str, Any]:
    """What `GET /v1/metrics` answers: only the series about `tenant_id`, with the tenant label dropped; None: every
    series (in-process readers such as the bench and the tests)."""
    rec = recorder()
    out: dict[str, Any] = {}
    for metric, labels, series in rec.series():
        if (signal and metric.signal != signal) or (name and metric.name != name):
            continue
        if tenant_id is not None:
            if "tenant" not in metric.labels or labels.get("tenant") != tenant_id:
                continue
            labels = {k: v for k, v in labels.items() if k != "tenant"}
        entry = out.setdefault(
            metric.name,
            {
                "unit": metric.unit,
                "kind": metric.kind,
                "signal": metric.signal,
                "description": metric.description,
                "series": [],
            },
        )
        point: dict[str, Any] = {"labels": labels}
        if metric.kind == "gauge":
            point["value"] = series.last
        else:
            point.update(count=series.count, sum=round(series.total, 6))
        if metric.kind == "distribution":
            point.update(
                min=round(series.low, 6),
                max=round(series.high, 6),
                p50=_round(quantile(series.buckets, 0.5, series.low, series.high)),
                p90=_round(quantile(series.buckets, 0.9, series.low, series.high)),
                p99=_round(quantile(series.buckets, 0.99, series.low, series.high)),
            )
        point["per_minute"] = [
            {"minute": _minute_iso(m), "count": int(c), "sum": round(s, 6)}
            for m, (c, s) in sorted(series.minutes.items())
        ]
        entry["series"].append(point)
    return {
        "scope": "every tenant, this process" if tenant_id is None else "this tenant, this process",
        "since": _minute_iso(int(rec.started_at // 60)),
        "metrics": dict(sorted(out.items())),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _minute_iso(minute: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:00Z", time.gmtime(minute * 60))


def prometheus_text(view: Mapping[str, Any]) -> str:
    """The snapshot in the Prometheus text exposition format (0.0.4): counters as `_total`, distributions as
    summaries (quantiles 0.5, 0.9, 0.99 with `_sum` and `_count`), gauges as gauges."""
    lines: list[str] = []
    for name, entry in view["metrics"].items():
        metric = CATALOG[name]
        prom = metric.prometheus_name
        kind = {"counter": "counter", "distribution": "summary", "gauge": "gauge"}[metric.kind]
        lines.append(f"# HELP {prom} {metric.description}")
        lines.append(f"# TYPE {prom} {kind}")
        for point in entry["series"]:
            labels = point["labels"]
            if metric.kind == "counter":
                lines.append(f"{prom}{_labels(labels)} {_num(point['sum'])}")
            elif metric.kind == "gauge":
                lines.append(f"{prom}{_labels(labels)} {_num(point['value'])}")
            else:
                for q in ("0.5", "0.9", "0.99"):
                    value = point["p" + q[2:].ljust(2, "0")]
                    lines.append(f"{prom}{_labels({**labels, 'quantile': q})} {_num(value)}")
                lines.append(f"{prom}_sum{_labels(labels)} {_num(point['sum'])}")
                lines.append(f"{prom}_count{_labels(labels)} {point['count']}")
    return "\n".join(lines) + "\n"


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    escaped = (
        f'{k}="{str(v).replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34)).replace(chr(10), "")}"'
        for k, v in sorted(labels.items())
    )
    return "{" + ",".join(escaped) + "}"


def _num(value: float | None) -> str:
    if value is None:
        return "NaN"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))
