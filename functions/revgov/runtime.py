"""The composition root: builds the adapters the settings ask for, once per process (cold start)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .domain.audit import AuditEntry
from .ports import Changes, Clock, Delete, DocumentStore, EventPublisher, IdGenerator, Put
from .settings import Settings, settings

OUTBOX = "OUTBOX"


@dataclass
class Runtime:
    settings: Settings
    store: DocumentStore
    publisher: EventPublisher
    clock: Clock
    ids: IdGenerator

    def commit(self, tenant_id: str, changes: Changes) -> list[dict[str, Any]]:
        """Commit the change, its audit records and its events (as outbox items) atomically, then publish.

        An event whose publish fails stays in the outbox and is retried by `flush_outbox`, so none is lost.
        """
        envelopes = [self._envelope(tenant_id, e.source, e.detail_type, e.detail) for e in changes.events]
        changes.puts.extend(Put(OUTBOX, env["detail"]["event_id"], env) for env in envelopes)
        sealed = self.store.commit(tenant_id, changes)
        if envelopes:
            self._publish(tenant_id, envelopes)
        return sealed

    def _envelope(self, tenant_id: str, source: str, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
        event_id = self.ids.new("evt")
        full = {**detail, "tenant_id": tenant_id, "event_id": event_id, "occurred_at": self.clock.now_iso()}
        return {"source": source, "detail_type": detail_type, "detail": full}

    def _publish(self, tenant_id: str, envelopes: list[dict[str, Any]]) -> int:
        try:
            failed = set(self.publisher.publish(tenant_id, envelopes))
        except Exception:  # the bus is down: everything stays in the outbox for the next flush
            return 0
        done = [env["detail"]["event_id"] for env in envelopes if env["detail"]["event_id"] not in failed]
        for start in range(0, len(done), 25):
            self.store.commit(tenant_id, Changes(deletes=[Delete(OUTBOX, eid) for eid in done[start : start + 25]]))
        return len(done)

    def flush_outbox(self, tenant_id: str) -> int:
        """Publish what a failed publish left behind; returns how many went out."""
        page = self.store.query(tenant_id, OUTBOX, limit=100)
        return self._publish(tenant_id, [item.data for item in page.items]) if page.items else 0

    def audit_only(self, tenant_id: str, entry: AuditEntry) -> dict[str, Any]:
        """Record an action that changes no document (an AI answer, a refused request worth keeping)."""
        return self.store.commit(tenant_id, Changes(audit=[entry]))[0]


def build_runtime(config: Settings) -> Runtime:
    from .adapters.dynamo import DynamoDocumentStore
    from .adapters.eventbridge import EventBridgePublisher
    from .adapters.system import RandomIds, SystemClock

    clock = SystemClock()
    ids = RandomIds(clock)
    store = DynamoDocumentStore(config.table_name, config.region, clock, ids, host=config.endpoint_url)
    publisher = EventBridgePublisher(config.event_bus, config.region, config.endpoint_url)
    return Runtime(config, store, publisher, clock, ids)


@lru_cache(maxsize=1)
def runtime() -> Runtime:
    return build_runtime(settings())
