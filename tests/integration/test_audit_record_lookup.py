"""Staff explanations of an audit record (`GET /v1/decisions/aud_…/explain`) find the record by keyed reads, not by
walking the chain, and still refuse a record that does not hold where it stands; on every engine.

DESIGN.md: "Decisions can be explained in words from their audit record plus the cited clause text" and the chain is
"tamper-evident: `prev_hash`, `hash` (SHA-256 over canonical JSON)". So the record explained must be the one sealed:
its own hash must hold, the record before it must be the one its `prev_hash` names, and the record after it (or the
chain's head) must link to its hash. DESIGN.md on ids: "ULIDs with a type prefix: sortable" — a record's id is made
after the record before it was committed, which is what lets the lookup bisect the chain on the ids' time.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from test_store_contract import BACKENDS, dynamodb_endpoint, make_store  # noqa: F401  (the DynamoDB fixture)

from memory_store import FixedClock, NoBus
from revgov.adapters.store_base import AUDIT, Row, partition
from revgov.adapters.system import RandomIds
from revgov.domain.audit import AuditEntry
from revgov.domain.canonical import canonical_json, sha256_text
from revgov.ports import Changes
from revgov.runtime import Runtime
from revgov.services import audit_lookup
from revgov.settings import settings


class _Keyed:
    """The store, counting keyed reads of the chain; any read of the chain as a whole is refused."""

    def __init__(self, store: Any) -> None:
        self.store, self.gets = store, 0

    def __getattr__(self, name: str) -> Any:
        if name in ("iter_audit_records", "iter_audit_texts", "audit_page", "audit_records"):
            raise AssertionError(f"the chain was read as a whole ({name})")
        return getattr(self.store, name)

    def get(self, tenant_id: str, collection: str, key: str) -> Any:
        self.gets += collection == AUDIT
        return self.store.get(tenant_id, collection, key)


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Runtime, FixedClock]:
    clock = FixedClock("2026-11-02T09:00:00.000Z")
    ids = RandomIds(clock)
    store = make_store(request.param, tmp_path, request, clock, ids)
    return Runtime(settings(), store, NoBus(), clock, ids), clock


def _chain(rt: Runtime, clock: FixedClock, records: int, *, tick_ms: int = 7) -> tuple[str, list[dict[str, Any]]]:
    t = f"lk-{uuid.uuid4().hex[:10]}"
    for start in range(0, records, 20):
        clock.advance(milliseconds=tick_ms)
        rt.store.commit(t, Changes(audit=[AuditEntry("finance:key_1", "thing.done", f"dec_{i}", "done")
                                          for i in range(start, min(start + 20, records))]))  # fmt: skip
    return t, list(rt.store.iter_audit_records(t))


def test_every_record_is_found_by_its_id_with_a_few_keyed_reads_and_no_walk(world):
    rt, clock = world
    t, records = _chain(rt, clock, 400)
    keyed = _Keyed(rt.store)
    looking = Runtime(rt.settings, keyed, rt.publisher, rt.clock, rt.ids)  # type: ignore[arg-type]
    for record in [*records[::37], records[0], records[-1]]:
        keyed.gets = 0
        assert audit_lookup.find_record(looking, t, record["record_id"]) == record
        assert keyed.gets <= 9 + 20 + 2  # bisecting 400 places, the 20 sealed in the same millisecond, two edges
        assert audit_lookup.chain_problem(looking, t, record) is None


def test_records_sealed_in_the_same_millisecond_or_by_a_clock_a_little_behind_are_found(world):
    rt, clock = world
    t, records = _chain(rt, clock, 60, tick_ms=0)  # every id made in one millisecond
    assert all(audit_lookup.find_record(rt, t, r["record_id"]) == r for r in records)
    clock.advance(milliseconds=-1500)  # a writer whose clock is 1.5 s behind the last one's
    rt.store.commit(t, Changes(audit=[AuditEntry("finance:key_2", "thing.done", "dec_late", "done")]))
    late = list(rt.store.iter_audit_records(t))[-1]
    assert audit_lookup.find_record(rt, t, late["record_id"]) == late


def test_an_unknown_id_and_another_tenants_record_are_not_found(world):
    rt, clock = world
    t, records = _chain(rt, clock, 40)
    other, theirs = _chain(rt, clock, 5)
    assert audit_lookup.find_record(rt, t, theirs[0]["record_id"]) is None
    assert audit_lookup.find_record(rt, other, records[3]["record_id"]) is None
    assert audit_lookup.find_record(rt, t, "aud_01JX0000000000000000000000") is None
    assert audit_lookup.find_record(rt, t, "not-an-id") is None


def _overwrite(rt: Runtime, t: str, record: dict[str, Any]) -> None:
    rt.store.bulk_put(t, [Row(partition(t, AUDIT), f"R#{record['seq']:012d}", json.dumps(record))])


@pytest.mark.parametrize("where", [0, 17, 39])
def test_an_edited_record_is_refused_whether_or_not_its_hash_was_recomputed(world, where):
    rt, clock = world
    t, records = _chain(rt, clock, 40)
    edited = {**records[where], "outcome": "approved"}
    _overwrite(rt, t, edited)
    found = audit_lookup.find_record(rt, t, edited["record_id"])
    assert audit_lookup.chain_problem(rt, t, found) == "content does not match its hash"
    rehashed = {k: v for k, v in edited.items() if k != "hash"}
    rehashed["hash"] = sha256_text(canonical_json(rehashed))
    _overwrite(rt, t, rehashed)
    found = audit_lookup.find_record(rt, t, edited["record_id"])
    assert audit_lookup.chain_problem(rt, t, found) == (
        "the record after it (or the chain's head) does not link to its hash")
    neighbour = records[where + 1] if where + 1 < len(records) else None
    if neighbour is not None:  # the record after it, untouched, now names a record that is not there
        found = audit_lookup.find_record(rt, t, neighbour["record_id"])
        assert audit_lookup.chain_problem(rt, t, found) == "prev_hash does not match the hash of the record before it"
