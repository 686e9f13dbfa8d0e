"""Event-handler idempotency: powertools on the Revgov table, with every record inside its tenant's partition.

Records live under `T#{tenant}#IDEMPOTENCY` (the `pk`/`sk` of the one table), so the IAM leading-key fence that
holds for every other item holds for them too; they expire after 48 h through the table's TTL attribute.
The key is the Revgov event id and its replay count: a redelivery is answered from the record, a deliberate replay
runs again (the billing guards still make its effect happen once).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from ..resources import TABLE
from ..settings import Settings

# Outside Lambda (the local router) there is no invocation context to bound an in-progress record by; in Lambda
# `register_context` hands it over, so the warning only ever says "not in Lambda".
warnings.filterwarnings("ignore", message="Couldn't determine the remaining time left", category=UserWarning)
KEEP_SECONDS = 48 * 3600
CONFIG = IdempotencyConfig(
    event_key_jmespath="detail.[event_id, replay]",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=KEEP_SECONDS,
    use_local_cache=False,
)


def register_context(context: Any) -> None:
    """In Lambda, an in-progress record expires with the invocation, so a crashed run does not block redelivery."""
    if context is not None:
        CONFIG.register_lambda_context(context)


@lru_cache(maxsize=4)
def _client(region: str, endpoint_url: str | None) -> Any:
    import boto3

    return boto3.client("dynamodb", region_name=region, endpoint_url=endpoint_url)


@lru_cache(maxsize=512)
def _store(tenant_id: str, table_name: str, region: str, endpoint_url: str | None) -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(
        table_name=table_name,
        key_attr=TABLE.partition_key,
        sort_key_attr=TABLE.sort_key,
        static_pk_value=f"T#{tenant_id}#IDEMPOTENCY",
        expiry_attr=TABLE.ttl_attribute,
        data_attr="data",
        boto3_client=_client(region, endpoint_url),
    )


def once(config: Settings, tenant_id: str, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` guarded per tenant; call it with the bus event as the keyword argument `bus_event`."""
    store = _store(tenant_id, config.table_name, config.region, config.endpoint_url)
    guarded: Callable[..., Any] = idempotent_function(
        function, data_keyword_argument="bus_event", persistence_store=store, config=CONFIG, key_prefix=name
    )
    return guarded
