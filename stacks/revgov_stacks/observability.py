"""Dashboards and alarms over Revgov's own metrics (namespace Revgov, emitted as CloudWatch embedded metric format by
revgov.metrics) and the queues' DLQs: one dashboard for executives, one for channel ops, one for the platform.

Every metric name comes from `revgov.metrics.CATALOG` (one definition each); a metric a widget or alarm names that the
catalog lacks fails synthesis. Alarms go to the application's alarm topic.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from revgov.metrics import CATALOG, NAMESPACE
from revgov.settings import COPILOT_REFUSAL_BASELINE

PERIOD = Duration.minutes(5)
QUEUES = ("finance", "channel_ops", "legal", "customer_success")
LEAKAGE = ("rebate_leakage", "duplicate_rebate", "invoice_sla_breach", "unbilled_fulfilment", "rating_failure")
P99_LATENCY_MS = 3000  # an API request answered in more than 3 s at p99 over 15 minutes
FIVE_XX_PERCENT = 1  # of requests, over 15 minutes
SLA_BREACHES_PER_HOUR = 5
REFUSAL_SPIKE = 0.25  # the copilot refusing this much more often than its evaluation baseline over an hour


def metric(name: str, statistic: str = "Sum", label: str | None = None, **dimensions: str) -> cw.Metric:
    """A Revgov metric by its catalog name, at one of its declared dimension sets."""
    declared = CATALOG[name]
    if set(dimensions) not in [set(s) for s in declared.dimension_sets]:
        raise ValueError(f"{name} is not emitted with dimensions {sorted(dimensions)}")
    return cw.Metric(namespace=NAMESPACE, metric_name=name, dimensions_map=dimensions or None, statistic=statistic,
                     period=PERIOD, label=label, unit=None)


def search(name: str, dimensions: tuple[str, ...], statistic: str = "Sum", label: str = "") -> cw.MathExpression:
    """Every series of a metric at a dimension set (e.g. per tenant), found by SEARCH at read time."""
    keys = ",".join(dimensions)
    return cw.MathExpression(
        expression=f"SEARCH('{{{NAMESPACE},{keys}}} MetricName=\"{name}\"', '{statistic}', {int(PERIOD.to_seconds())})",
        using_metrics={}, label=label or name, period=PERIOD,
    )


def _graph(title: str, metrics: list[cw.IMetric], width: int = 8, **options: object) -> cw.GraphWidget:
    return cw.GraphWidget(title=title, left=metrics, width=width, height=6, **options)  # type: ignore[arg-type]


class Observability(Construct):
    """The three dashboards and the product alarms of one Revgov application."""

    def __init__(
        self, scope: Construct, construct_id: str, *, name: str, topic: sns.ITopic,
        dead_letter_queues: dict[str, sqs.Queue], handlers: list[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarms: dict[str, cw.Alarm] = {}
        self._topic = topic
        self.executive = self._executive(name)
        self.channel_ops = self._channel_ops(name)
        self.platform = self._platform(name, dead_letter_queues, handlers)
        self._alarms(name)

    # --- dashboards ----------------------------------------------------------------------------------------------
    def _executive(self, name: str) -> cw.Dashboard:
        board = cw.Dashboard(self, "Executive", dashboard_name=f"{name}-executive")
        board.add_widgets(
            cw.TextWidget(
                markdown="## Revenue governance\nPer tenant, sampled hourly from `GET /v1/kpis` (definitions in "
                         "docs/kpis.md; each period with its baseline before go-live there).",
                width=24, height=2,
            ),
            _graph("Net realized margin % (month so far)", [search("KpiNetMarginPercent", ("tenant",), "Average")],
                   width=6),
            _graph("Invoice cycle p50 (h)", [search("KpiInvoiceCycleP50Hours", ("tenant",), "Average")], width=6),
            _graph("Thresholds reached % (quarter)",
                   [search("KpiThresholdsReachedPercent", ("tenant",), "Average")], width=6),
            _graph("Exceptions per 100 transactions", [search("KpiExceptionsPer100", ("tenant",), "Average")],
                   width=6),
            _graph("Leakage exceptions opened (by category)",
                   [metric("CasesOpened", label=c, kind="exception", category=c) for c in LEAKAGE], width=12),
            _graph("Overrides: approvals a person let through", [metric("Overrides", label="overrides")], width=6),
            _graph("Forecast vs naive (Brier ratio; above 1: worse)",
                   [search("ForecastBrierVsNaive", ("tenant",), "Maximum")], width=6),
            _graph("Approvals decided", [metric("CaseDecisions", label=o, kind="approval", outcome=o)
                                         for o in ("approved", "rejected")], width=12),
            _graph("Channel-equity findings", [metric("EquityFindings", label="new findings")], width=12),
        )
        return board

    def _channel_ops(self, name: str) -> cw.Dashboard:
        board = cw.Dashboard(self, "ChannelOps", dashboard_name=f"{name}-channel-ops")
        board.add_widgets(
            _graph("Approvals and exceptions opened", [metric("CasesOpened", label=k, kind=k)
                                                       for k in ("approval", "exception")]),
            _graph("Time to decision p50 (s) by queue",
                   [metric("TimeToDecision", "p50", label=q, queue=q) for q in QUEUES]),
            _graph("Approval SLA breaches by queue",
                   [metric("ApprovalSlaBreaches", label=q, queue=q) for q in QUEUES]),
            _graph("Decisions by outcome", [metric("CaseDecisions", label=f"{k} {o}", kind=k, outcome=o)
                                            for k, o in (("approval", "approved"), ("approval", "rejected"),
                                                         ("exception", "resolved"), ("exception", "dismissed"))]),
            _graph("Overrides per approver", [search("Overrides", ("tenant", "approver"))]),
            _graph("Equity comparisons and findings",
                   [search("EquityComparisons", ("tenant", "outcome")), metric("EquityFindings", label="findings")]),
        )
        return board

    def _platform(self, name: str, dead_letter_queues: dict[str, sqs.Queue], handlers: list[str]) -> cw.Dashboard:
        board = cw.Dashboard(self, "Platform", dashboard_name=f"{name}-platform")
        board.add_widgets(
            _graph("API latency (ms)", [metric("RequestLatency", s, label=s) for s in ("p50", "p90", "p99")]),
            _graph("Requests by status class", [metric("Requests", label=c, status_class=c)
                                                for c in ("2xx", "4xx", "5xx")]),
            _graph("Latency p99 by operation (ms)", [search("RequestLatency", ("operation",), "p99")]),
            _graph("Handler failures and retries",
                   [metric("HandlerFailures", label=f"{h} failures", handler=h) for h in handlers]
                   + [metric("HandlerRetries", label=f"{h} retries", handler=h) for h in handlers]),
            _graph("Dead letters (events) and DLQ depth",
                   [metric("DeadLetters", label="dead-lettered")]
                   + [q.metric_approximate_number_of_messages_visible(label=f"DLQ {r}", period=PERIOD,
                                                                      statistic="Maximum")
                      for r, q in dead_letter_queues.items()]),
            _graph("Webhook deliveries", [metric("WebhookDeliveries", label=o, outcome=o)
                                          for o in ("delivered", "retrying", "failed")]),
            _graph("Scheduled runs", [metric("ScheduledRuns", label=o, outcome=o) for o in ("ok", "failed", "missed")]),
            _graph("Copilot answers", [metric("CopilotAnswers", label=o, outcome=o) for o in ("answered", "refused")]
                   + [metric("CitationRejections", label="citations rejected")]),
            _graph("Copilot latency (ms) and top evidence score",
                   [metric("CopilotAnswerLatency", "p90", label="latency p90")],
                   right=[metric("CopilotTopEvidenceScore", "p50", label="top score p50")]),
        )
        return board

    # --- alarms --------------------------------------------------------------------------------------------------
    def _alarm(self, key: str, description: str, alarm_metric: cw.IMetric, threshold: float, periods: int) -> None:
        alarm = cw.Alarm(
            self, f"{key}Alarm", alarm_description=description, metric=alarm_metric, threshold=threshold,
            evaluation_periods=periods, datapoints_to_alarm=periods,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self._topic))
        self.alarms[key] = alarm

    def _alarms(self, name: str) -> None:
        requests = {c: metric("Requests", status_class=c) for c in ("2xx", "4xx", "5xx")}
        self._alarm(
            "ServerErrorRate", f"Revgov {name}: more than {FIVE_XX_PERCENT}% of API requests answered 5xx",
            cw.MathExpression(expression="IF(ok + client + server > 0, 100 * server / (ok + client + server), 0)",
                              using_metrics={"ok": requests["2xx"], "client": requests["4xx"],
                                             "server": requests["5xx"]},
                              label="5xx %", period=PERIOD),
            FIVE_XX_PERCENT, 3,
        )
        self._alarm("LatencyP99", f"Revgov {name}: API p99 latency above {P99_LATENCY_MS} ms",
                    metric("RequestLatency", "p99"), P99_LATENCY_MS, 3)
        self._alarm("ApprovalSlaBreaches",
                    f"Revgov {name}: more than {SLA_BREACHES_PER_HOUR} approvals or exceptions decided past their SLA "
                    "in an hour",
                    cw.Metric(namespace=NAMESPACE, metric_name="ApprovalSlaBreaches", statistic="Sum",
                              period=Duration.hours(1)), SLA_BREACHES_PER_HOUR, 1)
        answers = {o: cw.Metric(namespace=NAMESPACE, metric_name="CopilotAnswers", dimensions_map={"outcome": o},
                                statistic="Sum", period=Duration.hours(1)) for o in ("answered", "refused")}
        baseline = COPILOT_REFUSAL_BASELINE  # the refusal rate on the copilot's evaluation set
        self._alarm(
            "CopilotRefusalSpike",
            f"Revgov {name}: the copilot refused {REFUSAL_SPIKE:.0%} more of the questions than its evaluation "
            "baseline over an hour (retrieval or index trouble)",
            cw.MathExpression(
                expression=f"IF(answered + refused >= 10, refused / (answered + refused) - {baseline}, 0)",
                using_metrics=answers, label="refusal rate above baseline", period=Duration.hours(1),
            ),
            REFUSAL_SPIKE, 1,
        )
        self._alarm("EquityFinding", f"Revgov {name}: the channel-equity monitor opened an exception",
                    cw.Metric(namespace=NAMESPACE, metric_name="EquityFindings", statistic="Sum",
                              period=Duration.hours(1)), 0, 1)
