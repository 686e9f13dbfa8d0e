"""What every use case needs and writes the same way: reading a whole collection page by page, and retrying a unit of
work that lost an optimistic-concurrency race. (Merging changes is `ports.Changes.merge`; an audit entry for a
caller's action is `domain.audit.AuditEntry.by`; instants and billing months are `domain.time`.)"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, TypeVar

from ..domain.errors import RevgovError, StaleWrite
from ..ports import DocumentStore, Page, Put, Stored

T = TypeVar("T")

PAGE_SIZE = 200


def pages(
    store: DocumentStore, tenant_id: str, collection: str, *, prefix: str = "", page_size: int = PAGE_SIZE
) -> Iterator[Stored]:
    """Every document of a tenant's collection (under `prefix`), in key order, one store page at a time."""
    return _paged(lambda cursor: store.query(tenant_id, collection, limit=page_size, cursor=cursor, prefix=prefix))


def lookup_pages(
    store: DocumentStore, tenant_id: str, partition: str, *, prefix: str = "", page_size: int = PAGE_SIZE
) -> Iterator[Stored]:
    """Every document of a tenant's secondary-lookup partition (under the sort `prefix`), in sort order, one store page
    at a time (the lookup is eventually consistent on DynamoDB)."""
    return _paged(lambda cursor: store.lookup(tenant_id, partition, limit=page_size, cursor=cursor, prefix=prefix))


def partner_audit_pages(
    store: DocumentStore, tenant_id: str, partner_id: str, *, page_size: int = PAGE_SIZE
) -> Iterator[Stored]:
    """The audit records concerning one partner (PA-12.1), in chain order, one page of its own index at a time: never
    the rest of the chain."""
    return _paged(lambda cursor: store.audit_by_partner(tenant_id, partner_id, limit=page_size, cursor=cursor))


def _paged(read: Callable[[str | None], Page]) -> Iterator[Stored]:
    """The items of page after page, each read from the cursor the previous one returned, until none is returned."""
    cursor: str | None = None
    while True:
        page = read(cursor)
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


def put_over(
    collection: str,
    key: str,
    data: dict[str, Any],
    read: Stored | int | None,
    *,
    conflict_detail: str | None = None,
    lookup: tuple[str, str] | None = None,
) -> Put:
    """`data` written over what was read (the stored document or its version), or as new when nothing was (None):
    either way, a writer that got there first makes the commit a `StaleWrite` (saying `conflict_detail` when given)
    instead of losing its write. `lookup`: the secondary-index entry the document is listed under."""
    version = read.version if isinstance(read, Stored) else read
    put = Put(collection, key, data, must_be_absent=version is None, expected_version=version, lookup=lookup)
    return replace(put, conflict_detail=conflict_detail) if conflict_detail else put
