"""The store contract, continued: an offboarded tenant's tombstone, run unchanged on every backend (SQLite, in memory,
DynamoDB on moto, where the check is a ConditionCheck item of the TransactWriteItems).

docs/tenants.md (offboarding, from the README): the operator "offboards (export, then delete everything, then prove
nothing is left)"; API.md:
"`DELETE /v1/tenants/{tenant_id}` (offboard: export, then delete everything)"; DESIGN.md: "A store commits it all or
nothing". A handler that read a tenant before its offboarding must not write it back after: the store refuses any
change that puts into a tenant whose tombstone stands (`ports.TOMBSTONE`), in the change's own transaction, and lets
every other tenant write as before. Issue #16: "Offboarding and re-provisioning leave no old clauses behind": the id
can be provisioned (or imported) again, which lifts the tombstone.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from test_store_contract import BACKENDS, dynamodb_endpoint, make_store  # noqa: F401  (the DynamoDB fixture)

from revgov.adapters.store_base import BaseDocumentStore, Row, partition
from revgov.adapters.system import RandomIds, SystemClock
from revgov.domain.access import PLATFORM
from revgov.domain.audit import AuditEntry
from revgov.domain.errors import StaleWrite, TenantOffboarded
from revgov.ports import TOMBSTONE, Changes, Delete, Put


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BaseDocumentStore:
    return make_store(request.param, tmp_path, request, SystemClock(), RandomIds(SystemClock()))


def tenant() -> str:
    return f"tb-{uuid.uuid4().hex[:10]}"


def entry(subject: str) -> AuditEntry:
    return AuditEntry(actor="test", action="thing.done", subject=subject, outcome="done")


def fence(store: BaseDocumentStore, t: str) -> None:
    """What offboarding commits before it exports (services.offboarding._fence)."""
    store.commit(t, Changes(puts=[Put(*TOMBSTONE, {"offboarding_id": "off_1", "since": "2026-12-07T12:00:00Z"})]))


def test_a_fenced_tenant_takes_no_put_and_no_audit_record_and_the_whole_change_is_refused(store):
    t = tenant()
    store.commit(t, Changes(puts=[Put("THING", "kept", {"v": 1})], audit=[entry("before")]))
    fence(store, t)
    with pytest.raises(TenantOffboarded) as refused:
        store.commit(t, Changes(puts=[Put("THING", "late", {"v": 2})]))
    assert refused.value.extra == {"tenant_id": t} and refused.value.status == 409
    with pytest.raises(TenantOffboarded):
        store.commit(t, Changes(audit=[entry("late")]))
    with pytest.raises(TenantOffboarded):  # the change's own conflict loses to the tombstone: no retry would help
        store.commit(t, Changes(puts=[Put("THING", "kept", {"v": 3}, expected_version=7)]))
    assert not issubclass(TenantOffboarded, StaleWrite)  # never retried by services.toolkit.retry_on_conflict
    assert store.get(t, "THING", "late") is None and store.get(t, "THING", "kept").data == {"v": 1}
    assert store.audit_head(t)[0] == 1


def test_deletes_alone_still_commit_and_other_tenants_write_as_before(store):
    t, live = tenant(), tenant()
    store.commit(t, Changes(puts=[Put("OUTBOX", "evt_1", {"e": 1})]))
    fence(store, t)
    store.commit(t, Changes(deletes=[Delete("OUTBOX", "evt_1")]))  # a publish tidying its outbox: nothing comes back
    assert store.get(t, "OUTBOX", "evt_1") is None
    store.commit(live, Changes(puts=[Put("THING", "a", {"v": 1})], audit=[entry("a")]))
    store.commit(PLATFORM, Changes(puts=[Put("THING", "p", {"v": 1})], audit=[entry("p")]))
    assert store.get(live, "THING", "a") is not None and store.get(PLATFORM, "THING", "p") is not None


def test_a_change_spanning_a_live_partition_and_a_fenced_tenant_writes_neither(store):
    if getattr(store, "scoped", False):
        pytest.skip("a scoped DynamoDB store refuses any change spanning two tenants before this")
    t = tenant()
    fence(store, t)
    with pytest.raises(TenantOffboarded):
        store.commit(PLATFORM, Changes(puts=[Put("REG", t, {"v": 1}), Put("THING", "x", {"v": 1}, tenant_id=t)]))
    assert store.get(PLATFORM, "REG", t) is None and store.get(t, "THING", "x") is None


def test_the_tombstone_is_not_exported_outlives_the_deletion_and_an_import_lifts_it(store):
    t = tenant()
    store.commit(t, Changes(puts=[Put("THING", "a", {"v": 1})], audit=[entry("a")]))
    fence(store, t)
    exported = store.export_tenant(t)
    assert (TOMBSTONE[0], TOMBSTONE[1]) not in {(i["collection"], i["key"]) for i in exported}
    assert store.delete_tenant(t) == len(exported)
    assert store.export_tenant(t) == []  # "prove nothing is left"
    with pytest.raises(TenantOffboarded):  # the late writer still meets the tombstone after the deletion
        store.commit(t, Changes(puts=[Put("THING", "a", {"v": 9})], audit=[entry("late")]))
    assert store.export_tenant(t) == []
    assert store.import_tenant(t, exported) == len(exported)
    store.commit(t, Changes(puts=[Put("THING", "b", {"v": 1})], audit=[entry("b")]))  # restored: it writes again
    assert store.audit_head(t)[0] == 2


def test_provisioning_again_deletes_the_tombstone_in_its_own_change(store):
    t = tenant()
    fence(store, t)
    store.delete_tenant(t)
    # services.tenants._provisioned: the new tenant's items and the former tombstone's delete, in one transaction
    store.commit(t, Changes(puts=[Put("TENANT", "PROFILE", {"v": 1})], deletes=[Delete(*TOMBSTONE, tenant_id=t)],
                            audit=[entry("created")]))
    store.commit(t, Changes(puts=[Put("THING", "a", {"v": 1})]))
    assert store.get(t, "THING", "a") is not None and store.audit_head(t)[0] == 1


def test_a_bulk_put_into_a_fenced_tenant_is_refused(store):
    t = tenant()
    fence(store, t)
    with pytest.raises(TenantOffboarded):
        store.bulk_put(t, [Row(partition(t, "THING"), "a", '{"v":1}')])
    assert store.get(t, "THING", "a") is None


def test_the_guard_costs_no_read_a_commit_did_not_make_before(store, monkeypatch):
    """The check travels in the transaction (DynamoDB: a ConditionCheck; SQLite and memory: a lookup under the write
    lock), so a commit without audit records reads nothing, as before the guard."""
    t = tenant()
    reads = []
    real = store._get
    monkeypatch.setattr(store, "_get", lambda *args: reads.append(args) or real(*args))
    store.commit(t, Changes(puts=[Put("THING", "a", {"v": 1})]))
    store.commit(t, Changes(puts=[Put("THING", "a", {"v": 2}, expected_version=1)]))
    assert reads == []
