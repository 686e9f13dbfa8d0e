"""The signed ERP webhook: who may post (signature, tolerance, rotation), what is accepted, and what is said back."""

import json

import pytest

import clock_support
from billing_support import billing_tenant_in, erp_event, sample, wait_until, webhook_body
from revgov.domain.webhooks import sign
from support import assert_problem

SHIPMENT = webhook_body(sample("shipment.confirmed"))


@pytest.fixture
def billing_tenant(api, operator, stack):
    yield from billing_tenant_in(api, operator, stack)


def _fresh(body=SHIPMENT):
    return {**body, "id": erp_event(body["type"], {}, occurred_at="")["id"]}


def test_a_signed_event_is_accepted_logged_as_received_and_put_on_the_bus(billing_tenant):
    answer = billing_tenant.erp.post(SHIPMENT)
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body == {**body, "erp_event_id": SHIPMENT["id"], "duplicate": False, "status": "received"}
    assert body["event_id"].startswith("evt_")
    # the partner is unknown in this tenant: the billing handler takes it from the bus and says why it failed
    wait_until(lambda: billing_tenant.event(body["event_id"])["status"] == "failed", what="the billing handler")
    logged = billing_tenant.event(body["event_id"])
    assert logged["source"] == "revgov.erp" and logged["detail_type"] == "shipment.confirmed"
    assert logged["occurred_at"] == SHIPMENT["occurred_at"] and "is not known" in logged["reason"]


def test_a_duplicate_answers_202_with_the_first_event_id_and_changes_nothing(billing_tenant):
    first = billing_tenant.erp.post(SHIPMENT).json()
    again = billing_tenant.erp.post(SHIPMENT)
    assert again.status_code == 202
    assert again.json() == {**first, "duplicate": True, "status": "duplicate"}
    dedupe = billing_tenant.rt.store.get(billing_tenant.tenant_id, "ERPEVENT", SHIPMENT["id"])
    assert dedupe.version == 1 and dedupe.data["event_id"] == first["event_id"]
    kept_days = (
        billing_tenant.rt.store._get(billing_tenant.tenant_id, f"T#{billing_tenant.tenant_id}#ERPEVENT", SHIPMENT["id"])
        .expires_at
        - clock_support.epoch_seconds()
    ) / 86400
    assert kept_days >= 35


def test_a_signature_older_or_newer_than_300_seconds_is_401(billing_tenant):
    now = clock_support.epoch_seconds()
    # 30 s of margin either side of the tolerance, so a slow request cannot move a case across the boundary.
    for at in (now - 330, now + 330):
        problem = assert_problem(billing_tenant.erp.post(_fresh(), at=at), 401)
        assert "300 s" in problem["detail"]
    assert billing_tenant.erp.post(_fresh(), at=now - 270).status_code == 202
    assert billing_tenant.erp.post(_fresh(), at=now + 270).status_code == 202


def test_a_replayed_signature_from_more_than_300_seconds_ago_is_401(billing_tenant):
    """A captured request (body and header together) cannot be sent again once the tolerance has passed."""
    body = json.dumps(_fresh()).encode()
    stamp = clock_support.epoch_seconds() - 400
    header = f"t={stamp},v1={sign(billing_tenant.erp.secret, stamp, body)}"
    assert_problem(billing_tenant.erp.post(raw=body, signature=header), 401)


def test_a_body_changed_after_signing_is_401(billing_tenant):
    original = json.dumps(_fresh()).encode()
    stamp = clock_support.epoch_seconds()
    header = f"t={stamp},v1={sign(billing_tenant.erp.secret, stamp, original)}"
    tampered = original.replace(b'"quantity": 4', b'"quantity": 40')
    assert tampered != original
    problem = assert_problem(billing_tenant.erp.post(raw=tampered, signature=header), 401)
    assert "no v1 signature matches" in problem["detail"]
    assert billing_tenant.erp.post(raw=original, signature=header).status_code == 202


@pytest.mark.parametrize(
    "header",
    [
        "",
        "v1=" + "0" * 64,
        "t=notanumber,v1=" + "0" * 64,
        "t=1,t=2,v1=" + "0" * 64,
        "t={now}",
        "t={now},v0={good}",
        "t={now},v1=" + "ab" * 32,
        "t={now},v1={good_other_secret}",
    ],
    ids=["empty", "no-t", "bad-t", "two-t", "no-v1", "only-other-scheme", "wrong-hmac", "other-secret"],
)
def test_missing_malformed_or_wrong_signatures_are_401_problems(billing_tenant, header):
    body = json.dumps(_fresh()).encode()
    now = clock_support.epoch_seconds()
    header = header.format(
        now=now, good=sign(billing_tenant.erp.secret, now, body), good_other_secret=sign("not-the-secret", now, body)
    )
    assert_problem(billing_tenant.erp.post(raw=body, headers={"Revgov-Signature": header}), 401)


def test_several_v1_signatures_are_accepted_and_other_schemes_ignored(billing_tenant):
    body = json.dumps(_fresh()).encode()
    now = clock_support.epoch_seconds()
    good = sign(billing_tenant.erp.secret, now, body)
    header = f"t={now},v0=deadbeef,v1={'ab' * 32},v1={good},v2=whatever"
    assert billing_tenant.erp.post(raw=body, signature=header).status_code == 202


def test_an_unknown_tenant_or_no_tenant_header_is_401_like_a_bad_signature(billing_tenant):
    assert_problem(billing_tenant.erp.post(_fresh(), headers={"Revgov-Tenant": "t-doesnotexist"}), 401)
    assert_problem(billing_tenant.erp.post(_fresh(), headers={"Revgov-Tenant": "../northwind"}), 401)
    assert_problem(billing_tenant.erp.post(_fresh(), headers={"Revgov-Tenant": ""}), 401)


def test_another_tenants_secret_does_not_sign_for_this_tenant(billing_tenant, keys):
    other = keys["tenants"]["northwind"]["webhook_secret"]
    assert_problem(billing_tenant.erp.post(_fresh(), secret=other), 401)


def test_both_secrets_work_during_rotation_and_the_old_one_stops_after_the_grace(billing_tenant, operator):
    old = billing_tenant.erp.secret
    rotated = operator.post(f"/v1/tenants/{billing_tenant.tenant_id}/webhook-secret/rotate", {"grace_seconds": 3})
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["webhook_secret"]
    assert new != old and rotated.json()["secrets_in_use"] == 2
    assert billing_tenant.erp.post(_fresh(), secret=old).status_code == 202
    assert billing_tenant.erp.post(_fresh(), secret=new).status_code == 202
    wait_until(lambda: billing_tenant.erp.post(_fresh(), secret=old).status_code == 401, 10, what="grace end")
    assert billing_tenant.erp.post(_fresh(), secret=new).status_code == 202
    # the secret is shown once: neither the tenant, nor its export, nor the audit record carries it
    assert new not in operator.get(f"/v1/tenants/{billing_tenant.tenant_id}").text
    page = billing_tenant.rt.store.audit_by_subject("_platform", billing_tenant.tenant_id, limit=50, cursor=None)
    audit = [item.data for item in page.items]
    assert "tenant.webhook_secret_rotated" in [r["action"] for r in audit]
    assert all(new not in json.dumps(r) and old not in json.dumps(r) for r in audit)


def test_rotation_without_grace_revokes_the_old_secret_at_once_and_only_the_operator_rotates(billing_tenant, operator):
    old = billing_tenant.erp.secret
    assert_problem(billing_tenant.admin.post(f"/v1/tenants/{billing_tenant.tenant_id}/webhook-secret/rotate", {}), 403)
    bad = operator.post(f"/v1/tenants/{billing_tenant.tenant_id}/webhook-secret/rotate", {"grace_seconds": -1})
    assert_problem(bad, 400)
    assert_problem(operator.post("/v1/tenants/t-nobody-here/webhook-secret/rotate", {"grace_seconds": 0}), 404)
    new = operator.post(f"/v1/tenants/{billing_tenant.tenant_id}/webhook-secret/rotate", {"grace_seconds": 0})
    assert_problem(billing_tenant.erp.post(_fresh(), secret=old), 401)
    assert billing_tenant.erp.post(_fresh(), secret=new.json()["webhook_secret"]).status_code == 202


def test_an_invalid_event_is_400_with_the_fields_named_and_nothing_is_kept(billing_tenant):
    bad = _fresh()
    bad["data"] = {**bad["data"], "lines": [{"sku": "nw sw", "quantity": 1.5}], "price": "1.00"}
    problem = assert_problem(billing_tenant.erp.post(bad), 400)
    paths = {e["path"] for e in problem["errors"]}
    assert {"/data/lines/0/sku", "/data/lines/0/quantity", "/data/price"} <= paths  # the unknown field by name
    assert billing_tenant.rt.store.get(billing_tenant.tenant_id, "ERPEVENT", bad["id"]) is None
    unknown_type = {**_fresh(), "type": "invoice.voided"}  # not a type the ERP sends (invoice.paid is)
    assert any(e["path"] == "/type" for e in assert_problem(billing_tenant.erp.post(unknown_type), 400)["errors"])
    bad_date = _fresh()
    bad_date["data"] = {**bad_date["data"], "shipped_on": "2026-02-30"}
    assert_problem(billing_tenant.erp.post(bad_date), 400)
    assert_problem(billing_tenant.erp.post(raw=b'{"id": "x", "id": "y"}'), 400)
    assert_problem(billing_tenant.erp.post(raw=b"not json"), 400)
    assert_problem(billing_tenant.erp.post(_fresh(), headers={"Content-Type": "text/plain"}), 415)


def test_a_batch_answers_each_event_in_order(billing_tenant):
    good = _fresh()
    invalid = {**_fresh(), "occurred_at": "yesterday"}
    answer = billing_tenant.erp.post({"events": [good, good, invalid, _fresh(sample_body("usage.reported"))]})
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert [r["status"] for r in body["results"]] == ["received", "duplicate", "rejected", "received"]
    assert body["results"][1]["event_id"] == body["results"][0]["event_id"]
    assert body["results"][2]["errors"][0]["path"] == "/events/2/occurred_at"
    assert (body["received"], body["duplicate"], body["rejected"]) == (2, 1, 1)


def test_a_batch_of_more_than_100_or_of_nothing_is_400(billing_tenant):
    assert_problem(billing_tenant.erp.post({"events": [_fresh() for _ in range(101)]}), 400)
    assert_problem(billing_tenant.erp.post({"events": []}), 400)
    assert_problem(billing_tenant.erp.post({"events": [], "extra": 1}), 400)


def test_a_body_over_the_size_limit_is_413(billing_tenant):
    assert_problem(billing_tenant.erp.post(raw=b" " * (256 * 1024 + 1)), 413)


def sample_body(detail_type):
    return webhook_body(sample(detail_type))


def test_a_suspended_tenant_is_403_once_its_signature_is_proven(billing_tenant, operator):
    tenant_id = billing_tenant.tenant_id
    assert operator.post(f"/v1/tenants/{tenant_id}/suspend", {"reason": "invoice unpaid"}).status_code == 200
    assert_problem(billing_tenant.erp.post(_fresh(), secret="not-the-secret"), 401)
    assert "suspended" in assert_problem(billing_tenant.erp.post(_fresh()), 403)["detail"]
    assert operator.post(f"/v1/tenants/{tenant_id}/resume", {"reason": "paid"}).status_code == 200
    assert billing_tenant.erp.post(_fresh()).status_code == 202


def test_a_full_batch_is_received_in_groups_each_event_once_on_the_bus_and_once_in_the_log(billing_tenant):
    """API.md: a batch of up to 100 events is "answered one by one in the same order". The 100 new events are
    committed in several transactions (at most 100 items each, every event with its deduplication record, log entry,
    replay copy and outbox entry): each must be received exactly once."""
    events = [_fresh() for _ in range(100)]
    body = billing_tenant.send({"events": events})
    assert body["received"] == 100 and (body["duplicate"], body["rejected"]) == (0, 0)
    assert [r["index"] for r in body["results"]] == list(range(100))
    assert [r["erp_event_id"] for r in body["results"]] == [e["id"] for e in events]
    assert len({r["event_id"] for r in body["results"]}) == 100
    for result in body["results"]:
        dedupe = billing_tenant.rt.store.get(billing_tenant.tenant_id, "ERPEVENT", result["erp_event_id"])
        assert dedupe.data["event_id"] == result["event_id"]
        assert billing_tenant.rt.store.get(billing_tenant.tenant_id, "INBOUND", result["event_id"]) is not None
    again = billing_tenant.send({"events": events})
    assert again["duplicate"] == 100
    assert [r["event_id"] for r in again["results"]] == [r["event_id"] for r in body["results"]]


def test_an_event_of_a_batch_received_meanwhile_by_another_delivery_is_its_duplicate_and_the_rest_are_received(
    billing_tenant,
):
    """A concurrent delivery wins the race for one event of a batch after the batch read it as new: that event is
    answered as the other delivery's duplicate (its event id), and the batch's other events are still received."""
    from dataclasses import replace

    from revgov.services import erp, tenants

    rt, tenant_id = billing_tenant.rt, billing_tenant.tenant_id
    events = [_fresh() for _ in range(3)]
    raced = billing_tenant.send(events[1])  # the other delivery, already committed
    store = rt.store

    class ReadsBeforeTheRace:
        """The store as the batch saw it when it checked for duplicates: the raced event not yet there."""

        def __getattr__(self, name):
            return getattr(store, name)

        def get(self, tenant, collection, key):
            first_read = collection == "ERPEVENT" and key == events[1]["id"] and not self.__dict__.get("read")
            if first_read:
                self.__dict__["read"] = True
                return None
            return store.get(tenant, collection, key)

    tenant, _ = tenants.load_tenant(rt, tenant_id)
    answer = erp.accept(replace(rt, store=ReadsBeforeTheRace()), tenant, {"events": events})
    assert [r["status"] for r in answer["results"]] == ["received", "duplicate", "received"]
    assert answer["results"][1]["event_id"] == raced["event_id"]
    for index in (0, 2):
        stored = store.get(tenant_id, "ERPEVENT", events[index]["id"])
        assert stored.data["event_id"] == answer["results"][index]["event_id"]
