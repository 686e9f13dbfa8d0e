"""Operational intelligence: KPIs, partner forecasts and the tasks that agents opened."""

from __future__ import annotations

from typing import Any

from ...domain.access import Role
from ...domain.kpi_definitions import DEFINITIONS
from ...services import analytics, tasks
from ..http import Call
from ..query import required_period
from ..registry import PERIOD_PATTERN, STAFF, QueryParam, operation

READERS = frozenset(STAFF | {Role.PARTNER})
_PERIOD = QueryParam(
    "period", "a billing month (2026-11) or a quarter (2026-Q4); required", pattern=PERIOD_PATTERN, required=True
)
_QUEUE = QueryParam("queue", "only this queue", enum=("finance", "channel_ops", "legal", "customer_success"))


@operation(
    "GET",
    "/v1/kpis",
    summary="Revenue-governance KPIs for a month or quarter, optionally one partner or tier (a partner key: its own)",
    roles=READERS,
    tag="analytics",
    query=(
        _PERIOD,
        QueryParam("partner_id", "only this partner", pattern=r"ptr_[0-9A-HJKMNP-TV-Z]{26}"),
        QueryParam("tier", "only this partner tier (its machine name)", pattern=r"[a-z][a-z0-9_-]{0,39}"),
    ),
    description=DEFINITIONS,
    response_schema="api/responses/kpis.schema.json",
)
def get_kpis(call: Call) -> dict[str, Any]:
    return analytics.kpis(
        call.runtime,
        call.who,
        required_period(call),
        partner_id=call.query.get("partner_id"),
        tier=call.query.get("tier"),
    )


@operation(
    "GET",
    "/v1/partners/{partner_id}/forecast",
    summary="Projected volume for the period and the probability of missing each threshold (method stated)",
    roles=READERS,
    tag="analytics",
    id_params={"partner_id": "ptr"},
    query=(_PERIOD,),
    response_schema="api/responses/forecast.schema.json",
)
def get_forecast(call: Call) -> dict[str, Any]:
    return analytics.forecast(call.runtime, call.who, call.params["partner_id"], required_period(call))


@operation(
    "GET",
    "/v1/tasks",
    summary="Open tasks that agents opened (evidence, drafted message, confidence), by queue then age",
    roles=STAFF,
    tag="analytics",
    paginated=True,
    query=(_QUEUE,),
    response_schema="api/responses/task-page.schema.json",
)
def list_tasks(call: Call) -> Any:
    return tasks.list_tasks(
        call.runtime, call.who.tenant_id, queue=call.query.get("queue"), limit=call.limit, cursor=call.cursor
    )
