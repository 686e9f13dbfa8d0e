"""The shared toolkit every use case builds on (issue #21): one way to page, retry, merge, audit and read time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from memory_store import FixedClock
from revgov.adapters.memory_store import MemoryDocumentStore
from revgov.adapters.system import RandomIds
from revgov.domain.access import Principal, Role
from revgov.domain.audit import AuditEntry
from revgov.domain.errors import ConcurrentUpdate, Conflict, MalformedRequest, RuleViolation, StaleWrite
from revgov.domain.time import add_months, instant, iso, next_period, parse_instant, period_bounds
from revgov.ports import Changes, Put
from revgov.services import toolkit
from support import for_this_thread


def test_pages_reads_every_document_across_store_pages_and_only_under_the_prefix() -> None:
    clock = FixedClock("2027-01-04T09:00:00Z")
    store = MemoryDocumentStore(clock, RandomIds(clock))
    puts = [Put("THINGS", f"a#{n:03d}", {"n": n}) for n in range(7)] + [Put("THINGS", "b#000", {"n": 99})]
    store.commit("t1", Changes(puts=puts))
    store.commit("t2", Changes(puts=[Put("THINGS", "a#999", {"n": -1})]))
    seen = [item.data["n"] for item in toolkit.pages(store, "t1", "THINGS", prefix="a#", page_size=3)]
    assert seen == list(range(7))  # three pages, no other tenant's and no other prefix's documents


def test_lookup_pages_reads_every_entry_of_a_partition_across_store_pages_and_only_under_the_prefix() -> None:
    clock = FixedClock("2027-01-04T09:00:00Z")
    store = MemoryDocumentStore(clock, RandomIds(clock))
    puts = [Put("THINGS", f"k{n:03d}", {"n": n}, lookup=("THINGS#open", f"2027-01#{n:03d}")) for n in range(7)]
    puts += [Put("THINGS", "k100", {"n": 100}, lookup=("THINGS#open", "2027-02#100")),
             Put("THINGS", "k200", {"n": 200}, lookup=("THINGS#closed", "2027-01#200"))]  # fmt: skip
    store.commit("t1", Changes(puts=puts))
    store.commit("t2", Changes(puts=[Put("THINGS", "k999", {"n": -1}, lookup=("THINGS#open", "2027-01#999"))]))
    seen = [item.data["n"] for item in toolkit.lookup_pages(store, "t1", "THINGS#open", prefix="2027-01#", page_size=3)]
    assert seen == list(range(7))  # three pages; no other tenant, partition or prefix
    everything = toolkit.lookup_pages(store, "t1", "THINGS#open", page_size=3)
    assert [item.data["n"] for item in everything] == [*range(7), 100]


def test_lookup_pages_reads_no_further_page_than_the_caller_takes() -> None:
    clock = FixedClock("2027-01-04T09:00:00Z")
    store = MemoryDocumentStore(clock, RandomIds(clock))
    puts = [Put("THINGS", f"k{n}", {"n": n}, lookup=("THINGS#open", f"{n}")) for n in range(9)]
    store.commit("t1", Changes(puts=puts))
    reads: list[str | None] = []
    lookup = store.lookup

    def counted(tenant_id: str, partition: str, **kwargs: object) -> object:
        reads.append(kwargs.get("cursor"))  # type: ignore[arg-type]
        return lookup(tenant_id, partition, **kwargs)  # type: ignore[arg-type]

    store.lookup = counted  # type: ignore[method-assign]
    first = next(iter(toolkit.lookup_pages(store, "t1", "THINGS#open", page_size=3)))
    assert first.data["n"] == 0 and reads == [None]


def test_retry_on_conflict_re_runs_until_commit_and_gives_up_with_the_callers_problem(monkeypatch) -> None:
    for_this_thread(monkeypatch, toolkit.time, "sleep", lambda _s: None)  # the process's time: not the stack's sleeps
    calls: list[int] = []

    def losing_twice() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise StaleWrite("moved")
        return "done"

    assert toolkit.retry_on_conflict(losing_twice, attempts=5, exhausted=lambda: ConcurrentUpdate("x")) == "done"
    assert len(calls) == 3

    def always_losing() -> str:
        calls.append(1)
        raise StaleWrite("moved")

    calls.clear()
    with pytest.raises(ConcurrentUpdate):
        toolkit.retry_on_conflict(always_losing, attempts=4, exhausted=lambda: ConcurrentUpdate("gave up"))
    assert len(calls) == 4

    def refused() -> str:  # a business refusal is not a race: it is not retried
        calls.append(1)
        raise RuleViolation("no")

    def refused_409() -> str:  # nor is a business 409 ("already submitted"): only the store's lost write is
        calls.append(1)
        raise Conflict("cannot change its terms once submitted")

    for work, problem in ((refused, RuleViolation), (refused_409, Conflict)):
        calls.clear()
        with pytest.raises(problem) as raised:
            toolkit.retry_on_conflict(work, attempts=4, exhausted=lambda: ConcurrentUpdate("x"))
        assert len(calls) == 1 and not isinstance(raised.value, StaleWrite)


def test_backoff_stays_under_its_cap() -> None:
    assert all(0 <= toolkit.backoff(a) <= min(0.2, 0.01 * 2**a) for a in range(1, 12) for _ in range(20))


def test_changes_merge_keeps_order_and_everything() -> None:
    one = Changes(puts=[Put("A", "1", {})], audit=[AuditEntry("a", "x.y", "s", "ok")])
    two = Changes(puts=[Put("A", "2", {})], audit=[AuditEntry("b", "x.z", "s", "ok")])
    assert one.merge(two) is one
    assert [p.key for p in one.puts] == ["1", "2"] and [e.actor for e in one.audit] == ["a", "b"]


def test_audit_entry_by_takes_actor_and_role_from_the_principal_only() -> None:
    who = Principal(tenant_id="northwind", role=Role.FINANCE, key_id="key_fin")
    entry = AuditEntry.by(who, "case.approved", "apr_1", "approved", inputs={"note": "ok"}, rule_ids=["R1"])
    assert (entry.actor, entry.actor_role) == ("finance:key_fin", "finance")
    assert entry.rule_ids == ("R1",) and entry.inputs == {"note": "ok"}


def test_time_parse_instant_takes_only_utc_z_and_names_the_field() -> None:
    assert parse_instant("2027-03-10T00:00:00Z") == datetime(2027, 3, 10, tzinfo=UTC)
    for bad in ["2027-03-10T00:00:00+01:00", "2027-03-10", "yesterday", 5, None, "2027-02-30T00:00:00Z"]:
        with pytest.raises(MalformedRequest) as raised:
            parse_instant(bad, field_path="/since")
        assert raised.value.errors[0].path == "/since"
    with pytest.raises(RuleViolation):
        parse_instant("soon", problem=RuleViolation)
    assert iso(instant("2027-03-10T01:00:00+01:00")) == "2027-03-10T00:00:00.000Z"


def test_time_months() -> None:
    # 31 January plus one month is the last day of February (leap and common years)
    assert add_months(datetime(2028, 1, 31).date(), 1).isoformat() == "2028-02-29"
    assert add_months(datetime(2027, 1, 31).date(), 1).isoformat() == "2027-02-28"
    assert next_period("2026-12") == "2027-01"
    assert [d.isoformat() for d in period_bounds("2028-02")] == ["2028-02-01", "2028-02-29"]
