"""cProfile of the server side of a 50-line quote check, the event handlers it triggers included (not a test; by hand).

Starts the local product on a fresh SQLite file and sends N quote checks over HTTP from a client in its own process
(as `bench.py pricing_http` does), profiling each request in the server's thread and each handler invocation in the
router's threads, as they run live (batches as small as the check rate makes them). `--drain`: the router is stopped
during the checks and delivers every queue afterwards (batches of 10). Prints the request's and each handler's CPU ms
per check, the mean batch size per handler, and the top functions.

    .venv/bin/python tests/perf/profile_quote.py [N] [--drain] [--top 40] [--sort cumulative|tottime]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "tests"), str(ROOT / "tests" / "perf")]


_PROFILES: dict[int, cProfile.Profile] = {}  # one per thread: a profile is enabled for the thread that enables it


class _Off:
    def enable(self) -> None:
        pass

    def disable(self) -> None:
        pass


_CPU_ONLY = False


def _profile() -> Any:
    if _CPU_ONLY:
        return _Off()
    return _PROFILES.setdefault(threading.get_ident(), cProfile.Profile(time.thread_time))  # CPU, not waits


def _profiled_requests(cpu: dict[str, float]) -> None:
    """Every request the dev server handles runs under its thread's profile, its CPU added to cpu['request']."""
    from revgov.local.server import ProblemRequestHandler

    handle = _timed(ProblemRequestHandler.handle_one_request, cpu, "request", profiled=True)
    ProblemRequestHandler.handle_one_request = handle  # type: ignore[method-assign]


def _timed(call: Any, cpu: dict[str, float], name: str, *, profiled: bool = False,
           batches: list[int] | None = None) -> Any:  # fmt: skip
    """`call`, its thread's CPU added to cpu[name] (and under the thread's profile, or its batch sizes counted)."""

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        started, profile = time.thread_time(), _profile() if profiled else _Off()
        if batches is not None:
            batches.append(len(args[0].get("Records", [])))
        profile.enable()
        try:
            return call(*args, **kwargs)
        finally:
            profile.disable()
            cpu[name] += time.thread_time() - started

    return wrapped


def _timed_handlers(router: Any, cpu: dict[str, float], batches: dict[str, list[int]]) -> None:
    router._handlers = {name: _timed(handler, cpu, name, batches=batches[name])
                        for name, handler in router._handlers.items()}  # fmt: skip


def _timed_router(router: Any, cpu: dict[str, float]) -> None:
    """The router's own CPU (receive, acknowledge, its waits for a `first` rule), handlers included: cpu['router']."""
    name = "router (handlers included)"
    router._deliver = _timed(router._deliver, cpu, name, profiled=True)
    router._let_first_go = _timed(router._let_first_go, cpu, name, profiled=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("checks", nargs="?", type=int, default=200)
    parser.add_argument("--drain", action="store_true")
    parser.add_argument("--cpu-only", action="store_true", help="time each part's CPU without cProfile's overhead")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--callees", nargs="*", default=[], help="functions whose callees to print (regexes)")
    args = parser.parse_args()
    global _CPU_ONLY
    _CPU_ONLY = args.cpu_only
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    from bench import _client_runs, _quote_body
    from load import unthrottle_demo_tenants

    from revgov.edge import handlers as edge_handlers
    from revgov.local.stack import start_stack

    where = Path(tempfile.mkdtemp(prefix="revgov-profile-"))
    stack = start_stack(port=0, data_file=where / "p.sqlite", reset=True)
    unthrottle_demo_tenants(stack)
    tenant = stack.info["tenants"]["northwind"]
    partner_id = next(p["partner_id"] for p in tenant["partners"] if p["status"] == "active")
    key, body = tenant["keys"]["sales"], _quote_body(partner_id, 50)
    plan = [{"name": "check", "method": "POST", "path": "/v1/pricing/check", "n": 20, "body": body, "key": key}]
    _client_runs(stack.base_url, plan)  # warm caches
    router = stack.router
    time.sleep(1.5)  # the warm-up's events handled
    if args.drain:
        router.stop()
    cpu: dict[str, float] = defaultdict(float)
    batches: dict[str, list[int]] = defaultdict(list)
    _profiled_requests(cpu)
    _timed_handlers(router, cpu, batches)
    _timed_router(router, cpu)
    process = time.process_time()
    _client_runs(stack.base_url, [{**plan[0], "n": args.checks}])
    if args.drain:
        while router.pump_once() or edge_handlers.flush_outbox({}, None).get("published"):
            pass
    else:
        time.sleep(2.0)  # the router handles the last checks' events
    cpu["process (all threads, sleep included)"] = time.process_time() - process
    stack.stop()
    print(f"{args.checks} checks, CPU ms per check{'' if _CPU_ONLY else ' (under cProfile)'}, mean batch:")
    for name, seconds in sorted(cpu.items(), key=lambda kv: -kv[1]):
        sizes = batches.get(name) or [0]
        print(f"  {name:28s} {seconds * 1000 / args.checks:6.2f}   {sum(sizes) / len(sizes):5.1f}")
    if _CPU_ONLY:
        return
    stats = pstats.Stats(*_PROFILES.values())
    stats.sort_stats(args.sort).print_stats(args.top)
    for pattern in args.callees:
        stats.print_callees(pattern)


if __name__ == "__main__":
    main()
