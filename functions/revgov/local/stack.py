"""`revgov dev`: the whole product on one machine — emulator, resources, event router, seeded tenants, API."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import observe
from .emulator import Emulator, start_emulator


@dataclass
class LocalStack:
    emulator: Emulator
    server: Any
    router: Any
    runtime: Any
    info: dict[str, Any] = field(default_factory=dict)
    scheduler: Any = None  # runs events/schedules.json's handlers on their cadence (revgov.local.scheduler)

    @property
    def base_url(self) -> str:
        return str(self.server.base_url)

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        self.router.stop()
        self.server.stop()
        self.emulator.stop()


def start_stack(*, port: int = 8000, state_file: Path | None = None, emulator_port: int = 0) -> LocalStack:
    emulator = start_emulator(emulator_port)
    os.environ.setdefault("REVGOV_STAGE", "local")
    os.environ.setdefault("REVGOV_OUTBOUND_ALLOW_LOOPBACK", "1")  # outbound webhooks to a local n8n (stage local only)

    from ..runtime import runtime
    from ..settings import settings

    settings.cache_clear()
    runtime.cache_clear()
    rt = runtime()

    import boto3

    from ..edge.api import app
    from ..edge.handlers import HANDLERS
    from ..services import events as event_log
    from .resources import VISIBILITY_SECONDS, create_resources
    from .router import EventRouter
    from .seed import seed
    from .server import DevServer

    wired = create_resources(rt.settings)
    sqs = boto3.client("sqs", region_name=rt.settings.region, endpoint_url=rt.settings.endpoint_url)

    def dead_letter(bus_event: dict[str, Any], rule: str) -> None:
        event_log.record(rt, bus_event, status="dead_lettered", reason=f"failed every delivery on rule {rule}")
        observe.dead_lettered(rule, bus_event)

    router = EventRouter(
        wired, HANDLERS, sqs=sqs, on_dead_letter=dead_letter, invocation_seconds=VISIBILITY_SECONDS
    )
    router.start()
    seeded = seed(rt)
    if rt.clause_index is not None:  # the copilot's index: unchanged contracts are no-ops, so restarts stay fast
        from ..services.copilot import index_tenant

        for tenant_id in seeded["tenants"]:
            index_tenant(rt.clause_index, rt.settings.tenants_dir, tenant_id)
    server = DevServer(app, port=port)
    server.start()
    from ..edge import handlers as app_handlers
    from .scheduler import from_schedules

    every = os.environ.get("REVGOV_SCHEDULE_EVERY_SECONDS")
    scheduler = from_schedules(rt.settings.events_dir, vars(app_handlers), float(every) if every else None)
    scheduler.start()
    stack = LocalStack(emulator, server, router, rt, scheduler=scheduler)
    stack.info = {"base_url": server.base_url, "aws_endpoint_url": emulator.endpoint_url, **seeded}
    if state_file is not None:
        state_file.parent.mkdir(parents=True, exist_ok=True)
        state_file.write_text(json.dumps(stack.info, indent=2), encoding="utf-8")
        state_file.chmod(0o600)
    return stack
