"""The bus in memory, for service-level tests on the in-memory engine: events are kept in order as published, and a
test delivers them to the rules' handlers when it chooses (`deliver`), with no queue, thread or sleep."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..resources import EventRule
from .sqlite_bus import matches


class MemoryEventBus:
    def __init__(self, rules: list[EventRule]) -> None:
        self._rules = rules
        self.published: list[dict[str, Any]] = []  # EventBridge-shaped envelopes, in publish order
        self._delivered = 0

    def publish(self, tenant_id: str, events: list[dict[str, Any]]) -> list[str]:
        for event in events:
            self.published.append({
                "detail-type": event["detail_type"],
                "source": event["source"],
                "resources": [f"tenant/{tenant_id}"],
                "detail": json.loads(json.dumps(event["detail"], default=str)),
            })
        return []

    def deliver(self, handlers: dict[str, Callable[[dict[str, Any], Any], dict[str, Any]]]) -> int:
        """Hand every event published since the last call to each matching rule's handler (as one SQS record each),
        including the events those handlers publish in turn; returns how many records were handled."""
        handled = 0
        while self._delivered < len(self.published):
            envelope = self.published[self._delivered]
            self._delivered += 1
            for rule in self._rules:
                if matches(rule.pattern, envelope) and rule.handler in handlers:
                    record = {"messageId": f"m{self._delivered}", "receiptHandle": "", "body": json.dumps(envelope),
                              "eventSource": "aws:sqs", "eventSourceARN": f"arn:memory:{rule.queue_name}"}
                    handlers[rule.handler]({"Records": [record]}, None)
                    handled += 1
        return handled
