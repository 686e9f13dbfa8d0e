"""The tenant's event log: every event on the bus and what became of it (received, processed, failed, dead-lettered)."""

from __future__ import annotations

from typing import Any

from ..domain.errors import MalformedRequest, NotFound
from ..ports import Changes, Put
from ..runtime import Runtime

EVENTS = "EVENT"
_RETENTION_SECONDS = 35 * 24 * 3600


def accept(rt: Runtime, bus_event: dict[str, Any]) -> dict[str, Any]:
    """Log a delivered event as processed. An event without the envelope every event carries is refused."""
    detail = bus_event.get("detail")
    missing = [f for f in ("tenant_id", "event_id", "occurred_at") if not isinstance(detail, dict) or not detail.get(f)]
    if missing:
        raise MalformedRequest(f"bus event {bus_event.get('id')} lacks detail.{', detail.'.join(missing)}")
    return record(rt, bus_event, status="processed")


def record(rt: Runtime, bus_event: dict[str, Any], *, status: str, reason: str | None = None) -> dict[str, Any]:
    """Upsert the log entry of one bus event. Idempotent: the same event recorded twice is one entry."""
    detail = bus_event.get("detail")
    if not isinstance(detail, dict) or not detail.get("tenant_id") or not detail.get("event_id"):
        raise MalformedRequest("a bus event needs detail.tenant_id and detail.event_id")
    tenant_id, event_id = str(detail["tenant_id"]), str(detail["event_id"])
    entry = {
        "event_id": event_id,
        "source": bus_event.get("source"),
        "detail_type": bus_event.get("detail-type"),
        "occurred_at": detail.get("occurred_at"),
        "status": status,
        "reason": reason,
        "updated_at": rt.clock.now_iso(),
    }
    expires = rt.clock.now_ms() // 1000 + _RETENTION_SECONDS
    rt.store.commit(tenant_id, Changes(puts=[Put(EVENTS, event_id, entry, expires_at=expires)]))
    return entry


def get(rt: Runtime, tenant_id: str, event_id: str) -> dict[str, Any]:
    stored = rt.store.get(tenant_id, EVENTS, event_id)
    if stored is None:
        raise NotFound(f"no event {event_id}")
    return stored.data
