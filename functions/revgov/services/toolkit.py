"""What every use case needs and writes the same way: reading a whole collection page by page, and retrying a unit of
work that lost an optimistic-concurrency race. (Merging changes is `ports.Changes.merge`; an audit entry for a
caller's action is `domain.audit.AuditEntry.by`; instants and billing months are `domain.time`.)"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from ..domain.errors import RevgovError, StaleWrite
from ..ports import DocumentStore, Stored

T = TypeVar("T")

PAGE_SIZE = 200


def pages(
    store: DocumentStore, tenant_id: str, collection: str, *, prefix: str = "", page_size: int = PAGE_SIZE
) -> Iterator[Stored]:
    """Every document of a tenant's collection (under `prefix`), in key order, one store page at a time."""
    cursor: str | None = None
    while True:
        page = store.query(tenant_id, collection, limit=page_size, cursor=cursor, prefix=prefix)
        yield from page.items
        cursor = page.next_cursor
        if cursor is None:
            return


def backoff(attempt: int) -> float:
    """Seconds to wait before retry `attempt` (1, 2, …): full jitter under a cap that doubles from 20 ms to 200 ms."""
    return random.uniform(0, min(0.2, 0.01 * 2**attempt))  # noqa: S311 - jitter, not a secret


def retry_on_conflict(work: Callable[[], T], *, attempts: int, exhausted: Callable[[], RevgovError]) -> T:
    """Run `work` (which reads, decides and commits) until its commit no longer loses to another writer (`StaleWrite`),
    re-reading each time after a jittered pause; after `attempts` losses raise `exhausted()` (usually
    `ConcurrentUpdate`, a 503 the caller may retry). A business refusal raised by `work` (a plain `Conflict` such as
    "already submitted", or any other problem) propagates at once."""
    for attempt in range(attempts):
        if attempt:
            time.sleep(backoff(attempt))
        try:
            return work()
        except StaleWrite:
            continue  # another writer moved what this read: read again
    raise exhausted()
