"""Observability: the process's own metrics (JSON or Prometheus text) and the channel-equity comparisons."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from ... import metrics
from ...domain.errors import FieldError, MalformedRequest
from ...services import tenants, workflow_metrics
from ..http import Answer, Call
from ..pages import branded_page
from ..query import required_period
from ..registry import PERIOD_PATTERN, PUBLIC, STAFF, QueryParam, operation

_SIGNAL = QueryParam("signal", "only the metrics of this signal", enum=(
    "latency", "workflow_failures", "exception_volumes", "user_overrides", "retrieval_quality", "model_drift",
    "channel_equity"))


@operation(
    "GET",
    "/v1/metrics",
    summary="Revgov's own metrics in this process: latency, workflow failures, exception volumes, overrides, "
    "copilot retrieval quality, model drift, channel equity (the caller's tenant's series)",
    roles=STAFF,
    tag="observability",
    query=(_SIGNAL,),
    description="Every metric is declared once in `revgov.metrics.CATALOG` (name, unit, labels, CloudWatch dimension "
    "sets, signal). Counters give count and sum, distributions also min, max, p50/p90/p99 (log buckets, ~5%), gauges "
    "their last value; each series has its per-minute history (last 120 minutes). Staff see only the series "
    "about their own tenant (the `tenant` label removed); platform-wide series (scheduled jobs, unauthenticated "
    "requests) are in CloudWatch only. In AWS this is one function instance's view since it started: CloudWatch "
    "(namespace Revgov, from the embedded metric format) has them all.",
    response_schema="api/responses/metrics.schema.json",
)
def get_metrics(call: Call) -> Any:
    return metrics.snapshot(call.who.tenant_id, signal=call.query.get("signal"))


@operation(
    "GET",
    "/v1/metrics/prometheus",
    summary="The same metrics in the Prometheus text exposition format 0.0.4 (counters, summaries, gauges)",
    roles=STAFF,
    tag="observability",
    query=(_SIGNAL,),
    produces="text/plain",
)
def get_metrics_prometheus(call: Call) -> Answer:
    view = metrics.snapshot(call.who.tenant_id, signal=call.query.get("signal"))
    return Answer(200, metrics.prometheus_text(view), content_type="text/plain; version=0.0.4; charset=utf-8")


@operation(
    "GET",
    "/v1/metrics/workflow",
    summary="Workflow metrics of a month or quarter (approvals opened, decided, approval rate, hours to decision, SLA "
    "breaches; exceptions opened by category, closed, SLA breaches), each beside its baseline period's value",
    roles=STAFF,
    tag="observability",
    query=(
        QueryParam(
            "period", "a billing month (2026-11) or a quarter (2026-Q4); required",
            pattern=PERIOD_PATTERN, required=True,
        ),
    ),
    description="Figured from the tenant's durable case records, so each metric has the value of the baseline "
    "period beside it: the month or quarter before the tenant went live, or the tenant's `kpi_baseline_period` "
    "(the KPIs' baseline). A case counts by the instant its figure is about: opened, decided, or due (an SLA "
    "breach: due in the period and not decided by its due time). docs/observability.md.",
    response_schema="api/responses/workflow-metrics.schema.json",
)
def get_workflow_metrics(call: Call) -> dict[str, Any]:
    return workflow_metrics.report(call.runtime, call.who, required_period(call))


@operation(
    "GET",
    "/v1/equity",
    summary="Channel equity: outcomes compared across partner segments over a rolling window, with the findings "
    "(significant unexplained gaps) the monitor turns into exceptions",
    roles=STAFF,
    tag="observability",
    query=(QueryParam("window_days", "the rolling window, 7 to 365 days (default 90)", pattern=r"[0-9]{1,3}"),),
    description="Method in docs/equity.md: approval rates, discounts granted as a share of the tier cap, exceptions "
    "per quote, hours to decision and rebate disputes upheld, each segment (tier, partner type, region, size band) "
    "against the rest, stratified by tier; Fisher's exact / exact conditional tests for counts, permutation tests "
    "for continuous outcomes; Holm's correction at alpha 0.05 over the comparison family the tenant's policy "
    "declares (`family`; every comparison when none is declared); a finding also needs a material gap; comparisons "
    "outside the family are `exploratory`, never findings. Read only: the scheduled `equity-monitor` opens the "
    "exceptions.",
    response_schema="api/responses/equity.schema.json",
)
def get_equity(call: Call) -> dict[str, Any]:
    from ...services import equity  # numpy (~180 ms): loaded by this route, not at every API cold start

    return equity.report(call.runtime, call.who, equity.window_days(call.query.get("window_days")))


_OPS_ASSETS = Path(__file__).resolve().parents[1] / "ops"


@lru_cache(maxsize=1)
def _ops_assets() -> tuple[str, str, str]:
    css = (_OPS_ASSETS.parent / "portal" / "portal.css").read_text(encoding="utf-8") + "\n.contents{display:contents}"
    return (_OPS_ASSETS / "ops.html").read_text(encoding="utf-8"), css, (_OPS_ASSETS / "ops.js").read_text(
        encoding="utf-8")


@operation(
    "GET",
    "/ops",
    summary="The operations view in the tenant's branding: the metrics over the last hour as charts, and the "
    "channel-equity comparisons (staff keys)",
    roles=PUBLIC,
    tag="observability",
    query=(QueryParam("tenant", "the tenant whose branding to show", pattern=r"[a-z][a-z0-9-]{2,39}", required=True),),
    produces="text/html",
    description="Public HTML like /portal: `?tenant=<id>` chooses the branding only; no data until a staff API key is "
    "entered (kept in sessionStorage, sent only in the Authorization header); it reads GET /v1/metrics and "
    "GET /v1/equity. Same Content-Security-Policy as the portal.",
)
def operations_view(call: Call) -> Answer:
    tenant_id = call.query.get("tenant")
    if not tenant_id:
        raise MalformedRequest("open the view as /ops?tenant=<tenant id>",
                               errors=[FieldError("/query/tenant", "required")])
    tenant, _ = tenants.load_tenant(call.runtime, tenant_id)
    template, base_css, js = _ops_assets()
    page, headers = branded_page(template, base_css, js, tenant_id=tenant.tenant_id, display_name=tenant.display_name,
                                 branding=tenant.config["branding"],
                                 config={"tenant_id": tenant.tenant_id, "api_base": ""})
    return Answer(200, page, headers, content_type="text/html; charset=utf-8")
