"""`toolkit.put_over`: a document written over what was read, or as new; a writer that got there first makes the
commit a Conflict instead of losing its write (the optimistic concurrency every read-modify-write relies on)."""

from __future__ import annotations

import pytest

from memory_store import FixedClock
from revgov.adapters.memory_store import MemoryDocumentStore
from revgov.adapters.system import RandomIds
from revgov.domain.errors import Conflict
from revgov.ports import Changes
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
