"""`GET /v1/metrics/workflow`: the tenant's workflow metrics of a period beside those of its baseline period (the
period before go-live, or `kpi_baseline_period`), figured from its durable case records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from ..domain import kpis as kpi_core
from ..domain import workflow_metrics as core
from ..domain.access import Principal
from ..domain.cases import OPEN, OUTCOMES, Case
from ..domain.errors import MalformedRequest
from ..domain.sla_pause import WAITING
from ..runtime import Runtime
from . import case_repository, tenants

_STATUSES = {kind: (open_status, WAITING, *OUTCOMES[kind]) for kind, open_status in OPEN.items()}


def _cases(rt: Runtime, tenant_id: str) -> Iterator[Case]:
    for kind, statuses in _STATUSES.items():
        for status in statuses:
            yield from case_repository.by_status(rt.store, tenant_id, kind, status)


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
