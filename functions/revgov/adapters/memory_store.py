"""The document store in memory: the primitives of `BaseDocumentStore` on dicts under one lock.

For service-level tests (no files, no threads of its own, no network): the same commit protocol and the same
semantics as the SQLite and DynamoDB backends, proven by the store contract suite (tests/integration).
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterator
from typing import Any

from ..ports import Clock, IdGenerator
from .store_base import ABSENT, BaseDocumentStore, ConditionFailed, Row, Write, cut_page


class MemoryDocumentStore(BaseDocumentStore):
    def __init__(self, clock: Clock, ids: IdGenerator) -> None:
        super().__init__(clock, ids)
        self._lock = threading.RLock()
        self._items: dict[str, dict[str, Row]] = {}  # pk -> sk -> row
        self._sorted: dict[str, list[str]] = {}  # pk -> sort keys in order
        self._index: dict[str, list[tuple[str, str, str]]] = {}  # gsi1pk -> sorted (gsi1sk, pk, sk)

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
        items or of a million (a scan of the whole partition made every page of a growing one cost more)."""
        wanted = None if limit is None else limit + 1  # one more tells whether another page follows
        with self._lock:
            if index:
                entries = self._index.get(pk, [])
                lows = [(prefix,)] + ([(after + "\0",)] if after is not None else [])
                position = max(bisect_left(entries, low) for low in lows)
                if start:
                    position = max(position, bisect_right(entries, (start["gsi1sk"], start["pk"], start["sk"])))
                rows = (self._items[entries[at][1]][entries[at][2]] for at in range(position, len(entries)))
                found = self._taken(rows, wanted, prefix, index=True)
            else:
                keys = self._sorted.get(pk, [])
                lows_k = [prefix] + ([after + "\0"] if after is not None else [])
                position = max(bisect_left(keys, low) for low in lows_k)
                if start:
                    position = max(position, bisect_right(keys, start["sk"]))
                bucket = self._items.get(pk, {})
                rows = (bucket[keys[at]] for at in range(position, len(keys)))
                found = self._taken(rows, wanted, prefix, index=False)
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
                if write.delete:
                    self._remove(write.row.pk, write.row.sk)
                else:
                    self._put(write.row)

    def _remove(self, pk: str, sk: str) -> None:
        old = self._items.get(pk, {}).pop(sk, None)
        if old is None:
            return
        _drop(self._sorted[pk], sk)
        if old.gsi1pk is not None:
            _drop(self._index[old.gsi1pk], (str(old.gsi1sk), pk, sk))

    def _put(self, row: Row) -> None:
        """Create or replace the item; a replacement moves nothing in the sorted keys, nor in the index unless its
        lookup entry changed (rewriting one item of a large partition costs what it does in a small one)."""
        bucket = self._items.setdefault(row.pk, {})
        old = bucket.get(row.sk)
        bucket[row.sk] = row
        if old is None:
            insort(self._sorted.setdefault(row.pk, []), row.sk)
        elif (old.gsi1pk, old.gsi1sk) == (row.gsi1pk, row.gsi1sk):
            return
        elif old.gsi1pk is not None:
            _drop(self._index[old.gsi1pk], (str(old.gsi1sk), row.pk, row.sk))
        if row.gsi1pk is not None:
            insort(self._index.setdefault(row.gsi1pk, []), (str(row.gsi1sk), row.pk, row.sk))

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


def _drop(ordered: list[Any], value: Any) -> None:
    """Remove `value` from a sorted list, found by bisection."""
    at = bisect_left(ordered, value)
    if at < len(ordered) and ordered[at] == value:
        del ordered[at]
