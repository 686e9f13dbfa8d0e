"""The store contract: one suite, run unchanged against every DocumentStore backend (SQLite, in memory, DynamoDB on
moto), proving them equivalent.

The contract is the DocumentStore port (functions/revgov/ports.py) and DESIGN.md: "A store commits it all or nothing,
so no state change ever lands without its audit record"; "Put: `must_be_absent`/`expected_version` are checked
atomically"; every key starts with `T#{tenant}#`; "cursors that cannot cross tenants"; the audit chain is one
unbroken hash chain per tenant even under concurrent writers ("retry on a moved head").
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from revgov.adapters.store_base import BaseDocumentStore
from revgov.adapters.system import RandomIds, SystemClock
from revgov.domain.audit import GENESIS, AuditEntry, verify
from revgov.domain.errors import Conflict, MalformedRequest
from revgov.ports import Changes, Delete, Put
from revgov.services.audit import verify_chain

POINTERS_OK = {"checked": 0, "valid": True, "problems": [], "more_problems": 0}  # no record names a partner

BACKENDS = ["sqlite", "memory", "dynamodb"]


class FixedClock:
    def now_iso(self) -> str:
        return "2026-03-01T12:00:00Z"

    def now_ms(self) -> int:
        return 1772366400000


class CountingIds:
    def __init__(self) -> None:
        self._n = itertools.count(1)

    def new(self, prefix: str) -> str:
        return f"{prefix}_{next(self._n):08d}"

    def secret(self) -> str:
        return "s" * 32


@pytest.fixture(scope="module")
def dynamodb_endpoint() -> Iterator[str]:
    """moto's server (with the serialization patches the AWS adapters' tests need), one table per test."""
    from aws_emulator import start_emulator

    emulator = start_emulator(0)
    yield emulator.endpoint_url
    emulator.stop()


def make_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest, clock: Any, ids: Any) -> BaseDocumentStore:
    if backend == "sqlite":
        from revgov.adapters.sqlite_db import Database
        from revgov.adapters.sqlite_store import SqliteDocumentStore

        return SqliteDocumentStore(Database(tmp_path / f"store-{uuid.uuid4().hex[:6]}.sqlite"), clock, ids)
    if backend == "memory":
        from revgov.adapters.memory_store import MemoryDocumentStore

        return MemoryDocumentStore(clock, ids)
    import boto3

    from revgov.adapters.dynamo import DynamoDocumentStore
    from revgov.resources import TABLE

    endpoint = request.getfixturevalue("dynamodb_endpoint")
    table = f"contract-{uuid.uuid4().hex[:10]}"
    boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint).create_table(
        **TABLE.create_table_args(table)
    )
    return DynamoDocumentStore(table, "us-east-1", clock, ids, host=endpoint)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BaseDocumentStore:
    return make_store(request.param, tmp_path, request, SystemClock(), RandomIds(SystemClock()))


def tenant() -> str:
    return f"ct-{uuid.uuid4().hex[:10]}"


def entry(subject: str, action: str = "thing.created") -> AuditEntry:
    return AuditEntry(actor="test", action=action, subject=subject, outcome="created", inputs={"s": subject})


def keys(page: Any) -> list[str]:
    return [item.key for item in page.items]


# --- documents -----------------------------------------------------------------------------------------------


def test_a_put_reads_back_with_its_version_and_decimals_as_strings(store):
    t = tenant()
    store.commit(t, Changes(puts=[Put("THING", "a", {"amount": Decimal("10.50"), "n": 1})]))
    got = store.get(t, "THING", "a")
    assert got.data == {"amount": "10.50", "n": 1} and got.version == 1
    store.commit(t, Changes(puts=[Put("THING", "a", {"n": 2}, expected_version=1)]))
    assert store.get(t, "THING", "a").version == 2
    assert store.get(t, "THING", "missing") is None


def test_get_parsed_parses_a_document_again_only_when_it_changed_and_sees_every_change(store, tmp_path, request):
    """#17: `get_parsed` answers what `get` would, parsed; the parsed value is reused while the stored document is
    unchanged, and a change (by this store or another one on the same data) is seen on the next read."""
    t, parsed = tenant(), []

    def parse(data: dict[str, Any]) -> tuple[str, ...]:
        parsed.append(data)
        return tuple(sorted(data.items()))

    assert store.get_parsed(t, "THING", "a", parse) is None
    store.commit(t, Changes(puts=[Put("THING", "a", {"v": "1"})]))
    first = store.get_parsed(t, "THING", "a", parse)
    assert first == ((("v", "1"),), 1) and store.get_parsed(t, "THING", "a", parse) == first and len(parsed) == 1
    assert store.get_parsed(t, "THING", "a", parse)[0] is first[0]  # the same value, not parsed again
    store.commit(t, Changes(puts=[Put("THING", "a", {"v": "2"}, expected_version=1)]))
    assert store.get_parsed(t, "THING", "a", parse) == ((("v", "2"),), 2) and len(parsed) == 2
    assert store.get_parsed(tenant(), "THING", "a", parse) is None  # another tenant's key is not this one
    store.commit(t, Changes(deletes=[Delete("THING", "a")]))
    assert store.get_parsed(t, "THING", "a", parse) is None


def test_must_be_absent_refuses_an_existing_key_with_the_puts_own_detail(store):
    t = tenant()
    store.commit(t, Changes(puts=[Put("THING", "a", {"v": 1}, must_be_absent=True)]))
    with pytest.raises(Conflict) as refused:
        store.commit(t, Changes(puts=[Put("THING", "a", {"v": 2}, must_be_absent=True, conflict_detail="taken")]))
    assert refused.value.args[0] == "taken" or "taken" in str(refused.value)
    assert store.get(t, "THING", "a").data == {"v": 1}


def test_an_optimistic_version_mismatch_is_a_conflict_and_changes_nothing(store):
    t = tenant()
    store.commit(t, Changes(puts=[Put("THING", "a", {"v": 1})]))
    store.commit(t, Changes(puts=[Put("THING", "a", {"v": 2}, expected_version=1)]))
    with pytest.raises(Conflict):
        store.commit(t, Changes(puts=[Put("THING", "a", {"v": 3}, expected_version=1)]))
    with pytest.raises(Conflict):  # expecting a version of an item that does not exist
        store.commit(t, Changes(puts=[Put("THING", "never", {"v": 1}, expected_version=1)]))
    assert store.get(t, "THING", "a").data == {"v": 2}
    assert store.get(t, "THING", "never") is None


def test_a_failed_condition_rolls_back_every_put_delete_and_audit_record_of_the_commit(store):
    """"A store commits it all or nothing, so no state change ever lands without its audit record." """
    t = tenant()
    store.commit(
        t,
        Changes(puts=[Put("THING", "a", {"v": 1}, must_be_absent=True), Put("THING", "gone", {"v": 0})],
                audit=[entry("a")]),
    )
    head = store.audit_head(t)
    with pytest.raises(Conflict):
        store.commit(
            t,
            Changes(
                puts=[Put("THING", "b", {"v": 2}), Put("THING", "a", {"v": 3}, must_be_absent=True)],
                deletes=[Delete("THING", "gone")],
                audit=[entry("b"), entry("b2")],
            ),
        )
    assert store.get(t, "THING", "b") is None
    assert store.get(t, "THING", "a").data == {"v": 1}
    assert store.get(t, "THING", "gone").data == {"v": 0}
    assert [r["subject"] for r in store.audit_records(t)] == ["a"]
    assert store.audit_head(t) == head


def test_deletes_commit_with_puts_and_a_missing_key_deletes_quietly(store):
    t = tenant()
    store.commit(t, Changes(puts=[Put("THING", "a", {"v": 1}), Put("THING", "b", {"v": 1})]))
    store.commit(t, Changes(puts=[Put("THING", "c", {"v": 1})], deletes=[Delete("THING", "a"), Delete("THING", "x")]))
    assert keys(store.query(t, "THING", limit=10)) == ["b", "c"]


def test_get_many_finds_across_tenants_and_collections_and_leaves_out_the_missing(store):
    a, b = tenant(), tenant()
    store.commit(a, Changes(puts=[Put("THING", "1", {"o": "a"}), Put("OTHER", "1", {"o": "a-other"})]))
    store.commit(b, Changes(puts=[Put("THING", "1", {"o": "b"})]))
    found = store.get_many([(a, "THING", "1"), (a, "OTHER", "1"), (b, "THING", "1"), (b, "THING", "nope")])
    assert {ref: s.data["o"] for ref, s in found.items()} == {
        (a, "THING", "1"): "a", (a, "OTHER", "1"): "a-other", (b, "THING", "1"): "b"
    }


def test_get_many_of_a_thousand_keys_with_repeats_finds_exactly_the_stored_ones(store):
    """More keys than one request or statement takes (DynamoDB BatchGetItem: 100; SQLite: 400 a statement), some
    missing, some asked twice: each stored item once, with its data and version."""
    t = tenant()
    for start in range(0, 500, 50):  # 50 puts a commit: well under a transaction's 100 items with the tombstone check
        store.commit(t, Changes(puts=[Put("THING", f"{n:04d}", {"n": n}) for n in range(start, start + 50)]))
    asked = [(t, "THING", f"{n:04d}") for n in range(0, 1000, 1)] + [(t, "THING", "0007"), (t, "THING", "0499")]
    found = store.get_many(asked)
    assert sorted(found) == [(t, "THING", f"{n:04d}") for n in range(500)]
    assert all(s.data == {"n": int(ref[2])} and s.version == 1 for ref, s in found.items())


def test_a_put_into_another_tenants_partition_lands_there_only(store):
    """Put.tenant_id: "another tenant's partition (only the platform registry uses this)"."""
    platform, t = tenant(), tenant()
    store.commit(platform, Changes(puts=[Put("REGISTRY", t, {"t": t}), Put("PROFILE", "P", {"x": 1}, tenant_id=t)]))
    assert store.get(t, "PROFILE", "P").data == {"x": 1}
    assert store.get(platform, "PROFILE", "P") is None


def test_a_commit_of_more_than_100_items_is_refused_whole_on_every_backend(store):
    """DynamoDB's TransactWriteItems holds at most 100 items; the embedded backends refuse what AWS would."""
    from revgov.adapters.store_base import TransactionTooLarge

    t = tenant()
    # 97 puts, their audit record, the chain head and the check of the tenant's tombstone (a ConditionCheck item,
    # counted in the 100: test_store_contract_tombstone): 100 items, the most one transaction holds
    store.commit(t, Changes(puts=[Put("THING", f"k{i:03d}", {}) for i in range(97)], audit=[entry("fits")]))
    with pytest.raises(TransactionTooLarge):
        store.commit(t, Changes(puts=[Put("EDGE", f"k{i:03d}", {}) for i in range(98)], audit=[entry("one more")]))
    with pytest.raises(TransactionTooLarge):
        store.commit(t, Changes(puts=[Put("MORE", f"k{i:03d}", {}) for i in range(100)], audit=[entry("too many")]))
    assert store.query(t, "MORE", limit=5).items == [] and store.query(t, "EDGE", limit=5).items == []
    assert store.audit_head(t)[0] == 1


def test_an_item_over_400_kb_is_refused_whole_on_every_backend(store):
    """DynamoDB: "The maximum item size in DynamoDB is 400 KB, which includes both attribute name binary length
    (UTF-8 length) and attribute value lengths"; the embedded backends refuse what AWS would, at once, not retried."""
    from revgov.domain.errors import PayloadTooLarge

    t = tenant()
    store.commit(t, Changes(puts=[Put("THING", "fits", {"x": "a" * 380_000})], audit=[entry("fits")]))
    with pytest.raises(PayloadTooLarge, match="400 KB"):
        store.commit(t, Changes(puts=[Put("THING", "big", {"x": "é" * 210_000})], audit=[entry("big")]))
    assert store.get(t, "THING", "big") is None and store.audit_head(t)[0] == 1


# --- pages and cursors -----------------------------------------------------------------------------------------


def test_pages_follow_cursors_in_key_order_with_a_prefix(store):
    t = tenant()
    store.commit(t, Changes(puts=[Put("THING", f"k{i:02d}", {"i": i}) for i in range(7)]
                            + [Put("THING", "z1", {"i": 99}), Put("THING", "a1", {"i": -1})]))
    seen, cursor = [], None
    while True:
        page = store.query(t, "THING", limit=3, cursor=cursor, prefix="k")
        seen += keys(page)
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == [f"k{i:02d}" for i in range(7)]
    assert keys(store.query(t, "THING", limit=100)) == ["a1", *seen, "z1"]
    everything = store.query(t, "THING", limit=100)
    assert everything.next_cursor is None


def test_a_projection_reads_the_values_at_its_paths_page_by_page_in_key_order_within_the_tenant(store):
    """DocumentStore.project: each document under the prefix, in key order, with the JSON text of the value at each
    path (`null` when absent); the same values on every backend (compared decoded: the texts may differ in spacing)."""
    t, other = tenant(), tenant()
    docs = {f"k{i:02d}": {"kind": "pricing" if i % 2 else "other", "at": f"2026-11-{i + 1:02d}",
                          "inputs": {"lines": [{"q": i, "d": "1.50"}], "note": "café \"quoted\""},
                          "result": {"totals": {"net": f"{i}.00"}}} for i in range(7)}
    docs["k03"].pop("result")  # a document without one of the paths
    store.commit(t, Changes(puts=[Put("THING", k, v) for k, v in docs.items()] + [Put("THING", "z1", {"kind": "z"})]))
    store.commit(other, Changes(puts=[Put("THING", "k99", {"kind": "theirs"})]))
    paths = ("$.kind", "$.inputs", "$.result.totals.net", "$.missing.deeper")
    seen = list(store.project(t, "THING", paths, prefix="k", page_size=3))
    assert [key for key, _ in seen] == sorted(docs)  # in key order, over pages of 3; not z1, not the other tenant's
    for key, texts in seen:
        doc = docs[key]
        assert [json.loads(text) for text in texts] == [
            doc["kind"], doc["inputs"], doc.get("result", {}).get("totals", {}).get("net"), None]
    assert [key for key, _ in store.project(t, "THING", ("$.kind",))] == [*sorted(docs), "z1"]
    assert list(store.project(tenant(), "THING", ("$.kind",))) == []
    for bad in ("kind", "$", "$.a[0]", "$.a.", "$.a'); DROP TABLE items; --"):
        with pytest.raises(ValueError, match="not a projection path"):
            list(store.project(t, "THING", (bad,)))


def test_a_cursor_cannot_cross_tenants_collections_or_be_forged(store):
    a, b = tenant(), tenant()
    for t in (a, b):
        store.commit(t, Changes(puts=[Put("THING", f"k{i}", {"i": i}) for i in range(5)]
                                + [Put("OTHER", f"k{i}", {"i": i}) for i in range(5)]))
    first = store.query(a, "THING", limit=2)
    assert first.next_cursor
    with pytest.raises(MalformedRequest):
        store.query(b, "THING", limit=2, cursor=first.next_cursor)  # another tenant's list
    with pytest.raises(MalformedRequest):
        store.query(a, "OTHER", limit=2, cursor=first.next_cursor)  # another list of the same tenant
    with pytest.raises(MalformedRequest):
        store.lookup(a, "THING", limit=2, cursor=first.next_cursor)  # a table cursor on the index
    for garbage in ("not-base64!", "e30", base64.urlsafe_b64encode(b"[1,2]").decode()):
        with pytest.raises(MalformedRequest):
            store.query(a, "THING", limit=2, cursor=garbage)
    forged = base64.urlsafe_b64encode(json.dumps({"pk": f"T#{b}#THING", "sk": "k1"}).encode()).decode()
    with pytest.raises(MalformedRequest):
        store.query(a, "THING", limit=2, cursor=forged)


def test_lookups_page_by_index_key_follow_updates_and_stay_in_their_tenant(store):
    a, b = tenant(), tenant()
    for t in (a, b):
        store.commit(t, Changes(puts=[
            Put("CASE", f"c{i}", {"i": i}, lookup=("CASE#open", f"2026-0{i + 1}#c{i}")) for i in range(5)
        ]))
    seen, cursor = [], None
    while True:
        page = store.lookup(a, "CASE#open", limit=2, cursor=cursor)
        seen += keys(page)
        cursor = page.next_cursor
        if not cursor:
            break
        with pytest.raises(MalformedRequest):
            store.lookup(b, "CASE#open", limit=2, cursor=cursor)
    assert seen == ["c0", "c1", "c2", "c3", "c4"]
    assert keys(store.lookup(a, "CASE#open", limit=10, prefix="2026-03")) == ["c2"]
    store.commit(a, Changes(puts=[Put("CASE", "c2", {"i": 2}, lookup=("CASE#closed", "x"))],
                            deletes=[Delete("CASE", "c3")]))
    assert keys(store.lookup(a, "CASE#open", limit=10)) == ["c0", "c1", "c4"]
    assert keys(store.lookup(a, "CASE#closed", limit=10)) == ["c2"]
    assert keys(store.lookup(b, "CASE#open", limit=10)) == ["c0", "c1", "c2", "c3", "c4"]


# --- the audit chain -------------------------------------------------------------------------------------------


def test_records_are_sealed_in_order_on_one_chain_per_tenant(store):
    a, b = tenant(), tenant()
    store.commit(a, Changes(audit=[entry("x"), entry("y")]))
    store.commit(b, Changes(audit=[entry("x")]))
    store.commit(a, Changes(puts=[Put("THING", "a", {"v": 1})], audit=[entry("x", "thing.updated")]))
    records = store.audit_records(a)
    assert [r["seq"] for r in records] == [1, 2, 3]
    assert records[0]["prev_hash"] == GENESIS and records[1]["prev_hash"] == records[0]["hash"]
    assert store.audit_head(a) == (3, records[-1]["hash"])
    assert store.audit_head(b)[0] == 1
    assert [r["seq"] for r in store.audit_records(a, after_seq=1)] == [2, 3]
    assert [r["seq"] for r in store.audit_records(a, after_seq=1, limit=1)] == [2]
    assert [r["seq"] for r in store.iter_audit_records(a)] == [1, 2, 3]
    by_subject = store.audit_by_subject(a, "x", limit=10, cursor=None)
    assert [s.data["seq"] for s in by_subject.items] == [1, 3]
    first = store.audit_page(a, limit=2)
    rest = store.audit_page(a, limit=2, cursor=first.next_cursor)
    assert [s.data["seq"] for s in first.items + rest.items] == [1, 2, 3]
    assert verify(store.iter_audit_records(a), store.audit_head(a)).valid
    assert store.audit_head(tenant()) == (0, GENESIS)


def test_concurrent_writers_on_one_chain_keep_it_unbroken_and_lose_nothing(store):
    t = tenant()
    errors: list[Exception] = []

    def work(i: int) -> None:
        try:
            store.commit(t, Changes(puts=[Put("THING", f"k{i:02d}", {"i": i})], audit=[entry(f"k{i:02d}")]))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    verified = verify_chain(SimpleNamespace(store=store), t)
    assert verified == {"records": 12, "valid": True, "first_invalid": None, "pointers": POINTERS_OK}
    assert sorted(r["subject"] for r in store.audit_records(t)) == [f"k{i:02d}" for i in range(12)]
    assert len(store.query(t, "THING", limit=100).items) == 12


def test_concurrent_conditional_puts_on_one_key_let_exactly_one_win(store):
    t = tenant()
    wins, conflicts = [], []

    def work(i: int) -> None:
        try:
            store.commit(t, Changes(puts=[Put("ONCE", "key", {"i": i}, must_be_absent=True)], audit=[entry("once")]))
            wins.append(i)
        except Conflict:
            conflicts.append(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(wins) == 1 and len(conflicts) == 7
    assert store.get(t, "ONCE", "key").data == {"i": wins[0]}
    assert [r["subject"] for r in store.audit_records(t)] == ["once"]


# --- whole tenants ---------------------------------------------------------------------------------------------


def test_export_import_and_delete_touch_one_tenant_only_even_with_a_prefix_sharing_id(store):
    """Tenant keys are `T#{tenant}#...`: tenant `x` must not reach tenant `x-2`'s items."""
    base = tenant()
    a, b = base, f"{base}-2"
    store.commit(a, Changes(puts=[Put("THING", "1", {"o": "a"}, lookup=("IDX", "1"), expires_at=4102444800)],
                            audit=[entry("1")]))
    store.commit(b, Changes(puts=[Put("THING", "1", {"o": "b"})], audit=[entry("1")]))
    exported = store.export_tenant(a)
    assert {(e["collection"], e["key"]) for e in exported} == {
        ("THING", "1"), ("AUDIT", "HEAD"), ("AUDIT", "R#000000000001")
    }
    thing = next(e for e in exported if e["collection"] == "THING")
    assert thing == {"collection": "THING", "key": "1", "version": 1, "data": {"o": "a"}, "lookup": ["IDX", "1"],
                     "expires_at": 4102444800}
    assert store.delete_tenant(a) == 3
    assert store.export_tenant(a) == []
    assert store.get(b, "THING", "1").data == {"o": "b"}
    assert store.import_tenant(a, exported) == 3
    assert store.export_tenant(a) == exported
    assert keys(store.lookup(a, "IDX", limit=5)) == ["1"]
    assert verify(store.iter_audit_records(a), store.audit_head(a)).valid


# --- equivalence ---------------------------------------------------------------------------------------------


def _script(store: BaseDocumentStore) -> dict[str, Any]:
    """The same sequence of commits, conflicts and reads; everything observable comes back."""
    t = "equiv"
    out: dict[str, Any] = {"conflicts": []}
    store.commit(t, Changes(puts=[Put("P", f"p{i}", {"i": i, "amt": Decimal(f"{i}.10")},
                                      lookup=("P#active", f"{i % 3}#p{i}")) for i in range(6)],
                            audit=[entry("batch")]))
    for attempt in (
        Changes(puts=[Put("P", "p1", {"x": 1}, must_be_absent=True)], audit=[entry("dup")]),
        Changes(puts=[Put("P", "p2", {"x": 1}, expected_version=7)]),
    ):
        try:
            store.commit(t, attempt)
        except Conflict as refused:
            out["conflicts"].append(str(refused))
    store.commit(t, Changes(puts=[Put("P", "p2", {"i": 2, "v": 2}, expected_version=1,
                                      lookup=("P#paused", "p2"))],
                            deletes=[Delete("P", "p5")], audit=[entry("p2", "p.paused"), entry("p5", "p.deleted")]))
    pages, cursor = [], None
    while True:
        page = store.lookup(t, "P#active", limit=2, cursor=cursor)
        pages.append(keys(page))
        cursor = page.next_cursor
        if not cursor:
            break
    # DynamoDB may hand a cursor after a full last page ("LastEvaluatedKey ... may be more"), whose page is empty
    out["lookup_pages"] = [p for p in pages if p]
    out["query"] = [(s.key, s.data, s.version) for s in store.query(t, "P", limit=100).items]
    out["export"] = store.export_tenant(t)
    out["head"] = store.audit_head(t)
    return out


def test_every_backend_gives_the_same_answers_to_the_same_script(tmp_path, request):
    results = {
        backend: _script(make_store(backend, tmp_path, request, FixedClock(), CountingIds())) for backend in BACKENDS
    }
    assert results["sqlite"] == results["memory"] == results["dynamodb"]
    assert results["sqlite"]["lookup_pages"] == [["p0", "p3"], ["p1", "p4"]]
    assert results["sqlite"]["head"][0] == 3


def _paged_script(store: BaseDocumentStore, seed: int) -> dict[str, Any]:
    """Random creates, rewrites (some moving their lookup entry, some dropping it) and deletes in one partition,
    then every page of every prefix, page size and `after` bound read through cursors."""
    import random

    rng, t = random.Random(seed), "paged"
    for _ in range(40):
        puts, deletes = [], []
        for key in {f"{rng.choice('abc')}{rng.randrange(30):02d}" for _ in range(rng.randrange(1, 8))}:
            if rng.random() < 0.15:
                deletes.append(Delete("P", key))
                continue
            lookup = rng.choice([None, ("P#x", f"{rng.choice('mn')}{rng.randrange(9)}"), ("P#y", key)])
            puts.append(Put("P", key, {"n": rng.randrange(99)}, lookup=lookup))
        store.commit(t, Changes(puts=puts, deletes=deletes))
    out: dict[str, Any] = {}
    for prefix, limit in itertools.product(["", "a", "b1", "c2", "z"], [1, 3, 100]):
        for name, read in (("query", store.query), ("x", lambda t, _c, **kw: store.lookup(t, "P#x", **kw)),
                           ("y", lambda t, _c, **kw: store.lookup(t, "P#y", **kw))):
            pages, cursor = [], None
            while True:
                page = read(t, "P", limit=limit, cursor=cursor, prefix=prefix)
                pages += [(i.key, i.data, i.version) for i in page.items]
                cursor = page.next_cursor
                if not cursor:
                    break
            out[f"{name}/{prefix}/{limit}"] = pages
    for after in ("", "a05", "b", "c29", "d"):
        rows, _ = store._range(t, "T#paged#P", limit=None, after=after)
        out[f"after/{after}"] = [r.sk for r in rows]
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pages_prefixes_and_lookups_agree_between_sqlite_and_memory_after_random_rewrites(tmp_path, request, seed):
    """The in-memory backend finds a page by bisection and rewrites an item in place (#17: its partition scans made
    the running rebate accrual cost more late in a period): the same pages as SQLite's, in the same order, through
    rewrites that move, drop or keep a lookup entry."""
    memory = _paged_script(make_store("memory", tmp_path, request, FixedClock(), CountingIds()), seed)
    assert memory == _paged_script(make_store("sqlite", tmp_path, request, FixedClock(), CountingIds()), seed)
    assert any(memory[k] for k in memory if k.startswith("x/"))  # the script exercised the lookup index


def test_the_embedded_ttl_sweep_deletes_only_expired_items(tmp_path, request):
    """DynamoDB's TTL: an item whose `expires_at` (epoch seconds) has passed is deleted; the embedded engine's sweep
    (run hourly by `revgov dev`) does the same, and nothing else."""
    store = make_store("sqlite", tmp_path, request, SystemClock(), RandomIds(SystemClock()))
    t = tenant()
    store.commit(t, Changes(puts=[Put("X", "old", {}, expires_at=1000), Put("X", "new", {}, expires_at=5000),
                                  Put("X", "kept", {})]))
    assert store.purge_expired(2000) == 1
    assert keys(store.query(t, "X", limit=10)) == ["kept", "new"]


def test_a_put_given_its_json_text_is_stored_as_that_text_and_reads_back_as_its_data(store):
    """Put.text (ports.py): "`data`'s JSON text when the caller has already made it [...] stored as it is instead of
    being serialised again" (a new decision, services/decision_repository.py). Every engine keeps it and hands back
    the data, reads and projections alike; a sealed record made with its inputs' text reads back and verifies."""
    from revgov.domain.access import Principal, Role
    from revgov.domain.canonical import Canonical, canonical_json
    from revgov.services import decision_repository

    t = tenant()
    data = {"decision_id": "dec_01", "inputs": {"partner": {"tier": "gold"}}, "note": "żółw", "n": 3}
    made = Canonical.of(data["inputs"])
    who = Principal(t, Role.SALES, "key_01JX00000000000000000SALES")
    store.commit(t, Changes(puts=[Put("DECISION", "dec_01", data, text=canonical_json(data))],
                            audit=[AuditEntry.by(who, "pricing.checked", "dec_01", "allow", inputs=made)]))
    assert store.get(t, "DECISION", "dec_01").data == data
    assert list(store.project(t, "DECISION", ["$.inputs.partner.tier", "$.note"])) == [
        ("dec_01", ['"gold"', '"żółw"'])]
    assert decision_repository.recorded_tier(store, t, "dec_01") == "gold"
    assert decision_repository.recorded_tier(store, t, "dec_0") is None  # a key it prefixes is not its own
    [record] = store.audit_records(t)
    assert record["inputs"] == data["inputs"] and verify(store.audit_records(t)).valid
