"""Reviewer round: an ERP id sent again with another body is refused, not dropped as a duplicate.

SOP-3.1: usage records "are deduplicated by event id" — the ERP id is the event's idempotency key. API.md: idempotency
keys follow Stripe's semantics, "the same key and body return the first response [...]; the same key with another
body is a 422" (Stripe: "Keys for idempotent requests can only be used with the same parameters they were first
used with"). Found over HTTP: a shipment of 1 x NW-SW-24P, then the same ERP id with 5 units, answered 202
`duplicate: true` and billed 1 unit: the change was lost without a trace (no exception, no error), leakage the
ERP could not see.
"""

import json

import pytest

from billing_support import billing_tenant_in, erp_event, sample, webhook_body
from support import assert_problem

SHIPMENT = webhook_body(sample("shipment.confirmed"))


@pytest.fixture
def billing_tenant(api, operator, stack):
    yield from billing_tenant_in(api, operator, stack)


def _fresh():
    return {**SHIPMENT, "id": erp_event(SHIPMENT["type"], {}, occurred_at="")["id"]}


def _more_units(event):
    changed = json.loads(json.dumps(event))
    changed["data"]["lines"][0]["quantity"] += 1
    return changed


def test_the_same_erp_id_with_another_body_is_422_naming_the_id_and_changes_nothing(billing_tenant):
    event = _fresh()
    first = billing_tenant.erp.post(event)
    assert first.status_code == 202, first.text
    problem = assert_problem(billing_tenant.erp.post(_more_units(event)), 422)
    assert [e["path"] for e in problem["errors"]] == ["/id"]
    later = {**event, "occurred_at": "2026-10-05T14:21:00Z"}
    assert assert_problem(billing_tenant.erp.post(later), 422)["errors"][0]["path"] == "/id"
    dedupe = billing_tenant.rt.store.get(billing_tenant.tenant_id, "ERPEVENT", event["id"])
    assert dedupe.version == 1 and dedupe.data["event_id"] == first.json()["event_id"]
    again = billing_tenant.erp.post(event)  # the same body: still the first answer (Stripe: a replay)
    assert again.status_code == 202 and again.json() == {**first.json(), "duplicate": True, "status": "duplicate"}


def test_in_a_batch_a_reused_id_with_another_body_is_rejected_on_its_own(billing_tenant):
    received, new = _fresh(), _fresh()
    assert billing_tenant.erp.post(received).status_code == 202
    answer = billing_tenant.erp.post({"events": [new, _more_units(new), _more_units(received), received]})
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert [r["status"] for r in body["results"]] == ["received", "rejected", "rejected", "duplicate"]
    assert body["results"][1]["errors"][0]["path"] == "/events/1/id"
    assert body["results"][2]["errors"][0]["path"] == "/events/2/id"
    assert (body["received"], body["duplicate"], body["rejected"]) == (1, 1, 2)


def test_a_repeat_in_the_batch_of_a_refused_reuse_is_refused_too(billing_tenant):
    received = _fresh()
    assert billing_tenant.erp.post(received).status_code == 202
    changed = _more_units(received)
    body = billing_tenant.erp.post({"events": [changed, changed]}).json()
    assert [r["status"] for r in body["results"]] == ["rejected", "rejected"]
    assert [r["errors"][0]["path"] for r in body["results"]] == ["/events/0/id", "/events/1/id"]
