"""Isolation by IAM, the application's half: with REVGOV_TENANT_ROLE_ARN set, every DynamoDB request on a tenant's
partition is signed with that tenant's own TenantAccessRole session.

Against the local stack's moto server. moto answers AssumeRole but enforces no IAM, so these tests check what the
application controls: the AssumeRole call (role, session name, TenantId tag, 900 s), the per-tenant cache and its
renewal, and, on every request that leaves for DynamoDB, that it is signed with the access key of the one tenant
whose partition it names. What IAM then does with those sessions is asserted on the templates (tests/stacks).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import botocore.handlers
import pytest

from revgov.adapters import tenant_sessions as sessions_module
from revgov.adapters.dynamo import DynamoDocumentStore
from revgov.adapters.tenant_sessions import (
    REFRESH_MARGIN_SECONDS,
    SESSION_SECONDS,
    CrossTenantWrite,
    TenantScopeError,
    TenantSessions,
)
from revgov.domain.access import PLATFORM
from revgov.domain.audit import AuditEntry
from revgov.ports import Changes, Delete, Put

# tenant sessions signing DynamoDB requests (moto answers STS): the stack on the AWS engine
pytestmark = [pytest.mark.aws]


ROLE_ARN = "arn:aws:iam::123456789012:role/revgov-test-TenantAccessRole"  # moto's default account: same table
_CREDENTIAL = re.compile(r"Credential=([^/]+)/")
_PARTITION = re.compile(r"T#([^#\"]+)#")


def tenant() -> str:
    return f"sc-{uuid.uuid4().hex[:10]}"


def entry(subject: str) -> AuditEntry:
    return AuditEntry(actor="test", action="thing.created", subject=subject, outcome="created", inputs={})


class RecordingSts:
    """moto's STS, with every AssumeRole request and answer kept (and, given a clock, sessions expiring on it)."""

    def __init__(self, client: Any, delay: float = 0.0, clock: Clock | None = None) -> None:
        self._client = client
        self._delay = delay
        self._clock = clock
        self.calls: list[dict[str, Any]] = []
        self.keys: dict[str, str] = {}  # access key id -> the tenant whose tag opened it
        self._lock = threading.Lock()

    def assume_role(self, **kwargs: Any) -> dict[str, Any]:
        time.sleep(self._delay)
        answer = self._client.assume_role(**kwargs)
        if self._clock is not None:
            expires = self._clock() + kwargs["DurationSeconds"]
            answer["Credentials"]["Expiration"] = datetime.fromtimestamp(expires, UTC)
        with self._lock:
            self.calls.append(kwargs)
            self.keys[answer["Credentials"]["AccessKeyId"]] = kwargs["Tags"][0]["Value"]
        return dict(answer)

    def tenants_assumed(self) -> list[str]:
        return [call["Tags"][0]["Value"] for call in self.calls]


class Requests:
    """Every DynamoDB request botocore sends (a before-send hook on every new session): its access key and the
    tenants its body names."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, list[str]]] = []  # (operation, access key id, tenants named)
        self.bodies: list[str] = []

    def __call__(self, request: Any, **_: Any) -> None:
        auth = request.headers.get("Authorization", b"")
        auth = auth.decode() if isinstance(auth, bytes) else auth
        body = request.body.decode() if isinstance(request.body, bytes) else (request.body or "")
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else target
        match = _CREDENTIAL.search(auth)
        self.seen.append((target.rsplit(".", 1)[-1], match.group(1) if match else "", _PARTITION.findall(body)))
        self.bodies.append(body)

    def of(self, *tenants: str) -> list[tuple[str, str, list[str]]]:
        return [r for r in self.seen if set(r[2]) & set(tenants)]


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def requests(monkeypatch: pytest.MonkeyPatch) -> Requests:
    seen = Requests()
    monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS", [*botocore.handlers.BUILTIN_HANDLERS,
                                                                ("before-send.dynamodb", seen)])
    return seen


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sts(rt: Any, clock: Clock) -> RecordingSts:
    import boto3

    client = boto3.client("sts", region_name=rt.settings.region, endpoint_url=rt.settings.endpoint_url)
    return RecordingSts(client, clock=clock)


@pytest.fixture
def sessions(rt: Any, sts: RecordingSts, clock: Clock, requests: Requests) -> TenantSessions:
    return TenantSessions(ROLE_ARN, rt.settings.region, rt.settings.endpoint_url, sts_client=sts, clock=clock)


@pytest.fixture
def store(rt: Any, sessions: TenantSessions) -> DynamoDocumentStore:
    s = rt.settings
    return DynamoDocumentStore(s.table_name, s.region, rt.clock, rt.ids, host=s.endpoint_url, sessions=sessions)


def assert_each_request_signed_by_its_tenant(requests: Requests, sts: RecordingSts, *tenants: str) -> None:
    mine = requests.of(*tenants)
    assert mine, "no DynamoDB request was captured"
    for operation, key, named in mine:
        assert key in sts.keys, f"{operation} was signed with {key!r}, not a tenant session's key"
        assert set(named) == {sts.keys[key]}, f"{operation} names {set(named)} but is signed for {sts.keys[key]}"


# --- the AssumeRole call and its cache ------------------------------------------------------------------------------
def test_each_tenant_gets_its_own_tagged_session_once(store: DynamoDocumentStore, sts: RecordingSts) -> None:
    a, b = tenant(), tenant()
    for t in (a, b):
        store.commit(t, Changes(puts=[Put("THING", "k", {"t": t}, lookup=("BY", "x"))], audit=[entry("k")]))
        assert store.get(t, "THING", "k").data == {"t": t}
        assert [i.key for i in store.query(t, "THING", limit=5).items] == ["k"]
        assert [i.key for i in store.lookup(t, "BY", limit=5).items] == ["k"]
        assert [r["subject"] for r in store.audit_records(t)] == ["k"]
    assert sts.tenants_assumed() == [a, b], "one AssumeRole per tenant, then the cached session"
    for call, t in zip(sts.calls, (a, b), strict=True):
        assert call == {
            "RoleArn": ROLE_ARN,
            "RoleSessionName": f"revgov-{t}",
            "Tags": [{"Key": "TenantId", "Value": t}],
            "DurationSeconds": 900,
        }


def test_every_request_is_signed_with_the_session_of_the_tenant_it_names(
    store: DynamoDocumentStore, sts: RecordingSts, requests: Requests
) -> None:
    a, b = tenant(), tenant()
    for t in (a, b):
        store.commit(t, Changes(puts=[Put("THING", f"k{i}", {"i": i}) for i in range(3)], audit=[entry("k")]))
    store.commit(a, Changes(deletes=[Delete("THING", "k0")]))
    found = store.get_many([(a, "THING", "k1"), (b, "THING", "k1"), (a, "THING", "k2")])  # one batch per tenant
    assert {ref: s.data for ref, s in found.items()} == {
        (a, "THING", "k1"): {"i": 1}, (b, "THING", "k1"): {"i": 1}, (a, "THING", "k2"): {"i": 2}
    }
    store.import_tenant(b, [{"collection": "COPY", "key": "c", "version": 1, "data": {"c": 1}}])
    assert store.get(b, "COPY", "c").data == {"c": 1}
    assert [i.key for i in store.query(a, "THING", limit=10).items] == ["k1", "k2"]
    assert len(store.audit_by_subject(b, "k", limit=10, cursor=None).items) == 1  # the index, on b's session
    operations = {op for op, _, _ in requests.of(a, b)}
    assert {"TransactWriteItems", "GetItem", "Query", "BatchGetItem", "BatchWriteItem"} <= operations
    assert_each_request_signed_by_its_tenant(requests, sts, a, b)
    assert len({key for _, key, _ in requests.of(a)} | {key for _, key, _ in requests.of(b)}) == 2


def test_sessions_are_renewed_shortly_before_they_expire(
    store: DynamoDocumentStore, sts: RecordingSts, clock: Clock, requests: Requests
) -> None:
    t = tenant()
    store.commit(t, Changes(puts=[Put("THING", "k", {"v": 1})]))
    clock.now += SESSION_SECONDS - REFRESH_MARGIN_SECONDS - 5  # still inside the session's useful life
    store.get(t, "THING", "k")
    assert sts.tenants_assumed() == [t]
    first_key = requests.of(t)[-1][1]
    clock.now += 10  # now within the margin: a new session before any request goes out
    assert store.get(t, "THING", "k").data == {"v": 1}
    assert sts.tenants_assumed() == [t, t]
    renewed_key = requests.of(t)[-1][1]
    assert renewed_key != first_key and sts.keys[renewed_key] == t
    store.commit(t, Changes(puts=[Put("THING", "k", {"v": 2}, expected_version=1)], audit=[entry("k")]))
    assert {key for _, key, _ in requests.of(t)[-3:]} == {renewed_key}, "the old session is not used again"


def test_concurrent_first_requests_open_one_session(rt: Any, clock: Clock, requests: Requests) -> None:
    import boto3

    slow = RecordingSts(boto3.client("sts", region_name=rt.settings.region, endpoint_url=rt.settings.endpoint_url),
                        delay=0.2)
    sessions = TenantSessions(ROLE_ARN, rt.settings.region, rt.settings.endpoint_url, sts_client=slow, clock=clock)
    t = tenant()
    got: list[str] = []
    threads = [threading.Thread(target=lambda: got.append(sessions.credentials(t).access_key_id)) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert slow.tenants_assumed() == [t] and len(set(got)) == 1 and len(got) == 8


def test_the_platform_partition_has_its_own_session(
    store: DynamoDocumentStore, sts: RecordingSts, requests: Requests
) -> None:
    """flush_outbox, the SLA sweep and the agents read the registry T#_platform#TENANTS: through a _platform session,
    so they stay fenced too."""
    store.query(PLATFORM, "TENANTS", limit=5)
    assert sts.calls[-1]["Tags"] == [{"Key": "TenantId", "Value": PLATFORM}]
    assert sts.calls[-1]["RoleSessionName"] == "revgov-_platform"
    assert_each_request_signed_by_its_tenant(requests, sts, PLATFORM)


# --- what tenant sessions refuse ------------------------------------------------------------------------------------
def test_a_transaction_over_two_tenants_is_refused_and_writes_nothing(
    store: DynamoDocumentStore, requests: Requests
) -> None:
    a, b = tenant(), tenant()
    registry_and_tenant = Changes(  # the shape of tenants.create_tenant: the registry and the new tenant, at once
        puts=[Put("TENANT", "PROFILE", {"t": b}, tenant_id=b), Put("TENANTS", b, {"t": b}, tenant_id=a)],
        audit=[entry(b)],
    )
    with pytest.raises(CrossTenantWrite, match=rf"tenant '{a}' and tenant '{b}'|tenant '{b}' and tenant '{a}'"):
        store.commit(a, registry_and_tenant)
    with pytest.raises(CrossTenantWrite) as refused:
        store.commit(a, Changes(deletes=[Delete("THING", "x", tenant_id=b)], audit=[entry("x")]))
    assert sorted(refused.value.tenants) == sorted([a, b])
    assert not requests.of(a, b), "refused before any request (not even the audit head read)"


def test_whole_tenant_scans_are_refused_under_scoping(store: DynamoDocumentStore, requests: Requests) -> None:
    t = tenant()
    for operation in (store.export_tenant, store.delete_tenant):
        with pytest.raises(TenantScopeError, match="operator function"):
            operation(t)
    assert not [r for r in requests.seen if r[0] == "Scan"]


@pytest.mark.parametrize("bad", ["*", "a*", "?x", "a#b", "", "${aws:username}", "x" * 58])
def test_a_tenant_id_that_could_widen_the_fence_opens_no_session(sessions: TenantSessions, sts: RecordingSts,
                                                                 bad: str) -> None:
    with pytest.raises(TenantScopeError):
        sessions.credentials(bad)
    assert sts.calls == []


# --- unchanged without the role; the idempotency layer with it -------------------------------------------------------
def test_without_the_role_arn_nothing_is_assumed(rt: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from revgov.bootstrap import build_runtime
    from revgov.settings import Settings

    assert Settings.from_env({}).tenant_role_arn is None
    assert Settings.from_env({"REVGOV_TENANT_ROLE_ARN": ROLE_ARN}).tenant_role_arn == ROLE_ARN
    assert rt.settings.tenant_role_arn is None and not rt.store.scoped  # the local stack: its own credentials
    built: list[Any] = []
    monkeypatch.setattr(sessions_module, "tenant_sessions", lambda *args: built.append(args) or "sessions")
    monkeypatch.setattr("revgov.bootstrap.build_copilot", lambda config: (None, None))
    scoped = build_runtime(Settings.from_env({"REVGOV_TENANT_ROLE_ARN": ROLE_ARN, "AWS_REGION": "eu-west-1"}))
    assert scoped.store.scoped and built == [(ROLE_ARN, "eu-west-1", None)]


def test_the_idempotency_layer_uses_the_tenant_session(
    rt: Any, sessions: TenantSessions, sts: RecordingSts, requests: Requests, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from revgov.adapters.idempotency import once

    monkeypatch.setattr(sessions_module, "tenant_sessions", lambda *args: sessions)
    config = replace(rt.settings, tenant_role_arn=ROLE_ARN)
    t = tenant()
    runs: list[str] = []

    def handle(bus_event: dict[str, Any]) -> dict[str, Any]:
        runs.append(bus_event["detail"]["event_id"])
        return {"done": bus_event["detail"]["event_id"]}

    event = {"detail": {"event_id": f"evt_{uuid.uuid4().hex}", "replay": 0, "tenant_id": t}}
    first = once(config, t, "probe", handle)(bus_event=event)
    again = once(config, t, "probe", handle)(bus_event=json.loads(json.dumps(event)))
    assert first == again and len(runs) == 1, "the redelivery is answered from the record"
    assert [b for b in requests.bodies if f"T#{t}#IDEMPOTENCY" in b], "the persistence layer's requests went unseen"
    assert_each_request_signed_by_its_tenant(requests, sts, t)
    assert sts.tenants_assumed() == [t]
