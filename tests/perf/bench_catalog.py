"""`catalog` section (issue #19): a 100,000-SKU catalog import on the local product's engine, the reads a price
lookup costs, and the quote check's pricing with that catalog against the same check with the demo catalog, both
measured in this run on the same engine (interleaved, so the machine's load falls on both alike)."""

from __future__ import annotations

import statistics
import time
import uuid
from typing import Any

SKUS = 100_000
QUOTE_LINES = 50
ROUNDS = 2000
FAMILIES = ("networking", "security", "hardware", "cloud-services")


def _tenant(rt: Any, name: str) -> tuple[str, dict[str, Any], str]:
    """A tenant of the bench's own with northwind's policy (the demo tenants keep their catalogs)."""
    from revgov.domain.access import PLATFORM, Principal, Role
    from revgov.services import tenants
    from revgov.tenant_files import load_tenant_file
    from support import ROOT

    config = load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml")
    config["tenant_id"] = f"bench-{name}-{uuid.uuid4().hex[:8]}"
    tenants.create_tenant(rt, Principal(PLATFORM, Role.OPERATOR, "system:bench"), config)
    tenant, _ = tenants.load_tenant(rt, config["tenant_id"])
    return tenant.tenant_id, tenant.policy, tenant.policy_version


def _demo_rows(policy: dict[str, Any]) -> list[dict[str, str]]:
    columns = ("sku", "name", "family", "billing", "list_price", "unit_cost")
    return [{**{c: str(e[c]) for c in columns}, "currency": "USD"} for e in policy["billing"]["price_list"]]


def _generated_rows(count: int) -> list[dict[str, str]]:
    """`count` SKUs; every fifth has a second version from 2027-01-01 (a scheduled price change)."""
    rows = []
    for n in range(count):
        sku = f"GEN-{n:06d}"
        base = {"sku": sku, "name": f"Generated item {n}", "family": FAMILIES[n % 4], "billing": "shipment",
                "list_price": f"{100 + n % 900}.00", "unit_cost": f"{60 + n % 500}.00", "currency": "USD"}  # fmt: skip
        if n % 5:
            rows.append(base)
        else:
            rows.append({**base, "effective_to": "2027-01-01"})
            rows.append({**base, "list_price": f"{110 + n % 900}.00", "effective_from": "2027-01-01"})
    return rows


class _CountingStore:
    """The runtime's store, counting the read calls (gets and one-partition queries) made through it."""

    def __init__(self, store: Any) -> None:
        self._store, self.reads = store, 0

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._store, name)
        if name in ("get", "get_many", "query", "lookup"):

            def counted(*args: Any, **kwargs: Any) -> Any:
                self.reads += 1
                return found(*args, **kwargs)

            return counted
        return found


def catalog_section(stack: Any) -> list[dict[str, Any]]:
    """Catalog: 100,000-SKU import, reads per price lookup, pricing p99 with 100,000 SKUs vs the demo catalog."""
    from dataclasses import replace

    from revgov.domain.access import Principal, Role
    from revgov.domain.pricing import LINE_ROUNDING
    from revgov.services.catalog import import_catalog, price_lines, tenant_catalog
    from revgov.services.pricing import evaluate, partner_facts

    rt = stack.runtime
    demo_id, policy, version = _tenant(rt, "catdemo")
    large_id, _, _ = _tenant(rt, "cat100k")
    demo_rows = _demo_rows(policy)
    rows = demo_rows + _generated_rows(SKUS - len(demo_rows))
    skus = len({r["sku"] for r in rows})
    import_catalog(rt, Principal(demo_id, Role.ADMIN, "key_bench_demo"), demo_rows, source="demo.csv")
    started = time.perf_counter()
    summary = import_catalog(rt, Principal(large_id, Role.ADMIN, "key_bench_large"), rows, source="large.csv")
    import_seconds = time.perf_counter() - started

    day = "2026-11-27"
    shipped = [r["sku"] for r in demo_rows if r["billing"] == "shipment"]
    lines = [{"line_id": str(i), "sku": shipped[i % len(shipped)], "quantity": i % 9 + 1,
              "discount_percent": f"{i % 12}.50"} for i in range(QUOTE_LINES)]  # fmt: skip
    partner = {"partner_id": "ptr_bench", "status": "active", "tier": "gold", "certifications": {},
               "activated_at": "2025-01-01T00:00:00Z", "history": []}  # fmt: skip
    facts = partner_facts(policy, partner, f"{day}T12:00:00Z")
    quote = {"customer_id": "c", "quote_date": day, "lines": lines, "promotions": []}

    def check(tenant_id: str) -> dict[str, Any]:
        """What a quote check computes from the catalog: the catalog in force, each line's item, the evaluation."""
        catalog = tenant_catalog(rt, tenant_id, policy)
        items = price_lines(catalog, lines, day)
        inputs = {"quote": quote, "partner": facts, "registration": None, "rivals": {},
                  "catalog": {"version": catalog.version, "items": {s: i.facts() for s, i in items.items()}},
                  "arithmetic": LINE_ROUNDING}  # fmt: skip
        return evaluate(policy, version, inputs)

    assert check(demo_id)["totals"] == check(large_id)["totals"]  # same SKUs, same prices: the same answer
    samples: dict[str, list[float]] = {demo_id: [], large_id: []}
    cpu: dict[str, list[float]] = {demo_id: [], large_id: []}  # this thread's CPU: not the other processes' turns
    for n in range(ROUNDS):
        for tenant_id in (demo_id, large_id) if n % 2 else (large_id, demo_id):
            t, c = time.perf_counter(), time.thread_time()
            check(tenant_id)
            cpu[tenant_id].append((time.thread_time() - c) * 1000)
            samples[tenant_id].append((time.perf_counter() - t) * 1000)

    counting = _CountingStore(rt.store)
    counted = replace(rt, store=counting)
    reads = {}
    for tenant_id in (demo_id, large_id):
        counting.reads = 0
        catalog = tenant_catalog(counted, tenant_id, policy)
        assert catalog.item("NW-SW-24P", day) is not None
        reads[tenant_id] = counting.reads

    def p99(values: list[float]) -> float:
        return sorted(values)[int(0.99 * len(values))]

    demo_p99, large_p99 = p99(samples[demo_id]), p99(samples[large_id])
    demo_cpu, large_cpu = p99(cpu[demo_id]), p99(cpu[large_id])
    return [
        {"metric": f"catalog import, {skus:,} SKUs ({len(rows):,} SKU-versions)", "value_s": round(import_seconds, 1),
         "rows_per_s": round(len(rows) / import_seconds), "goal": "<= 30 s", "stored": summary["added"]},
        {"metric": "reads for the price of one SKU on a date (catalog head + the SKU's versions)",
         "demo_catalog": reads[demo_id], "catalog_100k": reads[large_id], "goal": "O(1): the same for both"},
        {"metric": f"quote pricing from the demo catalog, {QUOTE_LINES} lines (baseline)",
         "p50_ms": round(statistics.median(samples[demo_id]), 3), "p99_ms": round(demo_p99, 3),
         "cpu_p99_ms": round(demo_cpu, 3)},
        {"metric": f"quote pricing from the 100,000-SKU catalog, {QUOTE_LINES} lines",
         "p50_ms": round(statistics.median(samples[large_id]), 3), "p99_ms": round(large_p99, 3),
         "cpu_p99_ms": round(large_cpu, 3), "ratio_p99_vs_demo": round(large_p99 / demo_p99, 2),
         "ratio_cpu_p99_vs_demo": round(large_cpu / demo_cpu, 2), "goal": "<= 1.1"},
    ]  # fmt: skip
