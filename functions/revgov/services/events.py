"""The tenant's event log: every event on the bus and what became of it (received, processed, failed, dead-lettered)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..domain.errors import MalformedRequest, NotFound
from ..ports import Changes, Page, Put, Stored
from ..runtime import Runtime
from .toolkit import lookup_pages

EVENTS = "EVENT"
RETRYING = "retrying"  # a handler raised on it; its queue delivers it again (dead-lettered after the last attempt)
_RETENTION_SECONDS = 35 * 24 * 3600


def accept(rt: Runtime, bus_event: dict[str, Any]) -> dict[str, Any]:
    """Log a delivered event as processed. An event without the envelope every event carries is refused."""
    _check_envelope(bus_event)
    return record(rt, bus_event, status="processed")


def accept_many(rt: Runtime, bus_events: list[dict[str, Any]]) -> list[dict[str, Any] | Exception]:
    """`accept` for a batch (a `log_event` invocation's): the entries of each tenant's events in one commit; each
    event's entry, or the error it was refused or failed with (the others stand).

    An event delivered twice in one batch is one entry (as two `accept` calls make it). If a tenant's commit cannot
    be made, its events are logged one by one, so a failure is the failing event's own."""
    outcomes: list[dict[str, Any] | Exception] = []
    by_tenant: dict[str, dict[str, Put]] = {}
    for bus_event in bus_events:
        try:
            _check_envelope(bus_event)
            put = _processed_put(rt, bus_event)
        except MalformedRequest as refused:
            outcomes.append(refused)
            continue
        by_tenant.setdefault(str(bus_event["detail"]["tenant_id"]), {})[put.key] = put
        outcomes.append(put.data)
    for tenant_id, puts in by_tenant.items():
        try:
            rt.store.commit(tenant_id, Changes(puts=list(puts.values())))
        except Exception:  # one by one: each event's failure its own
            for index, bus_event in enumerate(bus_events):
                if not isinstance(outcomes[index], Exception) and bus_event["detail"]["tenant_id"] == tenant_id:
                    outcomes[index] = _accepted_alone(rt, bus_event)
    return outcomes


def _accepted_alone(rt: Runtime, bus_event: dict[str, Any]) -> dict[str, Any] | Exception:
    try:
        return record(rt, bus_event, status="processed")
    except Exception as failed:  # reported in its place
        return failed


def _check_envelope(bus_event: dict[str, Any]) -> None:
    detail = bus_event.get("detail")
    missing = [f for f in ("tenant_id", "event_id", "occurred_at") if not isinstance(detail, dict) or not detail.get(f)]
    if missing:
        raise MalformedRequest(f"bus event {bus_event.get('id')} lacks detail.{', detail.'.join(missing)}")


def record(rt: Runtime, bus_event: dict[str, Any], *, status: str, reason: str | None = None) -> dict[str, Any]:
    """Upsert the log entry of one bus event. Idempotent: the same event recorded twice is one entry.

    Dead-lettering keeps the reason of the last failed delivery (`retrying`, or `failed`) as `last_error`.
    """
    detail = bus_event.get("detail")
    if not isinstance(detail, dict) or not detail.get("tenant_id") or not detail.get("event_id"):
        raise MalformedRequest("a bus event needs detail.tenant_id and detail.event_id")
    tenant_id, event_id = str(detail["tenant_id"]), str(detail["event_id"])
    last_error = None
    if status == "dead_lettered":
        previous = rt.store.get(tenant_id, EVENTS, event_id)
        failed_before = previous is not None and previous.data.get("status") in (RETRYING, "failed")
        last_error = previous.data.get("reason") if previous is not None and failed_before else None
    put = _processed_put(rt, bus_event, status=status, reason=reason, last_error=last_error)
    rt.store.commit(tenant_id, Changes(puts=[put]))
    return put.data


def _processed_put(rt: Runtime, bus_event: dict[str, Any], *, status: str = "processed", reason: str | None = None,
                   last_error: str | None = None) -> Put:  # fmt: skip
    """The log entry of a bus event whose envelope was checked."""
    detail = bus_event["detail"]
    return entry_put(
        rt,
        event_id=str(detail["event_id"]),
        source=bus_event.get("source"),
        detail_type=bus_event.get("detail-type"),
        occurred_at=detail.get("occurred_at"),
        status=status,
        reason=reason,
        last_error=last_error,
    )


def entry_put(rt: Runtime, *, event_id: str, source: Any, detail_type: Any, occurred_at: Any, status: str,
              reason: str | None = None, last_error: str | None = None,
              became: dict[str, list[str]] | None = None) -> Put:  # fmt: skip
    """The log entry of one event as a Put, for a use case to commit with the change the event caused (`became`: what
    it became, e.g. the invoice lines and exceptions an ERP event was billed as; API.md "status and what it became").

    Entries are listed by status (`by_status`), kept 35 days.
    """
    entry = {
        "event_id": event_id,
        "source": source,
        "detail_type": detail_type,
        "occurred_at": occurred_at,
        "status": status,
        "reason": reason,
        "updated_at": rt.clock.now_iso(),
    }
    if last_error:
        entry["last_error"] = last_error
    if became is not None:
        entry["became"] = became
    expires = rt.clock.now_ms() // 1000 + _RETENTION_SECONDS
    return Put(EVENTS, event_id, entry, expires_at=expires, lookup=(f"{EVENTS}#{status}", event_id))


def by_status(rt: Runtime, tenant_id: str, status: str, *, limit: int, cursor: str | None = None) -> Page:
    """Events whose latest status is `status` (e.g. dead_lettered, to replay them), oldest id first."""
    return rt.store.lookup(tenant_id, f"{EVENTS}#{status}", limit=limit, cursor=cursor)


def all_by_status(rt: Runtime, tenant_id: str, status: str) -> Iterator[Stored]:
    """Every event whose latest status is `status`, oldest id first, page by page."""
    return lookup_pages(rt.store, tenant_id, f"{EVENTS}#{status}", page_size=100)


def get(rt: Runtime, tenant_id: str, event_id: str) -> dict[str, Any]:
    stored = rt.store.get(tenant_id, EVENTS, event_id)
    if stored is None:
        raise NotFound(f"no event {event_id}")
    return stored.data
