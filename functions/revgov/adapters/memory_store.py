"""The document store in memory: the primitives of `BaseDocumentStore` on dicts under one lock.

For service-level tests (no files, no threads of its own, no network): the same commit protocol and the same
semantics as the SQLite and DynamoDB backends, proven by the store contract suite (tests/integration).
"""

from __future__ import annotations

import threading
from bisect import bisect_right, insort

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
        with self._lock:
            if index:
                entries = self._index.get(pk, [])
                position = bisect_right(entries, (start["gsi1sk"], start["pk"], start["sk"])) if start else 0
                candidates = [
                    self._items[p][s] for g, p, s in entries[position:] if g.startswith(prefix)
                    and (after is None or g > after)
                ]
            else:
                keys = self._sorted.get(pk, [])
                position = bisect_right(keys, start["sk"]) if start else 0
                bucket = self._items.get(pk, {})
                candidates = [
                    bucket[s] for s in keys[position:] if s.startswith(prefix) and (after is None or s > after)
                ]
        return cut_page(candidates, limit, index=index)

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
                self._remove(write.row.pk, write.row.sk)
                if not write.delete:
                    self._add(write.row)

    def _remove(self, pk: str, sk: str) -> None:
        old = self._items.get(pk, {}).pop(sk, None)
        if old is None:
            return
        self._sorted[pk].remove(sk)
        if old.gsi1pk is not None:
            self._index[old.gsi1pk].remove((str(old.gsi1sk), pk, sk))

    def _add(self, row: Row) -> None:
        self._items.setdefault(row.pk, {})[row.sk] = row
        insort(self._sorted.setdefault(row.pk, []), row.sk)
        if row.gsi1pk is not None:
            insort(self._index.setdefault(row.gsi1pk, []), (str(row.gsi1sk), row.pk, row.sk))

    def _tenant_rows(self, tenant_id: str) -> list[Row]:
        prefix = f"T#{tenant_id}#"
        with self._lock:
            return [row for pk, bucket in self._items.items() if pk.startswith(prefix) for row in bucket.values()]

    def _write_rows(self, tenant_id: str, rows: list[Row]) -> None:
        with self._lock:
            for row in rows:
                self._remove(row.pk, row.sk)
                self._add(row)

    def _delete_rows(self, rows: list[Row]) -> None:
        with self._lock:
            for row in rows:
                self._remove(row.pk, row.sk)
