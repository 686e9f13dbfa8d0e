"""The document store in memory: the primitives of `BaseDocumentStore` on dicts under one lock.

For service-level tests (no files, no threads of its own, no network): the same commit protocol and the same
semantics as the SQLite and DynamoDB backends, proven by the store contract suite (tests/integration).
"""

from __future__ import annotations

import threading
from bisect import bisect_left, insort
from collections.abc import Iterator
from typing import Generic, TypeVar

from ..ports import Clock, IdGenerator
from .store_base import ABSENT, BaseDocumentStore, ConditionFailed, Row, Write, cut_page

V = TypeVar("V", str, tuple[str, str, str])


_CHUNK = 512  # values per chunk of a sorted sequence


class SortedValues(Generic[V]):
    """Sorted values kept in chunks of at most _CHUNK: an insertion or a removal moves the values of one chunk, not of
    the whole sequence (a plain sorted list moved half of a large partition's keys for every item added to it)."""

    def __init__(self) -> None:
        self._chunks: list[list[V]] = []
        self._maxes: list[V] = []  # each chunk's last value

    def add(self, value: V) -> None:
        if not self._chunks:
            self._chunks, self._maxes = [[value]], [value]
            return
        at = min(bisect_left(self._maxes, value), len(self._chunks) - 1)
        chunk = self._chunks[at]
        insort(chunk, value)
        self._maxes[at] = chunk[-1]
        if len(chunk) > _CHUNK:
            half = len(chunk) // 2
            self._chunks[at : at + 1] = [chunk[:half], chunk[half:]]
            self._maxes[at : at + 1] = [chunk[half - 1], chunk[-1]]

    def discard(self, value: V) -> None:
        at = bisect_left(self._maxes, value)
        if at == len(self._chunks):
            return
        chunk = self._chunks[at]
        place = bisect_left(chunk, value)
        if place < len(chunk) and chunk[place] == value:
            del chunk[place]
            if chunk:
                self._maxes[at] = chunk[-1]
            else:
                del self._chunks[at], self._maxes[at]

    def starting_at(self, low: V) -> Iterator[V]:
        """The values from the first one not below `low`, in order."""
        first = bisect_left(self._maxes, low)
        for at in range(first, len(self._chunks)):
            chunk = self._chunks[at]
            yield from chunk[bisect_left(chunk, low) if at == first else 0 :]


class MemoryDocumentStore(BaseDocumentStore):
    def __init__(self, clock: Clock, ids: IdGenerator) -> None:
        super().__init__(clock, ids)
        self._lock = threading.RLock()
        self._items: dict[str, dict[str, Row]] = {}  # pk -> sk -> row
        self._sorted: dict[str, SortedValues[str]] = {}  # pk -> sort keys in order
        self._index: dict[str, SortedValues[tuple[str, str, str]]] = {}  # gsi1pk -> sorted (gsi1sk, pk, sk)

    def _get(self, tenant_id: str, pk: str, sk: str) -> Row | None:
        with self._lock:
            return self._items.get(pk, {}).get(sk)

    def _range(
        self,
        tenant_id: str,
        pk: str,
        *,
        limit: int | None,
        start: dict[str, str] | None = None,
        prefix: str = "",
        after: str | None = None,
        index: bool = False,
    ) -> tuple[list[Row], dict[str, str] | None]:
        """Found by bisection and read only as far as the page goes: a page costs the same in a partition of ten
        items or of a million (a scan of the whole partition made every page of a growing one cost more). A bound
        "greater than b" is "not below b + NUL", the smallest string greater than b."""
        wanted = None if limit is None else limit + 1  # one more tells whether another page follows
        with self._lock:
            if index:
                lows = [(prefix, "", "")] + ([(after + "\0", "", "")] if after is not None else [])
                if start:
                    lows.append((start["gsi1sk"], start["pk"], start["sk"] + "\0"))
                entries = self._index.get(pk, SortedValues()).starting_at(max(lows))
                rows = (self._items[p][s] for _, p, s in entries)
            else:
                keys = [prefix] + ([after + "\0"] if after is not None else [])
                if start:
                    keys.append(start["sk"] + "\0")
                bucket = self._items.get(pk, {})
                rows = (bucket[s] for s in self._sorted.get(pk, SortedValues()).starting_at(max(keys)))
            found = self._taken(rows, wanted, prefix, index=index)
        return cut_page(found, limit, index=index)

    @staticmethod
    def _taken(rows: Iterator[Row], wanted: int | None, prefix: str, *, index: bool) -> list[Row]:
        """Rows in order while their sort key starts with `prefix` (the rows that do are contiguous), at most
        `wanted`."""
        found: list[Row] = []
        for row in rows:
            if not str(row.gsi1sk if index else row.sk).startswith(prefix) or len(found) == wanted:
                break
            found.append(row)
        return found

    def _transact(self, scope_tenant: str, writes: list[Write]) -> None:
        with self._lock:
            failed = []
            for number, write in enumerate(writes):
                if write.condition is None:
                    continue
                found = self._items.get(write.row.pk, {}).get(write.row.sk)
                holds = found is None if write.condition == ABSENT else (
                    found is not None and found.version == write.condition
                )
                if not holds:
                    failed.append(number)
            if failed:
                raise ConditionFailed(failed)
            for write in writes:
                if write.check:
                    continue
                if write.delete:
                    self._remove(write.row.pk, write.row.sk)
                else:
                    self._put(write.row)

    def _remove(self, pk: str, sk: str) -> None:
        old = self._items.get(pk, {}).pop(sk, None)
        if old is None:
            return
        self._sorted[pk].discard(sk)
        if old.gsi1pk is not None:
            self._index[old.gsi1pk].discard((str(old.gsi1sk), pk, sk))

    def _put(self, row: Row) -> None:
        """Create or replace the item; a replacement moves nothing in the sorted keys, nor in the index unless its
        lookup entry changed (rewriting one item of a large partition costs what it does in a small one)."""
        bucket = self._items.setdefault(row.pk, {})
        old = bucket.get(row.sk)
        bucket[row.sk] = row
        if old is None:
            self._sorted.setdefault(row.pk, SortedValues()).add(row.sk)
        elif (old.gsi1pk, old.gsi1sk) == (row.gsi1pk, row.gsi1sk):
            return
        elif old.gsi1pk is not None:
            self._index[old.gsi1pk].discard((str(old.gsi1sk), row.pk, row.sk))
        if row.gsi1pk is not None:
            self._index.setdefault(row.gsi1pk, SortedValues()).add((str(row.gsi1sk), row.pk, row.sk))

    def _tenant_rows(self, tenant_id: str) -> list[Row]:
        prefix = f"T#{tenant_id}#"
        with self._lock:
            return [row for pk, bucket in self._items.items() if pk.startswith(prefix) for row in bucket.values()]

    def _write_rows(self, tenant_id: str, rows: list[Row]) -> None:
        with self._lock:
            for row in rows:
                self._put(row)

    def _delete_rows(self, rows: list[Row]) -> None:
        with self._lock:
            for row in rows:
                self._remove(row.pk, row.sk)

