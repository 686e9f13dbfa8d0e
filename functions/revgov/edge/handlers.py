"""Lambda handlers fed by SQS queues behind EventBridge rules (see events/rules.json) and by schedules.

Each takes an SQS batch and answers with `batchItemFailures`, so one poison message never blocks the rest;
the stacks declare the event-source mappings with ReportBatchItemFailures.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..logs import logger
from ..runtime import runtime
from ..services import events as event_log
from .api import app

BusHandler = Callable[[dict[str, Any]], None]


def drain(records: list[dict[str, Any]], handle: BusHandler) -> dict[str, Any]:
    """Run `handle` on each bus event in the batch; report the ones that failed for redelivery."""
    failures = []
    for record in records:
        try:
            handle(json.loads(record["body"]))
        except Exception:
            logger.exception("event handling failed", extra={"message_id": record.get("messageId")})
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def _log(bus_event: dict[str, Any]) -> None:
    event_log.accept(runtime(), bus_event)


@app.lambda_function(name="log_event")
def log_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return drain(event.get("Records", []), _log)


@app.lambda_function(name="flush_outbox")
def flush_outbox(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled: publish events a failed publish left in any tenant's outbox."""
    from ..domain.access import PLATFORM
    from ..services.tenants import REGISTRY

    rt = runtime()
    published = rt.flush_outbox(PLATFORM)
    cursor = None
    while True:
        page = rt.store.query(PLATFORM, REGISTRY, limit=100, cursor=cursor)
        published += sum(rt.flush_outbox(item.key) for item in page.items)
        cursor = page.next_cursor
        if not cursor:
            return {"published": published}


HANDLERS: dict[str, Callable[[dict[str, Any], Any], dict[str, Any]]] = {"log_event": log_event}
