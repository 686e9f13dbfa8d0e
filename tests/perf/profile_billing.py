"""cProfile of the handlers behind the ERP webhook on a realistic batch (not a test; run by hand).

Starts the local product on a fresh SQLite file, stops its router, sends N signed shipments in batches of 25 over
HTTP (intake as in `bench.py billing_http`), then delivers every queue in this thread under cProfile, timing each
handler. Prints per-handler CPU ms per ERP event and the top functions by cumulative time.

    .venv/bin/python tests/perf/profile_billing.py [N] [--top 40] [--sort cumulative|tottime]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "tests"), str(ROOT / "tests" / "perf")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("events", nargs="?", type=int, default=200)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative")
    args = parser.parse_args()
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    from bench import _erp_samples
    from load import unthrottle_demo_tenants

    import clock_support
    from billing_support import ErpSender
    from revgov.local.stack import start_stack

    where = Path(tempfile.mkdtemp(prefix="revgov-profile-"))
    stack = start_stack(port=0, data_file=where / "p.sqlite", reset=True)
    unthrottle_demo_tenants(stack)
    while stack.router.pump_once():  # what seeding left on the queues
        pass
    stack.router.stop()
    tenant = stack.info["tenants"]["northwind"]
    partner_id = next(p["partner_id"] for p in tenant["partners"] if p["status"] == "active")
    erp = ErpSender(stack.base_url, "northwind", tenant["webhook_secret"])
    shipment = _erp_samples()["shipment.confirmed"]["detail"]["data"]
    today = clock_support.today().isoformat()  # the stack's clock (REVGOV_CLOCK_START), like the suite
    for batch in range(args.events // 25):  # distinct shipments: a repeat is held, not billed (PA-10.1)
        events = [
            {
                "id": f"PROF-{uuid.uuid4().hex[:12]}",
                "type": "shipment.confirmed",
                "occurred_at": f"{today}T00:00:00Z",
                "data": {**shipment, "partner_id": partner_id, "shipped_on": today,
                         "order_ref": f"SO-{batch}-{i}"},
            }
            for i in range(25)
        ]
        assert erp.post({"events": events}).status_code == 202
    from revgov.edge import handlers as edge_handlers

    cpu: dict[str, float] = defaultdict(float)
    router = stack.router
    timed: dict[str, Any] = {}
    for name, handler in router._handlers.items():

        def wrapped(event: dict[str, Any], context: Any, _h: Any = handler, _n: str = name) -> dict[str, Any]:
            started = time.process_time()
            try:
                return dict(_h(event, context))
            finally:
                cpu[_n] += time.process_time() - started

        timed[name] = wrapped
    router._handlers = timed
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    while router.pump_once() or edge_handlers.flush_outbox({}, None).get("published"):
        pass
    profile.disable()
    wall = time.perf_counter() - started
    stack.stop()
    print(f"{args.events} events delivered in {wall:.2f} s (under cProfile)")
    for name, seconds in sorted(cpu.items(), key=lambda kv: -kv[1]):
        print(f"  {name:28s} {seconds * 1000 / args.events:6.2f} ms CPU per ERP event")
    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
