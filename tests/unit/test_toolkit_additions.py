"""`toolkit.lookup_pages`: a lookup partition read whole across store pages. `toolkit.put_over`: a document written
over what was read, or as new; a writer that got there first makes the commit a Conflict instead of losing its write
(the optimistic concurrency every read-modify-write relies on)."""

from __future__ import annotations

import pytest

from memory_store import FixedClock
from revgov.adapters.memory_store import MemoryDocumentStore
from revgov.adapters.system import RandomIds
from revgov.domain.errors import Conflict
from revgov.ports import Changes, Put
from revgov.services import toolkit


def test_put_over_writes_new_or_over_the_version_read_and_refuses_a_stale_read() -> None:
    clock = FixedClock("2027-01-04T09:00:00Z")
    store = MemoryDocumentStore(clock, RandomIds(clock))
    store.commit("t1", Changes(puts=[toolkit.put_over("THINGS", "a", {"n": 1}, None, conflict_detail="a moved")]))
    with pytest.raises(Conflict, match="a moved"):  # "new" but it exists now
        store.commit("t1", Changes(puts=[toolkit.put_over("THINGS", "a", {"n": 9}, None, conflict_detail="a moved")]))
    read = store.get("t1", "THINGS", "a")
    assert read is not None
    store.commit("t1", Changes(puts=[toolkit.put_over("THINGS", "a", {"n": 2}, read, conflict_detail="a moved")]))
    with pytest.raises(Conflict, match="a moved"):  # over a version another write has replaced
        store.commit("t1", Changes(puts=[toolkit.put_over("THINGS", "a", {"n": 3}, read, conflict_detail="a moved")]))
    stored = store.get("t1", "THINGS", "a")
    assert stored is not None and stored.data == {"n": 2}


def test_lookup_pages_reads_a_whole_lookup_partition_in_sort_order_and_only_that_one() -> None:
    clock = FixedClock("2027-01-04T09:00:00Z")
    store = MemoryDocumentStore(clock, RandomIds(clock))
    puts = [Put("THINGS", f"k{n}", {"n": n}, lookup=("THINGS#red", f"{n:03d}")) for n in (5, 1, 3, 2, 4)]
    puts.append(Put("THINGS", "blue", {"n": 99}, lookup=("THINGS#blue", "000")))
    store.commit("t1", Changes(puts=puts))
    store.commit("t2", Changes(puts=[Put("THINGS", "k9", {"n": -1}, lookup=("THINGS#red", "000"))]))
    seen = [item.data["n"] for item in toolkit.lookup_pages(store, "t1", "THINGS#red", page_size=2)]
    assert seen == [1, 2, 3, 4, 5]  # three pages, sorted, no other partition's or tenant's documents


def test_put_over_without_a_detail_keeps_the_puts_own() -> None:
    put = toolkit.put_over("THINGS", "a", {"n": 1}, None)
    assert put.must_be_absent and put.expected_version is None
    assert put.conflict_detail == Put("THINGS", "a", {}).conflict_detail
