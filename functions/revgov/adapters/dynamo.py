"""DynamoDB document store (pynamodb): single table, every key starts with `T#{tenant}#`, audit chain in-transaction."""

from __future__ import annotations

import base64
import binascii
import json
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection, TableConnection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from ..domain.audit import GENESIS, seal
from ..domain.errors import ConcurrentUpdate, Conflict, MalformedRequest, PayloadTooLarge, RevgovError
from ..ports import Changes, Clock, IdGenerator, Page, Stored
from ..resources import TABLE
from .tenant_sessions import CrossTenantWrite, TenantScopeError

if TYPE_CHECKING:
    from .tenant_sessions import TenantCredentials, TenantSessions

_AUDIT = "AUDIT"
_HEAD = "HEAD"
_MAX_CHAIN_RETRIES = 25
_BACKOFF_CAP_SECONDS = 0.25


def _json_default(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{value:f}"
    raise TypeError(f"cannot store {type(value).__name__}")


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, default=_json_default, separators=(",", ":"), ensure_ascii=False)


# Cancellation reasons after which sealing again and retrying (with backoff) can succeed: the audit head moved
# (ConditionalCheckFailed on an audit item; a put's own condition is a business conflict, raised before this),
# another transaction held one of the items, or the table throttled the write.
_RETRY_MEANING = {
    "ConditionalCheckFailed": "another request appended to this tenant's audit chain first",
    "TransactionConflict": "another transaction was writing the same items",
    "ProvisionedThroughputExceeded": "DynamoDB throttled the write",
    "ThrottlingError": "DynamoDB throttled the write",
    "RequestLimitExceeded": "DynamoDB throttled the write",
}
_RETRY_REASONS = frozenset(_RETRY_MEANING) | {"None"}


def _cancellation_cause(reasons: list[Any]) -> RevgovError | None:
    """The true cause of a cancelled transaction that retrying cannot fix, or None when every reason is one that
    sealing again and retrying can get past (`_RETRY_MEANING`)."""
    found = [(str(r.code), str(r.message or "")) for r in reasons if r is not None and r.code]
    for code, message in found:
        if code in _RETRY_REASONS:
            continue
        if code == "ItemSizeTooLarge" or "size" in message.lower():
            return PayloadTooLarge(
                f"a record of this request exceeds DynamoDB's 400 KB item limit ({code}); retrying will not help"
            )
        return RevgovError(f"DynamoDB refused the transaction ({code}: {message[:200]})")
    return None


def partition(tenant_id: str, collection: str) -> str:
    return f"T#{tenant_id}#{collection}"


class _Lookup(GlobalSecondaryIndex["DocumentBase"]):
    class Meta:
        index_name = TABLE.lookup_index
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class DocumentBase(Model):
    """One item: a JSON document with an optimistic version, an optional lookup key and TTL."""

    class Meta:
        abstract = True

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    data = UnicodeAttribute()
    version = NumberAttribute(default=1)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)
    lookup = _Lookup()


@lru_cache(maxsize=64)
def document_model(table_name: str, region: str, host: str | None) -> type[DocumentBase]:
    """A pynamodb model bound to one table (the pooled table, or a silo tenant's own)."""
    meta = type("Meta", (), {"table_name": table_name, "region": region, "host": host})
    return type(f"Document_{table_name}", (DocumentBase,), {"Meta": meta})  # type: ignore[return-value]


class _CredentialedSession:
    """What pynamodb's Connection asks its botocore session for (`create_client`), answered with a client signed by one
    tenant session's credentials and nothing else."""

    def __init__(self, sessions: TenantSessions, credentials: TenantCredentials) -> None:
        self._sessions = sessions
        self._credentials = credentials

    def create_client(self, service: str, region: str | None = None, **kwargs: Any) -> Any:
        return self._sessions.client(service, self._credentials, region_name=region, **kwargs)


class _ScopedConnection(Connection):
    """A pynamodb Connection whose every request is signed with one tenant's `TenantAccessRole` session."""

    def __init__(self, region: str, host: str | None, sessions: TenantSessions, credentials: TenantCredentials) -> None:
        super().__init__(region=region, host=host)
        self.credentials = credentials
        self._credentialed = _CredentialedSession(sessions, credentials)

    @property
    def session(self) -> Any:  # botocore would otherwise fall back to the function's own credentials
        return self._credentialed


def scoped_document_model(
    table_name: str, region: str, host: str | None, connection: Connection
) -> type[DocumentBase]:
    """The table's model, with every request (item, query, index, batch) going through `connection`."""
    # The key schema, as pynamodb derives it from the model (no DescribeTable).
    meta_table = document_model(table_name, region, host)._get_connection().get_meta_table()
    table = TableConnection(table_name, region=region, host=host)
    table.connection = connection
    connection.add_meta_table(meta_table)
    meta = type("Meta", (), {"table_name": table_name, "region": region, "host": host})
    namespace = {"Meta": meta, "_connection": table}  # a connection of its own: never the shared model's
    model: type[DocumentBase] = type(f"Document_{table_name}_scoped", (DocumentBase,), namespace)
    return model


def _encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    plain = {k: next(iter(v.values())) if isinstance(v, dict) else v for k, v in last_key.items()}
    return base64.urlsafe_b64encode(_dumps(plain).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None, partition_key: str, expected: str) -> dict[str, Any] | None:
    """Cursors are opaque to callers but checked here: one minted for another partition is refused."""
    if not cursor:
        return None
    try:
        plain = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise MalformedRequest("cursor is not valid") from exc
    if (
        not isinstance(plain, dict)
        or plain.get(partition_key) != expected
        or not all(isinstance(v, str) for v in plain.values())
    ):
        raise MalformedRequest("cursor is not valid for this list")
    return {k: {"S": v} for k, v in plain.items()}


class DynamoDocumentStore:
    """The DocumentStore port on DynamoDB. Audit records go in the same TransactWrite as the change.

    With `sessions` (REVGOV_TENANT_ROLE_ARN set), every request on a tenant's partition is signed with that tenant's
    `TenantAccessRole` session, so IAM (dynamodb:LeadingKeys) refuses anything outside `T#<tenant>#`; a transaction
    spanning two tenants and the whole-table scans of offboarding are refused here, before IAM would.
    Without it, the function's own credentials are used for everything (the local stack, the operator function).
    """

    MAX_SCOPED_TENANTS = 256  # tenant clients kept per process (each ~0.2 MB); least recently used go first

    def __init__(
        self,
        table_name: str,
        region: str,
        clock: Clock,
        ids: IdGenerator,
        host: str | None = None,
        sessions: TenantSessions | None = None,
    ) -> None:
        self.model = document_model(table_name, region, host)
        self._clock = clock
        self._ids = ids
        self._table_name = table_name
        self._region = region
        self._host = host
        self._connection = Connection(region=region, host=host)
        self._sessions = sessions
        self._scoped: OrderedDict[str, tuple[TenantCredentials, type[DocumentBase], Connection]] = OrderedDict()
        self._scoped_lock = threading.Lock()

    @property
    def scoped(self) -> bool:
        return self._sessions is not None

    def _scoped_to(self, tenant_id: str) -> tuple[type[DocumentBase], Connection]:
        """The model and connection for one tenant's partitions: its own session's, or the shared ones unscoped."""
        if self._sessions is None:
            return self.model, self._connection
        credentials = self._sessions.credentials(tenant_id)
        with self._scoped_lock:
            current = self._scoped.get(tenant_id)
            if current is None or current[0] is not credentials:  # first use, or the session was renewed
                connection = _ScopedConnection(self._region, self._host, self._sessions, credentials)
                model = scoped_document_model(self._table_name, self._region, self._host, connection)
                current = (credentials, model, connection)
                self._scoped[tenant_id] = current
            self._scoped.move_to_end(tenant_id)
            while len(self._scoped) > self.MAX_SCOPED_TENANTS:
                self._scoped.popitem(last=False)
            return current[1], current[2]

    def _model(self, tenant_id: str) -> type[DocumentBase]:
        return self._scoped_to(tenant_id)[0]

    # --- reads -------------------------------------------------------------------------------
    def _stored(self, item: DocumentBase) -> Stored:
        return Stored(key=item.sk, data=json.loads(item.data), version=int(item.version))

    def get(self, tenant_id: str, collection: str, key: str) -> Stored | None:
        model = self._model(tenant_id)
        try:
            return self._stored(model.get(partition(tenant_id, collection), key, consistent_read=True))
        except DoesNotExist:
            return None

    def get_many(self, refs: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], Stored]:
        wanted = {(partition(t, c), k): (t, c, k) for t, c, k in refs}
        by_tenant: dict[str | None, list[tuple[str, str]]] = {}  # scoped: one batch per tenant, each on its session
        for item_key, (t, _, _) in wanted.items():
            by_tenant.setdefault(t if self.scoped else None, []).append(item_key)
        found: dict[tuple[str, str, str], Stored] = {}
        for tenant_id, keys in by_tenant.items():
            model = self.model if tenant_id is None else self._model(tenant_id)
            for item in model.batch_get(keys, consistent_read=True):
                found[wanted[(item.pk, item.sk)]] = self._stored(item)
        return found

    def query(
        self, tenant_id: str, collection: str, *, limit: int, cursor: str | None = None, prefix: str = ""
    ) -> Page:
        pk = partition(tenant_id, collection)
        model = self._model(tenant_id)
        condition = model.sk.startswith(prefix) if prefix else None
        result = model.query(
            pk,
            range_key_condition=condition,
            limit=limit,
            last_evaluated_key=_decode_cursor(cursor, "pk", pk),
            consistent_read=True,
        )
        items = [self._stored(item) for item in result]
        return Page(items, _encode_cursor(result.last_evaluated_key))

    def lookup(
        self, tenant_id: str, index_partition: str, *, limit: int, cursor: str | None = None, prefix: str = ""
    ) -> Page:
        gpk = partition(tenant_id, index_partition)
        model = self._model(tenant_id)
        result = model.lookup.query(
            gpk,
            range_key_condition=model.gsi1sk.startswith(prefix) if prefix else None,
            limit=limit,
            last_evaluated_key=_decode_cursor(cursor, "gsi1pk", gpk),
        )
        items = [self._stored(item) for item in result]
        return Page(items, _encode_cursor(result.last_evaluated_key))

    # --- the audit chain ---------------------------------------------------------------------
    def audit_head(self, tenant_id: str) -> tuple[int, str]:
        head = self.get(tenant_id, _AUDIT, _HEAD)
        return (int(head.data["seq"]), str(head.data["hash"])) if head else (0, GENESIS)

    def audit_records(self, tenant_id: str, *, after_seq: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        pk = partition(tenant_id, _AUDIT)
        model = self._model(tenant_id)
        result = model.query(
            pk, range_key_condition=model.sk > f"R#{after_seq:012d}", limit=limit, consistent_read=True
        )
        return [json.loads(item.data) for item in result if item.sk.startswith("R#")]

    def audit_page(self, tenant_id: str, *, limit: int, cursor: str | None = None) -> Page:
        return self.query(tenant_id, _AUDIT, limit=limit, cursor=cursor, prefix="R#")

    def iter_audit_records(self, tenant_id: str) -> Iterator[dict[str, Any]]:
        """Every record in chain order, paged lazily; a record whose JSON was mangled still comes out."""
        model = self._model(tenant_id)
        for item in model.query(partition(tenant_id, _AUDIT), model.sk.startswith("R#"), consistent_read=True):
            try:
                yield json.loads(item.data)
            except ValueError:
                yield {"record_id": None, "seq": None, "unreadable": item.sk}

    def audit_by_subject(self, tenant_id: str, subject: str, *, limit: int, cursor: str | None) -> Page:
        return self.lookup(tenant_id, f"{_AUDIT}#{subject}", limit=limit, cursor=cursor)

    # --- writes ------------------------------------------------------------------------------
    def commit(self, tenant_id: str, changes: Changes) -> list[dict[str, Any]]:
        written = self._tenants_written(tenant_id, changes)
        if self.scoped and len(written) > 1:
            raise CrossTenantWrite(sorted(written))
        session_tenant = next(iter(written), tenant_id)
        seen: set[str] = set()  # the cancellation reasons met, for the message if every attempt loses
        for attempt in range(_MAX_CHAIN_RETRIES):
            if attempt:
                # Full jitter: contenders for the same chain head spread out instead of colliding again.
                time.sleep(random.uniform(0, min(_BACKOFF_CAP_SECONDS, 0.005 * 2**attempt)))  # noqa: S311
            seq, prev_hash = self.audit_head(tenant_id) if changes.audit else (0, GENESIS)
            sealed = self._seal_all(tenant_id, changes, seq, prev_hash)
            try:
                self._transact(tenant_id, changes, sealed, seq, session_tenant)
                return sealed
            except TransactWriteError as exc:
                reasons = list(exc.cancellation_reasons or [])
                business = self._business_conflict(changes, reasons)
                if business:
                    raise business from exc
                if exc.cause_response_code != "TransactionCanceledException":
                    raise
                cause = _cancellation_cause(reasons)
                if cause is not None:
                    raise cause from exc
                # The chain head moved (another request appended first): re-read it and seal again.
                seen.update(str(r.code) for r in reasons if r is not None and r.code and str(r.code) != "None")
        why = "; ".join(f"{_RETRY_MEANING.get(code, code)} ({code})" for code in sorted(seen)) or "no reason given"
        raise ConcurrentUpdate(f"the write was cancelled {_MAX_CHAIN_RETRIES} times in a row: {why}; retry")

    @staticmethod
    def _tenants_written(tenant_id: str, changes: Changes) -> set[str]:
        """Whose partitions the transaction writes: the audit chain's tenant and each put's and delete's."""
        written = {put.tenant_id or tenant_id for put in changes.puts}
        written |= {delete.tenant_id or tenant_id for delete in changes.deletes}
        if changes.audit:
            written.add(tenant_id)
        return written

    def _seal_all(self, tenant_id: str, changes: Changes, seq: int, prev_hash: str) -> list[dict[str, Any]]:
        sealed = []
        at = self._clock.now_iso()
        for entry in changes.audit:
            seq += 1
            record = seal(
                entry, tenant_id=tenant_id, seq=seq, record_id=self._ids.new("aud"), at=at, prev_hash=prev_hash
            )
            sealed.append(record)
            prev_hash = record["hash"]
        return sealed

    def _transact(
        self, tenant_id: str, changes: Changes, sealed: list[dict[str, Any]], seq: int, session_tenant: str
    ) -> None:
        model, connection = self._scoped_to(session_tenant)
        with TransactWrite(connection=connection) as tx:
            for put in changes.puts:
                item = model(
                    partition(put.tenant_id or tenant_id, put.collection),
                    put.key,
                    data=_dumps(put.data),
                    version=(put.expected_version or 0) + 1,
                    expires_at=put.expires_at,
                )
                if put.lookup:
                    item.gsi1pk, item.gsi1sk = partition(put.tenant_id or tenant_id, put.lookup[0]), put.lookup[1]
                condition = None
                if put.must_be_absent:
                    condition = model.pk.does_not_exist()
                elif put.expected_version is not None:
                    condition = model.version == put.expected_version
                tx.save(item, condition=condition)
            for delete in changes.deletes:
                tx.delete(
                    model(partition(delete.tenant_id or tenant_id, delete.collection), delete.key),
                    add_version_condition=False,
                )
            if sealed:
                audit_pk = partition(tenant_id, _AUDIT)
                for record in sealed:
                    entry = model(audit_pk, f"R#{record['seq']:012d}", data=_dumps(record))
                    entry.gsi1pk = partition(tenant_id, f"{_AUDIT}#{record['subject']}")
                    entry.gsi1sk = f"{record['seq']:012d}"
                    tx.save(entry, condition=model.pk.does_not_exist())
                last = sealed[-1]
                head = model(
                    audit_pk, _HEAD, data=_dumps({"seq": last["seq"], "hash": last["hash"]}), version=last["seq"]
                )
                tx.save(head, condition=model.pk.does_not_exist() if seq == 0 else model.version == seq)

    @staticmethod
    def _business_conflict(changes: Changes, reasons: list[Any]) -> Conflict | None:
        for put, reason in zip(changes.puts, reasons, strict=False):  # reasons also cover deletes and audit
            if reason is not None and reason.code == "ConditionalCheckFailed":
                return Conflict(put.conflict_detail)
        return None

    # --- whole-tenant operations (offboarding) -----------------------------------------------
    def _scan_tenant(self, tenant_id: str) -> list[DocumentBase]:
        if self.scoped:
            raise TenantScopeError(
                f"exporting or deleting all of tenant {tenant_id!r} scans the table, and a Scan carries no leading key "
                "for TenantAccessRole to fence: offboarding runs in the operator function (no REVGOV_TENANT_ROLE_ARN)"
            )
        return list(self.model.scan(self.model.pk.startswith(f"T#{tenant_id}#"), consistent_read=True))

    def export_tenant(self, tenant_id: str) -> list[dict[str, Any]]:
        """Every item of the tenant as plain JSON, with what `import_tenant` needs to put it back as it was."""
        prefix = f"T#{tenant_id}#"
        return [
            {
                "collection": item.pk.removeprefix(prefix),
                "key": item.sk,
                "version": int(item.version),
                # powertools idempotency records (T#{tenant}#IDEMPOTENCY) have no data while in progress
                "data": json.loads(item.data) if item.data is not None else None,
                "lookup": [item.gsi1pk.removeprefix(prefix), item.gsi1sk] if item.gsi1pk else None,
                "expires_at": int(item.expires_at) if item.expires_at is not None else None,
            }
            for item in sorted(self._scan_tenant(tenant_id), key=lambda i: (i.pk, i.sk))
        ]

    def import_tenant(self, tenant_id: str, items: list[dict[str, Any]]) -> int:
        """Write exported items back verbatim (keys, versions, lookups, TTLs) under this tenant's prefix."""
        model = self._model(tenant_id)
        with model.batch_write() as batch:
            for entry in items:
                if entry.get("data") is None:
                    continue  # an in-flight idempotency record: nothing to restore
                item = model(
                    partition(tenant_id, entry["collection"]),
                    entry["key"],
                    data=_dumps(entry["data"]),
                    version=int(entry["version"]),
                    expires_at=entry.get("expires_at"),
                )
                if entry.get("lookup"):
                    item.gsi1pk, item.gsi1sk = partition(tenant_id, entry["lookup"][0]), entry["lookup"][1]
                batch.save(item)
        return sum(1 for entry in items if entry.get("data") is not None)

    def delete_tenant(self, tenant_id: str) -> int:
        items = self._scan_tenant(tenant_id)
        with self.model.batch_write() as batch:
            for item in items:
                batch.delete(item)
        return len(items)


StoreFactory = Callable[[], DynamoDocumentStore]
