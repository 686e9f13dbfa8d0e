"""Delivers bus events from the rules' SQS queues to the same handler functions Lambda runs.

Like the Lambda event-source mapping: batches of up to 10, partial-batch failures stay on the queue and come
back after the visibility timeout; after `max_receive_count` deliveries SQS moves them to the rule's DLQ,
where the router marks them dead-lettered in the tenant's event log. Each invocation gets a Lambda-like context whose
remaining time runs out with the visibility timeout, as a Lambda's runs out before its queue's, so a handler that
crashed leaves an idempotency record that expires before the message comes back.

Rules other than the `first` ones may have a batching window (Lambda's MaximumBatchingWindowInSeconds): a poller that
received fewer than a full batch waits that long for more before it invokes the handler, so under a steady stream of
events (quote checks) each invocation, receive and acknowledgement serves several events instead of one. The handlers'
results are the same; their effects land up to the window later.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..logs import logger
from .resources import RuleQueues

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
BUSY_SECONDS = 0.1  # a `first` rule that delivered a batch this recently is still working through a burst
YIELD_SECONDS = 0.5  # the longest another rule's poller waits for it, per batch
BATCH_SIZE = 10  # the stacks' event-source mappings' batch size (SQS receives at most 10 at once)


@dataclass(frozen=True)
class InvocationContext:
    """What Lambda hands a handler, as far as Revgov's handlers and powertools use it."""

    function_name: str
    timeout_seconds: float
    started: float = field(default_factory=time.monotonic)
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.started + self.timeout_seconds - time.monotonic()) * 1000))


class EventRouter:
    def __init__(
        self,
        wired: list[RuleQueues],
        handlers: dict[str, Handler],
        *,
        sqs: Any,
        on_dead_letter: Callable[[dict[str, Any], str], None],
        wait_seconds: int = 1,
        invocation_seconds: float = 2.0,
        first: frozenset[str] = frozenset(),
        yield_seconds: float = YIELD_SECONDS,
        batch_window_seconds: float = 0.0,
    ) -> None:
        self._wired = wired
        self._handlers = handlers
        self._sqs = sqs
        self._on_dead_letter = on_dead_letter
        self._wait = wait_seconds
        self._invocation_seconds = invocation_seconds  # at most the queues' visibility timeout, as in the stacks
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.delivered = 0
        # Rules whose latency a user sees (an ERP event to its invoice line): while one of them has just delivered a
        # batch, the other rules' pollers wait for it, each at most `yield_seconds` per batch, so they lag a burst
        # but are never starved. Every handler shares this one interpreter lock; Lambda gives each its own.
        self._first = first
        self._yield = yield_seconds
        self._first_busy_at = float("-inf")  # monotonic time of the last non-empty batch of a `first` rule
        self._window = batch_window_seconds  # the other rules' batching window, when polling (not `pump_once`)

    def start(self) -> None:
        for rq in self._wired:
            for target, dead in ((rq.queue_url, False), (rq.dlq_url, True)):
                thread = threading.Thread(
                    target=self._poll, args=(rq, target, dead), daemon=True, name=f"router-{rq.rule.name}"
                )
                thread.start()
                self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self._wait + 2)

    def pump_once(self) -> int:
        """Deliver what is waiting right now on every queue (tests and `revgov events replay`)."""
        return sum(
            self._deliver(rq, rq.queue_url, dead=False) + self._deliver(rq, rq.dlq_url, dead=True) for rq in self._wired
        )

    def idle(self) -> bool:
        """Nothing waiting or in flight on any rule's queue: every handler has finished what was sent (tests wait
        for this before they offboard a tenant, so no handler writes into a tenant being deleted)."""
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        for rq in self._wired:
            attributes = self._sqs.get_queue_attributes(QueueUrl=rq.queue_url, AttributeNames=names)["Attributes"]
            if any(int(attributes.get(name, 0)) for name in names):
                return False
        return True

    def _poll(self, rq: RuleQueues, url: str, dead: bool) -> None:
        while not self._stop.is_set():
            try:
                if self._first and rq.rule.name not in self._first:
                    self._let_first_go()
                window = 0.0 if rq.rule.name in self._first else self._window
                self._deliver(rq, url, dead, wait=self._wait, window=window)
            except Exception:  # the emulator is shutting down or hiccupped: keep the router alive
                if not self._stop.is_set():
                    logger.exception("router poll failed", extra={"rule": rq.rule.name})
                    self._stop.wait(self._wait)

    def _let_first_go(self) -> None:
        """Wait while a `first` rule is busy, at most `yield_seconds`."""
        until = time.monotonic() + self._yield
        while self._first_busy() and time.monotonic() < until:
            if self._stop.wait(BUSY_SECONDS / 4):
                return

    def _first_busy(self) -> bool:
        """A `first` rule delivered a batch within BUSY_SECONDS, or its queue holds messages waiting or in flight
        (a burst it has not picked up yet, e.g. the router just started, or a batch its handler is working on)."""
        if time.monotonic() - self._first_busy_at < BUSY_SECONDS:
            return True
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        for rq in self._wired:
            if rq.rule.name in self._first:
                attributes = self._sqs.get_queue_attributes(QueueUrl=rq.queue_url, AttributeNames=names)["Attributes"]
                if any(int(attributes.get(name, 0)) for name in names):
                    return True
        return False

    def _receive(self, url: str, most: int, wait: float) -> list[dict[str, Any]]:
        response = self._sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=most, WaitTimeSeconds=wait, AttributeNames=["ApproximateReceiveCount"]
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def _deliver(self, rq: RuleQueues, url: str, dead: bool, wait: int = 0, window: float = 0.0) -> int:
        messages = self._receive(url, BATCH_SIZE, wait)
        if not messages:
            return 0
        if window > 0 and not dead and len(messages) < BATCH_SIZE:
            # the batching window: wait for the batch to fill (a stop ends the wait; what was received is delivered)
            self._stop.wait(window)
            messages += self._receive(url, BATCH_SIZE - len(messages), 0)
        if dead:
            for message in messages:
                self._on_dead_letter(json.loads(message["Body"]), rq.rule.name)
                self._sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            return len(messages)
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "eventSource": "aws:sqs",
                "eventSourceARN": rq.queue_arn,
            }
            for m in messages
        ]
        if rq.rule.name in self._first:
            self._first_busy_at = time.monotonic()
        context = InvocationContext(rq.rule.handler, self._invocation_seconds)
        try:
            result = self._handlers[rq.rule.handler]({"Records": records}, context)
        finally:
            if rq.rule.name in self._first:
                self._first_busy_at = time.monotonic()
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        handled = [m for m in messages if m["MessageId"] not in failed]
        if handled:  # acknowledged in one call, as Lambda's event-source mapping deletes a batch's successes
            entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(handled)]
            self._sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        self.delivered += len(handled)
        return len(messages)
