"""The handlers' idempotency records on DynamoDB (moto) are not written back into an offboarded tenant.

docs/tenants.md (from the README): offboarding is "export, then delete everything, then prove nothing is left".
powertools records a run in
progress (PutItem), runs the handler, then writes the result over the record with UpdateItem, which creates the item
when it is missing: a run that finished after its tenant's offboarding deleted the in-progress record would leave
`T#<tenant>#IDEMPOTENCY` behind. The layer's UpdateItem now changes the record only where it still exists
(adapters.idempotency). A live tenant's redelivery is still answered from the record (DESIGN.md: "Handlers are
idempotent (powertools idempotency on DynamoDB ...)").
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest

from revgov.adapters.idempotency import once
from revgov.resources import TABLE
from revgov.settings import Settings


@pytest.fixture(scope="module")
def config() -> Iterator[Settings]:
    from aws_emulator import start_emulator

    emulator = start_emulator(0)
    table = f"idem-{uuid.uuid4().hex[:10]}"
    boto3.client("dynamodb", region_name="us-east-1", endpoint_url=emulator.endpoint_url).create_table(
        **TABLE.create_table_args(table))
    yield replace(Settings.from_env({}), backend="dynamodb", table_name=table, region="us-east-1",
                  endpoint_url=emulator.endpoint_url, tenant_role_arn=None)
    emulator.stop()


def _items(config: Settings, tenant_id: str) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb", region_name=config.region, endpoint_url=config.endpoint_url)
    found = client.query(TableName=config.table_name, KeyConditionExpression="pk = :pk",
                         ExpressionAttributeValues={":pk": {"S": f"T#{tenant_id}#IDEMPOTENCY"}}, ConsistentRead=True)
    return list(found["Items"])


def _event(tenant_id: str) -> dict[str, Any]:
    return {"detail": {"event_id": f"evt_{uuid.uuid4().hex}", "replay": 0, "tenant_id": tenant_id}}


def test_a_run_finishing_after_its_tenant_was_deleted_writes_no_record_back(config: Settings) -> None:
    tenant_id = f"t-{uuid.uuid4().hex[:10]}"
    client = boto3.client("dynamodb", region_name=config.region, endpoint_url=config.endpoint_url)

    def offboarded_while_running(bus_event: dict[str, Any]) -> dict[str, Any]:
        [in_progress] = _items(config, tenant_id)  # the record powertools put before the run
        client.delete_item(TableName=config.table_name, Key={"pk": in_progress["pk"], "sk": in_progress["sk"]})
        return {"done": bus_event["detail"]["event_id"]}

    answer = once(config, tenant_id, "probe", offboarded_while_running)(bus_event=_event(tenant_id))
    assert answer["done"].startswith("evt_")
    assert _items(config, tenant_id) == []


def test_a_live_tenants_redelivery_is_still_answered_from_its_record(config: Settings) -> None:
    tenant_id, runs = f"t-{uuid.uuid4().hex[:10]}", []

    def handle(bus_event: dict[str, Any]) -> dict[str, Any]:
        runs.append(bus_event["detail"]["event_id"])
        return {"done": bus_event["detail"]["event_id"]}

    event = _event(tenant_id)
    first = once(config, tenant_id, "probe", handle)(bus_event=event)
    again = once(config, tenant_id, "probe", handle)(bus_event=dict(event))
    assert first == again and len(runs) == 1
    [record] = _items(config, tenant_id)
    assert record["status"]["S"] == "COMPLETED"
