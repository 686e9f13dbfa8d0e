"""`make bench` sections `kpis` and `forecast` (registered in bench.py).

kpis: a generated history of more than a million sales facts (plus quotes, approvals, exceptions and support time)
is folded into KPI rollups with the same fold the handler uses and loaded into the store in bulk (not through
HTTP); then `GET /v1/kpis` is timed against the bare health route of the same run.
forecast: the threshold forecast backtested against the naive "distance to threshold" rule, on a generated history
(its parameters were chosen there) and on real, held-out retail turnover series (tests/forecast_data/).
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

Row = dict[str, Any]
FACTS = 1_050_000
PARTNERS = 300
MONTHS = 24
LAST_MONTH = "2026-12"


def _timed(call: Callable[[], Any], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, response.text[:300]
    return samples


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def generate_rollups(seed: int = 5) -> tuple[list[dict[str, Any]], dict[str, Any], int]:
    """Rollups of FACTS generated sales facts over MONTHS months and PARTNERS partners, folded per (month, partner)
    then into the `all`, tier and partner scopes with revgov.domain.kpis (the handler's own fold)."""
    from revgov.domain import kpis

    rng = random.Random(seed)
    months = [kpis.shift_month(LAST_MONTH, -i) for i in range(MONTHS - 1, -1, -1)]
    tiers = ["registered", "silver", "gold", "platinum"]
    partners = [(f"ptr_01BENCH{i:019d}", tiers[min(3, int(rng.paretovariate(1.6)) - 1)]) for i in range(PARTNERS)]
    weights = [rng.paretovariate(1.2) for _ in partners]
    per_pair = FACTS / (len(months) * sum(weights))
    rollups: dict[tuple[str, str], dict[str, Any]] = {}
    counted = 0
    for month in months:
        for (partner_id, tier), weight in zip(partners, weights, strict=True):
            lines = max(1, round(per_pair * weight * rng.uniform(0.7, 1.3)))
            revenue = margin_base = cost = 0
            cycle: dict[str, int] = {}
            for _ in range(lines):  # one sales fact at a time, in cents
                amount = int(rng.lognormvariate(11.2, 0.9))
                revenue += amount
                if rng.random() < 0.85:  # goods carry a cost; services do not
                    margin_base += amount
                    cost += int(amount * rng.uniform(0.62, 0.9))
            events = lines // 2
            for _ in range(events):
                bucket = kpis.cycle_bucket(rng.lognormvariate(2.6, 0.8))
                cycle[bucket] = cycle.get(bucket, 0) + 1
            counted += lines
            quotes = rng.randint(0, 12)
            delta = kpis.Delta(
                revenue_minor=revenue, margin_revenue_minor=margin_base, cost_minor=cost, lines=lines,
                billed_events=events, cycle_events=events, support_minutes=rng.randint(0, 40) * 15,
                quotes=quotes, overrides=rng.randint(0, quotes // 3), approvals_decided=quotes // 3,
                approvals_approved=quotes // 4, exceptions=rng.randint(0, 2), partner_id=partner_id,
            )
            for scope, per_partner in (("all", True), (f"tier:{tier}", True), (f"partner:{partner_id}", False)):
                key = (month, scope)
                current = rollups.get(key) or kpis.empty(month, scope)
                current = kpis.apply(current, delta, per_partner=per_partner)
                for bucket, n in cycle.items():  # the cycle histogram of the pair's events
                    current["cycle"][bucket] = current["cycle"].get(bucket, 0) + n
                rollups[key] = current
    directory = {
        "partners": {p: {"tier": t, "status": "active", "at": "2024-01-01T00:00:00Z"} for p, t in partners}
    }
    return list(rollups.values()), directory, counted


def _bulk_load(rt: Any, tenant_id: str, rollups: list[dict[str, Any]]) -> None:
    """Rollup documents written in bulk (BatchWriteItem on DynamoDB, batched inserts on SQLite), as a backfill would:
    the same items the handler's commits write (T#<tenant>#KPI, key <month>#<scope>, version 1), without one
    transaction each."""
    from revgov.adapters.store_base import Row, dumps, partition
    from revgov.services import analytics

    rows = []
    for rollup in rollups:
        scope = rollup["scope"]
        key = analytics.DIRECTORY if scope is None else analytics.rollup_key(rollup["period"], scope)
        data = {k: v for k, v in rollup.items() if rollup["scope"] is not None or k == "partners"}
        rows.append(Row(partition(tenant_id, analytics.ROLLUPS), key, dumps(data), version=1))
    rt.store.bulk_put(tenant_id, rows)


def kpis_section(stack: Any) -> list[Row]:
    """GET /v1/kpis over a generated history of >1M sales facts loaded into the rollups, vs the bare health route."""
    from revgov.domain.access import PLATFORM, Principal, Role
    from revgov.services import keys as key_service
    from revgov.services import tenants
    from revgov.tenant_files import load_tenant_file
    from support import ROOT, Api

    rt = stack.runtime
    started = time.perf_counter()
    rollups, directory, facts = generate_rollups()
    generated_s = time.perf_counter() - started
    config = load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml")
    config["tenant_id"] = f"bench-{uuid.uuid4().hex[:8]}"
    from security_support import UNTHROTTLED

    config["plan"] = {**config["plan"], **UNTHROTTLED}  # figures of the service, not of the plan's rate limit
    created = tenants.create_tenant(rt, Principal(PLATFORM, Role.OPERATOR, "bench"), config)
    admin = Principal(config["tenant_id"], Role.ADMIN, created["admin_key"]["key_id"])
    finance_key = key_service.create_key(rt, admin, config["tenant_id"], Role.FINANCE, None, "bench")["key"]
    started = time.perf_counter()
    _bulk_load(rt, config["tenant_id"], [*rollups, {**directory, "period": None, "scope": None}])
    loaded_s = time.perf_counter() - started
    api = Api(stack.base_url)
    finance = api.as_key(finance_key)
    partner = next(r["scope"].split(":", 1)[1] for r in rollups if r["scope"].startswith("partner:"))
    from revgov.ports import Changes, Put

    rt.store.commit(config["tenant_id"], Changes(puts=[Put("PARTNER", partner, {
        "partner_id": partner, "status": "active", "tier": directory["partners"][partner]["tier"],
        "legal_name": "Bench Partner"})]))
    asks = {
        "GET /v1/kpis?period=2026-Q4 (all partners)": {"period": "2026-Q4"},
        "GET /v1/kpis?period=2026-11": {"period": "2026-11"},
        "GET /v1/kpis?period=2026-Q4&tier=gold": {"period": "2026-Q4", "tier": "gold"},
        "GET /v1/kpis?period=2026-Q4&partner_id=...": {"period": "2026-Q4", "partner_id": partner},
    }
    for _ in range(10):
        api.get("/v1/health")
        finance.get("/v1/kpis", period="2026-Q4")
    bare = _timed(lambda: api.get("/v1/health"), 200)
    base = statistics.median(bare)
    rows: list[Row] = [
        {"metric": f"history: {facts:,} sales facts, {PARTNERS} partners, {MONTHS} months -> "
                   f"{len(rollups):,} rollup documents", "value": f"generated {generated_s:.1f} s, "
                                                                  f"loaded {loaded_s:.1f} s"},
        {"metric": "GET /v1/health (baseline)", "p50_ms": round(base, 2), "p99_ms": round(_pct(bare, 0.99), 2)},
    ]
    for label, query in asks.items():
        samples = _timed(lambda query=query: finance.get("/v1/kpis", **query), 100)
        rows.append({
            "metric": label,
            "p50_ms": round(statistics.median(samples), 2),
            "p99_ms": round(_pct(samples, 0.99), 2),
            "ratio_vs_baseline": round(statistics.median(samples) / base, 1),
            "goal": "p50 < 200 ms",
        })
    quarter = finance.get("/v1/kpis", period="2026-Q4").json()
    rows.append({"metric": "2026-Q4 check", "value": f"revenue {quarter['net_realized_margin']['revenue']}, "
                                                     f"cycle p50/p90 {quarter['invoice_cycle_time']['p50_hours']}/"
                                                     f"{quarter['invoice_cycle_time']['p90_hours']} h"})
    return rows


def forecast_section() -> list[Row]:
    """Threshold forecast backtest (Brier score, calibration) against the naive "distance to threshold" rule: on the
    generated history its parameters were chosen on, then on real, held-out retail turnover (ABS 8501.0)."""
    from forecast_backtest import backtest, generate, real_backtest

    started = time.perf_counter()
    result = backtest(generate(300))
    elapsed = time.perf_counter() - started
    rows = _forecast_rows(result, "generated (tuning)", f"{result['predictions']:,} P(miss) predictions: 300 "
                          "generated partners, 4 quarters, days 20/45/70, 3 thresholds each; miss rate "
                          f"{result['miss_rate']:.2f}; {elapsed:.1f} s")
    started = time.perf_counter()
    real = real_backtest()
    elapsed = time.perf_counter() - started
    years = real["years"]
    rows += _forecast_rows(real, "real, held out", f"{real['predictions']:,} P(miss) predictions: {real['series']} "
                           "ABS retail turnover series (tests/forecast_data/SOURCE.md) as partners, "
                           f"{len(years) * 4} quarters ({years[0]}-{years[-1]}, each from the 24 months before its "
                           "year), days 20/45/70, 3 thresholds around the year-before quarter; miss rate "
                           f"{real['miss_rate']:.2f}; {elapsed:.1f} s")
    return rows


def _forecast_rows(result: dict[str, Any], data: str, backtest: str) -> list[Row]:
    rows: list[Row] = [
        {"metric": f"{data}: backtest", "value": backtest},
        {"metric": f"{data}: Brier score (lower is better)", "forecast": round(result["brier_model"], 4),
         "naive distance-to-threshold (baseline)": round(result["brier_naive"], 4),
         "ratio_vs_baseline": round(result["brier_model"] / result["brier_naive"], 2), "goal": "< 1"},
        {"metric": f"{data}: expected calibration error (10 bins)", "forecast": round(result["ece_model"], 4),
         "naive distance-to-threshold (baseline)": round(result["ece_naive"], 4), "goal": "< 0.05"},
    ]
    for day, on in result["by_day"].items():
        rows.append({"metric": f"{data}: day {day} of the quarter, Brier (n={on['n']})",
                     "forecast": round(on["brier_model"], 4),
                     "naive distance-to-threshold (baseline)": round(on["brier_naive"], 4),
                     "ratio_vs_baseline": round(on["brier_model"] / on["brier_naive"], 2),
                     "value": f"projection log(actual/projected) mean {on['mean_log_error']:+.4f}, sd "
                              f"{on['sd_log_error']:.4f}; median log-spread of what remains {on['median_sigma']:.3f}"})
    for row in result["reliability"]:
        rows.append({"metric": f"{data}: reliability {row['bin']} (n={row['n']})",
                     "forecast": f"predicted {row['predicted']:.2f}, observed {row['observed']:.2f}"})
    return rows
