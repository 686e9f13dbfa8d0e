"""The document store on SQLite: the primitives of `BaseDocumentStore` on the `items` table of the embedded database.

Same keys as the DynamoDB table (`T#{tenant}#{collection}`, sort key, lookup index), same semantics: a transaction
checks every condition under the write lock before it writes anything, and writes all or nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from ..ports import Clock, IdGenerator
from .sqlite_db import Database
from .store_base import ABSENT, AUDIT, BaseDocumentStore, ConditionFailed, Row, Write, cut_page, partition

_OUTBOX = "#OUTBOX"  # Runtime.commit's outbox collection (revgov.runtime.OUTBOX)
_PUBLISHING: ContextVar[bool] = ContextVar("revgov_sqlite_publishing", default=False)
_SELECT = "SELECT pk, sk, data, version, gsi1pk, gsi1sk, expires_at FROM items"
_GET = _SELECT + " WHERE pk = ? AND sk = ?"
_UPSERT = (
    "INSERT INTO items (pk, sk, data, version, gsi1pk, gsi1sk, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (pk, sk) DO UPDATE SET data = excluded.data, version = excluded.version, "
    "gsi1pk = excluded.gsi1pk, gsi1sk = excluded.gsi1sk, expires_at = excluded.expires_at"
)


_AUDIT_TEXTS = "SELECT sk, data FROM items WHERE pk = ? AND sk > ? AND sk < ? ORDER BY sk LIMIT ?"
_MANY = 400  # keys per statement (800 bound values: under SQLite's oldest default limit of 999)


@lru_cache(maxsize=64)
def _get_many_sql(count: int) -> str:
    # a join on the keys, not `(pk, sk) IN (VALUES ...)`: SQLite plans that one as a scan of the whole table
    keys = ", ".join(["(?, ?)"] * count)  # placeholders only: the values are bound
    select = "SELECT i.pk, i.sk, i.data, i.version, i.gsi1pk, i.gsi1sk, i.expires_at FROM (VALUES "
    return select + keys + ") AS k JOIN items AS i ON i.pk = k.column1 AND i.sk = k.column2"


def _flat(keys: list[tuple[str, str]]) -> list[str]:
    return [part for key in keys for part in key]


def _row(values: tuple[Any, ...]) -> Row:
    return Row(values[0], values[1], values[2], int(values[3]), values[4], values[5], values[6])


def _values(row: Row) -> tuple[Any, ...]:
    return (row.pk, row.sk, row.data, row.version, row.gsi1pk, row.gsi1sk, row.expires_at)


def _range_sql(pk: str, *, limit: int | None, start: dict[str, str] | None, prefix: str, after: str | None,
               index: bool) -> tuple[str, list[Any]]:
    """The statement reading one page of a partition (of the lookup index's, when `index`), in its sort order, and its
    bound values; one row more than `limit` tells whether another page follows."""
    part, sort = ("gsi1pk", "gsi1sk") if index else ("pk", "sk")
    where = [f"{part} = ?"]
    args: list[Any] = [pk]
    if prefix:
        where.append(f"{sort} >= ? AND {sort} < ?")
        args += [prefix, _prefix_end(prefix)]
    if after is not None:
        where.append(f"{sort} > ?")
        args.append(after)
    if start is not None:
        if index:  # the index's order is (gsi1sk, pk, sk): resume strictly after the last row's position
            where.append("(gsi1sk, pk, sk) > (?, ?, ?)")
            args += [start["gsi1sk"], start["pk"], start["sk"]]
        else:
            where.append("sk > ?")
            args.append(start["sk"])
    order = "gsi1sk, pk, sk" if index else "sk"
    sql = f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY {order}"  # the clauses are the code's, values bound
    if limit is not None:
        sql += " LIMIT ?"
        args.append(limit + 1)
    return sql, args


def _prefix_end(prefix: str) -> str:
    """The smallest string greater than every string starting with `prefix` (for a range scan on the key)."""
    return prefix + "\U0010ffff"


class SqliteDocumentStore(BaseDocumentStore):
    """With a `bus` (the embedded engine's), a commit made `publishing()` puts its outbox items (the events
    Runtime.commit adds as `OUTBOX` puts) on their rules' queues in the commit's own transaction instead of storing
    them: the transactional outbox collapsed into one local transaction, nothing left to publish or delete after."""

    def __init__(self, db: Database, clock: Clock, ids: IdGenerator, *, bus: Any = None) -> None:
        super().__init__(clock, ids)
        self.db = db
        self.bus = bus
        # a commit whose head another writer of this process moved retries at once under the writer lock, where no
        # writer of this process can move it again (another process meets SQLite's lock; its moves retry as before)
        self._sealing = db.writing

    @contextmanager
    def publishing(self) -> Iterator[None]:
        """Within: commits enqueue their outbox items on the bus (Runtime.commit, when its publisher is this bus)."""
        token = _PUBLISHING.set(True)
        try:
            yield
        finally:
            _PUBLISHING.reset(token)

    def _get(self, tenant_id: str, pk: str, sk: str) -> Row | None:
        found = self.db.fetch_one(_GET, (pk, sk))
        return _row(found) if found else None

    def _get_many(self, keys: list[tuple[str, str, str]]) -> list[Row]:
        """One statement per 400 keys (a join of the keys on the primary key), all in one snapshot."""
        wanted = [(pk, sk) for _, pk, sk in dict.fromkeys(keys)]
        chunks = [wanted[start : start + _MANY] for start in range(0, len(wanted), _MANY)]
        if not chunks:
            return []
        if len(chunks) == 1:  # a lone statement is its own snapshot
            return [_row(values) for values in self.db.fetch_all(_get_many_sql(len(chunks[0])), _flat(chunks[0]))]
        rows: list[Row] = []
        with self.db.read() as c:
            for chunk in chunks:
                rows += [_row(values) for values in c.execute(_get_many_sql(len(chunk)), _flat(chunk)).fetchall()]
        return rows

    def _project_page(
        self, tenant_id: str, pk: str, paths: Sequence[str], *, limit: int, start: dict[str, str] | None, prefix: str
    ) -> tuple[list[tuple[str, list[str]]], dict[str, str] | None]:
        """The values extracted by SQLite's JSON functions in the query: only they come back to Python."""
        columns = ", ".join(["json_quote(json_extract(data, ?))"] * len(paths))  # placeholders: the paths are bound
        sql = f"SELECT sk, {columns} FROM items WHERE pk = ? AND sk >= ? AND sk < ? AND sk > ? ORDER BY sk LIMIT ?"  # noqa: S608
        after = start["sk"] if start else ""
        found = self.db.fetch_all(sql, [*paths, pk, prefix, _prefix_end(prefix), after, limit + 1])
        page = [(values[0], list(values[1:])) for values in found[:limit]]
        return page, ({"pk": pk, "sk": page[-1][0]} if len(found) > limit else None)

    def _range(self, tenant_id: str, pk: str, *, limit: int | None, start: dict[str, str] | None = None,
               prefix: str = "", after: str | None = None, index: bool = False,
               ) -> tuple[list[Row], dict[str, str] | None]:
        sql, args = _range_sql(pk, limit=limit, start=start, prefix=prefix, after=after, index=index)
        return cut_page([_row(values) for values in self.db.fetch_all(sql, args)], limit, index=index)

    def iter_audit_texts(self, tenant_id: str, *, after_seq: int = 0, page_size: int = 2000) -> Iterator[str | None]:
        """As the base's, reading only the records' text: no row objects for a walk over the whole chain."""
        pk, after = partition(tenant_id, AUDIT), f"R#{after_seq:012d}"
        while True:
            found = self.db.fetch_all(_AUDIT_TEXTS, (pk, after, _prefix_end("R#"), page_size))
            yield from (data for _, data in found)
            if len(found) < page_size:
                return
            after = found[-1][0]

    def _transact(self, scope_tenant: str, writes: list[Write]) -> None:
        outbox: list[Row] = []
        if self.bus is not None and _PUBLISHING.get():
            outbox = [w.row for w in writes if not w.delete and not w.check and w.row.pk.endswith(_OUTBOX)]
        with self.db.write() as c:
            failed = []
            for number, write in enumerate(writes):
                if write.condition is None:
                    continue
                found = c.execute(
                    "SELECT version FROM items WHERE pk = ? AND sk = ?", (write.row.pk, write.row.sk)
                ).fetchone()
                holds = found is None if write.condition == ABSENT else (
                    found is not None and int(found[0]) == write.condition
                )
                if not holds:
                    failed.append(number)
            if failed:
                raise ConditionFailed(failed)  # rolls back: nothing was written yet anyway
            for write in writes:
                if write.check:
                    continue
                if write.delete:
                    c.execute("DELETE FROM items WHERE pk = ? AND sk = ?", (write.row.pk, write.row.sk))
                elif write.row not in outbox:
                    c.execute(_UPSERT, _values(write.row))
            for row in outbox:  # on the rules' queues, in this transaction: the event exists iff the change does
                tenant_id = row.pk[2 : -len(_OUTBOX)]
                self.bus.enqueue(c, tenant_id, [json.loads(row.data or "{}")])
        if outbox:
            self.bus.notify()

    def _tenant_rows(self, tenant_id: str) -> list[Row]:
        prefix = f"T#{tenant_id}#"
        with self.db.read() as c:
            found = c.execute(
                _SELECT + " WHERE pk >= ? AND pk < ? ORDER BY pk, sk",
                (prefix, _prefix_end(prefix)),
            ).fetchall()
        return [_row(values) for values in found]

    def _write_rows(self, tenant_id: str, rows: list[Row]) -> None:
        for start in range(0, len(rows), 500):
            with self.db.write() as c:
                c.executemany(_UPSERT, [_values(row) for row in rows[start : start + 500]])

    def _delete_rows(self, rows: list[Row]) -> None:
        for start in range(0, len(rows), 500):
            with self.db.write() as c:
                c.executemany("DELETE FROM items WHERE pk = ? AND sk = ?",
                              [(row.pk, row.sk) for row in rows[start : start + 500]])

    def delete_tenant(self, tenant_id: str) -> int:
        """The tenant's items, and with them its idempotency records and rate windows (kept beside the items)."""
        deleted = super().delete_tenant(tenant_id)
        with self.db.write() as c:
            c.execute("DELETE FROM idempotency WHERE tenant = ?", (tenant_id,))
            c.execute("DELETE FROM rate_counts WHERE tenant = ?", (tenant_id,))
        return deleted


    def purge_expired(self, now_seconds: int, *, limit: int = 1000) -> int:
        """Delete items whose TTL (`expires_at`, epoch seconds) has passed, as DynamoDB's TTL sweeper does."""
        with self.db.write() as c:
            cursor = c.execute(
                "DELETE FROM items WHERE (pk, sk) IN "
                "(SELECT pk, sk FROM items WHERE expires_at IS NOT NULL AND expires_at < ? LIMIT ?)",
                (now_seconds, limit),
            )
            return int(cursor.rowcount)
