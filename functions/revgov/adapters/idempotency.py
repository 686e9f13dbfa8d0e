"""Event-handler idempotency: powertools on the Revgov table, with every record inside its tenant's partition.

Records live under `T#{tenant}#IDEMPOTENCY` (the `pk`/`sk` of the one table), so the IAM leading-key fence that
holds for every other item holds for them too; they expire after 48 h through the table's TTL attribute.
The key is the Revgov event id and its replay count: a redelivery is answered from the record, a deliberate replay
runs again (the billing guards still make its effect happen once).
With REVGOV_TENANT_ROLE_ARN set, the layer's DynamoDB client is signed with the tenant's `TenantAccessRole` session
(the same sessions as the document store), so the fence is enforced by IAM on these records as well.
"""

from __future__ import annotations

import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from ..logs import logger
from ..resources import TABLE
from ..settings import Settings

# Called without an invocation context (a test calling a handler directly), powertools warns that it cannot bound an
# in-progress record; Lambda and the local router always hand one over.
warnings.filterwarnings("ignore", message="Couldn't determine the remaining time left", category=UserWarning)
KEEP_SECONDS = 48 * 3600


def _config(context: Any) -> IdempotencyConfig:
    """One configuration per invocation: an in-progress record expires with `context`'s remaining time, so a run
    that crashed after its commit does not block the redeliveries (a shared, mutable one would let concurrent
    invocations of the local router bound each other's records)."""
    config = IdempotencyConfig(
        event_key_jmespath="detail.[event_id, replay]",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=KEEP_SECONDS,
        use_local_cache=False,
    )
    if context is not None:
        config.register_lambda_context(context)
    return config


@lru_cache(maxsize=4)
def _client(region: str, endpoint_url: str | None) -> Any:
    import boto3

    return boto3.client("dynamodb", region_name=region, endpoint_url=endpoint_url)


class _UpdatesOnlyWhatExists:
    """The layer's DynamoDB client, whose UpdateItem (powertools' `_update_record`: a run's result written over its
    in-progress record) changes the record only where it still exists. UpdateItem creates a missing item: a run that
    finished after its tenant was offboarded (the in-progress record exported and deleted) would write the tenant's
    `T#<tenant>#IDEMPOTENCY` item back. Such a run's result is not recorded (logged); a redelivery of its event is
    dropped (its tenant is gone). Every other call goes to the client as it is."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def update_item(self, **request: Any) -> Any:
        if "ConditionExpression" not in request:
            request["ConditionExpression"] = "attribute_exists(#revgov_pk)"
            request["ExpressionAttributeNames"] = {**request.get("ExpressionAttributeNames", {}),
                                                   "#revgov_pk": TABLE.partition_key}
        try:
            return self._client.update_item(**request)
        except self._client.exceptions.ConditionalCheckFailedException:
            logger.info("idempotency record gone before its run finished (tenant offboarded): not written back",
                        extra={"key": request.get("Key")})
            return {}


def _layer(tenant_id: str, table_name: str, client: Any) -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(
        table_name=table_name,
        key_attr=TABLE.partition_key,
        sort_key_attr=TABLE.sort_key,
        static_pk_value=f"T#{tenant_id}#IDEMPOTENCY",
        expiry_attr=TABLE.ttl_attribute,
        data_attr="data",
        boto3_client=cast(Any, _UpdatesOnlyWhatExists(client)),  # the client, with UpdateItem conditioned
    )


@lru_cache(maxsize=512)
def _store(tenant_id: str, table_name: str, region: str, endpoint_url: str | None) -> DynamoDBPersistenceLayer:
    return _layer(tenant_id, table_name, _client(region, endpoint_url))


_scoped_stores: OrderedDict[tuple[str, ...], tuple[Any, DynamoDBPersistenceLayer]] = OrderedDict()
_scoped_lock = threading.Lock()
_MAX_SCOPED = 256


def _scoped_store(config: Settings, role_arn: str, tenant_id: str) -> DynamoDBPersistenceLayer:
    """The tenant's layer on a client signed with its TenantAccessRole session; rebuilt when the session renews."""
    from .tenant_sessions import tenant_sessions

    sessions = tenant_sessions(role_arn, config.region, config.endpoint_url)
    credentials = sessions.credentials(tenant_id)
    key = (tenant_id, config.table_name, role_arn, config.region, config.endpoint_url or "")
    with _scoped_lock:
        current = _scoped_stores.get(key)
        if current is None or current[0] is not credentials:
            client = sessions.client("dynamodb", credentials, endpoint_url=config.endpoint_url)
            current = (credentials, _layer(tenant_id, config.table_name, client))
            _scoped_stores[key] = current
        _scoped_stores.move_to_end(key)
        while len(_scoped_stores) > _MAX_SCOPED:
            _scoped_stores.popitem(last=False)
        return current[1]


@lru_cache(maxsize=512)
def _embedded_store(data_file: Path, tenant_id: str) -> Any:
    """The embedded engine's layer (adapters.sqlite_idempotency): the same powertools protocol on the SQLite file."""
    from .sqlite_db import database
    from .sqlite_idempotency import SqlitePersistenceLayer

    return SqlitePersistenceLayer(database(data_file), tenant_id)


def once(
    config: Settings, tenant_id: str, name: str, function: Callable[..., Any], context: Any = None
) -> Callable[..., Any]:
    """`function` guarded per tenant; call it with the bus event as the keyword argument `bus_event`. `context` is
    the invocation's (Lambda's, or the local router's): it bounds how long a crashed run's record stays in progress."""
    store: Any
    if config.backend == "sqlite":
        store = _embedded_store(config.data_file, tenant_id)
    elif config.tenant_role_arn:
        store = _scoped_store(config, config.tenant_role_arn, tenant_id)
    else:
        store = _store(tenant_id, config.table_name, config.region, config.endpoint_url)
    guarded: Callable[..., Any] = idempotent_function(
        function, data_keyword_argument="bus_event", persistence_store=store, config=_config(context), key_prefix=name
    )
    return guarded
