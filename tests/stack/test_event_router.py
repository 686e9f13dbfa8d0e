"""Bus events reach the same handlers Lambda runs; a poison event ends dead-lettered, not lost."""

import time

from engine_support import put_on_bus
from support import assert_problem


def wait_for(fetch, predicate, seconds=20.0):
    deadline = time.monotonic() + seconds
    while True:
        value = fetch()
        if predicate(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_a_domain_event_is_delivered_and_its_status_is_queryable(api, fresh_tenant, stack):
    tid = fresh_tenant["tenant"]["tenant_id"]
    admin = api.as_key(fresh_tenant["admin_key"]["key"])
    created = admin.post("/v1/keys", {"role": "finance", "label": "x"}).json()
    assert created["key_id"]
    rt = stack.runtime
    # tenant.provisioned went on the platform bus; a suspension emits on the tenant's behalf too.
    outbox = rt.store.query(tid, "OUTBOX", limit=10).items
    assert outbox == []  # published right after commit
    event_id = rt.ids.new("evt")
    put_on_bus(rt, tid, "revgov.test", "probe.sent",
               {"tenant_id": tid, "event_id": event_id, "occurred_at": "2026-11-27T00:00:00Z"})
    status = wait_for(lambda: admin.get(f"/v1/events/{event_id}"), lambda r: r.status_code == 200)
    assert status.status_code == 200 and status.json()["status"] == "processed"
    assert status.json()["detail_type"] == "probe.sent"


def test_a_poison_event_is_retried_then_dead_lettered(api, fresh_tenant, stack):
    tid = fresh_tenant["tenant"]["tenant_id"]
    admin = api.as_key(fresh_tenant["admin_key"]["key"])
    rt = stack.runtime
    event_id = rt.ids.new("evt")
    # No occurred_at and a detail the handler refuses: a detail-type that the log handler cannot record.
    put_on_bus(rt, tid, "revgov.test", "probe.poison", {"tenant_id": tid, "event_id": event_id, "poison": True})
    status = wait_for(
        lambda: admin.get(f"/v1/events/{event_id}"),
        lambda r: r.status_code == 200 and r.json()["status"] == "dead_lettered",
        30,
    )
    assert status.json()["status"] == "dead_lettered", status.text
    assert "failed every delivery" in status.json()["reason"]


def test_another_tenants_event_is_404(northwind, api, fresh_tenant, stack):
    event_id = stack.runtime.ids.new("evt")
    assert_problem(northwind.get(f"/v1/events/{event_id}"), 404)
