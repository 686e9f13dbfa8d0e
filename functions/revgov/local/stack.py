"""`revgov dev`: the whole product on one machine — engine, queues, event router, scheduler, seeded tenants, API.

Two engines behind the same ports (DESIGN.md):
- `sqlite` (the default): the embedded engine, one SQLite file under `.revgov/`. Data survives restarts; the demo
  tenants are seeded only into an empty database, and the keys they were given are kept with it, so
  `.revgov/local.json` lists the same working keys at every start. `reset=True` starts over.
- `dynamodb`: DynamoDB, EventBridge and SQS, at AWS_ENDPOINT_URL (an emulator you run) or with real credentials.
"""

from __future__ import annotations

import importlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import observe
from ..adapters.idempotency import _embedded_store
from ..adapters.private_files import private_dir
from ..adapters.sqlite_db import database
from ..bootstrap import runtime
from ..edge import handlers, redelivery
from ..edge.api import app
from ..runtime import Runtime
from ..services import (
    audit_backfill,
    case_open_backfill,
    credit_hold_backfill,
    tenant_repository,
    usage_month_backfill,
)
from ..services import events as event_log
from ..services.deals.backfill import backfill_if_unfinished
from ..settings import _REPO, Settings, settings
from . import data_lock
from .clock_guard import check_clock
from .data_lock import DataFileLock
from .resources import VISIBILITY_SECONDS, RuleQueues, create_embedded_queues, create_resources
from .router import EventRouter
from .scheduler import Scheduler, SqliteScheduleState, from_schedules
from .seed import index_stored_contracts, seed_once
from .server import DevServer

DEFAULT_DATA_FILE = _REPO / ".revgov" / "revgov.sqlite"
BACKENDS = ("sqlite", "dynamodb")
# The router's rules whose latency users see: an ERP event to its invoice line. In a burst the other rules' handlers
# (accruals, KPIs, event log, outbound webhooks) wait for them a little, as they share one interpreter lock here.
FIRST_RULES = frozenset({"erp-billing"})
# The other rules' batching window (revgov.local.router): under a stream of quote checks their handlers take the
# events a few at a time, one receive, acknowledgement and commit per batch instead of per event. Measured (#17,
# pricing_http, shared 2-core machine, alternated with the window off): at load average 7-8, 3 of 3 pairs better
# with it (p50 5.2-5.9 vs 8.2-11.0 ms, server CPU per check 5.4-6.2 vs 7.9-10.1 ms); at load 11-19 an earlier
# sitting had the p50 worse with it (22 vs 10 ms, 2 of 2). 0.0 turns it off (Lambda's default).
BATCH_WINDOW_SECONDS = 0.1


@dataclass
class LocalStack:
    server: Any
    router: Any
    runtime: Any
    info: dict[str, Any] = field(default_factory=dict)
    scheduler: Any = None  # runs events/schedules.json's handlers on their cadence (revgov.local.scheduler)
    backend: str = "sqlite"
    seeded: bool = False  # this start seeded the demo tenants (the database was empty)
    data_lock: DataFileLock | None = None  # the embedded database's, released when the stack has stopped

    @property
    def base_url(self) -> str:
        return str(self.server.base_url)

    def stop(self) -> None:
        # Intake first: the port is free at once, so a restart (README: `kill %1`, `make run &`) binds it and the
        # readiness check never reaches the process that is stopping; then the background work winds down.
        self.server.stop()
        if self.scheduler is not None:
            self.scheduler.stop()
        self.router.stop()
        if self.data_lock is not None:
            self.data_lock.release()


def reset_data(data_file: Path, index_file: Path | None) -> None:
    """Start over: the database (with its WAL files) and the copilot's local index go."""
    database.cache_clear()
    _embedded_store.cache_clear()
    for path in (data_file, index_file):
        if path is None:
            continue
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def _clear_process_caches() -> None:
    settings.cache_clear()
    runtime.cache_clear()
    redelivery._sqs.cache_clear()
    redelivery._queue_url.cache_clear()


def _preload_handler_modules() -> None:
    """Queue handlers import their heavy modules on first use (a Lambda loads only its own). The local product runs
    every handler in this process, so it loads them before it serves: otherwise the first invoice lines posted pay
    for importing the rebate engine and numpy (about 0.3 s holding the interpreter lock, while billing waits)."""
    for name in ("revgov.domain.rebates.engine", "revgov.domain.rebates.ledger", "revgov.services.rebates",
                 "revgov.services.analytics", "revgov.services.billing"):
        importlib.import_module(name)


def _configure(backend: str, data_file: Path | None, reset: bool) -> DataFileLock | None:
    """The environment the settings are read from: the engine, the local stage, and the embedded engine's files,
    whose lock is taken first (revgov.local.data_lock: a second stack on them is refused before anything changes)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
    lock = None
    if backend == "sqlite":
        lock = data_lock.hold(Path(data_file or os.environ.get("REVGOV_DATA_FILE") or DEFAULT_DATA_FILE))
    os.environ["REVGOV_BACKEND"] = backend
    os.environ.setdefault("REVGOV_STAGE", "local")
    os.environ.setdefault("REVGOV_OUTBOUND_ALLOW_LOOPBACK", "1")  # outbound webhooks to a local n8n (stage local only)
    if backend == "sqlite":
        data = Path(data_file or os.environ.get("REVGOV_DATA_FILE") or DEFAULT_DATA_FILE)
        os.environ["REVGOV_DATA_FILE"] = str(data)
        if os.environ.get("REVGOV_COPILOT_INDEX_PATH") in (None, os.environ.get("_REVGOV_INDEX_BESIDE_DATA")):
            # the copilot's local index lives beside the database it indexes, so the two stay in step
            index = str(data.parent / "copilot-index.sqlite")
            os.environ["REVGOV_COPILOT_INDEX_PATH"] = os.environ["_REVGOV_INDEX_BESIDE_DATA"] = index
        if reset:
            reset_data(data, Settings.from_env().copilot.index_path)
    _clear_process_caches()
    return lock


def _queues(rt: Runtime, backend: str) -> tuple[list[RuleQueues], Any]:
    """The rules' queues, wired to the bus, and the SQS-shaped client the router polls them with."""
    if backend == "sqlite":
        return create_embedded_queues(rt), rt.queues
    import boto3  # only the dynamodb engine talks to SQS (the embedded engine never loads boto3)

    sqs = boto3.client("sqs", region_name=rt.settings.region, endpoint_url=rt.settings.endpoint_url)
    return create_resources(rt.settings), sqs


def _router(rt: Runtime, backend: str) -> EventRouter:
    wired, sqs = _queues(rt, backend)

    def dead_letter(bus_event: dict[str, Any], rule: str) -> None:
        event_log.record(rt, bus_event, status="dead_lettered", reason=f"failed every delivery on rule {rule}")
        observe.dead_lettered(rule, bus_event)

    return EventRouter(
        wired, handlers.HANDLERS, sqs=sqs, on_dead_letter=dead_letter, invocation_seconds=VISIBILITY_SECONDS,
        first=FIRST_RULES, batch_window_seconds=BATCH_WINDOW_SECONDS,
    )


def _scheduler(rt: Runtime, backend: str) -> Scheduler:
    every = os.environ.get("REVGOV_SCHEDULE_EVERY_SECONDS")
    housekeeping: dict[str, Any] = {}
    state = None
    if backend == "sqlite":  # jobs keep their cadence across restarts; DynamoDB's TTL becomes an hourly sweep
        store: Any = rt.store  # the embedded engine's store (SqliteDocumentStore)
        state = SqliteScheduleState(store.db)
        housekeeping["ttl-sweep"] = (3600.0, lambda *_: store.purge_expired(rt.clock.now_ms() // 1000))
    return from_schedules(
        rt.settings.events_dir, vars(handlers), float(every) if every else None, extra=housekeeping, state=state
    )


_DEV = "system:revgov-dev"


def start_stack(
    *,
    port: int = 8000,
    state_file: Path | None = None,
    backend: str = "sqlite",
    data_file: Path | None = None,
    reset: bool = False,
) -> LocalStack:
    lock = _configure(backend, data_file, reset)
    try:
        stack = _start(port=port, state_file=state_file, backend=backend)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    stack.data_lock = lock
    return stack


def _start(*, port: int, state_file: Path | None, backend: str) -> LocalStack:
    rt = runtime()
    router = _router(rt, backend)  # the engine's resources (the DynamoDB table, queues) exist from here
    check_clock(rt)  # before anything is written: nothing dated before what the database already holds
    _preload_handler_modules()
    router.start()
    handlers.flush_outbox({}, None)  # publish what a crash left in the outboxes (committed, not yet on the bus)
    seeded, fresh = seed_once(rt)
    if backend == "sqlite":  # a `.revgov` database from an earlier version: partners' deal pointers (PA-11.1 lists)
        tenant_ids = list(tenant_repository.tenant_ids(rt.store))  # read once for every backfill below
        for backfill in (backfill_if_unfinished, audit_backfill.backfill_if_unfinished,  # deals; PA-12.1 audits
                         case_open_backfill.backfill_if_unfinished, usage_month_backfill.backfill_if_unfinished,
                         credit_hold_backfill.backfill_if_unfinished):
            backfill(rt, tenant_ids, actor=_DEV)
    index_stored_contracts(rt)
    server = DevServer(app, port=port)  # bound now, serving from `start`: the state file is written in between
    scheduler = _scheduler(rt, backend)
    scheduler.start()
    stack = LocalStack(server, router, rt, scheduler=scheduler, backend=backend, seeded=fresh)
    where = {"data_file": str(rt.settings.data_file)} if backend == "sqlite" else {
        "aws_endpoint_url": rt.settings.endpoint_url}
    stack.info = {"base_url": server.base_url, "backend": backend, **where, **seeded}
    if state_file is not None:
        write_state(state_file, stack.info)
    server.start()
    return stack


def write_state(state_file: Path, info: dict[str, Any]) -> None:
    """`.revgov/local.json`, readable by its owner only (it holds live keys), rewritten at every start."""
    private_dir(state_file.parent)
    fd = os.open(state_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(json.dumps(info, indent=2))
    state_file.chmod(0o600)
