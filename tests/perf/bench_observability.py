"""`make bench` sections `equity` and `metrics_overhead`.

equity: the channel-equity monitor on generated decision histories (tests/equity_support.py): the share of fair
histories with any finding (false findings; goal <= 5%), the power to find each planted disparity (goal >= 0.9 at
alpha 0.05), and a naive monitor (raw discounts, no stratification by tier) on the same fair histories as the
baseline that shows what controlling for the policy buys; and, on the same histories, a closed testing procedure
that was evaluated as an alternative to Holm's correction and not adopted (tests/perf/equity_closed.py).

metrics_overhead: a request's p50 on the local stack with the request metrics recorded and without (the recording
replaced by a no-op), interleaved in one run (goal: ratio <= 1.05).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

Row = dict[str, Any]
FAIR_HISTORIES = 200  # family-wise error is judged over at least 200 fair histories
PLANTED_HISTORIES = 100
# Seeds: the "tuning" sets are those the monitor's method was developed and checked against (fair 0..199, planted
# 10,000..); the first held-out sets (fair 500,000.., planted 600,000..) were reported once on 2026-12-06 and have
# been seen since, so they count as tuning too; the "held-out" sets (fair 700,000.., planted 800,000..), fixed here
# before the multiplicity procedure was revisited, were never looked at while choosing the method or its constants,
# and are the figures to judge it by.
SEED_SETS = (("tuning", 0, 10_000), ("tuning (first held-out)", 500_000, 600_000), ("held-out", 700_000, 800_000))
# Fresh held-out seeds for the policy-declared comparison family (issue #18, fifth session), fixed here before the
# declared family was implemented and before any history of theirs was generated: fair 900,000..900,199 and planted
# 1,000,000..1,000,199 (200 per plant, for a standard error of about 0.02 on the power). The 700,000/800,000 set
# above was reported by the last session, so it is no longer fresh for this change.
FRESH_SEED_SET = ("fresh held-out (declared family)", 900_000, 1_000_000)
FRESH_PLANTED_HISTORIES = 200


def equity_section() -> list[Row]:
    """Channel-equity monitor: false findings on fair histories, power on planted disparities (alpha 0.05, Holm),
    on the tuning seeds and on held-out seeds."""
    from equity_closed import closed_findings

    from equity_support import PLANTS, generate
    from revgov.domain.equity import Observation, compare

    started = time.perf_counter()
    rows: list[Row] = []
    histories = 0
    for name, fair_start, planted_start in SEED_SETS:
        false_any = naive_any = closed_any = 0
        comparisons = 0
        for seed in range(fair_start, fair_start + FAIR_HISTORIES):
            history = generate(seed)
            report = compare(history.observations, history.partners)
            comparisons = len(report.comparisons)
            false_any += bool(report.findings)
            closed_any += bool(closed_findings(report, history.observations, history.partners))
            raw = [Observation("discount_to_cap", pid, pct) for pid, pct in history.raw_discounts]
            flat = {pid: {**seg, "tier": "all"} for pid, seg in history.partners.items()}
            naive_any += bool(compare(raw, flat, measures=["discount_to_cap"]).findings)
        rows += [
            {
                "metric": f"{name} seeds: naive monitor (raw discounts, no tier strata) on fair histories (baseline)",
                "seeds": f"{fair_start}..{fair_start + FAIR_HISTORIES - 1}",
                "share_with_a_finding": round(naive_any / FAIR_HISTORIES, 3),
            },
            {
                "metric": f"{name} seeds: false findings, fair histories with any finding",
                "seeds": f"{fair_start}..{fair_start + FAIR_HISTORIES - 1}",
                "comparisons_per_history": comparisons,
                "share_with_a_finding": round(false_any / FAIR_HISTORIES, 3),
                "goal": "<= 0.05",
            },
            {
                "metric": f"{name} seeds: closed test (evaluated, not adopted), fair histories with any finding",
                "seeds": f"{fair_start}..{fair_start + FAIR_HISTORIES - 1}",
                "share_with_a_finding": round(closed_any / FAIR_HISTORIES, 3),
                "goal": "<= 0.05",
            },
        ]
        for plant in PLANTS:
            found = closed = 0
            for seed in range(planted_start, planted_start + PLANTED_HISTORIES):
                history = generate(seed, plant=plant)
                report = compare(history.observations, history.partners)
                planted = (plant.measure, plant.dimension, plant.segment)
                found += any((c.measure, c.dimension, c.segment) == planted for c in report.findings)
                closed += any((c.measure, c.dimension, c.segment) == planted
                              for c in closed_findings(report, history.observations, history.partners))
            rows.append(
                {
                    "metric": f"{name} seeds: power, {plant.measure} against {plant.dimension} {plant.segment}",
                    "planted_effect": plant.effect,
                    "seeds": f"{planted_start}..{planted_start + PLANTED_HISTORIES - 1}",
                    "power": round(found / PLANTED_HISTORIES, 3),
                    "power_closed_test_not_adopted": round(closed / PLANTED_HISTORIES, 3),
                    "goal": ">= 0.9",
                }
            )
        histories += 2 * FAIR_HISTORIES + PLANTED_HISTORIES * len(PLANTS)
    rows.append({"metric": "time per history (comparisons + tests)",
                 "value_ms": round((time.perf_counter() - started) * 1000 / histories, 1)})
    return rows


def metrics_overhead(stack: Any) -> list[Row]:
    """A request's p50 with its metrics recorded against the same request with recording off, interleaved."""
    from revgov import metrics
    from revgov.edge import api as edge
    from support import Api

    client = Api(stack.base_url).as_key(stack.info["tenants"]["northwind"]["admin_key"])
    recording = edge._observe
    n = 400
    on, off = [], []
    for _ in range(20):
        client.get("/v1/keys", limit=1)
    try:
        for i in range(n):  # alternate which goes first, so neither gets the warmer connection or cache
            for enabled, samples in ((True, on), (False, off))[:: 1 if i % 2 else -1]:
                edge._observe = recording if enabled else (lambda *args: None)  # type: ignore[assignment]
                t = time.perf_counter()
                client.get("/v1/keys", limit=1)
                samples.append((time.perf_counter() - t) * 1000)
    finally:
        edge._observe = recording  # type: ignore[assignment]
    recorder = metrics.Recorder()
    t = time.perf_counter()
    for i in range(20_000):
        recorder.record("RequestLatency", float(i % 300), operation="list_keys", tenant="northwind",
                        status_class="2xx")
        recorder.record("Requests", 1, operation="list_keys", tenant="northwind", status_class="2xx")
    per_request_us = (time.perf_counter() - t) * 1e6 / 20_000
    base, with_metrics = statistics.median(off), statistics.median(on)
    return [
        {"metric": "GET /v1/keys p50, metrics off (baseline)", "value_ms": round(base, 2), "requests": n},
        {"metric": "GET /v1/keys p50, metrics on", "value_ms": round(with_metrics, 2), "requests": n,
         "ratio_vs_baseline": round(with_metrics / base, 3), "goal": "<= 1.05"},
        {"metric": "recording a request's two metrics in process", "value_us": round(per_request_us, 1),
         "share_of_p50": round(per_request_us / 1000 / base, 5)},
    ]
