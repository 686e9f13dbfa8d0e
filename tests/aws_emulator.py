"""moto's threaded server on loopback, with the environment pointed at it (no AWS account needed)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@dataclass
class Emulator:
    server: Any
    endpoint_url: str

    def stop(self) -> None:
        self.server.stop()


_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
# Reads too: moto's get_item on a missing partition inserts an empty entry into the table's defaultdict, which
# breaks a concurrent transaction's deepcopy of the table ("dictionary changed size during iteration").
_READS = ("get_item", "query", "scan")  # (batch gets go through get_item)
_serialized = False


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto's TransactWriteItems without its rollback copy of every table it touches (a deepcopy of the whole table
    per transaction: O(table) time and memory, which made the local stack slow down as it filled). Same semantics,
    closer to DynamoDB's: every condition is checked before anything is written, and only the items the
    transaction touches are kept for a rollback."""
    import copy

    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    targets: set[tuple[str, str]] = set()
    checked: list[tuple[str, dict[str, Any], str, dict[str, Any], Any]] = []
    errors: list[tuple[str | None, str | None, dict[str, Any] | None]] = []
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(item.items()))
        if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
            raise ValueError("Unsupported transaction operation")
        table_name = op["TableName"]
        if op_type == "Put":
            table = self.get_table(table_name)
            key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = op["Item"][table.range_key_attr]
        else:
            key = op["Key"]
        target = (str(table_name), str(dict(sorted(key.items()))))
        if target in targets:
            raise MultipleTransactionsException()
        targets.add(target)
        current = self.get_item(table_name, key)
        error: tuple[str | None, str | None, dict[str, Any] | None] = (None, None, None)
        if op.get("ConditionExpression") is not None:
            condition = get_filter_expression(
                op["ConditionExpression"], op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            )
            if not condition.expr(current):
                old = current.to_json()["Attributes"] if current and op.get(
                    "ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else None
                error = ("ConditionalCheckFailed", ConditionalCheckFailed(item=old).message, old)
        errors.append(error)
        checked.append((op_type, op, table_name, key, copy.deepcopy(current)))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    applied: list[tuple[str, dict[str, Any], Any]] = []
    for index, (op_type, op, table_name, key, before) in enumerate(checked):
        try:
            if op_type == "Put":
                self.put_item(table_name, op["Item"])
            elif op_type == "Delete":
                self.delete_item(table_name, key)
            elif op_type == "Update":
                self.update_item(
                    table_name,
                    key,
                    update_expression=op["UpdateExpression"],
                    expression_attribute_names=op.get("ExpressionAttributeNames"),
                    expression_attribute_values=op.get("ExpressionAttributeValues"),
                )
            applied.append((table_name, key, before))
        except Exception as failed:
            for name, touched, old in reversed(applied):  # put back what this transaction already wrote
                if old is None:
                    self.delete_item(name, touched)
                else:
                    self.put_item(name, old.to_json()["Attributes"])
            cancelled: list[tuple[str | None, str | None, dict[str, Any] | None]] = [(None, None, None)] * len(
                checked
            )
            cancelled[index] = (type(failed).__name__, str(failed), None)
            raise TransactionCanceledException(cancelled) from failed


def _query_one_partition() -> None:
    """moto answers a query on the table's own key by sorting every item of the table and keeping the partition's
    (O(table) per query, where DynamoDB reads only the partition). For such queries the first item listing a query
    asks for is the partition alone; index queries are left as moto does them."""
    import threading

    from moto.dynamodb.models.table import Table

    hint = threading.local()
    query, all_items = Table.query, Table.all_items

    def partition_query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        hint.partition = None if index_name or hash_key is None else hash_key
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            hint.partition = None

    def partition_items(self: Any) -> Any:
        key = getattr(hint, "partition", None)
        if key is None:
            return all_items(self)
        hint.partition = None  # once: the listing of candidates
        bucket = self.items.get(key)
        if bucket is None:
            return []
        items = list(bucket.values()) if self.range_key_attr else [bucket]
        return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)

    Table.query = partition_query  # type: ignore[method-assign]
    Table.all_items = partition_items  # type: ignore[method-assign]


def _serialize_dynamodb_writes() -> None:
    """DynamoDB checks a condition and writes atomically, and transactions are serializable; moto's threaded
    server does neither across threads. One lock around its write operations restores what the code relies on."""
    global _serialized
    if _serialized:
        return
    import functools
    import threading

    from moto.dynamodb.models import DynamoDBBackend

    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    _query_one_partition()
    lock = threading.RLock()
    for name in (*_WRITES, *_READS):
        original = getattr(DynamoDBBackend, name)

        def locked(*args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return __original(*args, **kwargs)

        setattr(DynamoDBBackend, name, functools.wraps(original)(locked))
    _serialized = True


def start_emulator(port: int = 0) -> Emulator:
    """Start moto on 127.0.0.1 (a free port by default) and export AWS_ENDPOINT_URL and dummy credentials."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    _serialize_dynamodb_writes()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    endpoint = f"http://{host}:{bound}"
    os.environ.update(LOCAL_CREDENTIALS)
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    return Emulator(server, endpoint)
