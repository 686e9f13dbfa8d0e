"""`make bench` section `policy_whatif`: a draft replayed over 100,000 stored quote decisions on the local product.

The decisions are real quote checks (12 kinds: two partner tiers × six discounts, three lines each) stored 100,000
times over a quarter in the embedded engine's database, each copy for a customer of its own, so no two stored inputs
are alike (nothing is reused). Baseline in the same run: reading the same decisions whole without evaluating them.
Rows: a draft that lowers the margin floor to 5% (its reach: only the decisions that had a line under the old floor
are evaluated again) as the product runs it (`Settings.whatif_workers` worker processes, each reading its own
shares of the window) and in one process; a draft that changes the stacking maximum, which reaches every decision
(the honest case: every decision is decoded and evaluated); a draft that changes only the approval routing (no rule
the evaluation reads: each decision keeps its stored result, read again under the new routing). Wall and CPU
seconds are both given: on a machine shared with other work, wall time is CPU time stretched by the load. The
workers' CPU seconds (reading and evaluating their shares) are given apart from the reading process's (the first
shares, then merging the tallies): on two free cores a row with two workers takes about half the workers' share.
"""

from __future__ import annotations

import json
import time
from typing import Any

Row = dict[str, Any]
DECISIONS = 100_000
GOAL_SECONDS = 10.0


def _templates(rt: Any, tenant_id: str) -> list[dict[str, Any]]:
    from revgov.domain.access import Principal, Role
    from revgov.ports import Changes, Put
    from revgov.services import decisions, pricing
    from support import ROOT

    partners = json.loads((ROOT / "tests" / "scenarios" / "billing" / "erp-samples.json").read_text())["partners"]
    rt.store.commit(tenant_id, Changes(puts=[Put("PARTNER", p["partner_id"], p) for p in partners]))
    sales = Principal(tenant_id, Role.SALES, "key_01JX0000000000000000BENCH1")
    finance = Principal(tenant_id, Role.FINANCE, "key_01JX0000000000000000BENCH2")
    made = []
    for partner in partners:
        for discount in ("0", "4", "10", "15", "18", "21"):
            lines = [{"line_id": str(n), "sku": sku, "quantity": 2, "discount_percent": discount}
                     for n, sku in enumerate(("NW-SW-24P", "NW-FW-200", "NW-SRV-R2"))]
            checked = pricing.check(rt, sales, {"partner_id": partner["partner_id"],
                                                "customer": {"id": "CUST-BENCH", "name": "Bench"}, "lines": lines})
            made.append(decisions.load(rt, finance, checked["decision_id"])[0])
    return made


def _store_copies(rt: Any, tenant_id: str, templates: list[dict[str, Any]], n: int) -> None:
    import os
    from datetime import datetime

    from revgov.domain.ids import typed_id
    from revgov.ports import Changes, Put
    from revgov.services import decision_repository

    puts = []
    for i in range(n):
        template = templates[i % len(templates)]
        day = 1 + (i * 89 // n)  # spread over 89 days of a quarter
        created = f"2026-{7 + (day - 1) // 31:02d}-{(day - 1) % 31 % 28 + 1:02d}T10:00:00.000Z"
        ms = int(datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp() * 1000)
        quote = {**template["inputs"]["quote"], "customer": {"id": f"CUST-{i:06d}", "name": f"Customer {i}"}}
        copy = {**template, "decision_id": typed_id("dec", ms, os.urandom(10)), "created_at": created,
                "inputs": {**template["inputs"], "quote": quote}}  # made then, for a customer of its own
        puts.append(Put(decision_repository.DECISIONS, copy["decision_id"], copy))
        if len(puts) == 90:
            rt.store.commit(tenant_id, Changes(puts=puts))
            puts = []
    if puts:
        rt.store.commit(tenant_id, Changes(puts=puts))


def _draft(rt: Any, operations: list[dict[str, Any]]) -> str:
    from revgov.domain.access import Principal, Role
    from revgov.services import policy_drafts

    ops = Principal("northwind", Role.CHANNEL_OPS, "key_01JX0000000000000000BENCH3")
    draft = policy_drafts.create_draft(rt, ops, {"reason": "bench"})
    policy_drafts.patch_policy(rt, ops, draft["draft_id"], {"operations": operations})
    return str(draft["draft_id"])


def _workers_cpu() -> float:
    """CPU seconds of this process's worker processes (counted once they have ended)."""
    import resource

    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return workers.ru_utime + workers.ru_stime


def _timed(run: Any) -> tuple[Any, float, float, float]:
    """The value, wall seconds, this process's CPU seconds and its workers' CPU seconds."""
    t, cpu, workers = time.perf_counter(), time.process_time(), _workers_cpu()
    value = run()
    return value, time.perf_counter() - t, time.process_time() - cpu, _workers_cpu() - workers


def policy_whatif_section(stack: Any) -> list[Row]:
    """What-if over 100,000 stored quote decisions, all distinct (goal <= 10 s) vs reading them alone."""
    import dataclasses

    from revgov.domain.access import Principal, Role
    from revgov.services import policy_whatif

    rt, tenant_id = stack.runtime, "northwind"
    started = time.perf_counter()
    _store_copies(rt, tenant_id, _templates(rt, tenant_id), DECISIONS)
    stored_s = time.perf_counter() - started
    finance = Principal(tenant_id, Role.FINANCE, "key_01JX0000000000000000BENCH2")
    margin = _draft(rt, [{"op": "replace", "path": "/pricing/margin_floor/percent", "value": "5"}])
    routing = _draft(rt, [{"op": "replace", "path": "/exception_routing/categories/margin_below_floor/queue",
                           "value": "legal"}])
    everything = _draft(rt, [{"op": "replace", "path": "/pricing/stacking/max_combined_percent", "value": "19"}])
    window = {"from": "2026-07-01", "to": "2026-09-30"}
    read, read_s, read_cpu, _ = _timed(lambda: sum(1 for _ in policy_whatif.stored_quote_decisions(
        rt, finance, window["from"], window["to"])))
    workers = rt.settings.whatif_workers
    report, whatif_s, whatif_cpu, whatif_workers = _timed(lambda: policy_whatif.whatif(rt, finance, margin, window))
    one_rt = dataclasses.replace(rt, settings=dataclasses.replace(rt.settings, whatif_workers=1))
    alone, alone_s, alone_cpu, _ = _timed(lambda: policy_whatif.whatif(one_rt, finance, margin, window))
    assert alone == report  # the same figures either way
    routed, routed_s, routed_cpu, _ = _timed(lambda: policy_whatif.whatif(rt, finance, routing, window))
    every, every_s, every_cpu, every_workers = _timed(lambda: policy_whatif.whatif(rt, finance, everything, window))

    def row(metric: str, figures: dict[str, Any], seconds: float, cpu: float, workers: float = 0.0) -> Row:
        return {"metric": metric, "decisions": figures["decisions"], "outcome_changed": figures["outcome_changed"],
                "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "workers_cpu_seconds": round(workers, 2),
                "ratio_vs_baseline": round(seconds / read_s, 2),
                "cpu_ratio_vs_baseline": round((cpu + workers) / read_cpu, 2),  # all the CPU the what-if took
                "goal": f"<= {GOAL_SECONDS:g} s", "met": seconds <= GOAL_SECONDS}

    return [
        {"metric": f"store {DECISIONS:,} decisions, no two inputs alike (setup)", "seconds": round(stored_s, 2)},
        {"metric": "read the window's decisions whole (baseline)", "decisions": read, "seconds": round(read_s, 2),
         "cpu_seconds": round(read_cpu, 2)},
        row(f"what-if, margin floor 5%: read + evaluate + sum ({workers} workers)", report, whatif_s, whatif_cpu,
            whatif_workers),
        row("what-if, margin floor 5%, in one process", alone, alone_s, alone_cpu),
        row(f"what-if, stacking maximum 19%: every decision evaluated ({workers} workers)", every, every_s, every_cpu,
            every_workers),
        {**row("what-if, routing only (no evaluated rule changed)", routed, routed_s, routed_cpu),
         "approvals_rerouted": routed["approvals_rerouted"]["count"]},
    ]
