"""A powertools idempotency persistence layer on the embedded database, so the handlers keep using powertools'
`idempotent_function` on the local product exactly as they do on DynamoDB in AWS.

Same conditions as powertools' DynamoDBPersistenceLayer: a record can be put when none exists, when it has expired,
or when it is still in progress past its in-progress expiry (a run that crashed); checked and written in one
transaction under the write lock. Records are per tenant (`tenant`, as `T#{tenant}#IDEMPOTENCY` in DynamoDB) and go
with the tenant when it is offboarded.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import STATUS_CONSTANTS, DataRecord

from .sqlite_db import Database
from .system import real_time

_SELECT = (
    "SELECT key, status, expiry, in_progress_expiry, data, validation FROM idempotency WHERE tenant = ? AND key = ?"
)


class SqlitePersistenceLayer(BasePersistenceLayer):
    def __init__(self, db: Database, tenant_id: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # powertools' base class is not annotated
        self._db = db
        self._tenant = tenant_id

    def _record(self, row: tuple[Any, ...]) -> DataRecord:
        key, status, expiry, in_progress_expiry, data, validation = row
        return DataRecord(
            idempotency_key=key,
            status=status,
            expiry_timestamp=expiry,
            in_progress_expiry_timestamp=in_progress_expiry,
            response_data=data or "",
            payload_hash=validation or "",
        )

    def _select(self, c: Any, key: str) -> tuple[Any, ...] | None:
        found: tuple[Any, ...] | None = c.execute(_SELECT, (self._tenant, key)).fetchone()
        return found

    def _get_record(self, idempotency_key: str) -> DataRecord:
        found = self._db.fetch_one(_SELECT, (self._tenant, idempotency_key))
        if found is None:
            raise IdempotencyItemNotFoundError
        return self._record(found)

    def _put_record(self, data_record: DataRecord) -> None:
        now = real_time()  # powertools dates its records by the real clock (datetime.now()), so expiry is judged by it
        with self._db.write() as c:
            found = self._select(c, data_record.idempotency_key)
            if found is not None:
                _, status, expiry, in_progress_expiry, _, _ = found
                expired = expiry < int(now)
                crashed = (
                    status == STATUS_CONSTANTS["INPROGRESS"]
                    and in_progress_expiry is not None
                    and in_progress_expiry < int(now * 1000)
                )
                if not (expired or crashed):
                    old = self._record(found)
                    self._validate_payload(data_payload=data_record, stored_data_record=old)
                    raise IdempotencyItemAlreadyExistsError(old_data_record=old)
            c.execute(
                "INSERT OR REPLACE INTO idempotency "
                "(tenant, key, status, expiry, in_progress_expiry, data, validation) VALUES (?, ?, ?, ?, ?, NULL, ?)",
                (
                    self._tenant,
                    data_record.idempotency_key,
                    data_record.status,
                    data_record.expiry_timestamp,
                    data_record.in_progress_expiry_timestamp,
                    data_record.payload_hash if self.payload_validation_enabled else None,
                ),
            )

    def _update_record(self, data_record: DataRecord) -> None:
        with self._db.write() as c:
            c.execute(
                "UPDATE idempotency SET data = ?, expiry = ?, status = ?, validation = COALESCE(?, validation) "
                "WHERE tenant = ? AND key = ?",
                (
                    data_record.response_data,
                    data_record.expiry_timestamp,
                    data_record.status,
                    data_record.payload_hash if self.payload_validation_enabled else None,
                    self._tenant,
                    data_record.idempotency_key,
                ),
            )

    def _delete_record(self, data_record: DataRecord) -> None:
        with self._db.write() as c:
            c.execute(
                "DELETE FROM idempotency WHERE tenant = ? AND key = ?", (self._tenant, data_record.idempotency_key)
            )
