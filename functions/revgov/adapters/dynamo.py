"""DynamoDB document store (pynamodb): single table, every key starts with `T#{tenant}#`, audit chain in-transaction."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection, TableConnection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from ..domain.errors import PayloadTooLarge, RevgovError
from ..ports import Clock, IdGenerator
from ..resources import TABLE
from .store_base import ABSENT, RETRY_REASONS, BaseDocumentStore, ConditionFailed, Row, Write, cut_page, partition
from .tenant_sessions import CrossTenantWrite, TenantScopeError

if TYPE_CHECKING:
    from .tenant_sessions import TenantCredentials, TenantSessions

__all__ = ["DocumentBase", "DynamoDocumentStore", "document_model", "partition", "scoped_document_model"]


def _cancellation_cause(reasons: list[Any]) -> RevgovError | None:
    """The true cause of a cancelled transaction that retrying cannot fix, or None when every reason is one that
    sealing again and retrying can get past (`store_base.RETRY_MEANING`)."""
    found = [(str(r.code), str(r.message or "")) for r in reasons if r is not None and r.code]
    for code, message in found:
        if code in RETRY_REASONS:
            continue
        if code == "ItemSizeTooLarge" or "size" in message.lower():
            return PayloadTooLarge(
                f"a record of this request exceeds DynamoDB's 400 KB item limit ({code}); retrying will not help"
            )
        return RevgovError(f"DynamoDB refused the transaction ({code}: {message[:200]})")
    return None


class _Lookup(GlobalSecondaryIndex["DocumentBase"]):  # type: ignore[no-untyped-call]  # pynamodb's hook
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
    return type(f"Document_{table_name}", (DocumentBase,), {"Meta": meta})


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


class DynamoDocumentStore(BaseDocumentStore):
    """The DocumentStore port on DynamoDB: the primitives of `BaseDocumentStore` on one table (the commit protocol
    is the base's); a change, its audit records and the chain head go in one TransactWrite.

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
        super().__init__(clock, ids)
        self.model = document_model(table_name, region, host)
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

    # --- primitives ----------------------------------------------------------------------------
    @staticmethod
    def _row(item: DocumentBase) -> Row:
        return Row(
            item.pk,
            item.sk,
            item.data,
            version=int(item.version),
            gsi1pk=item.gsi1pk,
            gsi1sk=item.gsi1sk,
            expires_at=int(item.expires_at) if item.expires_at is not None else None,
        )

    def _get(self, tenant_id: str, pk: str, sk: str) -> Row | None:
        try:
            return self._row(self._model(tenant_id).get(pk, sk, consistent_read=True))
        except DoesNotExist:
            return None

    def _get_many(self, keys: list[tuple[str, str, str]]) -> list[Row]:
        by_tenant: dict[str | None, list[tuple[str, str]]] = {}  # scoped: one batch per tenant, each on its session
        for tenant_id, pk, sk in keys:
            by_tenant.setdefault(tenant_id if self.scoped else None, []).append((pk, sk))
        rows: list[Row] = []
        for owner, item_keys in by_tenant.items():
            model = self.model if owner is None else self._model(owner)
            rows.extend(self._row(item) for item in model.batch_get(list(dict.fromkeys(item_keys)),
                                                                     consistent_read=True))
        return rows

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
        model = self._model(tenant_id)
        sort_key = model.gsi1sk if index else model.sk
        condition: Condition | None = None
        if after is not None:
            condition = sort_key > after
        elif prefix:
            condition = sort_key.startswith(prefix)
        last_key = {k: {"S": v} for k, v in start.items()} if start else None
        # One item more than the page, as the embedded engine reads: DynamoDB returns a LastEvaluatedKey whenever a
        # page is full, even when nothing follows, which would end every list that fills its last page exactly with
        # a cursor to an empty page on this engine only.
        wanted = None if limit is None else limit + 1
        if index:
            result = model.lookup.query(pk, range_key_condition=condition, limit=wanted, last_evaluated_key=last_key)
        else:
            result = model.query(
                pk, range_key_condition=condition, limit=wanted, last_evaluated_key=last_key, consistent_read=True
            )
        return cut_page([self._row(item) for item in result], limit, index=index)

    def _check_writers(self, tenant_id: str, written: set[str]) -> None:
        if self.scoped and len(written) > 1:
            raise CrossTenantWrite(sorted(written))

    def _transact(self, scope_tenant: str, writes: list[Write]) -> None:
        model, connection = self._scoped_to(scope_tenant)
        try:
            with TransactWrite(connection=connection) as tx:
                for write in writes:
                    row = write.row
                    if write.check:  # the tenant's tombstone: absent, or nothing is written
                        tx.condition_check(model, row.pk, row.sk, condition=model.pk.does_not_exist())
                        continue
                    if write.delete:
                        tx.delete(model(row.pk, row.sk), add_version_condition=False)
                        continue
                    item = model(row.pk, row.sk, data=row.data, version=row.version, expires_at=row.expires_at)
                    if row.gsi1pk:
                        item.gsi1pk, item.gsi1sk = row.gsi1pk, row.gsi1sk
                    condition: Condition | None = None
                    if write.condition == ABSENT:
                        condition = model.pk.does_not_exist()
                    elif write.condition is not None:
                        condition = model.version == write.condition
                    tx.save(item, condition=condition)
        except TransactWriteError as exc:
            # not `exc.cause_response_code`: for a cause with no response (a read timeout) it raises AttributeError
            response = getattr(exc.cause, "response", None)
            code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
            if code != "TransactionCanceledException":
                raise
            # pynamodb sends the condition checks, then the deletes, then the puts: map each reason back to its write's
            # place in `writes`.
            sent = ([i for i, w in enumerate(writes) if w.check] + [i for i, w in enumerate(writes) if w.delete]
                    + [i for i, w in enumerate(writes) if not w.delete and not w.check])
            reasons = list(exc.cancellation_reasons or [])
            failed = sorted(  # a reason past the writes sent (a doctored answer) counts as the audit head's
                sent[n] if n < len(sent) else len(writes)
                for n, r in enumerate(reasons)
                if r is not None and r.code == "ConditionalCheckFailed"
            )
            cause = None if failed else _cancellation_cause(reasons)
            if cause is not None:  # retrying cannot get past it (an item over 400 KB, a validation error)
                raise cause from exc
            codes = [str(r.code) for r in reasons if r is not None and r.code and str(r.code) != "None"]
            raise ConditionFailed(failed, codes) from exc

    # --- whole-tenant operations (offboarding) -----------------------------------------------
    def _tenant_rows(self, tenant_id: str) -> list[Row]:
        if self.scoped:
            raise TenantScopeError(
                f"exporting or deleting all of tenant {tenant_id!r} scans the table, and a Scan carries no leading key "
                "for TenantAccessRole to fence: offboarding runs in the operator function (no REVGOV_TENANT_ROLE_ARN)"
            )
        scan = self.model.scan(self.model.pk.startswith(f"T#{tenant_id}#"), consistent_read=True)
        return [self._row(item) for item in scan]

    def _write_rows(self, tenant_id: str, rows: list[Row]) -> None:
        model = self._model(tenant_id)
        with model.batch_write() as batch:
            for row in rows:
                item = model(row.pk, row.sk, data=row.data, version=row.version, expires_at=row.expires_at)
                if row.gsi1pk:
                    item.gsi1pk, item.gsi1sk = row.gsi1pk, row.gsi1sk
                batch.save(item)

    def _delete_rows(self, rows: list[Row]) -> None:
        with self.model.batch_write() as batch:
            for row in rows:
                batch.delete(self.model(row.pk, row.sk))


StoreFactory = Callable[[], DynamoDocumentStore]
