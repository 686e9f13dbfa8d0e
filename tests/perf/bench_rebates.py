"""`make bench` section `rebates`: settling a quarter and its months over a million sales lines.

The vectorized core (numpy columns, revgov.domain.rebates) against the straightforward per-line Python loop of
tests/rebates_support.py on the same rows; both must give the same amounts and find the same lines.
"""

from __future__ import annotations

import gc
import os
import resource
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from typing import Any

Row = dict[str, Any]
PERIODS = ("2026-Q3", "2026-07", "2026-08", "2026-09")  # the quarter's 3 programs, then the 2 monthly commissions


def _timed(call: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = call()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def rebates_section() -> list[Row]:
    """Settlement of 1,000,000 sales lines, 500 partners, 5 programs: numpy columns vs a per-line Python loop."""
    from rebates_support import generated_rows, settle_by_loop, tenant_policy
    from revgov.domain.rebates.engine import rate_period
    from revgov.domain.rebates.ledger import SalesLedger
    from revgov.domain.rebates.policy import Period, compile_rebates

    lines = int(os.environ.get("REVGOV_BENCH_REBATE_LINES", "1000000"))
    book = compile_rebates(tenant_policy("northwind"))
    rows, partners = generated_rows(lines, 500)
    gc.collect()
    gc.freeze()  # the input rows are long-lived: keep them out of every later collection, for both contenders

    def rate(ledger: Any) -> list[Any]:
        return [rate_period(book, ledger, Period.parse(p), partners) for p in PERIODS]

    def by_loop() -> list[Any]:
        return [settle_by_loop(book, rows, Period.parse(p), partners) for p in PERIODS]

    ledger, build_wall, build_cpu = _timed(lambda: SalesLedger.from_rows(rows, book.exclusive_promotions))
    results, rate_wall, rate_cpu = _timed(partial(rate, ledger))
    ledger = None
    loop, loop_wall, loop_cpu = _timed(by_loop)
    for result, (payable, found) in zip(results, loop, strict=True):
        assert {p: {k: f"{v:f}" for k, v in a.items()} for p, a in result.payable.items()} == payable
        assert {(f.kind, f.line_id) for f in result.findings} == found
    paid = sum(len(r.payable) for r in results)
    findings = sum(len(r.findings) for r in results)
    del results, loop
    gc.collect()
    tracemalloc.start()
    rate(SalesLedger.from_rows(rows, book.exclusive_promotions))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    total_wall, total_cpu = build_wall + rate_wall, build_cpu + rate_cpu
    rows_out: list[Row] = [
        {"metric": f"columns from {lines:,} lines + duplicate check", "wall_s": build_wall, "cpu_s": build_cpu},
        {"metric": "rate Q3 + its 3 months (5 programs)", "wall_s": rate_wall, "cpu_s": rate_cpu},
        {"metric": "settlement, vectorized (numpy)", "wall_s": total_wall, "cpu_s": total_cpu, "goal": "< 10 s"},
        {"metric": "settlement, per-line loop (baseline)", "wall_s": loop_wall, "cpu_s": loop_cpu},
        {"metric": "speed-up (baseline / vectorized)", "ratio_vs_baseline": loop_wall / total_wall},
        {"metric": "peak memory, vectorized (tracemalloc)", "MiB": peak / 2**20},
        {
            "metric": "max RSS of the process (with the input)",
            "MiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        },
        {"metric": f"identical: {paid} partner-period amounts, {findings:,} findings", "goal": "asserted"},
    ]
    return [{k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()} for row in rows_out]
