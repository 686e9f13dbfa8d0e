"""#17: on the in-memory engine the running rebate accrual cost 1.69x as much per event late in a period as early in
it (0.41x on SQLite). The in-memory store scanned the whole partition for every page (a prefix or a lookup read built
the list of every key after the cursor, then filtered it) and searched the whole partition's sorted keys for every
rewrite of an item, so a read or a rewrite cost more as the partition grew. Issue #17 asks that "posting the 10,000th
line of a month costs what the first did": a page, or a rewrite, must cost the same in a partition of a thousand items
as in one of a hundred thousand. (Equality of the answers with SQLite's: tests/integration/test_store_contract.py.)

Timed as the fastest of many repeats (what the code costs, not what a busy machine adds), with a wide margin: the
scan made the large partition's reads 100-1000x slower; bisection keeps them within a small factor.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from memory_store import FixedClock
from revgov.adapters.memory_store import MemoryDocumentStore
from revgov.adapters.system import RandomIds
from revgov.ports import Changes, Put

SMALL, LARGE = 1_000, 100_000


def _store(size: int) -> MemoryDocumentStore:
    clock = FixedClock("2026-10-05T12:00:00Z")
    store = MemoryDocumentStore(clock, RandomIds(clock))
    store.import_tenant("t", [
        {"collection": "LINE", "key": f"k{i:06d}", "version": 1, "data": {"i": i},
         "lookup": ["LINE#month", f"{i:06d}"], "expires_at": None}
        for i in range(size)
    ])  # fmt: skip
    return store


def _fastest(call: Callable[[], Any], repeats: int = 40) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best


def _ratio(work: Callable[[MemoryDocumentStore], Callable[[], Any]]) -> float:
    small, large = _store(SMALL), _store(LARGE)
    return _fastest(work(large)) / _fastest(work(small))


def test_a_page_with_a_prefix_costs_the_same_in_a_large_partition():
    assert [s.key for s in _store(SMALL).query("t", "LINE", limit=3, prefix="k0005").items] == [
        "k000500", "k000501", "k000502"]  # fmt: skip
    assert _ratio(lambda store: lambda: store.query("t", "LINE", limit=5, prefix="k0005")) < 5


def test_a_lookup_page_after_a_cursor_costs_the_same_in_a_large_partition():
    def work(store: MemoryDocumentStore) -> Callable[[], Any]:
        cursor = store.lookup("t", "LINE#month", limit=10, prefix="0004").next_cursor
        return lambda: store.lookup("t", "LINE#month", limit=10, prefix="0004", cursor=cursor)

    assert _ratio(work) < 5


def test_rewriting_an_item_costs_the_same_in_a_large_partition():
    def work(store: MemoryDocumentStore) -> Callable[[], Any]:
        def rewrite() -> None:
            stored = store.get("t", "LINE", "k000500")
            assert stored is not None
            store.commit("t", Changes(puts=[Put("LINE", "k000500", {"i": 500}, expected_version=stored.version,
                                                lookup=("LINE#month", "000500"))]))

        return rewrite

    assert _ratio(work) < 2.5  # the search of the sorted keys made it 5-6x


def test_adding_items_to_the_middle_of_a_large_partition_costs_the_same():
    def work(store: MemoryDocumentStore) -> Callable[[], Any]:
        added = iter(range(10**6))

        def add() -> None:  # between existing keys, each with its lookup entry, as new lines of a busy month land
            n = next(added)
            store.commit("t", Changes(puts=[Put("LINE", f"k000500-{n:07d}", {"n": n}, lookup=("LINE#month",
                                                                                             f"000500-{n:07d}"))]))

        return add

    assert _ratio(work) < 2.5  # a plain sorted list moved half the partition's keys: 4-10x


def test_sorted_values_keep_the_order_of_a_sorted_list_through_adds_discards_and_chunk_splits():
    import random
    from bisect import bisect_left

    from revgov.adapters.memory_store import SortedValues

    rng = random.Random(17)
    values: SortedValues[str] = SortedValues()
    reference: list[str] = []
    for step in range(6000):
        value = f"{rng.randrange(4000):05d}"
        if step % 3 == 2 and reference:
            gone = rng.choice(reference) if rng.random() < 0.8 else "absent"
            values.discard(gone)
            if gone in reference:
                reference.remove(gone)
        elif value not in reference:
            values.add(value)
            reference.insert(bisect_left(reference, value), value)
        if step % 500 == 0:
            for low in ("", "00000", f"{rng.randrange(4000):05d}", "03999", "9"):
                assert list(values.starting_at(low)) == reference[bisect_left(reference, low):]
    assert len(reference) > 1024  # several chunks were split on the way
    assert list(values.starting_at("")) == reference
