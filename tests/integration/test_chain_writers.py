"""Writers of one process appending to one tenant's audit chain on the embedded engine (#17: under the load mix, quote
checks spent about a third of their wall time sleeping in the commit's retry backoff: each sealed its records on a head
read before it waited for the database's one writer, another writer moved the head meanwhile, and the retry slept
first, up to 10, 20, 40 ... ms). A commit whose head moved now retries at once, holding the writer lock from its head
read to its write, so its second attempt cannot lose to a writer of this process."""

from __future__ import annotations

import threading
import uuid
from types import SimpleNamespace
from typing import Any

from revgov.adapters.sqlite_db import Database
from revgov.adapters.sqlite_store import SqliteDocumentStore
from revgov.adapters.store_base import ConditionFailed
from revgov.adapters.system import RandomIds, SystemClock
from revgov.domain.audit import AuditEntry, verify
from revgov.ports import Changes, Put


def test_a_writer_whose_head_moved_retries_at_once_and_its_retry_never_loses_so_the_chain_holds(tmp_path,
                                                                                                   monkeypatch):
    from revgov.adapters import store_base

    store = SqliteDocumentStore(Database(tmp_path / "c.sqlite"), SystemClock(), RandomIds(SystemClock()))
    t = f"cw-{uuid.uuid4().hex[:8]}"
    attempts: dict[int, int] = {}
    slept: list[float] = []
    transact = store._transact

    def counting(scope: str, writes: Any) -> None:
        key = threading.get_ident()
        attempts[key] = attempts.get(key, 0) + 1
        try:
            transact(scope, writes)
        except ConditionFailed:
            assert attempts[key] == 1, "a retry under the writer lock lost to another writer of this process"
            raise
        attempts[key] = 0

    store._transact = counting  # type: ignore[method-assign]
    # this module's sleeps, and only those of this test's writers: the worker's stack (a session fixture, its router
    # and handlers committing in the background) shares the module, and its sleeps are neither this test's nor skipped
    writers: set[int] = set()
    real_sleep = store_base.time.sleep

    def sleep(seconds: float) -> None:
        if threading.get_ident() in writers:
            slept.append(seconds)
        else:
            real_sleep(seconds)

    monkeypatch.setattr(store_base, "time", SimpleNamespace(sleep=sleep))

    def work(n: int) -> None:
        writers.add(threading.get_ident())
        for i in range(25):
            entry = AuditEntry("sales:key_1", "pricing.checked", f"dec_{n}_{i}", "approved", {"n": n, "i": i})
            store.commit(t, Changes(puts=[Put("THING", f"{n}-{i}", {"n": n})], audit=[entry]))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert slept == []  # no commit slept before sealing again
    assert verify(store.iter_audit_records(t), store.audit_head(t)).as_dict() == {
        "records": 200, "valid": True, "first_invalid": None}


def test_a_head_moved_by_another_process_on_the_file_is_still_retried(tmp_path):
    """Another process (a CLI) meets SQLite's lock, not this process's: its append moves the head under a sealed
    change, whose conditional head write then fails and is sealed again on the new head."""
    path = tmp_path / "c.sqlite"
    ours = SqliteDocumentStore(Database(path), SystemClock(), RandomIds(SystemClock()))
    theirs = SqliteDocumentStore(Database(path), SystemClock(), RandomIds(SystemClock()))
    t = f"cw-{uuid.uuid4().hex[:8]}"
    ours.commit(t, Changes(audit=[AuditEntry("a", "x.y", "first", "ok")]))
    transact, moved = ours._transact, []

    def another_process_appends_first(scope: str, writes: Any) -> None:
        if not moved:
            moved.append(theirs.commit(t, Changes(audit=[AuditEntry("cli", "x.y", "theirs", "ok")])))
        transact(scope, writes)

    ours._transact = another_process_appends_first  # type: ignore[method-assign]
    ours.commit(t, Changes(audit=[AuditEntry("a", "x.y", "ours", "ok")]))
    records = list(ours.iter_audit_records(t))
    assert [r["subject"] for r in records] == ["first", "theirs", "ours"]
    assert verify(records, ours.audit_head(t)).valid
