"""`make bench` sections `equity` and `metrics_overhead`.

equity: the channel-equity monitor on generated decision histories (tests/equity_support.py): the share of fair
histories with any finding (false findings; goal <= 5%) and the power to find each planted disparity (goal >= 0.9
at alpha 0.05), with Holm's correction over the comparison family northwind's policy declares (tenants/northwind/
tenant.yaml `policy.equity`), beside every comparison as the family (no declaration) on the same histories; a naive
monitor (raw discounts, no stratification by tier) on the same fair histories as the baseline that shows what
controlling for the policy buys; and a closed testing procedure that was evaluated as an alternative to Holm's
correction and not adopted (tests/perf/equity_closed.py).

metrics_overhead: a request's p50 on the local stack with the request metrics recorded and without (the recording
replaced by a no-op), interleaved in one run (goal: ratio <= 1.05).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

Row = dict[str, Any]
FAIR_HISTORIES = 200  # family-wise error is judged over at least 200 fair histories
PLANTED_HISTORIES = 100
# Seeds: the "tuning" sets are those the monitor's method was developed and checked against (fair 0..199, planted
# 10,000..); the first held-out sets (fair 500,000.., planted 600,000..) and the second (fair 700,000.., planted
# 800,000..) were each evaluated once by an earlier session and reported, so both have been seen. The fresh set below
# is the one to judge the declared family by.
SEED_SETS = (("tuning", 0, 10_000), ("first held-out (seen)", 500_000, 600_000),
             ("second held-out (seen)", 700_000, 800_000))
# Fresh held-out seeds for the policy-declared comparison family (issue #18, fifth session), fixed here before the
# declared family was implemented and before any history of theirs was generated: fair 900,000..900,199 and planted
# 1,000,000..1,000,199 (200 per plant, for a standard error of about 0.02 on the power). The 700,000/800,000 set
# above was reported by the last session, so it is no longer fresh for this change.
FRESH_SEED_SET = ("fresh held-out (declared family)", 900_000, 1_000_000)
FRESH_PLANTED_HISTORIES = 200


def _declared_family() -> Any:
    """The comparison family northwind's policy owner declares (tenants/northwind/tenant.yaml `policy.equity`): the
    bench judges the monitor as that tenant configures it, not with a family chosen for the plants."""
    from revgov.domain.equity_policy import declared
    from revgov.tenant_files import load_tenant_file

    root = Path(__file__).resolve().parents[2]
    return declared(load_tenant_file(root / "tenants" / "northwind" / "tenant.yaml")["policy"])


def _judged(history: Any, family: Any) -> dict[str, Any]:
    """One history through the monitor: findings with the declared family (Holm over it alone), findings with every
    comparison as the family (no declaration), and findings of the closed test (over every comparison)."""
    from equity_closed import closed_findings

    from revgov.domain.equity import MEASURES, Report, comparisons, corrected

    raw, skipped = comparisons(history.observations, history.partners, list(MEASURES))
    declared = [c for c in raw if family.covers(c.measure, c.dimension, c.segment, c.versus)]
    everything = Report(corrected(raw, 0.05), skipped)
    found = {
        "declared": [c for c in corrected(declared, 0.05) if c.finding],
        "all": everything.findings,
        "closed": closed_findings(everything, history.observations, history.partners),
    }
    return {"found": found, "family_size": len(declared), "comparisons": len(raw)}


def _fair_rows(name: str, start: int, family: Any) -> list[Row]:
    from equity_support import generate
    from revgov.domain.equity import Observation, compare

    counts = {"declared": 0, "all": 0, "closed": 0, "naive": 0}
    sizes: list[int] = []
    for seed in range(start, start + FAIR_HISTORIES):
        history = generate(seed)
        judged = _judged(history, family)
        sizes.append(judged["family_size"])
        for how, found in judged["found"].items():
            counts[how] += bool(found)
        raw = [Observation("discount_to_cap", pid, pct) for pid, pct in history.raw_discounts]
        flat = {pid: {**seg, "tier": "all"} for pid, seg in history.partners.items()}
        counts["naive"] += bool(compare(raw, flat, measures=["discount_to_cap"]).findings)
    seeds = f"{start}..{start + FAIR_HISTORIES - 1}"
    share = {how: round(n / FAIR_HISTORIES, 3) for how, n in counts.items()}
    return [
        {"metric": f"{name} seeds: naive monitor (raw discounts, no tier strata) on fair histories (baseline)",
         "seeds": seeds, "share_with_a_finding": share["naive"]},
        {"metric": f"{name} seeds: false findings, declared family (northwind policy), fair histories with any",
         "seeds": seeds, "family_size": f"{min(sizes)}..{max(sizes)}", "share_with_a_finding": share["declared"],
         "goal": "<= 0.05"},
        {"metric": f"{name} seeds: false findings, every comparison as the family (no declaration), fair histories",
         "seeds": seeds, "comparisons_per_history": judged["comparisons"], "share_with_a_finding": share["all"],
         "goal": "<= 0.05"},
        {"metric": f"{name} seeds: closed test (evaluated, not adopted), fair histories with any finding",
         "seeds": seeds, "share_with_a_finding": share["closed"], "goal": "<= 0.05"},
    ]


def _power_rows(name: str, start: int, count: int, family: Any) -> list[Row]:
    from equity_support import PLANTS, generate

    rows: list[Row] = []
    for plant in PLANTS:
        hits = {"declared": 0, "all": 0, "closed": 0}
        planted = (plant.measure, plant.dimension, plant.segment)
        for seed in range(start, start + count):
            judged = _judged(generate(seed, plant=plant), family)
            for how, found in judged["found"].items():
                hits[how] += any((c.measure, c.dimension, c.segment) == planted for c in found)
        rows.append({
            "metric": f"{name} seeds: power, {plant.measure} against {plant.dimension} {plant.segment}",
            "planted_effect": plant.effect, "seeds": f"{start}..{start + count - 1}",
            "power": round(hits["declared"] / count, 3),
            "power_every_comparison_no_declaration": round(hits["all"] / count, 3),
            "power_closed_test_not_adopted": round(hits["closed"] / count, 3),
            "goal": ">= 0.9",
        })
    return rows


def equity_section() -> list[Row]:
    """Channel-equity monitor: false findings on fair histories, power on planted disparities (alpha 0.05, Holm over
    the family northwind's policy declares, beside every comparison as the family), on the tuning seeds and on
    held-out seeds, the fresh held-out set last."""
    family = _declared_family()
    started = time.perf_counter()
    rows: list[Row] = []
    histories = 0
    sets = [(name, fair, planted, PLANTED_HISTORIES) for name, fair, planted in SEED_SETS]
    sets.append((*FRESH_SEED_SET, FRESH_PLANTED_HISTORIES))
    for name, fair_start, planted_start, planted_count in sets:
        rows += _fair_rows(name, fair_start, family)
        rows += _power_rows(name, planted_start, planted_count, family)
        histories += FAIR_HISTORIES + planted_count * 3
    rows.append({"metric": "time per history (comparisons + tests, declared and every-comparison families, closed "
                 "test)", "value_ms": round((time.perf_counter() - started) * 1000 / histories, 1)})
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
