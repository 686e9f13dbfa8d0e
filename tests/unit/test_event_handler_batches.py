"""#17: the `update_kpis` and `log_event` handlers take a router batch at once (one commit per tenant instead of one
per event), so a stream of quote checks costs less CPU per check. The source of truth is what they did before, one
event at a time: `analytics.record_fact` and `events.accept` per event, in order (the services' docstrings: "each
fact once", "the same event recorded twice is one entry"). The batched use cases must leave the same KPI rollups,
the same counted markers and the same event log, and report the same outcome for every event, whatever the batch
sizes: duplicates within and across batches, a malformed event, an event of an offboarded tenant, an ignored kind,
and a partner's tier change between support facts counted in the tier held at the time, in the same batch.
Rollup versions may differ (a batch writes a rollup once); values may not. No test reads today's date.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from memory_store import Ledger
from revgov.adapters.memory_store import MemoryDocumentStore
from revgov.domain.access import Principal, Role
from revgov.domain.errors import MalformedRequest
from revgov.edge import handlers
from revgov.ports import Changes
from revgov.runtime import Runtime
from revgov.services import analytics, pricing
from revgov.services import events as event_log
from support import ROOT, for_this_thread

PLATINUM, REGISTERED = "ptr_01JBNWPARTNER0000000000001", "ptr_01JBNWPARTNER0000000000002"
SALES = Principal("northwind", Role.SALES, "key_SALES00000000000000000000")
SIZES = [3, 10, 1, 7, 2, 10, 4, 1, 5, 9]  # batch sizes, in turn


def _bus(event: dict[str, Any]) -> dict[str, Any]:
    """A published event as EventBridge hands it to a rule's queue."""
    return {"source": event["source"], "detail-type": event["detail_type"], "detail": event["detail"]}


def _sample(kind: str) -> dict[str, Any]:
    return dict(json.loads((ROOT / "events" / "revgov.erp" / f"{kind}.json").read_text()))


def _support(n: int, partner_id: str) -> dict[str, Any]:
    event = copy.deepcopy(_sample("support.logged"))
    event["detail"].update({"event_id": f"evt_SUPPORT{n:016d}", "erp_event_id": f"NW-SUP-{n}"})
    event["detail"]["data"].update({"partner_id": partner_id, "hours": f"{n}.25"})
    return event


def _tier_changed(n: int, partner_id: str, tier: str) -> dict[str, Any]:
    return {"source": "revgov.partner", "detail-type": "partner.terms_amended",
            "detail": {"tenant_id": "northwind", "event_id": f"evt_PARTNER{n:016d}", "partner_id": partner_id,
                       "tier": tier, "status": "active", "occurred_at": f"2026-10-05T12:{n:02d}:00Z"}}  # fmt: skip


def _stream() -> tuple[Ledger, list[dict[str, Any]]]:
    """Quote checks, ERP shipments (their `invoice.lines_posted`), support time, tier changes, and the odd ones."""
    ledger = Ledger("2026-10-05T12:00:00Z")
    skus = ("NW-SW-24P", "NW-FW-200", "NW-SRV-R2")
    for n in range(14):
        lines = [{"line_id": "1", "sku": skus[n % 3], "quantity": 1 + n % 4, "discount_percent": str(n % 9 * 3)}]
        pricing.check(ledger.rt, SALES, {"partner_id": PLATINUM if n % 3 else REGISTERED,
                                          "customer": {"id": f"CUST-{n}", "name": "Lakeside"}, "lines": lines})
    for n in range(4):
        data = copy.deepcopy(_sample("shipment.confirmed")["detail"]["data"])
        data.update({"partner_id": (PLATINUM, REGISTERED)[n % 2], "order_ref": f"SO-{n}"})
        ledger.bill("shipment.confirmed", data, occurred_at="2026-10-05T11:00:00Z")
    published = [_bus(e) for e in ledger.rt.publisher.published]
    kinds = {e["detail-type"] for e in published}
    assert {"quote.checked", "invoice.lines_posted"} <= kinds, kinds
    quote = next(e for e in published if e["detail-type"] == "quote.checked")
    odd = [
        {"source": "revgov.pricing", "detail-type": "quote.checked", "detail": {"tenant_id": "northwind"}},
        {**quote, "detail": {**quote["detail"], "tenant_id": "gone-tenant"}},
    ]
    stream = [*published[:9], quote, _support(1, REGISTERED), _tier_changed(1, REGISTERED, "gold"),
              _support(2, REGISTERED), *odd, *published[9:], quote, _support(1, REGISTERED),
              _tier_changed(2, REGISTERED, "silver"), _support(3, REGISTERED), published[-1]]  # fmt: skip
    return ledger, stream


def _twin(rt: Runtime) -> Runtime:
    """A second runtime on a copy of the same stored state."""
    store = MemoryDocumentStore(rt.clock, rt.ids)
    original: Any = rt.store
    store._items, store._sorted, store._index = (copy.deepcopy(x) for x in (original._items, original._sorted,
                                                                           original._index))  # fmt: skip
    return Runtime(rt.settings, store, rt.publisher, rt.clock, rt.ids)


def _batches(stream: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    out, at, turn = [], 0, 0
    while at < len(stream):
        out.append(stream[at : at + SIZES[turn % len(SIZES)]])
        at, turn = at + SIZES[turn % len(SIZES)], turn + 1
    return out


def _outcome(value: Any) -> Any:
    return (type(value).__name__, str(value)) if isinstance(value, Exception) else value


def _one_by_one(use_case: Any, rt: Runtime, stream: list[dict[str, Any]]) -> list[Any]:
    """What the use case did for each event, handled alone and in order (as the handlers did before #17)."""
    outcomes = []
    for bus_event in stream:
        try:
            outcomes.append(use_case(rt, bus_event))
        except Exception as failed:
            outcomes.append(failed)
    return outcomes


def _data(rt: Runtime, *collections: str) -> dict[str, Any]:
    return {c: {s.key: s.data for s in rt.store.query("northwind", c, limit=1000).items} for c in collections}


def _both_ways(alone: Any, by_batch: Any, *collections: str) -> tuple[list[Any], Runtime, list[dict[str, Any]]]:
    """The stream handled one by one with `alone`, and on a copy of the same state in batches with `by_batch`: the
    same outcomes and the same documents in `collections`. Returns the outcomes, the batched runtime, the stream."""
    ledger, stream = _stream()
    one, batched = ledger.rt, _twin(ledger.rt)
    singly = _one_by_one(alone, one, stream)
    batch_outcomes = [o for batch in _batches(stream) for o in by_batch(batched, batch)]
    assert [_outcome(o) for o in batch_outcomes] == [_outcome(o) for o in singly]
    assert _data(batched, *collections) == _data(one, *collections)
    return singly, batched, stream


def test_kpi_facts_folded_by_batch_leave_what_one_by_one_leaves() -> None:
    kpi = (analytics.ROLLUPS, analytics.SEEN, analytics.LINES)
    singly, batched, _ = _both_ways(analytics.record_fact, analytics.record_facts, *kpi)
    assert singly.count("counted") >= 14 and "already counted" in singly and "no such tenant" in singly
    assert any(isinstance(o, MalformedRequest) for o in singly)
    rollups = _data(batched, analytics.ROLLUPS)[analytics.ROLLUPS]
    assert rollups["2026-10#all"]["quotes"] == 14 and rollups["2026-10#tier:gold"]["support_minutes"] == 2 * 60 + 15


def test_a_batch_whose_commit_fails_folds_each_fact_on_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the batch's one commit cannot be made, each fact is folded alone: a failure is the failing event's own."""
    ledger, stream = _stream()
    rt = ledger.rt
    twin = _twin(rt)
    plain = twin.store.commit

    def refuse_many(tenant_id: str, changes: Changes) -> Any:
        if sum(p.collection == analytics.SEEN for p in changes.puts) > 1:
            raise RuntimeError("the store refused a large commit")
        return plain(tenant_id, changes)

    monkeypatch.setattr(twin.store, "commit", refuse_many)
    expected = [_outcome(o) for o in analytics.record_facts(rt, stream)]
    assert [_outcome(o) for o in analytics.record_facts(twin, stream)] == expected
    kpi = (analytics.ROLLUPS, analytics.SEEN, analytics.LINES)
    assert _data(twin, *kpi) == _data(rt, *kpi)


def test_event_log_entries_by_batch_are_the_entries_one_by_one() -> None:
    singly, batched, stream = _both_ways(event_log.accept, event_log.accept_many, event_log.EVENTS)
    logged = _data(batched, event_log.EVENTS)[event_log.EVENTS]
    wanted = {e["detail"]["event_id"] for e in stream if e["detail"].get("tenant_id") == "northwind"
              and e["detail"].get("event_id")}  # fmt: skip
    assert {logged[i]["status"] for i in wanted} == {"processed"}
    assert sum(isinstance(o, MalformedRequest) for o in singly) == 1


def test_the_handlers_fail_only_the_records_whose_event_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lambda's ReportBatchItemFailures, per record, as `drain` reports it: the malformed event (and a body that is
    not JSON) fail; the offboarded tenant's event is dropped; the rest succeed."""
    ledger, stream = _stream()
    for_this_thread(monkeypatch, handlers, "runtime", lambda: ledger.rt)
    batch = [*stream[8:14]]
    records = [{"messageId": f"m{n}", "body": json.dumps(e), "attributes": {}} for n, e in enumerate(batch)]
    records.append({"messageId": "not-json", "body": "{", "attributes": {}})
    malformed = {f"m{n}" for n, e in enumerate(batch) if "event_id" not in e["detail"]}
    assert malformed
    for handler in (handlers.update_kpis, handlers.log_event):
        failures = {f["itemIdentifier"] for f in handler({"Records": records}, None)["batchItemFailures"]}
        assert failures == malformed | {"not-json"}


def test_webhook_deliveries_with_the_subscriptions_read_once_per_batch_are_the_same() -> None:
    """`deliver_webhooks` reads a tenant's subscriptions once per batch (`read`): the same POSTs to the same
    subscribers and the same delivery records as reading them for every event; an event no subscription wants is
    sent nowhere. (A subscriber that answers 5xx is retried: its record says `retrying`.)"""
    from revgov.services import subscriptions

    ledger, stream = _stream()
    admin = Principal("northwind", Role.ADMIN, "key_ADMIN00000000000000000000")
    for types in (["quote.checked"], ["invoice.*"], ["*"]):
        subscriptions.create(ledger.rt, admin, {"url": f"https://hooks.example/{types[0]}", "event_types": types},
                             resolver=lambda host: ["93.184.216.34"])  # fmt: skip
    twin = _twin(ledger.rt)
    events = [e for e in stream if e["detail"].get("tenant_id") == "northwind" and e["detail"].get("event_id")]

    def run(rt: Runtime, shared: bool) -> tuple[list[Any], list[Any]]:
        sent: list[Any] = []

        def send(url: str, addresses: list[str], body: bytes, headers: dict[str, str]) -> int:
            sent.append((url, json.loads(body)["event_id"]))
            return 503 if url.endswith("invoice.*") else 200

        outcomes = []
        for batch in _batches(events):
            read: dict[str, Any] | None = {} if shared else None
            for bus_event in batch:
                try:
                    outcomes.append(subscriptions.deliver(rt, bus_event, send=send, resolver=lambda host: [
                        "93.184.216.34"], read=read))  # fmt: skip
                except subscriptions.DeliveryFailed as failed:
                    outcomes.append(("retry", failed.retry_in is not None))
        return outcomes, sent

    assert run(twin, shared=True) == run(ledger.rt, shared=False)

    def records(rt: Runtime) -> dict[str, Any]:  # the retry delay is jittered (random): compared apart
        found = _data(rt, subscriptions.DELIVERIES)[subscriptions.DELIVERIES]
        return {k: {f: v for f, v in d.items() if f != "next_attempt_at"} for k, d in found.items()}

    assert records(twin) == records(ledger.rt)
    assert {d["status"] for d in records(twin).values()} == {"delivered", "retrying"}
