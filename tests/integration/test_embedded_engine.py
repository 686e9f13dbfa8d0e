"""The embedded engine's adapters other than the document store (that one is in test_store_contract.py): the schema
and its migrations, the rules' durable queues (SQS semantics), the bus routing from events/rules.json, the rate
limiter and the powertools idempotency persistence layer, each on a SQLite file of its own."""

from __future__ import annotations

import json
import sqlite3
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from revgov.adapters.sqlite_bus import SqliteEventBus, SqliteQueues, matches
from revgov.adapters.sqlite_db import SCHEMA_VERSION, Database, SchemaTooNew
from revgov.resources import EventRule, load_rules
from revgov.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return Database(tmp_path / "engine.sqlite")


# --- the file and its schema ----------------------------------------------------------------------------------


def test_a_new_file_is_migrated_to_the_current_schema_once_and_kept_private(tmp_path):
    path = tmp_path / "new.sqlite"
    first = Database(path)
    assert first.schema_version() == SCHEMA_VERSION
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it keeps the local demo keys
    with first.write() as c:
        c.execute("INSERT INTO local_state (name, value) VALUES ('x', '1')")
    first.close()
    again = Database(path)
    assert again.migrate() == 0  # nothing left to run
    with again.read() as c:
        assert c.execute("SELECT value FROM local_state WHERE name = 'x'").fetchone() == ("1",)
    with again.read() as c:
        assert c.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_file_from_an_older_schema_is_migrated_forward_keeping_its_data(tmp_path):
    path = tmp_path / "old.sqlite"
    raw = sqlite3.connect(path)
    from revgov.adapters.sqlite_db import MIGRATIONS

    raw.executescript(MIGRATIONS[0])
    raw.execute("INSERT INTO items (pk, sk, data) VALUES ('T#a#X', 'k', '{}')")
    raw.execute("PRAGMA user_version = 1")
    raw.commit()
    raw.close()
    db = Database(path)
    assert db.schema_version() == SCHEMA_VERSION
    with db.read() as c:
        assert c.execute("SELECT count(*) FROM items").fetchone() == (1,)
        assert c.execute("SELECT count(*) FROM messages").fetchone() == (0,)


def test_a_file_from_a_newer_revgov_is_refused_not_guessed_at(tmp_path):
    path = tmp_path / "newer.sqlite"
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.commit()
    raw.close()
    with pytest.raises(SchemaTooNew):
        Database(path)


# --- queues: SQS's semantics ----------------------------------------------------------------------------------


def _queue(queues: SqliteQueues, name: str, *, visibility: float, dlq: str | None = None, max_receive: int = 3) -> str:
    attributes = {"VisibilityTimeout": str(visibility)}
    if dlq:
        queues.create_queue(QueueName=dlq)
        redrive = {"deadLetterTargetArn": queues.arn(dlq), "maxReceiveCount": str(max_receive)}
        attributes["RedrivePolicy"] = json.dumps(redrive)
    return str(queues.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])


def test_a_received_message_is_invisible_for_the_visibility_timeout_then_comes_back_counted(db):
    queues = SqliteQueues(db)
    url = _queue(queues, "q", visibility=0.3)
    queues.send_message(QueueUrl=url, MessageBody="hello")
    (first,) = queues.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert first["Body"] == "hello" and first["Attributes"]["ApproximateReceiveCount"] == "1"
    assert not queues.receive_message(QueueUrl=url)
    attributes = queues.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert attributes == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "1"}
    (again,) = queues.receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"]
    assert again["MessageId"] == first["MessageId"] and again["Attributes"]["ApproximateReceiveCount"] == "2"
    queues.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])
    time.sleep(0.4)
    assert not queues.receive_message(QueueUrl=url)


def test_a_batch_delete_removes_exactly_the_messages_its_current_receipts_name(db):
    """SQS DeleteMessageBatch (what the router acknowledges a handled batch with): each entry deletes the message its
    receipt handle names; the others stay and come back after the visibility timeout; at most 10 entries."""
    queues = SqliteQueues(db)
    url = _queue(queues, "q", visibility=0.3)
    for body in ("a", "b", "c"):
        queues.send_message(QueueUrl=url, MessageBody=body)
    received = {m["Body"]: m for m in queues.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]}
    assert set(received) == {"a", "b", "c"}
    entries = [{"Id": body, "ReceiptHandle": received[body]["ReceiptHandle"]} for body in ("a", "b")]
    assert queues.delete_message_batch(QueueUrl=url, Entries=entries)["Successful"] == [{"Id": "a"}, {"Id": "b"}]
    (left,) = queues.receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"]
    assert left["Body"] == "c"
    stale = [{"Id": "c", "ReceiptHandle": received["c"]["ReceiptHandle"]}]  # from before it was received again
    queues.delete_message_batch(QueueUrl=url, Entries=stale)
    (still,) = queues.receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"]
    assert still["Body"] == "c"
    with pytest.raises(ValueError):
        queues.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(n), "ReceiptHandle": "x"} for n in range(11)])
    with pytest.raises(ValueError):
        queues.delete_message_batch(QueueUrl=url, Entries=[])


def test_a_waiting_receive_is_woken_by_a_send_to_its_queue_at_once_not_by_its_polling(db):
    """A long poll (WaitTimeSeconds) returns as soon as a message arrives, as SQS's does: a send in this process wakes
    the pollers of the queue it sent to (here polling alone would take 5 s)."""
    import threading

    queues = SqliteQueues(db, poll_seconds=5)
    url, other = _queue(queues, "q", visibility=30), _queue(queues, "other", visibility=30)
    got: list[tuple[float, Any]] = []

    def wait() -> None:
        started = time.monotonic()
        answer = queues.receive_message(QueueUrl=url, WaitTimeSeconds=10)
        got.append((time.monotonic() - started, answer))

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.3)
    queues.send_message(QueueUrl=other, MessageBody="not for it")
    time.sleep(0.3)
    assert not got  # a send to another queue does not end its wait
    queues.send_message(QueueUrl=url, MessageBody="for it")
    waiter.join(timeout=10)
    (seconds, answer), = got
    assert answer["Messages"][0]["Body"] == "for it" and seconds < 2.5


def test_a_message_received_max_receive_count_times_goes_to_the_dead_letter_queue(db):
    """SQS redrive: "maxReceiveCount: the number of times a message is delivered to the source queue before being
    moved to the dead-letter queue"; events/rules.json: "a DLQ after max_receive_count deliveries"."""
    queues = SqliteQueues(db)
    url = _queue(queues, "q", visibility=0, dlq="q-dlq", max_receive=2)
    queues.send_message(QueueUrl=url, MessageBody="poison")
    counts = [m["Attributes"]["ApproximateReceiveCount"]
              for _ in range(2) for m in queues.receive_message(QueueUrl=url)["Messages"]]
    assert counts == ["1", "2"]
    assert not queues.receive_message(QueueUrl=url)  # the third receive moves it instead
    (dead,) = queues.receive_message(QueueUrl=queues.get_queue_url(QueueName="q-dlq")["QueueUrl"])["Messages"]
    assert dead["Body"] == "poison"


def test_a_changed_visibility_delays_the_redelivery(db):
    queues = SqliteQueues(db)
    url = _queue(queues, "q", visibility=0)
    queues.send_message(QueueUrl=url, MessageBody="later")
    (message,) = queues.receive_message(QueueUrl=url)["Messages"]
    queues.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=60)
    assert not queues.receive_message(QueueUrl=url, WaitTimeSeconds=0.3)


def test_messages_survive_a_restart_and_one_in_flight_comes_back_after_its_timeout(tmp_path):
    path = tmp_path / "restart.sqlite"
    before = SqliteQueues(Database(path))
    url = _queue(before, "q", visibility=0.3)
    before.send_message(QueueUrl=url, MessageBody="waiting")
    before.send_message(QueueUrl=url, MessageBody="in flight")
    before.receive_message(QueueUrl=url)  # taken by a process that then dies
    after = SqliteQueues(Database(path))  # a new process on the same file
    _queue(after, "q", visibility=0.3)
    bodies = []
    deadline = time.monotonic() + 3
    while len(bodies) < 2 and time.monotonic() < deadline:
        for m in after.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0.5).get("Messages", []):
            bodies.append(m["Body"])
            after.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert sorted(bodies) == ["in flight", "waiting"]


def test_the_router_keeps_a_partial_batchs_failures_on_the_queue_and_deletes_the_rest(db):
    """Lambda's ReportBatchItemFailures: the records named in batchItemFailures stay, the others are done."""
    from revgov.local.resources import RuleQueues
    from revgov.local.router import EventRouter

    queues = SqliteQueues(db)
    url = _queue(queues, "revgov-r", visibility=0, dlq="revgov-r-dlq", max_receive=2)
    rule = EventRule("r", "", {}, "h", 2)
    wired = [RuleQueues(rule, url, queues.get_queue_url(QueueName="revgov-r-dlq")["QueueUrl"], queues.arn("revgov-r"))]
    handled: list[str] = []
    dead: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        bodies = [(r["messageId"], json.loads(r["body"])) for r in event["Records"]]
        handled.extend(b["n"] for _, b in bodies)
        return {"batchItemFailures": [{"itemIdentifier": mid} for mid, b in bodies if b["n"] == "bad"]}

    router = EventRouter(wired, {"h": handler}, sqs=queues, on_dead_letter=lambda e, r: dead.append(e))
    for n in ("ok-1", "bad", "ok-2"):
        queues.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}))
    for _ in range(4):
        router.pump_once()
    assert sorted(handled) == ["bad", "bad", "ok-1", "ok-2"]  # the failure came back once, then went to the DLQ
    assert dead == [{"n": "bad"}]
    assert router.idle()


def _two_rules(queues: SqliteQueues) -> tuple[list[Any], dict[str, str]]:
    from revgov.local.resources import RuleQueues

    wired, urls = [], {}
    for name in ("billing", "accruals"):
        urls[name] = _queue(queues, f"revgov-{name}", visibility=30, dlq=f"revgov-{name}-dlq")
        dlq = queues.get_queue_url(QueueName=f"revgov-{name}-dlq")["QueueUrl"]
        wired.append(RuleQueues(EventRule(name, "", {}, name, 3), urls[name], dlq, queues.arn(f"revgov-{name}")))
    return wired, urls


def test_the_router_lets_the_latency_rule_drain_a_burst_before_the_others_and_starves_none(db):
    """#17: one interpreter lock runs every handler locally, so while the rule users wait on (ERP event -> invoice
    line) works through a burst, the other rules' pollers wait for it; each waits at most `yield_seconds` per batch,
    so a rule that never rests cannot starve them. Every message is still handled once and acknowledged."""
    from revgov.local.router import EventRouter

    queues = SqliteQueues(db)
    wired, urls = _two_rules(queues)
    handled: dict[str, list[float]] = {"billing": [], "accruals": []}

    def handler(name: str, seconds: float) -> Any:
        def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
            time.sleep(seconds)
            handled[name] += [time.monotonic()] * len(event["Records"])
            return {"batchItemFailures": []}

        return handle

    router = EventRouter(wired, {"billing": handler("billing", 0.03), "accruals": handler("accruals", 0.0)},
                         sqs=queues, on_dead_letter=lambda e, r: None, first=frozenset({"billing"}),
                         yield_seconds=5.0)
    for n in range(60):  # six batches of ten: about 0.2 s of work
        queues.send_message(QueueUrl=urls["billing"], MessageBody=json.dumps({"n": n}))
    for n in range(3):
        queues.send_message(QueueUrl=urls["accruals"], MessageBody=json.dumps({"n": n}))
    router.start()
    try:
        deadline = time.monotonic() + 10
        while (len(handled["billing"]) < 60 or len(handled["accruals"]) < 3) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        router.stop()
    assert len(handled["billing"]) == 60 and len(handled["accruals"]) == 3
    assert min(handled["accruals"]) >= max(handled["billing"])  # after the burst's last batch
    assert router.idle()

    # a latency rule that is never idle: the others still get a batch every `yield_seconds`
    handled = {"billing": [], "accruals": []}
    router = EventRouter(wired, {"billing": handler("billing", 0.02), "accruals": handler("accruals", 0.0)},
                         sqs=queues, on_dead_letter=lambda e, r: None, first=frozenset({"billing"}),
                         yield_seconds=0.3)
    queues.send_message(QueueUrl=urls["accruals"], MessageBody=json.dumps({"n": "late"}))
    for n in range(10):
        queues.send_message(QueueUrl=urls["billing"], MessageBody=json.dumps({"n": n}))
    started = time.monotonic()
    router.start()
    try:
        while not handled["accruals"] and time.monotonic() - started < 5:
            for n in range(10):  # keep billing busy
                queues.send_message(QueueUrl=urls["billing"], MessageBody=json.dumps({"n": n}))
            time.sleep(0.02)
    finally:
        router.stop()
    assert handled["accruals"] and handled["accruals"][0] - started < 2.0
    assert handled["accruals"][0] < max(handled["billing"])  # served while billing was still busy


# --- the bus: events/rules.json ---------------------------------------------------------------------------------


def test_events_go_to_the_queue_of_every_rule_whose_pattern_they_match(db):
    rules = load_rules(ROOT / "events")
    queues = SqliteQueues(db)
    for rule in rules:
        _queue(queues, rule.queue_name, visibility=30)
    bus = SqliteEventBus(queues, db, rules)
    detail = {"tenant_id": "t1", "event_id": "evt_1"}
    bus.publish("t1", [{"source": "revgov.billing", "detail_type": "invoice.lines_posted", "detail": detail},
                       {"source": "revgov.erp", "detail_type": "shipment.confirmed", "detail": detail}])

    def waiting(rule: str) -> list[tuple[str, str]]:
        url = queues.get_queue_url(QueueName=f"revgov-{rule}")["QueueUrl"]
        found = queues.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        return sorted((json.loads(m["Body"])["source"], json.loads(m["Body"])["detail-type"]) for m in found)

    posted, shipped = ("revgov.billing", "invoice.lines_posted"), ("revgov.erp", "shipment.confirmed")
    # "event-log": {"source": [{"anything-but": {"prefix": "revgov.erp"}}]}
    assert waiting("event-log") == [posted]
    # "erp-billing": {"source": ["revgov.erp"]}
    assert waiting("erp-billing") == [shipped]
    # "rebate-accruals": {"source": ["revgov.billing"], "detail-type": ["invoice.lines_posted", "invoice.paid"]}
    assert waiting("rebate-accruals") == [posted]
    assert waiting("outbound-webhooks") == [posted]
    # "kpi-rollups" lists invoice.lines_posted but not shipment.confirmed among its detail-types
    assert waiting("kpi-rollups") == [posted]


def test_the_delivered_event_is_shaped_as_eventbridge_hands_it_to_sqs(db):
    rules = [EventRule("all", "", {"source": [{"prefix": "revgov."}]}, "h")]
    queues = SqliteQueues(db)
    url = _queue(queues, "revgov-all", visibility=30)
    SqliteEventBus(queues, db, rules).publish("t1", [{"source": "revgov.x", "detail_type": "x.y", "detail": {"a": 1}}])
    (message,) = queues.receive_message(QueueUrl=url)["Messages"]
    body = json.loads(message["Body"])
    assert {k: body[k] for k in ("source", "detail-type", "detail", "resources")} == {
        "source": "revgov.x", "detail-type": "x.y", "detail": {"a": 1}, "resources": ["tenant/t1"]
    }
    assert body["id"] and body["time"].endswith("Z")


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [
        ({"source": ["a"]}, {"source": "a"}, True),
        ({"source": ["a"]}, {"source": "b"}, False),
        ({"source": [{"prefix": "rev"}]}, {"source": "revgov"}, True),
        ({"source": [{"anything-but": {"prefix": "revgov.erp"}}]}, {"source": "revgov.erp"}, False),
        ({"source": [{"anything-but": {"prefix": "revgov.erp"}}]}, {"source": "revgov.billing"}, True),
        ({"source": [{"anything-but": ["a", "b"]}]}, {"source": "b"}, False),
        ({"source": [{"anything-but": "a"}]}, {}, False),  # anything-but matches only a present value
        ({"detail": {"kind": ["x"]}}, {"detail": {"kind": "x"}}, True),
        ({"detail": {"kind": ["x"]}}, {"detail": {"kind": "y"}}, False),
        ({"source": ["a"], "detail-type": ["t"]}, {"source": "a", "detail-type": "u"}, False),
    ],
)
def test_eventbridge_content_filters(pattern, event, expected):
    assert matches(pattern, event) is expected


def test_a_commits_events_land_on_their_queues_with_it_or_not_at_all(db):
    """The embedded engine's transactional outbox, in one transaction: Runtime.commit's events are on their rules'
    queues exactly when the change is committed, with no OUTBOX item left to flush."""
    from revgov.adapters.sqlite_store import SqliteDocumentStore
    from revgov.adapters.system import RandomIds, SystemClock
    from revgov.domain.audit import AuditEntry
    from revgov.domain.errors import Conflict
    from revgov.ports import Changes, DomainEvent, Put
    from revgov.runtime import Runtime

    rules = load_rules(ROOT / "events")
    queues = SqliteQueues(db)
    for rule in rules:
        _queue(queues, rule.queue_name, visibility=30)
    bus = SqliteEventBus(queues, db, rules)
    clock = SystemClock()
    store = SqliteDocumentStore(db, clock, RandomIds(clock), bus=bus)
    rt = Runtime(Settings.from_env({}), store, bus, clock, RandomIds(clock))
    audit = AuditEntry(actor="t", action="thing.made", subject="a", outcome="made", inputs={})

    def logged() -> list[str]:
        url = queues.get_queue_url(QueueName="revgov-event-log")["QueueUrl"]
        found = queues.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        for m in found:
            queues.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return [json.loads(m["Body"])["detail-type"] for m in found]

    rt.commit("t1", Changes(puts=[Put("THING", "a", {}, must_be_absent=True)], audit=[audit],
                            events=[DomainEvent("revgov.test", "thing.made", {"n": 1})]))
    assert logged() == ["thing.made"]
    assert store.query("t1", "OUTBOX", limit=5).items == []
    with pytest.raises(Conflict):
        rt.commit("t1", Changes(puts=[Put("THING", "a", {}, must_be_absent=True)], audit=[audit],
                                events=[DomainEvent("revgov.test", "thing.remade", {"n": 2})]))
    assert logged() == []


# --- rate limits --------------------------------------------------------------------------------------------------


class Clock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def now_ms(self) -> int:
        return self.ms

    def now_iso(self) -> str:
        return "2026-01-01T00:00:00Z"


def test_two_limiters_on_one_file_share_one_budget_and_refusals_are_not_counted(db):
    from revgov.adapters.ratelimit import Limits, SqliteRateLimiter

    clock = Clock(1_800_000_000_000)  # a window's start (a multiple of 60 s)
    first, second = SqliteRateLimiter(db, clock), SqliteRateLimiter(db, clock)
    limits = Limits(tenant_per_minute=6, key_per_minute=4)
    verdicts = [(first if n % 2 else second).hit("t1", "key_A", limits) for n in range(6)]
    assert [v.allowed for v in verdicts] == [True] * 4 + [False] * 2
    assert verdicts[-1].scope == "key" and verdicts[-1].limit == 4 and verdicts[-1].retry_after == 60
    assert [first.hit("t1", "key_B", limits).allowed for _ in range(3)] == [True, True, False]  # 6 for the tenant
    assert first.hit("t1", "key_B", limits).scope == "tenant"
    assert first.hit("t2", "key_A", limits).allowed  # another tenant's budget is its own
    clock.ms += 60_000  # the next window starts afresh
    assert first.hit("t1", "key_A", limits).allowed


# --- idempotency (powertools) ---------------------------------------------------------------------------------------


def test_powertools_runs_a_function_once_per_event_on_the_sqlite_layer(tmp_path, monkeypatch):
    from revgov.adapters import idempotency
    from revgov.adapters.sqlite_db import database

    config = Settings.from_env({"REVGOV_BACKEND": "sqlite", "REVGOV_DATA_FILE": str(tmp_path / "idem.sqlite")})
    calls: list[str] = []

    def bill(rt: Any, *, bus_event: dict[str, Any]) -> dict[str, Any]:
        calls.append(bus_event["detail"]["event_id"])
        return {"billed": bus_event["detail"]["event_id"]}

    event = {"detail": {"event_id": "evt_1", "tenant_id": "t1"}}
    first = idempotency.once(config, "t1", "bill", bill)(None, bus_event=event)
    again = idempotency.once(config, "t1", "bill", bill)(None, bus_event=event)
    assert first == again == {"billed": "evt_1"} and calls == ["evt_1"]
    replayed = {"detail": {**event["detail"], "replay": 1}}  # a deliberate replay runs again
    idempotency.once(config, "t1", "bill", bill)(None, bus_event=replayed)
    assert calls == ["evt_1", "evt_1"]
    with database(config.data_file).read() as c:
        rows = c.execute("SELECT tenant, status FROM idempotency").fetchall()
    assert rows == [("t1", "COMPLETED"), ("t1", "COMPLETED")]


def test_an_in_progress_record_blocks_a_concurrent_run_until_its_invocation_would_have_timed_out(db):
    from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyItemAlreadyExistsError
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

    from revgov.adapters.sqlite_idempotency import SqlitePersistenceLayer

    layer = SqlitePersistenceLayer(db, "t1")
    now = int(time.time())
    running = DataRecord("k", "INPROGRESS", expiry_timestamp=now + 3600,
                         in_progress_expiry_timestamp=int(time.time() * 1000) + 60_000)
    layer._put_record(running)
    with pytest.raises(IdempotencyItemAlreadyExistsError):
        layer._put_record(DataRecord("k", "INPROGRESS", expiry_timestamp=now + 3600))
    crashed = DataRecord("c", "INPROGRESS", expiry_timestamp=now + 3600,
                         in_progress_expiry_timestamp=int(time.time() * 1000) - 1)
    layer._put_record(crashed)
    layer._put_record(DataRecord("c", "INPROGRESS", expiry_timestamp=now + 3600))  # the crashed run's is taken over
    other = SqlitePersistenceLayer(db, "t2")  # per tenant: another tenant's same key is its own record
    other._put_record(DataRecord("k", "INPROGRESS", expiry_timestamp=now + 3600))


def test_a_restart_keeps_each_scheduled_jobs_cadence(db):
    from revgov.local.scheduler import Scheduler, SqliteScheduleState

    state = SqliteScheduleState(db)
    state.ran("hourly", time.time() - 3000)  # ran 50 minutes before this start
    jobs = {"hourly": (3600.0, lambda *_: None), "new": (600.0, lambda *_: None)}
    due = Scheduler(jobs, state).first_due()
    now = time.monotonic()
    assert 590 <= due["hourly"] - now <= 610  # 10 minutes left of its hour, not a full hour after the restart
    assert 590 <= due["new"] - now <= 610  # never ran: one interval after start


def test_the_local_product_runs_and_serves_without_importing_moto(tmp_path):
    """"The local product imports no moto": `revgov dev`'s stack, started and serving on the embedded engine."""
    import subprocess
    import sys

    script = (
        "import sys, urllib.request\n"
        "from pathlib import Path\n"
        "from revgov.local.stack import start_stack\n"
        f"stack = start_stack(port=0, data_file=Path({str(tmp_path / 'x.sqlite')!r}))\n"
        "assert urllib.request.urlopen(stack.base_url + '/v1/health').status == 200\n"
        "stack.stop()\n"
        "print(sorted(m for m in sys.modules if m == 'moto' or m.startswith('moto.')))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "REVGOV_SCHEDULE_EVERY_SECONDS": "0", "POWERTOOLS_LOG_LEVEL": "ERROR",
           "REVGOV_COPILOT_INDEX_PATH": str(tmp_path / "index.sqlite"), "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_no_module_of_the_product_imports_moto_or_the_emulator():
    """moto serves only the AWS adapters' tests (tests/aws_emulator.py); a CLI reaching the local product goes through
    its state file to the engine that wrote it (revgov.cli_support.use_product), never to an emulator."""
    import re

    pattern = re.compile(r"^\s*(from|import)\s+moto\b|local\.emulator|LOCAL_CREDENTIALS", re.M)
    offenders = [str(path.relative_to(ROOT)) for path in (ROOT / "functions" / "revgov").rglob("*.py")
                 if pattern.search(path.read_text(encoding="utf-8"))]
    assert offenders == []
