"""What a handler does about a tenant whose offboarding began while it ran: the store refused its write into the
tenant (the tenant's tombstone, `ports.TOMBSTONE`: `TenantOffboarded`). The event is dropped, as one arriving after
the offboarding is (`handlers.drain_batch`); a scheduled run leaves the tenant out and goes on for the others."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from ..domain.errors import TenantOffboarded
from ..logs import logger

T = TypeVar("T")


def refused_for(failed: object, tenant_id: object) -> bool:
    """`failed` is the store's refusal of a write into `tenant_id`, whose offboarding has begun."""
    return isinstance(failed, TenantOffboarded) and failed.extra.get("tenant_id") == tenant_id


def event_refused(bus_event: Any, outcome: Any) -> bool:
    """The event's write was refused because its own tenant's offboarding began after the batch started. An event of
    another tenant refused with it (one commit for a batch of several tenants) is a failure: it comes back, and the
    offboarded tenant's events are then dropped before handling."""
    detail = bus_event.get("detail") if isinstance(bus_event, dict) else None
    return isinstance(detail, dict) and refused_for(outcome, detail.get("tenant_id"))


def dropped(record: dict[str, Any], bus_event: Any, handler: str) -> None:
    """An event of a tenant offboarded while it was handled: dropped as one arriving after the offboarding is (the
    tenant's data is erased; neither a retry nor the dead-letter queue would keep any of it), not a failure."""
    detail = bus_event.get("detail") if isinstance(bus_event, dict) else None
    logger.info("event for an offboarded tenant dropped", extra={
        "message_id": record.get("messageId"), "handler": handler, "while_handled": True,
        "tenant_id": detail.get("tenant_id") if isinstance(detail, dict) else None})


def each_tenant(job: str, tenant_ids: Iterable[str], work: Callable[[str], T]) -> dict[str, T]:
    """`work(tenant)` for every tenant, by tenant. A tenant whose offboarding began during the run is left out
    (logged); the run goes on for the others."""
    done: dict[str, T] = {}
    for tenant_id in tenant_ids:
        try:
            done[tenant_id] = work(tenant_id)
        except TenantOffboarded as gone:
            if not refused_for(gone, tenant_id):
                raise
            logger.info("tenant offboarded during a scheduled run: left out",
                        extra={"job": job, "tenant_id": tenant_id})
    return done
