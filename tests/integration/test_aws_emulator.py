"""The patches tests/aws_emulator.py applies to moto (for the AWS adapters' tests only; the product never imports it),
each held to what DynamoDB documents:

- TransactWriteItems: "If any action fails its condition, the entire TransactWriteItems operation is canceled ... and
  none of the actions are applied" (cancellation reasons in request order);
- Query on the table's key reads the one partition, in sort-key order;
- a conditional write checks and writes atomically, also across the threaded server's request threads.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from revgov.resources import TABLE


@pytest.fixture(scope="module")
def ddb() -> Iterator[tuple[Any, str]]:
    from aws_emulator import start_emulator

    emulator = start_emulator(0)
    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=emulator.endpoint_url)
    table = f"emu-{uuid.uuid4().hex[:8]}"
    client.create_table(**TABLE.create_table_args(table))
    yield client, table
    emulator.stop()


def _put(table: str, pk: str, sk: str, *, absent: bool = False) -> dict[str, Any]:
    put: dict[str, Any] = {"TableName": table, "Item": {"pk": {"S": pk}, "sk": {"S": sk}}}
    if absent:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    return {"Put": put}


def test_a_transaction_with_one_failed_condition_applies_nothing_and_names_it(ddb):
    client, table = ddb
    client.put_item(TableName=table, Item={"pk": {"S": "A"}, "sk": {"S": "taken"}})
    with pytest.raises(ClientError) as cancelled:
        client.transact_write_items(TransactItems=[
            _put(table, "A", "first"), _put(table, "A", "taken", absent=True), _put(table, "A", "third"),
        ])
    reasons = [r.get("Code") for r in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed", "None"]
    listed = client.query(TableName=table, KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues={":p": {"S": "A"}})["Items"]
    assert [i["sk"]["S"] for i in listed] == ["taken"]


def test_a_query_on_the_key_reads_its_partition_only_in_order(ddb):
    client, table = ddb
    for pk in ("P1", "P2", "P0"):
        for sk in ("c", "a", "b"):
            client.put_item(TableName=table, Item={"pk": {"S": pk}, "sk": {"S": sk}})
    listed = client.query(TableName=table, KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues={":p": {"S": "P1"}})["Items"]
    assert [(i["pk"]["S"], i["sk"]["S"]) for i in listed] == [("P1", "a"), ("P1", "b"), ("P1", "c")]


def test_concurrent_conditional_puts_of_one_key_let_exactly_one_through(ddb):
    client, table = ddb
    wins: list[int] = []

    def attempt(n: int) -> None:
        try:
            client.transact_write_items(TransactItems=[_put(table, "ONE", "key", absent=True)])
            wins.append(n)
        except ClientError:
            pass

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wins) == 1
