"""Offboarding leaves nothing behind, even with handlers in flight.

README: the operator "offboards (export, then delete everything, then prove nothing is left)"; API.md: "`DELETE
/v1/tenants/{tenant_id}` (offboard: export, then delete everything)"; docs/retention.md: "When the operator offboards
a tenant, every item is exported and deleted". The handlers check that the tenant exists when a batch starts
(`edge.handlers.drain_batch`: "an event of a tenant offboarded meanwhile is dropped"); one that passed that check and
is offboarded before it writes used to write the tenant's items back (as the contract indexer did before cf479998).

Each test reproduces that race deterministically, as cf479998's test did for the indexer: the router's handler of the
family held (its messages come back after the visibility timeout), the tenant provisioned and settled, then the handler
run on the tenant's event with the store's commit made to offboard the tenant just before the handler's first write
into it. The store refuses that write (the tenant's tombstone, put before the export); the handler drops the event
as it drops one arriving after the offboarding (not failed: no redelivery, nothing dead-lettered with the tenant's
data); nothing of the tenant is left; a live tenant's event in the same batch is handled; and the id provisions again
(issue #16: "Offboarding and re-provisioning leave no old clauses behind").
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import pytest

from revgov.tenant_files import load_tenant_file
from support import ROOT, Api, settle

pytestmark = [pytest.mark.stack, pytest.mark.xdist_group("offboarding_race")]


def _sample(source: str, kind: str, tenant_id: str) -> dict[str, Any]:
    event = json.loads((ROOT / "events" / source / f"{kind}.json").read_text())
    event["detail"] = {**copy.deepcopy(event["detail"]), "tenant_id": tenant_id,
                       "event_id": f"evt_{uuid.uuid4().hex[:26].upper()}"}
    return dict(event)


def _record(bus_event: dict[str, Any]) -> dict[str, Any]:
    return {"messageId": uuid.uuid4().hex, "body": json.dumps(bus_event),
            "attributes": {"ApproximateReceiveCount": "1"}}


# (the handler, the event that makes it write into the tenant): the event log, the KPI rollups, the ERP billing
# trigger (a shipment of a partner the tenant does not know is parked: its event log entry and exception are writes)
FAMILIES = {
    "log_event": ("revgov.pricing", "quote.checked"),
    "update_kpis": ("revgov.pricing", "quote.checked"),
    "bill_erp_event": ("revgov.erp", "shipment.confirmed"),
}


def _config() -> dict[str, Any]:
    """A tenant with northwind's policy (its billing and rebate rules) under an id of its own."""
    config = load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml")
    return {**config, "tenant_id": f"t-{uuid.uuid4().hex[:12]}"}


def _offboarded_before_first_write(stack: Any, tenant_id: str, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The store's commit, made to offboard `tenant_id` just before the first change that writes into it (the
    offboarding's own commits pass through)."""
    from revgov.domain.access import PLATFORM, Principal, Role
    from revgov.services import offboarding

    store, done = stack.runtime.store, []
    real = store.commit

    def commit(owner: str, changes: Any) -> Any:
        writes_tenant = owner == tenant_id or any(p.tenant_id == tenant_id for p in changes.puts)
        if writes_tenant and (changes.puts or changes.audit) and not done:
            done.append(None)  # before: the offboarding commits through here too
            done[0] = offboarding.offboard(stack.runtime, Principal(PLATFORM, Role.OPERATOR, "test"), tenant_id)
        return real(owner, changes)

    monkeypatch.setattr(store, "commit", commit)
    return done


@pytest.mark.parametrize("handler", sorted(FAMILIES))
def test_a_handler_offboarded_between_its_read_and_its_write_leaves_nothing_and_drops_the_event(
        api: Api, operator: Api, stack, monkeypatch, handler):
    from revgov.edge import handlers
    from revgov.services import events

    config, other = _config(), _config()
    tenant_id, live_id = config["tenant_id"], other["tenant_id"]
    for each in (config, other):
        created = operator.post("/v1/tenants", copy.deepcopy(each))
        assert created.status_code == 201, created.text
    settle(stack)
    # the router's own handler of the family held, so only this test's run handles the events below
    run = handlers.HANDLERS[handler]
    monkeypatch.setitem(handlers.HANDLERS, handler, lambda event, _context: {"batchItemFailures": [
        {"itemIdentifier": r["messageId"]} for r in event.get("Records", [])]})
    gone, live = _sample(*FAMILIES[handler], tenant_id), _sample(*FAMILIES[handler], live_id)
    offboarded = _offboarded_before_first_write(stack, tenant_id, monkeypatch)
    try:
        answer = run({"Records": [_record(gone), _record(live)]}, None)
        assert offboarded and offboarded[0]["remaining_items"] == 0, "the handler never wrote into the tenant"
        # dropped, not failed: nothing redelivered or dead-lettered with the offboarded tenant's data; the live
        # tenant's event handled in the same batch
        assert answer == {"batchItemFailures": []}
        assert stack.runtime.store.export_tenant(tenant_id) == [], "the late write brought the tenant back"
        if handler != "update_kpis":  # the event log says what became of the live tenant's event: handled (billing
            # fails a shipment of a partner this fresh tenant does not know, with an exception for finance)
            assert events.get(stack.runtime, live_id, live["detail"]["event_id"])["status"] in ("processed", "failed")
    finally:
        monkeypatch.undo()
        settle(stack)
        operator.delete(f"/v1/tenants/{live_id}")
    # the id provisions again, with nothing of the former tenant (issue #16)
    again = operator.post("/v1/tenants", copy.deepcopy(config))
    assert again.status_code == 201, again.text
    try:
        admin = api.as_key(again.json()["admin_key"]["key"])
        assert admin.get("/v1/audit/verify").json()["valid"] is True
        assert not [i for i in stack.runtime.store.export_tenant(tenant_id) if i["collection"].startswith(
            ("EVENT", "KPI", "INVOICE", "EXCEPTION"))]
    finally:
        settle(stack)
        operator.delete(f"/v1/tenants/{tenant_id}")


def _sweep_writing(tenants: set[str]) -> Any:
    """A sweep as every scheduled one is: it reads the tenant, then writes what it found (here a marker item), for
    the test's tenants only (the stack's demo tenants are shared with other tests)."""
    from revgov.ports import Changes, Put

    def sweep(rt: Any, tenant_id: str) -> dict[str, int]:
        if tenant_id not in tenants:
            return {"swept": 0}
        assert rt.store.get(tenant_id, "TENANT", "PROFILE") is not None  # read before the offboarding
        rt.commit(tenant_id, Changes(puts=[Put("SWEPT", "marker", {"by": "test"})]))
        return {"swept": 1}

    return sweep


@pytest.mark.parametrize("kind", ["sweep", "agent"])
def test_a_scheduled_run_leaves_out_a_tenant_offboarded_during_it_and_runs_for_the_others(
        api: Api, operator: Api, stack, monkeypatch, kind):
    """The sweeps (`_sweep_tenants`, `_each_tenant`) and the agents (`services.agents.run`) go tenant by tenant: a
    tenant offboarded between a sweep's read and its write is left out (its write refused, nothing of it left), and
    the run goes on for every other tenant (the live tenant's work is not lost to the offboarded one's refusal)."""
    from revgov.edge import handlers
    from revgov.services import agents

    configs = [_config(), _config()]
    for config in configs:
        assert operator.post("/v1/tenants", copy.deepcopy(config)).status_code == 201
    gone, live = (c["tenant_id"] for c in configs)
    settle(stack)
    sweep = _sweep_writing({gone, live})
    offboarded = _offboarded_before_first_write(stack, gone, monkeypatch)
    try:
        if kind == "sweep":
            totals = handlers._sweep_tenants("test-sweep", {"swept": 0}, sweep)
            assert totals == {"swept": 1}
        else:
            monkeypatch.setitem(stack.runtime.registry.agents, "threshold_watcher",
                                lambda desk: sweep(stack.runtime, desk.tenant_id))
            reports = agents.run(stack.runtime, "threshold_watcher", [gone, live])
            assert len(reports) == 1
        assert offboarded and offboarded[0]["remaining_items"] == 0
        assert stack.runtime.store.export_tenant(gone) == []
        assert stack.runtime.store.get(live, "SWEPT", "marker") is not None
    finally:
        monkeypatch.undo()
        settle(stack)
        for config in configs:
            operator.delete(f"/v1/tenants/{config['tenant_id']}")
