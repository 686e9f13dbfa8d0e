"""Model drift: how well the threshold forecasts did on a period that has closed, against the naive rule.

For each partner of the KPI directory, the forecast is made as it would have been a month into the closed quarter
(history before the quarter, the first month's revenue to date), for each threshold that applies to the partner's
tier; the outcome is whether the quarter ended below it. The Brier score of those predictions, and its ratio to the
naive rule's on the same predictions, are recorded as the ForecastBrierScore and ForecastBrierVsNaive gauges (a
ratio drifting up toward 1 or above means the model no longer beats "distance to threshold").
"""

from __future__ import annotations

from datetime import date
from typing import Any

from .. import metrics
from ..domain import forecast
from ..domain import kpis as core
from ..domain.kpis import Period
from ..runtime import Runtime
from . import analytics, tenants


def last_closed_quarter(today: date) -> str:
    quarter = (today.month - 1) // 3  # the current quarter's index, 0..3; the one before it has closed
    year = today.year if quarter else today.year - 1
    return f"{year}-Q{quarter or 4}"


def forecast_calibration(rt: Runtime, tenant_id: str, period: str | None = None) -> dict[str, Any]:
    """Score the forecasts of a closed quarter (default: the last one) and record the drift gauges."""
    today = date.fromisoformat(rt.clock.now_iso()[:10])
    name = period or last_closed_quarter(today)
    target = Period.parse(name)
    if target.last_day >= today:
        raise ValueError(f"{name} has not closed yet")
    tenant, _ = tenants.load_tenant(rt, tenant_id)
    directory = rt.store.get(tenant_id, analytics.ROLLUPS, analytics.DIRECTORY)
    members = (directory.data["partners"] if directory else {}).items()
    model: list[tuple[float, int]] = []
    naive: list[tuple[float, int]] = []
    applicable = analytics.thresholds(tenant.policy, len(target.months))
    first_month_end = core.month_bounds(target.months[0])[1]
    for partner_id, entry in members:
        history, _ = analytics.partner_history(rt, tenant_id, partner_id, target)
        revenue = _monthly(rt, tenant_id, partner_id, target.months)
        if not history and not any(revenue.values()):
            continue
        to_date = revenue[target.months[0]]
        actual = sum(revenue.values())
        projection = forecast.project(history, name, first_month_end, to_date)
        for threshold in applicable:
            if threshold.tiers is not None and entry.get("tier") not in threshold.tiers:
                continue
            missed = int(actual < float(threshold.amount))
            model.append((projection.p_miss(float(threshold.amount)), missed))
            naive.append((forecast.naive_p_miss(to_date, float(threshold.amount)), missed))
    if not model:
        return {"period": name, "predictions": 0}
    brier, brier_naive = forecast.brier(model), forecast.brier(naive)
    ratio = brier / brier_naive if brier_naive > 0 else 0.0
    metrics.record("ForecastBrierScore", brier, tenant=tenant_id, period=name)
    metrics.record("ForecastBrierVsNaive", ratio, tenant=tenant_id, period=name)
    return {"period": name, "predictions": len(model), "brier": brier, "brier_naive": brier_naive,
            "ratio_to_naive": ratio, "calibration_error": forecast.calibration(model)[0]}


def _monthly(rt: Runtime, tenant_id: str, partner_id: str, months: tuple[str, ...]) -> dict[str, float]:
    refs = [(tenant_id, analytics.ROLLUPS, analytics.rollup_key(m, f"partner:{partner_id}")) for m in months]
    stored = rt.store.get_many(refs)
    return {m: int(stored[ref].data["revenue_minor"]) / core.MINOR if ref in stored else 0.0
            for m, ref in zip(months, refs, strict=True)}
