"""Event processing status."""

from __future__ import annotations

from typing import Any

from ...services import events
from ..http import Call
from ..registry import STAFF, operation


@operation(
    "GET",
    "/v1/events/{event_id}",
    summary="What became of an event: received, processed, failed, dead-lettered",
    roles=STAFF,
    tag="events",
    id_params={"event_id": "evt"},
    response_schema="api/responses/event-status.schema.json",
)
def get_event(call: Call) -> dict[str, Any]:
    return events.get(call.runtime, call.who.tenant_id, call.params["event_id"])
