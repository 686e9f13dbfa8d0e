"""The stack's store (the embedded engine, as `make run`) through the runtime: atomic commits, the audit chain under
concurrency, fenced cursors, tampering found. The same properties on every backend: test_store_contract.py."""

import threading
import uuid

import pytest

from engine_support import overwrite, raw_data
from revgov.domain.audit import AuditEntry
from revgov.domain.errors import Conflict, MalformedRequest
from revgov.ports import Changes, Put

POINTERS_OK = {"checked": 0, "valid": True, "problems": [], "more_problems": 0}  # no record names a partner


def tenant() -> str:
    return f"it-{uuid.uuid4().hex[:10]}"


def entry(subject: str) -> AuditEntry:
    return AuditEntry(actor="test", action="thing.created", subject=subject, outcome="created", inputs={"s": subject})


def test_a_failed_condition_writes_nothing_not_even_the_audit_record(rt):
    t = tenant()
    rt.commit(t, Changes(puts=[Put("THING", "a", {"v": 1}, must_be_absent=True)], audit=[entry("a")]))
    with pytest.raises(Conflict):
        rt.commit(
            t,
            Changes(
                puts=[Put("THING", "b", {"v": 2}), Put("THING", "a", {"v": 3}, must_be_absent=True)], audit=[entry("b")]
            ),
        )
    assert rt.store.get(t, "THING", "b") is None
    assert rt.store.get(t, "THING", "a").data == {"v": 1}
    assert [r["subject"] for r in rt.store.audit_records(t)] == ["a"]


def test_concurrent_commits_keep_one_unbroken_chain(rt):
    t = tenant()
    errors = []

    def work(i: int) -> None:
        try:
            rt.commit(t, Changes(puts=[Put("THING", f"k{i}", {"i": i})], audit=[entry(f"k{i}")]))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    from revgov.services.audit import verify_chain

    assert not errors
    assert verify_chain(rt, t) == {"records": 12, "valid": True, "first_invalid": None, "pointers": POINTERS_OK}
    assert sorted(r["subject"] for r in rt.store.audit_records(t)) == sorted(f"k{i}" for i in range(12))


def test_an_optimistic_version_mismatch_is_a_conflict(rt):
    t = tenant()
    rt.commit(t, Changes(puts=[Put("THING", "a", {"v": 1})]))
    current = rt.store.get(t, "THING", "a")
    rt.commit(t, Changes(puts=[Put("THING", "a", {"v": 2}, expected_version=current.version)]))
    with pytest.raises(Conflict):
        rt.commit(t, Changes(puts=[Put("THING", "a", {"v": 3}, expected_version=current.version)]))


def test_pages_follow_cursors_and_a_cursor_cannot_cross_tenants(rt):
    a, b = tenant(), tenant()
    for t in (a, b):
        rt.commit(t, Changes(puts=[Put("THING", f"k{i:02d}", {"i": i}) for i in range(5)]))
    first = rt.store.query(a, "THING", limit=2)
    second = rt.store.query(a, "THING", limit=2, cursor=first.next_cursor)
    assert [s.key for s in first.items + second.items] == ["k00", "k01", "k02", "k03"]
    with pytest.raises(MalformedRequest):
        rt.store.query(b, "THING", limit=2, cursor=first.next_cursor)
    with pytest.raises(MalformedRequest):
        rt.store.query(a, "THING", limit=2, cursor="not-base64!")


def test_tampering_with_a_stored_record_is_found_by_verification(rt):
    from revgov.services.audit import verify_chain

    t = tenant()
    for i in range(3):
        rt.commit(t, Changes(audit=[entry(f"s{i}")]))
    data = raw_data(rt, t, "AUDIT", "R#000000000002")
    overwrite(rt, t, "AUDIT", "R#000000000002", data.replace('"created"', '"approved"'))
    result = verify_chain(rt, t)
    assert result["valid"] is False and result["first_invalid"]["seq"] == 2


def test_events_wait_in_the_outbox_when_the_bus_fails_and_go_out_on_flush(rt, monkeypatch):
    """The outbox path, for a bus that is another system than the store (EventBridge): the stack's embedded engine
    enqueues in the commit's own transaction instead (next test), so this runs on its store without the bus."""
    from dataclasses import replace

    from revgov.adapters.sqlite_store import SqliteDocumentStore
    from revgov.ports import DomainEvent

    if getattr(rt.store, "bus", None) is not None:
        rt = replace(rt, store=SqliteDocumentStore(rt.store.db, rt.clock, rt.ids))
    t = tenant()
    published = []

    def broken(tenant_id, events):
        raise RuntimeError("bus down")

    monkeypatch.setattr(rt.publisher, "publish", broken)
    rt.commit(t, Changes(events=[DomainEvent("revgov.test", "thing.happened", {"n": 1})]))
    assert len(rt.store.query(t, "OUTBOX", limit=10).items) == 1
    monkeypatch.setattr(rt.publisher, "publish", lambda tenant_id, events: published.extend(events) or [])
    assert rt.flush_outbox(t) == 1
    assert rt.store.query(t, "OUTBOX", limit=10).items == []
    assert published[0]["detail"]["tenant_id"] == t and published[0]["detail"]["n"] == 1


def test_a_chain_that_grows_while_it_is_verified_is_valid(rt, monkeypatch):
    """Handlers append records while `GET /v1/audit/verify` walks the chain: that is not a broken chain."""
    from revgov.services.audit import verify_chain

    t = tenant()
    for i in range(3):
        rt.commit(t, Changes(audit=[entry(f"s{i}")]))
    walked = rt.store.iter_audit_texts
    walks = []

    def other_writers_commit_around_the_walk(tenant_id, **kwargs):
        walks.append(kwargs)
        if len(walks) == 1:
            rt.commit(t, Changes(audit=[entry("early")]))  # as the walk starts
        yield from walked(tenant_id, **kwargs)
        if len(walks) == 1:
            rt.commit(t, Changes(audit=[entry("late")]))  # after the walk's query passed the end

    monkeypatch.setattr(rt.store, "iter_audit_texts", other_writers_commit_around_the_walk)
    assert verify_chain(rt, t) == {"records": 5, "valid": True, "first_invalid": None, "pointers": POINTERS_OK}


def test_a_record_beyond_the_head_is_found_by_verification(rt):
    from revgov.services.audit import verify_chain

    t = tenant()
    for i in range(2):
        rt.commit(t, Changes(audit=[entry(f"s{i}")]))
    forged = raw_data(rt, t, "AUDIT", "R#000000000002").replace('"seq":2', '"seq":3')
    overwrite(rt, t, "AUDIT", "R#000000000003", forged, lookup=("AUDIT#s1", "000000000003"))
    result = verify_chain(rt, t)
    assert result["valid"] is False and result["first_invalid"]["seq"] == 3


def test_an_item_over_dynamodbs_400_kb_limit_is_refused_with_its_true_cause_not_a_chain_retry(rt):
    """A cancelled transaction whose reason is the item size is not "the audit chain moved": retrying cannot help,
    so the store says what happened at once (DynamoDB caps an item at 400 KB) and writes nothing. Every engine holds
    items to DynamoDB's limit (the stack's is the embedded one), so what works locally works in AWS."""
    from revgov.domain.errors import PayloadTooLarge

    t = tenant()
    rt.commit(t, Changes(puts=[Put("THING", "a", {"v": 1})], audit=[entry("a")]))
    with pytest.raises(PayloadTooLarge, match="400 KB item limit") as refused:
        rt.store.commit(t, Changes(puts=[Put("THING", "big", {"x": "a" * 420_000})], audit=[entry("big")]))
    assert "retry" not in str(refused.value).replace("retrying will not help", "")
    assert rt.store.get(t, "THING", "big") is None and len(rt.store.audit_records(t)) == 1
