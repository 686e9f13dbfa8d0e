"""The embedded bus: EventBridge rules feeding one durable queue per rule, in the embedded SQLite database.

`SqliteEventBus` is the EventPublisher: it matches each event against the rules of `events/rules.json` (EventBridge's
content filters: exact values, `prefix`, `anything-but`) and enqueues it, shaped as EventBridge delivers it to SQS,
on every matching rule's queue, in one transaction.

`SqliteQueues` answers the SQS calls the event router and the handlers make (`receive_message`, `delete_message`,
`change_message_visibility`, `get_queue_attributes`, `get_queue_url`, `create_queue`) with SQS's semantics: a received
message is invisible for the queue's visibility timeout and comes back if it is not deleted; each receive counts
(`ApproximateReceiveCount`); a message received more than the redrive policy's `maxReceiveCount` times moves to the
queue's dead-letter queue instead of being delivered again. Messages survive a restart of the process: one that was
in flight when the process died comes back when its visibility timeout ends.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from ..ports import Clock
from ..resources import EventRule
from .sqlite_db import Database
from .store_base import json_default
from .system import real_time

_URL = "sqlite://queues/"
_ARN = "arn:aws:sqs:local:000000000000:"


@dataclass(frozen=True)
class QueueConfig:
    visibility_timeout: float = 30.0
    dead_letter: str | None = None
    max_receive_count: int = 0  # 0: no redrive


def _name(url: str) -> str:
    return url.removeprefix(_URL)


class QueueDoesNotExist(Exception):
    pass


class SqliteQueues:
    """SQS, for the calls Revgov makes, on the `messages` table."""

    def __init__(self, db: Database, *, poll_seconds: float = 0.05) -> None:
        self._db = db
        self._configs: dict[str, QueueConfig] = {}
        self._poll = poll_seconds
        self._arrived = threading.Condition()

    # --- queues ----------------------------------------------------------------------------------------
    def create_queue(self, QueueName: str, Attributes: dict[str, str] | None = None) -> dict[str, Any]:
        attributes = Attributes or {}
        redrive = json.loads(attributes.get("RedrivePolicy", "{}") or "{}")
        self._configs[QueueName] = QueueConfig(
            visibility_timeout=float(attributes.get("VisibilityTimeout", 30)),
            dead_letter=str(redrive["deadLetterTargetArn"]).removeprefix(_ARN) if redrive else None,
            max_receive_count=int(redrive.get("maxReceiveCount", 0)),
        )
        return {"QueueUrl": _URL + QueueName}

    def delete_queue(self, QueueUrl: str) -> dict[str, Any]:
        self._configs.pop(_name(QueueUrl), None)
        self.purge(_name(QueueUrl))
        return {}

    def get_queue_url(self, QueueName: str) -> dict[str, Any]:
        if QueueName not in self._configs:
            raise QueueDoesNotExist(QueueName)
        return {"QueueUrl": _URL + QueueName}

    @staticmethod
    def arn(name: str) -> str:
        return _ARN + name

    def _config(self, url: str) -> QueueConfig:  # (SQS's own names for the arguments below: the router's calls)
        try:
            return self._configs[_name(url)]
        except KeyError:
            raise QueueDoesNotExist(_name(url)) from None

    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict[str, Any]:
        name = _name(QueueUrl)
        self._config(QueueUrl)
        now = real_time()
        with self._db.read() as c:
            visible, hidden = c.execute(
                "SELECT COALESCE(SUM(visible_at <= ?), 0), COALESCE(SUM(visible_at > ?), 0) FROM messages "
                "WHERE queue = ?",
                (now, now, name),
            ).fetchone()
        attributes = {
            "ApproximateNumberOfMessages": str(visible),
            "ApproximateNumberOfMessagesNotVisible": str(hidden),
            "QueueArn": self.arn(name),
        }
        return {"Attributes": {k: v for k, v in attributes.items() if k in AttributeNames or "All" in AttributeNames}}

    # --- messages --------------------------------------------------------------------------------------
    def send(self, connection: Any, queue: str, body: str, *, delay: float = 0.0) -> str:
        """Enqueue inside the caller's write transaction (the publisher sends to every matching queue at once)."""
        message_id = str(uuid.uuid4())
        now = real_time()
        connection.execute(
            "INSERT INTO messages (queue, id, body, visible_at, receive_count, sent_at) VALUES (?, ?, ?, ?, 0, ?)",
            (queue, message_id, body, now + delay, now),
        )
        return message_id

    def send_message(self, QueueUrl: str, MessageBody: str, DelaySeconds: int = 0) -> dict[str, Any]:
        self._config(QueueUrl)
        with self._db.write() as c:
            message_id = self.send(c, _name(QueueUrl), MessageBody, delay=DelaySeconds)
        self.notify()
        return {"MessageId": message_id}

    def notify(self) -> None:
        with self._arrived:
            self._arrived.notify_all()

    def receive_message(
        self,
        QueueUrl: str,
        MaxNumberOfMessages: int = 1,
        WaitTimeSeconds: float = 0,
        AttributeNames: list[str] | None = None,
        VisibilityTimeout: float | None = None,
    ) -> dict[str, Any]:
        config = self._config(QueueUrl)
        deadline = time.monotonic() + WaitTimeSeconds
        while True:
            messages = self._receive(_name(QueueUrl), config, min(10, max(1, MaxNumberOfMessages)),
                                     config.visibility_timeout if VisibilityTimeout is None else VisibilityTimeout)
            left = deadline - time.monotonic()
            if messages or left <= 0:
                return {"Messages": messages} if messages else {}
            with self._arrived:  # woken by a send in this process; other processes' sends are seen by polling
                self._arrived.wait(min(left, max(self._poll, 0.25)))

    def _receive(self, name: str, config: QueueConfig, limit: int, visibility: float) -> list[dict[str, Any]]:
        now = real_time()
        out: list[dict[str, Any]] = []
        moved = False
        with self._db.read() as c:  # an empty queue costs a read, never the write lock
            if c.execute("SELECT 1 FROM messages WHERE queue = ? AND visible_at <= ? LIMIT 1", (name, now)).fetchone() \
                    is None:
                return out
        with self._db.write() as c:
            rows = c.execute(
                "SELECT id, body, receive_count, sent_at FROM messages WHERE queue = ? AND visible_at <= ? "
                "ORDER BY visible_at, rowid LIMIT ?",
                (name, now, limit * 4),
            ).fetchall()
            for message_id, body, count, sent_at in rows:
                if len(out) >= limit:
                    break
                if config.dead_letter and config.max_receive_count and count >= config.max_receive_count:
                    # received maxReceiveCount times already: to the dead-letter queue, as SQS's redrive does
                    c.execute(
                        "UPDATE messages SET queue = ?, visible_at = ?, receive_count = 0, receipt = NULL "
                        "WHERE queue = ? AND id = ?",
                        (config.dead_letter, now, name, message_id),
                    )
                    moved = True
                    continue
                receipt = f"{name}|{message_id}|{uuid.uuid4().hex}"
                c.execute(
                    "UPDATE messages SET receive_count = receive_count + 1, visible_at = ?, receipt = ? "
                    "WHERE queue = ? AND id = ?",
                    (now + visibility, receipt, name, message_id),
                )
                out.append({
                    "MessageId": message_id,
                    "ReceiptHandle": receipt,
                    "Body": body,
                    "Attributes": {
                        "ApproximateReceiveCount": str(count + 1),
                        "SentTimestamp": str(int(sent_at * 1000)),
                    },
                })
        if moved:
            self.notify()
        return out

    def delete_message(self, QueueUrl: str, ReceiptHandle: str) -> dict[str, Any]:
        with self._db.write() as c:
            c.execute("DELETE FROM messages WHERE queue = ? AND receipt = ?", (_name(QueueUrl), ReceiptHandle))
        return {}

    def change_message_visibility(
        self, QueueUrl: str, ReceiptHandle: str, VisibilityTimeout: float
    ) -> dict[str, Any]:
        with self._db.write() as c:
            c.execute(
                "UPDATE messages SET visible_at = ? WHERE queue = ? AND receipt = ?",
                (real_time() + VisibilityTimeout, _name(QueueUrl), ReceiptHandle),
            )
        self.notify()
        return {}

    def purge(self, queue: str) -> None:
        with self._db.write() as c:
            c.execute("DELETE FROM messages WHERE queue = ?", (queue,))


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """EventBridge content filtering, for the filters Revgov's rules use: each key of the pattern must match; a list
    matches when any of its values does; a value is an exact string or number, `{"prefix": ...}` or
    `{"anything-but": value | [values] | {"prefix": ...}}`; a nested object matches the event's nested object."""
    for key, wanted in pattern.items():
        value = event.get(key) if isinstance(event, dict) else None
        if isinstance(wanted, dict):
            if not isinstance(value, dict) or not matches(wanted, value):
                return False
            continue
        candidates = value if isinstance(value, list) else [value]
        if not any(_matches_one(rule, candidate) for rule in wanted for candidate in candidates):
            return False
    return True


def _matches_one(rule: Any, value: Any) -> bool:
    if not isinstance(rule, dict):
        return bool(rule == value)
    if "prefix" in rule:
        return isinstance(value, str) and value.startswith(rule["prefix"])
    if "anything-but" in rule:
        but = rule["anything-but"]
        if value is None:
            return False
        if isinstance(but, dict) and "prefix" in but:
            return not (isinstance(value, str) and value.startswith(but["prefix"]))
        return value not in (but if isinstance(but, list) else [but])
    if "exists" in rule:
        return (value is not None) == bool(rule["exists"])
    raise ValueError(f"unsupported event pattern filter: {rule}")


class SqliteEventBus:
    """The EventPublisher: events to the queues of the rules whose patterns they match, shaped as EventBridge
    hands them to SQS (`source`, `detail-type`, `detail`, `resources`, `time`, `id`)."""

    def __init__(
        self, queues: SqliteQueues, db: Database, rules: list[EventRule], *, region: str = "local",
        clock: Clock | None = None,
    ) -> None:
        from .system import SystemClock

        self._clock = clock or SystemClock()
        self._queues = queues
        self._db = db
        self._rules = rules
        self._region = region

    def publish(self, tenant_id: str, events: list[dict[str, Any]]) -> list[str]:
        with self._db.write() as c:
            self.enqueue(c, tenant_id, events)
        self._queues.notify()
        return []

    def notify(self) -> None:
        self._queues.notify()

    def enqueue(self, connection: Any, tenant_id: str, events: list[dict[str, Any]]) -> None:
        """Put `events` on their rules' queues inside the caller's write transaction (the document store's commit:
        the events land if and only if the change does)."""
        c = connection
        for event in events:
            envelope = {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": event["detail_type"],
                "source": event["source"],
                "account": "000000000000",
                "time": self._clock.now_iso()[:19] + "Z",  # EventBridge's envelope time: whole seconds, UTC
                "region": self._region,
                "resources": [f"tenant/{tenant_id}"],
                "detail": event["detail"],
            }
            body = json.dumps(envelope, separators=(",", ":"), default=json_default)
            for rule in self._rules:
                if matches(rule.pattern, envelope):
                    self._queues.send(c, rule.queue_name, body)
