"""The executive KPIs as gauges: the current month's (and quarter's) figures of GET /v1/kpis, sampled for CloudWatch.

Margin, cycle time and exceptions per 100 transactions of the month so far, and the share of (partner, threshold)
pairs of the quarter already reached; recorded per tenant by the hourly `kpi-gauges` job so the executive dashboard
can chart them. A figure with no data (no revenue yet, no cycle) is not recorded.
"""

from __future__ import annotations

from typing import Any

from .. import metrics
from ..domain.access import Principal, Role
from ..runtime import Runtime
from . import analytics

SAMPLER = "key_01JX0000000000000000KPIGAUGE"  # stands for the job in the principal; it writes nothing


def record_kpi_gauges(rt: Runtime, tenant_id: str) -> dict[str, float]:
    now = rt.clock.now_iso()
    month = now[:7]
    quarter = f"{now[:4]}-Q{(int(now[5:7]) - 1) // 3 + 1}"
    who = Principal(tenant_id, Role.FINANCE, SAMPLER)
    monthly = analytics.kpis(rt, who, month, partner_id=None, tier=None)
    quarterly = analytics.kpis(rt, who, quarter, partner_id=None, tier=None)
    figures: dict[str, Any] = {
        "KpiNetMarginPercent": monthly["net_realized_margin"].get("net_margin_percent"),
        "KpiInvoiceCycleP50Hours": monthly["invoice_cycle_time"].get("p50_hours"),
        "KpiExceptionsPer100": monthly["policy_exceptions_per_100_transactions"].get("per_100_transactions"),
        "KpiThresholdsReachedPercent": _reached_percent(quarterly["threshold_attainment"]["thresholds"]),
    }
    recorded = {}
    for name, value in figures.items():
        if value is not None:
            recorded[name] = float(value)
            metrics.record(name, float(value), tenant=tenant_id)
    return recorded


def _reached_percent(rows: list[dict[str, Any]]) -> float | None:
    pairs = sum(int(r["partners"]) for r in rows)
    return 100.0 * sum(int(r["reached"]) for r in rows) / pairs if pairs else None
