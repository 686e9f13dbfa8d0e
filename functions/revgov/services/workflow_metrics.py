"""`GET /v1/metrics/workflow`: the tenant's workflow metrics of a period beside those of its baseline period (the
period before go-live, or `kpi_baseline_period`), figured from its durable case records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from ..domain import kpis as kpi_core
from ..domain import workflow_metrics as core
from ..domain.access import Principal
from ..domain.cases import OPEN, OUTCOMES
from ..domain.errors import MalformedRequest
from ..runtime import Runtime
from . import tenants
from .cases import CASES

_STATUSES = {kind: (open_status, *OUTCOMES[kind]) for kind, open_status in OPEN.items()}


def _cases(rt: Runtime, tenant_id: str) -> Iterator[dict[str, Any]]:
    for kind, statuses in _STATUSES.items():
        for status in statuses:
            cursor = None
            while True:
                page = rt.store.lookup(tenant_id, f"{CASES}#{kind}#{status}", limit=200, cursor=cursor)
                yield from (item.data for item in page.items)
                cursor = page.next_cursor
                if not cursor:
                    break


def report(rt: Runtime, who: Principal, period: str) -> dict[str, Any]:
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    try:
        target = kpi_core.Period.parse(period)
    except ValueError as exc:
        raise MalformedRequest(str(exc)) from exc
    went_live = date.fromisoformat(tenant.created_at[:10])
    base, source = kpi_core.baseline_period(target, went_live, tenant.config.get("kpi_baseline_period"))
    cases = list(_cases(rt, who.tenant_id))
    now = rt.clock.now_iso()
    return core.with_baseline(core.figures(cases, target, now), core.figures(cases, base, now), target, base, source,
                              went_live.isoformat())
