"""The embedded bus: EventBridge rules feeding one durable queue per rule, in the embedded SQLite database.

`SqliteEventBus` is the EventPublisher: it matches each event against the rules of `events/rules.json` (EventBridge's
content filters: exact values, `prefix`, `anything-but`) and enqueues it, shaped as EventBridge delivers it to SQS,
on every matching rule's queue, in one transaction.

`SqliteQueues` answers the SQS calls the event router and the handlers make (`receive_message`, `delete_message`,
`delete_message_batch`, `change_message_visibility`, `get_queue_attributes`, `get_queue_url`, `create_queue`) with
SQS's semantics: a received message is invisible for the queue's visibility timeout and comes back if it is not
deleted; each receive counts (`ApproximateReceiveCount`); a message received more than the redrive policy's
`maxReceiveCount` times moves to the queue's dead-letter queue instead of being delivered again. Messages survive a
restart of the process: one that was in flight when the process died comes back when its visibility timeout ends.
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
from .system import SystemClock, real_time

_URL = "sqlite://queues/"
_ARN = "arn:aws:sqs:local:000000000000:"
_READY = "SELECT 1 FROM messages WHERE queue = ? AND visible_at <= ? LIMIT 1"


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
        # One wake-up signal per queue: a send wakes only the pollers of the queues it sent to (not every rule's), and
        # a counter per queue, so a send between a poller's empty read and its wait is not missed.
        self._arrived = threading.Lock()
        self._waiting: dict[str, threading.Condition] = {}  # per queue, all on the one lock
        self._sent: dict[str, int] = {}
        self._mine = threading.local()  # the queues this thread sent to since its last notify

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
        self._touched().add(queue)
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

    def _touched(self) -> set[str]:
        touched: set[str] | None = getattr(self._mine, "queues", None)
        if touched is None:
            touched = self._mine.queues = set()
        return touched

    def notify(self) -> None:
        """Wake the pollers of the queues this thread sent to (after its transaction committed)."""
        touched = self._touched()
        if not touched:
            return
        with self._arrived:
            for name in touched:
                self._sent[name] = self._sent.get(name, 0) + 1
                if name in self._waiting:
                    self._waiting[name].notify_all()
        touched.clear()

    def receive_message(
        self,
        QueueUrl: str,
        MaxNumberOfMessages: int = 1,
        WaitTimeSeconds: float = 0,
        AttributeNames: list[str] | None = None,
        VisibilityTimeout: float | None = None,
    ) -> dict[str, Any]:
        config = self._config(QueueUrl)
        name = _name(QueueUrl)
        deadline = time.monotonic() + WaitTimeSeconds
        while True:
            seen = self._sent.get(name, 0)
            messages = self._receive(name, config, min(10, max(1, MaxNumberOfMessages)),
                                     config.visibility_timeout if VisibilityTimeout is None else VisibilityTimeout)
            left = deadline - time.monotonic()
            if messages or left <= 0:
                return {"Messages": messages} if messages else {}
            with self._arrived:  # woken by a send to this queue in this process; other processes' by polling
                if self._sent.get(name, 0) == seen:
                    waiting = self._waiting.setdefault(name, threading.Condition(self._arrived))
                    waiting.wait(min(left, max(self._poll, 0.25)))

    def _receive(self, name: str, config: QueueConfig, limit: int, visibility: float) -> list[dict[str, Any]]:
        now = real_time()
        out: list[dict[str, Any]] = []
        moved = False
        # an empty queue costs one read statement, never the write lock
        if self._db.fetch_one(_READY, (name, now)) is None:
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
        if moved and config.dead_letter:
            self._touched().add(config.dead_letter)
            self.notify()
        return out

    def delete_message(self, QueueUrl: str, ReceiptHandle: str) -> dict[str, Any]:
        with self._db.write() as c:
            c.execute("DELETE FROM messages WHERE queue = ? AND receipt = ?", (_name(QueueUrl), ReceiptHandle))
        return {}

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        """SQS DeleteMessageBatch: up to 10 messages by receipt, in one transaction (the router acknowledges a handled
        batch with one write instead of one per message)."""
        if not 1 <= len(Entries) <= 10:
            raise ValueError("DeleteMessageBatch takes 1 to 10 entries")
        name = _name(QueueUrl)
        with self._db.write() as c:
            c.executemany(
                "DELETE FROM messages WHERE queue = ? AND receipt = ?", [(name, e["ReceiptHandle"]) for e in Entries]
            )
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}

    def change_message_visibility(
        self, QueueUrl: str, ReceiptHandle: str, VisibilityTimeout: float
    ) -> dict[str, Any]:
        with self._db.write() as c:
            c.execute(
                "UPDATE messages SET visible_at = ? WHERE queue = ? AND receipt = ?",
                (real_time() + VisibilityTimeout, _name(QueueUrl), ReceiptHandle),
            )
        self._touched().add(_name(QueueUrl))
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
