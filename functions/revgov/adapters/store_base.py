"""The commit protocol every document store shares, and the primitives a backend implements.

In the manner of powertools' idempotency `BasePersistenceLayer`: the base holds the protocol (which tenants a change
writes, the audit head read, sealing, the conditional head write, the retry when another writer moved the head, the
mapping of a failed condition to a business `Conflict`, cursors fenced to their partition, whole-tenant export and
import), and a backend (DynamoDB, SQLite, in memory) implements only:

- `_get(pk, sk)` and optionally `_get_many(keys)`: one item by its key, consistently;
- `_range(pk, ...)`: a page of one partition (or of one lookup-index partition) in sort-key order;
- `_transact(scope_tenant, writes)`: every write applied atomically, all conditions checked first; a failed condition
  raises `ConditionFailed` naming the writes whose condition failed, and nothing is written;
- `_tenant_rows`, `_write_rows`, `_delete_rows`: the whole-tenant operations of offboarding.

Every transaction that puts into a tenant also checks its tombstone (`store_tombstone`), in the same transaction.

Every key starts with `T#{tenant}#`, as in the one DynamoDB table, so a row says whose it is in every backend.
"""

from __future__ import annotations

import json
import random
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from ..domain.audit import CHAIN, CHAIN_HEAD, GENESIS, partner_index, partner_pointer, sealed
from ..domain.errors import ConcurrentUpdate, PayloadTooLarge, StaleWrite
from ..ports import TOMBSTONE, Changes, Clock, IdGenerator, Page, Stored
from .store_cursors import bad_cursor, decode_cursor, encode_cursor, start_key_valid
from .store_tombstone import guarded_tenants, offboarded, tenant_of, tombstone_key

AUDIT = CHAIN
HEAD = CHAIN_HEAD
MAX_CHAIN_RETRIES = 25
MAX_TRANSACTION_ITEMS = 100  # DynamoDB's TransactWriteItems limit: every backend holds changes to it
BACKOFF_CAP_SECONDS = 0.25
_PARSED_MEMO_SIZE = 64  # parsed documents kept per store (`get_parsed`): a few per tenant
T = TypeVar("T")


def json_default(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{value:f}"
    raise TypeError(f"cannot store {type(value).__name__}")


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, default=json_default, separators=(",", ":"), ensure_ascii=False)


_PATH = re.compile(r"\$(\.[A-Za-z_][A-Za-z0-9_]*)+")  # a projection path: object members only


def partition(tenant_id: str, collection: str) -> str:
    return f"T#{tenant_id}#{collection}"


@dataclass(frozen=True)
class Row:
    """One stored item, as every backend holds it (the DynamoDB table's attributes)."""

    pk: str
    sk: str
    data: str | None  # JSON; None only for a powertools idempotency record still in progress
    version: int = 1
    gsi1pk: str | None = None
    gsi1sk: str | None = None
    expires_at: int | None = None


ABSENT = "absent"


@dataclass(frozen=True)
class Write:
    """One write of a transaction: a put (`row`) or a delete (`delete=True`), with an optional condition:
    `ABSENT` (no item under the key) or an int (the item's current version). `check=True`: nothing is written, the
    condition is only checked with the others (DynamoDB's ConditionCheck; the tenant's tombstone)."""

    row: Row
    delete: bool = False
    condition: str | int | None = None
    check: bool = False


def tombstone_row(tenant_id: str) -> Row:
    return Row(*tombstone_key(tenant_id), None)


class ConditionFailed(Exception):  # a signal between the base and its backends, never raised further
    """The transaction wrote nothing: the writes at `indexes` failed their condition (empty: it was cancelled for
    another reason a retry can cure, such as DynamoDB's TransactionConflict). `codes`: the reasons, by name."""

    def __init__(self, indexes: list[int], codes: list[str] | None = None) -> None:
        super().__init__(f"condition failed at {indexes}")
        self.indexes = indexes
        self.codes = codes if codes is not None else (["ConditionalCheckFailed"] if indexes else [])


# Reasons after which sealing again and retrying (with backoff) can succeed: the audit head moved (a condition on an
# audit item; a put's own condition is a business conflict, raised before this), another transaction held one of the
# items, or DynamoDB throttled the write. Named in the 503 when every attempt loses.
RETRY_MEANING = {
    "ConditionalCheckFailed": "another request appended to this tenant's audit chain first",
    "TransactionConflict": "another transaction was writing the same items",
    "ProvisionedThroughputExceeded": "DynamoDB throttled the write",
    "ThrottlingError": "DynamoDB throttled the write",
    "RequestLimitExceeded": "DynamoDB throttled the write",
}
RETRY_REASONS = frozenset(RETRY_MEANING) | {"None"}
MAX_ITEM_BYTES = 400 * 1024  # DynamoDB's item size limit (names and values, UTF-8): every backend holds items to it


def item_bytes(row: Row) -> int:
    """A row's size as DynamoDB counts an item: each attribute's name plus its value (strings in UTF-8, numbers up to
    21 bytes)."""
    size = 0
    for name in ("pk", "sk", "data", "gsi1pk", "gsi1sk"):
        value = getattr(row, name)
        if value is not None:
            size += len(name) + len(value.encode())
    return size + len("version") + 21 + (len("expires_at") + 21 if row.expires_at is not None else 0)


class TransactionTooLarge(ValueError):  # DynamoDB refuses it too (ValidationException)
    """A commit of more items than one transaction holds: a defect of the use case, on every backend alike."""


def cut_page(found: list[Row], limit: int | None, *, index: bool) -> tuple[list[Row], dict[str, str] | None]:
    """A backend read up to one row more than `limit`: the page, and its last row's key when another row follows
    (pk, sk; plus gsi1pk, gsi1sk for the lookup index), as `_range` returns them."""
    if limit is None or len(found) <= limit:
        return found, None
    rows = found[:limit]
    last = rows[-1]
    key = {"pk": last.pk, "sk": last.sk}
    if index:
        key = {"gsi1pk": str(last.gsi1pk), "gsi1sk": str(last.gsi1sk), **key}
    return rows, key


class BaseDocumentStore(ABC):
    """The DocumentStore port, once. Subclasses implement the primitives below and nothing of the protocol."""

    # a one-writer backend's lock, which a commit's first retry holds from its head read to its write (#17)
    _sealing: Callable[[], AbstractContextManager[Any]] | None = None

    def __init__(self, clock: Clock, ids: IdGenerator) -> None:
        self._clock = clock
        self._ids = ids

    # --- primitives ----------------------------------------------------------------------------
    @abstractmethod
    def _get(self, tenant_id: str, pk: str, sk: str) -> Row | None:
        """The item under (pk, sk), read consistently; `tenant_id` is whose partition it is (for scoped backends)."""

    def _get_many(self, keys: list[tuple[str, str, str]]) -> list[Row]:
        """Items under (tenant, pk, sk) keys, in any order; missing ones are left out."""
        found = (self._get(t, pk, sk) for t, pk, sk in keys)
        return [row for row in found if row is not None]

    @abstractmethod
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
        """Rows of partition `pk` (of the lookup index's partition when `index`) in sort-key order: sort keys starting
        with `prefix`, greater than `after`, past the `start` key of a previous page; at most `limit` (None: all).
        Returns the rows and the last row's key (pk, sk; plus gsi1pk, gsi1sk for the index) when more may follow."""

    @abstractmethod
    def _transact(self, scope_tenant: str, writes: list[Write]) -> None:
        """Apply every write or none. Raises `ConditionFailed` (nothing written) when a condition does not hold."""

    @abstractmethod
    def _tenant_rows(self, tenant_id: str) -> list[Row]:
        """Every row whose partition key starts with `T#{tenant}#`."""

    @abstractmethod
    def _write_rows(self, tenant_id: str, rows: list[Row]) -> None:
        """Unconditional puts (an import restoring a tenant), batched as the backend likes."""

    @abstractmethod
    def _delete_rows(self, rows: list[Row]) -> None:
        """Unconditional deletes (offboarding)."""

    def _check_writers(self, tenant_id: str, written: set[str]) -> None:  # noqa: B027 - a hook, empty by default
        """A backend that fences tenants by credentials refuses a transaction spanning several (DynamoDB scoped)."""

    # --- reads -------------------------------------------------------------------------------
    @staticmethod
    def _stored(row: Row) -> Stored:
        return Stored(key=row.sk, data=json.loads(row.data or "null"), version=int(row.version))

    def get(self, tenant_id: str, collection: str, key: str) -> Stored | None:
        row = self._get(tenant_id, partition(tenant_id, collection), key)
        return self._stored(row) if row is not None else None

    def get_parsed(self, tenant_id: str, collection: str, key: str, parse: Callable[[Any], T]) -> tuple[T, int] | None:
        """`parse(data)` of one document and its version, the parsed value kept while the stored text is unchanged.

        For a large document read on nearly every request and event (the tenant's profile holds its whole policy):
        the row is read every time, as by `get`, but decoded and parsed only when its text differs from the last one
        seen, so a change committed by any process is seen at once. The value is shared between readers: `parse`
        must build one nobody mutates."""
        pk = partition(tenant_id, collection)
        row = self._get(tenant_id, pk, key)
        if row is None:
            return None
        memo: dict[tuple[str, str, Any], tuple[Any, Any]] = self.__dict__.setdefault("_parsed_memo", {})
        slot = (pk, key, parse)
        hit = memo.get(slot)
        if hit is not None and hit[0] == row.data:
            return hit[1], int(row.version)
        value = parse(json.loads(row.data or "null"))
        if len(memo) >= _PARSED_MEMO_SIZE:
            memo.clear()
        memo[slot] = (row.data, value)
        return value, int(row.version)

    def get_many(self, refs: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], Stored]:
        wanted = {(partition(t, c), k): (t, c, k) for t, c, k in refs}
        rows = self._get_many([(t, partition(t, c), k) for t, c, k in refs])
        return {wanted[(row.pk, row.sk)]: self._stored(row) for row in rows if (row.pk, row.sk) in wanted}

    def _page(self, tenant_id: str, pk: str, *, limit: int, cursor: str | None, prefix: str, index: bool) -> Page:
        start = decode_cursor(cursor, "gsi1pk" if index else "pk", pk)
        if start is not None and (not start_key_valid(start, index) or not start["gsi1sk" if index else "sk"]
                                  .startswith(prefix)):
            raise bad_cursor("cursor is not valid for this list")
        rows, last = self._range(tenant_id, pk, limit=limit, start=start, prefix=prefix, index=index)
        return Page([self._stored(row) for row in rows], encode_cursor(last))

    def query(
        self, tenant_id: str, collection: str, *, limit: int, cursor: str | None = None, prefix: str = ""
    ) -> Page:
        return self._page(tenant_id, partition(tenant_id, collection), limit=limit, cursor=cursor, prefix=prefix,
                          index=False)

    def lookup(
        self, tenant_id: str, index_partition: str, *, limit: int, cursor: str | None = None, prefix: str = ""
    ) -> Page:
        return self._page(tenant_id, partition(tenant_id, index_partition), limit=limit, cursor=cursor,
                          prefix=prefix, index=True)

    def project(
        self, tenant_id: str, collection: str, paths: Sequence[str], *, prefix: str = "", page_size: int = 500
    ) -> Iterator[tuple[str, list[str]]]:
        """Each document whose key starts with `prefix`, in key order: its key and the JSON text of the value at each
        path (`null` when absent), read a page at a time. A backend that can extract values in the engine does
        (`_project_page`); here the whole document is decoded and the values written back as compact JSON."""
        for path in paths:
            if not _PATH.fullmatch(path):
                raise ValueError(f"not a projection path: {path!r} ($.name.name…)")
        pk, start = partition(tenant_id, collection), None
        while True:
            found, start = self._project_page(tenant_id, pk, paths, limit=page_size, start=start, prefix=prefix)
            yield from found
            if start is None:
                return

    def _project_page(
        self, tenant_id: str, pk: str, paths: Sequence[str], *, limit: int, start: dict[str, str] | None, prefix: str
    ) -> tuple[list[tuple[str, list[str]]], dict[str, str] | None]:
        rows, last = self._range(tenant_id, pk, limit=limit, start=start, prefix=prefix)
        steps = [path.split(".")[1:] for path in paths]
        found = []
        for row in rows:
            data = json.loads(row.data or "null")
            values = []
            for names in steps:
                value = data
                for name in names:
                    value = value.get(name) if isinstance(value, dict) else None
                values.append(json.dumps(value, separators=(",", ":"), ensure_ascii=False))
            found.append((row.sk, values))
        return found, last

    # --- the audit chain ---------------------------------------------------------------------
    def audit_head(self, tenant_id: str) -> tuple[int, str]:
        head = self.get(tenant_id, AUDIT, HEAD)
        return (int(head.data["seq"]), str(head.data["hash"])) if head else (0, GENESIS)

    def audit_records(self, tenant_id: str, *, after_seq: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        rows, _ = self._range(tenant_id, partition(tenant_id, AUDIT), limit=limit, after=f"R#{after_seq:012d}")
        return [json.loads(row.data or "null") for row in rows if row.sk.startswith("R#")]

    def audit_page(self, tenant_id: str, *, limit: int, cursor: str | None = None) -> Page:
        return self.query(tenant_id, AUDIT, limit=limit, cursor=cursor, prefix="R#")

    def _audit_rows(self, tenant_id: str, after_seq: int, page_size: int) -> Iterator[Row]:
        pk, start, after = partition(tenant_id, AUDIT), None, f"R#{after_seq:012d}"
        while True:
            rows, start = self._range(tenant_id, pk, limit=page_size, start=start, prefix="R#", after=after)
            yield from (row for row in rows if row.sk.startswith("R#"))
            if start is None:
                return

    def iter_audit_records(self, tenant_id: str, page_size: int = 500) -> Iterator[dict[str, Any]]:
        """Every record in chain order, paged lazily; a record whose JSON was mangled still comes out."""
        for row in self._audit_rows(tenant_id, 0, page_size):
            try:
                yield json.loads(row.data or "null")
            except ValueError:
                yield {"record_id": None, "seq": None, "unreadable": row.sk}

    def iter_audit_texts(self, tenant_id: str, *, after_seq: int = 0, page_size: int = 2000) -> Iterator[str | None]:
        return (row.data for row in self._audit_rows(tenant_id, after_seq, page_size))

    def audit_by_subject(self, tenant_id: str, subject: str, *, limit: int, cursor: str | None) -> Page:
        return self.lookup(tenant_id, f"{AUDIT}#{subject}", limit=limit, cursor=cursor)

    def audit_by_partner(self, tenant_id: str, partner_id: str, *, limit: int, cursor: str | None) -> Page:
        """The records concerning one partner in chain order, through its pointers (`domain.audit.partner_pointer`):
        a page reads only its records, and a cursor minted for another partner's list is refused."""
        pointers = self.query(tenant_id, partner_index(partner_id), limit=limit, cursor=cursor)
        pk = partition(tenant_id, AUDIT)
        keys = [f"R#{int(p.data['seq']):012d}" for p in pointers.items]
        rows = {row.sk: row for row in self._get_many([(tenant_id, pk, key) for key in keys])}
        return Page([self._stored(rows[key]) for key in keys if key in rows], pointers.next_cursor)

    # --- the commit protocol -----------------------------------------------------------------
    def commit(self, tenant_id: str, changes: Changes) -> list[dict[str, Any]]:
        """Apply `changes` atomically; returns the sealed audit records."""
        written = self._tenants_written(tenant_id, changes)
        self._check_writers(tenant_id, written)
        scope_tenant = next(iter(written), tenant_id)
        seen: set[str] = set()  # the reasons attempts were cancelled for, named if every attempt loses
        for attempt in range(MAX_CHAIN_RETRIES):
            lock = self._sealing() if attempt == 1 and self._sealing else None  # a first retry: at once, under it
            if attempt and lock is None:
                # Full jitter: contenders for the same chain head spread out instead of colliding again.
                time.sleep(random.uniform(0, min(BACKOFF_CAP_SECONDS, 0.005 * 2**attempt)))  # noqa: S311
            with lock or nullcontext():
                seq, prev_hash = self.audit_head(tenant_id) if changes.audit else (0, GENESIS)
                sealed_texts = self._seal_all(tenant_id, changes, seq, prev_hash)
                writes = self._writes(tenant_id, changes, sealed_texts, seq)
                if len(writes) > MAX_TRANSACTION_ITEMS:
                    raise TransactionTooLarge(
                        f"one commit writes {len(writes)} items; a transaction holds at most {MAX_TRANSACTION_ITEMS}"
                    )
                if any(not w.delete and item_bytes(w.row) > MAX_ITEM_BYTES for w in writes):
                    raise PayloadTooLarge(
                        "a record of this request exceeds DynamoDB's 400 KB item limit (held on every engine); "
                        "retrying will not help"
                    )
                try:
                    self._transact(scope_tenant, writes)
                    return [record for record, _ in sealed_texts]
                except ConditionFailed as failed:
                    gone = sorted({tenant_of(writes[i].row.pk) for i in failed.indexes
                                   if i < len(writes) and writes[i].check})
                    if gone:  # before any StaleWrite: a retry would only meet the tombstone again
                        raise offboarded(gone[0]) from failed
                    for index in failed.indexes:
                        if index < len(changes.puts):
                            raise StaleWrite(changes.puts[index].conflict_detail) from failed
                    # The chain head moved (another request appended first): re-read it and seal again.
                    seen.update(failed.codes)
        why = "; ".join(f"{RETRY_MEANING.get(code, code)} ({code})" for code in sorted(seen)) or "no reason given"
        raise ConcurrentUpdate(f"the write was cancelled {MAX_CHAIN_RETRIES} times in a row: {why}; retry")

    @staticmethod
    def _tenants_written(tenant_id: str, changes: Changes) -> set[str]:
        """Whose partitions the transaction writes: the audit chain's tenant and each put's and delete's."""
        written = {put.tenant_id or tenant_id for put in changes.puts}
        written |= {delete.tenant_id or tenant_id for delete in changes.deletes}
        if changes.audit:
            written.add(tenant_id)
        return written

    def _seal_all(self, tenant_id: str, changes: Changes, seq: int, prev_hash: str) -> list[tuple[dict[str, Any], str]]:
        found = []  # each audit record sealed on the chain head, with the text it is stored as
        at = self._clock.now_iso()
        for entry in changes.audit:
            seq += 1
            found.append(sealed(entry, tenant_id=tenant_id, seq=seq, record_id=self._ids.new("aud"), at=at,
                                prev_hash=prev_hash))
            prev_hash = found[-1][0]["hash"]
        return found

    @staticmethod
    def _writes(tenant_id: str, changes: Changes, records: list[tuple[dict[str, Any], str]], seq: int) -> list[Write]:
        """The transaction, in this order: the puts (so a failed condition's index names its put), the deletes, the
        audit records (each new, stored as its sealed text) and the chain head (conditional on the head sealed on)."""
        writes: list[Write] = []
        for put in changes.puts:
            owner = put.tenant_id or tenant_id
            lookup = put.lookup
            row = Row(
                partition(owner, put.collection),
                put.key,
                put.text if put.text is not None else dumps(put.data),
                version=(put.expected_version or 0) + 1,
                gsi1pk=partition(owner, lookup[0]) if lookup else None,
                gsi1sk=lookup[1] if lookup else None,
                expires_at=put.expires_at,
            )
            condition: str | int | None = None
            if put.must_be_absent:
                condition = ABSENT
            elif put.expected_version is not None:
                condition = put.expected_version
            writes.append(Write(row, condition=condition))
        for delete in changes.deletes:
            writes.append(Write(Row(partition(delete.tenant_id or tenant_id, delete.collection), delete.key, None),
                                delete=True))
        if records:
            audit_pk = partition(tenant_id, AUDIT)
            for record, text in records:
                row = Row(
                    audit_pk,
                    f"R#{record['seq']:012d}",
                    text,
                    gsi1pk=partition(tenant_id, f"{AUDIT}#{record['subject']}"),
                    gsi1sk=f"{record['seq']:012d}",
                )
                writes.append(Write(row, condition=ABSENT))
                if record.get("partner_id"):  # the partner's pointer to it, in the same transaction
                    collection, key, data = partner_pointer(record, record["partner_id"])
                    writes.append(Write(Row(partition(tenant_id, collection), key, dumps(data))))
            last = records[-1][0]
            head = Row(audit_pk, HEAD, dumps({"seq": last["seq"], "hash": last["hash"]}), version=last["seq"])
            writes.append(Write(head, condition=ABSENT if seq == 0 else seq))
        checks = guarded_tenants(tenant_id, changes)  # last: no tenant the change puts into may be offboarded
        return writes + [Write(tombstone_row(t), condition=ABSENT, check=True) for t in checks]

    # --- whole-tenant operations (offboarding) -----------------------------------------------
    def export_tenant(self, tenant_id: str) -> list[dict[str, Any]]:
        """Every item of the tenant as plain JSON, with what `import_tenant` needs to put it back as it was."""
        prefix = f"T#{tenant_id}#"
        return [
            {
                "collection": row.pk.removeprefix(prefix),
                "key": row.sk,
                "version": int(row.version),
                # powertools idempotency records (T#{tenant}#IDEMPOTENCY) have no data while in progress
                "data": json.loads(row.data) if row.data is not None else None,
                "lookup": [row.gsi1pk.removeprefix(prefix), row.gsi1sk] if row.gsi1pk else None,
                "expires_at": int(row.expires_at) if row.expires_at is not None else None,
            }
            for row in sorted(self._data_rows(tenant_id), key=lambda r: (r.pk, r.sk))
        ]

    def _data_rows(self, tenant_id: str) -> list[Row]:
        """The tenant's items without its tombstone: what offboarding exports and deletes (the tombstone stays and
        keeps fencing late writers until it expires with the export)."""
        tombstone = tombstone_row(tenant_id)
        return [row for row in self._tenant_rows(tenant_id) if (row.pk, row.sk) != (tombstone.pk, tombstone.sk)]

    def import_tenant(self, tenant_id: str, items: list[dict[str, Any]]) -> int:
        """Write exported items back verbatim (keys, versions, lookups, TTLs) under this tenant's prefix. The tenant
        lives again: a tombstone its offboarding left is deleted first (the export never holds it)."""
        rows = [
            Row(
                partition(tenant_id, entry["collection"]),
                entry["key"],
                dumps(entry["data"]),
                version=int(entry["version"]),
                gsi1pk=partition(tenant_id, entry["lookup"][0]) if entry.get("lookup") else None,
                gsi1sk=entry["lookup"][1] if entry.get("lookup") else None,
                expires_at=entry.get("expires_at"),
            )
            for entry in items
            if entry.get("data") is not None  # an in-flight idempotency record: nothing to restore
            and (entry["collection"], entry["key"]) != TOMBSTONE
        ]
        self._delete_rows([tombstone_row(tenant_id)])
        self._write_rows(tenant_id, rows)
        return len(rows)

    def bulk_put(self, tenant_id: str, rows: list[Row]) -> None:
        """Unconditional puts into one tenant's partitions without a transaction each (a backfill, a benchmark's
        generated history); no audit record: never for a use case's change."""
        prefix = f"T#{tenant_id}#"
        if any(not row.pk.startswith(prefix) for row in rows):
            raise ValueError(f"bulk_put writes only tenant {tenant_id!r}'s partitions")
        if self._get(tenant_id, *tombstone_key(tenant_id)) is not None:  # one read, not atomic: never a use case's
            raise offboarded(tenant_id)
        self._write_rows(tenant_id, rows)

    def delete_tenant(self, tenant_id: str) -> int:
        rows = self._data_rows(tenant_id)
        self._delete_rows(rows)
        return len(rows)
