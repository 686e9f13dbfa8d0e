"""What tests do behind the API's back, on whichever engine the stack runs (the embedded SQLite one by default, or
DynamoDB/EventBridge on the emulator): put an event straight on the bus, read or tamper with a stored row."""

from __future__ import annotations

from typing import Any


def put_on_bus(rt: Any, tenant_id: str, source: str, detail_type: str, detail: dict[str, Any]) -> None:
    """An event on the bus without going through a use case (as `aws events put-events` would)."""
    rt.publisher.publish(tenant_id, [{"source": source, "detail_type": detail_type, "detail": detail}])


def raw_data(rt: Any, tenant_id: str, collection: str, key: str) -> str:
    """The stored JSON of one item, as the engine holds it."""
    row = rt.store._get(tenant_id, f"T#{tenant_id}#{collection}", key)
    assert row is not None, (collection, key)
    return str(row.data)


def overwrite(rt: Any, tenant_id: str, collection: str, key: str, data: str, *, version: int | None = None,
              lookup: tuple[str, str] | None = None) -> None:
    """Write an item's stored JSON directly (an attacker with table access), bypassing the commit protocol."""
    from revgov.adapters.store_base import Row

    current = rt.store._get(tenant_id, f"T#{tenant_id}#{collection}", key)
    row = Row(
        f"T#{tenant_id}#{collection}", key, data,
        version=version if version is not None else (current.version if current else 1),
        gsi1pk=f"T#{tenant_id}#{lookup[0]}" if lookup else (current.gsi1pk if current else None),
        gsi1sk=lookup[1] if lookup else (current.gsi1sk if current else None),
    )
    rt.store._write_rows(tenant_id, [row])


def idempotency_records(rt: Any, tenant_id: str) -> dict[str, str]:
    """The tenant's powertools idempotency records: key -> status."""
    db = getattr(rt.store, "db", None)
    if db is not None:
        with db.read() as c:
            return dict(c.execute("SELECT key, status FROM idempotency WHERE tenant = ?", (tenant_id,)).fetchall())
    import boto3

    settings = rt.settings
    ddb = boto3.client("dynamodb", region_name=settings.region, endpoint_url=settings.endpoint_url)
    items = ddb.query(
        TableName=settings.table_name,
        KeyConditionExpression="#pk = :pk",
        ExpressionAttributeNames={"#pk": "pk"},
        ExpressionAttributeValues={":pk": {"S": f"T#{tenant_id}#IDEMPOTENCY"}},
        ConsistentRead=True,
    )["Items"]
    return {item["sk"]["S"]: item["status"]["S"] for item in items}

