"""Fault injection at the AWS client boundary: every botocore call in this process (pynamodb's DynamoDB client,
the EventBridge publisher, SQS, powertools' idempotency table, Bedrock) passes through `Faults`, which can answer a
chosen call with an AWS error, a timeout or a doctored response, a given number of times, for one tenant only.

The local stack runs in the test process, so a fault set here is met by the API, the event router and the handlers
exactly where an AWS outage would meet them, through the real adapters.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import botocore.client
from botocore.exceptions import ClientError, ReadTimeoutError


@dataclass
class Fault:
    operation: str  # e.g. TransactWriteItems, PutEvents, UpdateItem
    match: Callable[[dict[str, Any]], bool]
    code: str | None = "ProvisionedThroughputExceededException"
    times: int | None = 1  # None: every matching call
    timeout: bool = False
    # A doctored answer instead of an error: respond(params, send) where send(params) makes the real call.
    respond: Callable[[dict[str, Any], Callable[[dict[str, Any]], Any]], dict[str, Any]] | None = None
    cancellation: list[str] | None = None  # TransactionCanceledException reasons
    hits: int = 0

    def due(self, operation: str, params: dict[str, Any]) -> bool:
        return operation == self.operation and (self.times is None or self.hits < self.times) and self.match(params)


class Faults:
    """The active faults; `inject` adds one for the duration of a `with` block."""

    def __init__(self) -> None:
        self.active: list[Fault] = []
        self._lock = threading.Lock()
        self._original = botocore.client.BaseClient._make_api_call

    def _call(self, client: Any, operation: str, params: dict[str, Any]) -> Any:
        with self._lock:
            fault = next((f for f in self.active if f.due(operation, params)), None)
            if fault is not None:
                fault.hits += 1
        if fault is None:
            return self._original(client, operation, params)
        if fault.respond is not None:
            return fault.respond(params, lambda sent: self._original(client, operation, sent))
        if fault.timeout:
            raise ReadTimeoutError(endpoint_url=f"https://{operation}.injected")
        error: dict[str, Any] = {"Error": {"Code": fault.code, "Message": "injected fault"}}
        error["ResponseMetadata"] = {"HTTPStatusCode": 400, "HTTPHeaders": {}}
        if fault.cancellation:
            error["CancellationReasons"] = [{"Code": c} for c in fault.cancellation]
        raise ClientError(error, operation)

    @contextmanager
    def inject(self, fault: Fault) -> Iterator[Fault]:
        self.active.append(fault)
        try:
            yield fault
        finally:
            self.active.remove(fault)


@contextmanager
def installed() -> Iterator[Faults]:
    faults = Faults()
    original = faults._original

    def patched(client: Any, operation: str, params: dict[str, Any]) -> Any:
        return faults._call(client, operation, params)

    botocore.client.BaseClient._make_api_call = patched  # type: ignore[method-assign]
    try:
        yield faults
    finally:
        botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]


def mentions(tenant_id: str) -> Callable[[dict[str, Any]], bool]:
    """A call about this tenant: its partition keys (T#tenant#...), its bus resources (tenant/...), or its events."""
    needles = (f"T#{tenant_id}#", f"tenant/{tenant_id}")
    return lambda params: any(n in json.dumps(params, default=str) for n in needles)


def writes_collection(tenant_id: str, collection: str) -> Callable[[dict[str, Any]], bool]:
    """A call on one collection of this tenant (a write to it, or a query of its partition)."""
    return lambda params: f"T#{tenant_id}#{collection}" in json.dumps(params, default=str)
