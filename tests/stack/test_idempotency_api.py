"""Idempotency-Key on every POST that creates or changes state, with Stripe's documented semantics.

Stripe (docs.stripe.com/api/idempotent_requests): "Stripe's idempotency works by saving the resulting status code and
body of the first request made for any given idempotency key, regardless of whether it succeeds or fails. Subsequent
requests with the same key return the same result"; "The idempotency layer compares incoming parameters to those of the
original request and errors if they're the same to prevent accidental misuse"; a request that "conflicts with another
request that's executing concurrently" is refused. API.md: "recorded before the work runs; the same key and body
return the first response (kept >= 24 h); the same key with another body is a 422; a concurrent duplicate is a 409."
"""

from __future__ import annotations

import threading
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from test_pricing_api import nw, quote  # noqa: F401 - the module fixture of two active silver partners
from test_rebates_api import FLOWS, _dispute, _settle, tenant  # noqa: F401 - a tenant with billed rebate flows

from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict, MalformedRequest, RuleViolation
from revgov.edge.http import Answer, problem
from revgov.edge.idempotency import KEEP_SECONDS, RequestKeys, fingerprint
from support import assert_problem

pytestmark = pytest.mark.stack


def close_date(stack: Any) -> str:
    """An expected close 60 days after the stack's clock (PA-5.1: within 180 days), whatever today is."""
    return (date.fromisoformat(stack.runtime.clock.now_iso()[:10]) + timedelta(days=60)).isoformat()


def _key() -> dict[str, str]:
    return {"Idempotency-Key": f"retry-{uuid.uuid4().hex}"}


def _approvals_about(staff: Any, decision_id: str) -> list[str]:
    items = staff.get("/v1/audit", subject=decision_id, limit=200).json()["items"]
    return [r["action"] for r in items]


def test_the_same_key_twice_on_a_quote_check_opens_one_set_of_approvals(nw):  # noqa: F811
    sales, ops = nw["roles"]["sales"], nw["roles"]["channel_ops"]
    partner_id, _ = nw["partners"][0]
    body, key = quote("above_cap", partner_id), _key()
    first = sales.post("/v1/pricing/check", body, headers=key)
    assert first.status_code == 200, first.text
    again = sales.post("/v1/pricing/check", body, headers=key)
    assert again.status_code == first.status_code and again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    approval_ids = {a["approval_id"] for a in first.json()["approvals"]}
    pending = ops.get("/v1/approvals", queue="channel_ops", limit=200).json()["items"]
    opened_for_this_quote = [a for a in pending if a["subject"]["id"] == first.json()["decision_id"]]
    assert {a["case_id"] for a in opened_for_this_quote} == approval_ids and len(approval_ids) == 1
    assert _approvals_about(nw["roles"]["admin"], first.json()["decision_id"]).count("pricing.checked") == 1
    # without a key, the same body is a new request (a new decision)
    fresh = sales.post("/v1/pricing/check", body)
    assert fresh.json()["decision_id"] != first.json()["decision_id"]


def test_the_same_key_with_another_body_is_a_422_and_runs_nothing(nw):  # noqa: F811
    sales = nw["roles"]["sales"]
    partner_id, _ = nw["partners"][0]
    key = _key()
    first = sales.post("/v1/pricing/check", quote("within_cap", partner_id), headers=key)
    assert first.status_code == 200
    other = sales.post("/v1/pricing/check", quote("above_cap", partner_id), headers=key)
    body = assert_problem(other, 422)
    assert body["errors"][0]["path"] == "/headers/Idempotency-Key"
    # and the key still answers the first request
    assert sales.post("/v1/pricing/check", quote("within_cap", partner_id), headers=key).json() == first.json()


def test_the_same_key_twice_on_a_partner_application_creates_one_partner(nw):  # noqa: F811
    sales, admin = nw["roles"]["sales"], nw["roles"]["admin"]
    name = f"Idempotent Networks {uuid.uuid4().hex[:8]}"
    application = {
        "legal_name": name,
        "partner_type": "reseller",
        "requested_tier": "silver",
        "terms": {"annual_commitment": "250000.00", "payment_terms_days": 30},
        "contact": {"name": "Dana Reyes", "email": "dana@idempotent.example"},
    }
    key = _key()
    first = sales.post("/v1/partners", application, headers=key)
    assert first.status_code == 201, first.text
    again = sales.post("/v1/partners", application, headers=key)
    assert again.status_code == 201 and again.json() == first.json()
    partners, cursor = [], None
    while True:
        page = admin.get("/v1/partners", limit=200, **({"cursor": cursor} if cursor else {})).json()
        partners += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [p["partner_id"] for p in partners if p["legal_name"] == name] == [first.json()["partner_id"]]


def test_the_same_key_twice_on_a_rebate_dispute_files_one_dispute(tenant):  # noqa: F811
    tenant.send(FLOWS["q3"][:1])
    tenant.wait_for_accrual("A", "2026-Q3", "1092.00")
    settled = _settle(tenant, "2026-Q3").json()
    a, key = tenant.partner_keys["A"], _key()
    first = a.post("/v1/rebates/disputes", _dispute(tenant, settled["settlement_id"]), headers=key)
    assert first.status_code == 201, first.text
    again = a.post("/v1/rebates/disputes", _dispute(tenant, settled["settlement_id"]), headers=key)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    opened = tenant.finance.get("/v1/approvals", queue="finance", limit=200).json()["items"]
    assert [c["case_id"] for c in opened if c["category"] == "rebate_dispute"] == [first.json()["approval_id"]]
    other = a.post("/v1/rebates/disputes", _dispute(tenant, settled["settlement_id"], amount="1.00"), headers=key)
    assert_problem(other, 422)


def test_the_key_is_scoped_to_the_api_key_that_sent_it(nw):  # noqa: F811
    """ "keys kept 24 h, scoped to the tenant and the API key's principal": another key may use the same string."""
    sales, ops = nw["roles"]["sales"], nw["roles"]["channel_ops"]
    partner_id, _ = nw["partners"][0]
    key = _key()
    mine = sales.post("/v1/pricing/check", quote("within_cap", partner_id), headers=key).json()
    theirs = ops.post("/v1/pricing/check", quote("within_cap", partner_id), headers=key)
    assert theirs.status_code == 200 and "Idempotent-Replayed" not in theirs.headers
    assert theirs.json()["decision_id"] != mine["decision_id"]


def test_the_same_key_twice_on_a_deal_registration_registers_once(nw, stack):  # noqa: F811
    (alpha_id, alpha), _ = nw["partners"]
    registration = {
        "partner_id": alpha_id,
        "customer": {"id": f"CUST-{uuid.uuid4().hex[:8]}", "name": "Idempotent Logistics", "contact": "Dana Ortiz"},
        "family": "networking",
        "estimated_value": "84000.00",
        "expected_close": close_date(stack),
    }
    key = _key()
    first = alpha.post("/v1/deals", registration, headers=key)
    assert first.status_code == 201, first.text
    again = alpha.post("/v1/deals", registration, headers=key)
    assert again.status_code == 201 and again.json() == first.json()
    mine = [d for d in alpha.get("/v1/deals", limit=200).json()["items"] if d["customer"] == registration["customer"]]
    assert [d["deal_id"] for d in mine] == [first.json()["deal_id"]]


def test_a_refusal_is_replayed_too_and_a_bad_key_is_a_400(nw):  # noqa: F811
    """Stripe saves the first result "regardless of whether it succeeds or fails"; a key that breaks the documented
    pattern is malformed input and records nothing."""
    ops = nw["roles"]["channel_ops"]
    partner_id, _ = nw["partners"][0]
    checked = ops.post("/v1/pricing/check", quote("above_cap", partner_id)).json()
    approval_id = checked["approvals"][0]["approval_id"]
    key = _key()
    decide = f"/v1/approvals/{approval_id}/decision"
    refused = assert_problem(ops.post(decide, {"outcome": "approved"}, headers=key), 403)
    replay = ops.post(decide, {"outcome": "approved"}, headers=key)
    assert replay.status_code == 403 and replay.json() == refused and replay.headers["Idempotent-Replayed"] == "true"
    for bad in ("", "x" * 256, "has space", "a/b", "semi;colon"):
        sent = ops.post("/v1/pricing/check", quote("within_cap", partner_id), headers={"Idempotency-Key": bad})
        assert assert_problem(sent, 400)["errors"][0]["path"] == "/headers/Idempotency-Key", bad


def test_every_post_that_changes_state_documents_the_idempotency_key(api):
    spec = api.get("/v1/openapi.json").json()
    for path, item in spec["paths"].items():
        post = item.get("post")
        if not post or not post.get("security", spec.get("security")):
            continue
        names = {p["name"] for p in post.get("parameters", []) if p.get("in") == "header"}
        if path == "/v1/webhooks/erp":
            continue  # signed, deduplicated by event id
        assert "Idempotency-Key" in names, path


# --- the mechanism on the store port: in-flight duplicates, expiry, secrets -------------------------------------------
class Clock:
    def __init__(self, now_ms: int) -> None:
        self.ms = now_ms

    def now_ms(self) -> int:
        return self.ms


def _run(keys: RequestKeys, who: Principal, key: str, body: Any, execute: Any) -> Answer:
    return keys.run(
        who,
        key,
        fingerprint("POST", "/v1/things", body, b""),
        execute,
        to_text=lambda value: __import__("json").dumps(value),
        on_error=lambda error: problem(error, "/v1/things", "corr-0001"),
    )


def _who() -> Principal:
    return Principal(f"t-{uuid.uuid4().hex[:10]}", Role.SALES, f"key_{uuid.uuid4().hex[:26].upper()}")


def test_a_concurrent_duplicate_while_the_first_is_in_flight_is_a_409_and_runs_once(rt):
    keys, who, runs = RequestKeys(rt.store, rt.clock.now_ms), _who(), []
    started, release = threading.Event(), threading.Event()

    def slow() -> Answer:
        runs.append("slow")
        started.set()
        release.wait(10)
        return Answer(201, {"id": "thing_1"})

    results: list[Any] = []
    first = threading.Thread(target=lambda: results.append(_run(keys, who, "k-1", {"a": 1}, slow)))
    first.start()
    assert started.wait(10)
    with pytest.raises(Conflict):
        _run(keys, who, "k-1", {"a": 1}, lambda: runs.append("second") or Answer(201, {"id": "thing_2"}))
    release.set()
    first.join(10)
    assert runs == ["slow"] and results[0].status == 201
    replay = _run(keys, who, "k-1", {"a": 1}, lambda: runs.append("third") or Answer(201, {}))
    assert replay.status == 201 and replay.body == '{"id": "thing_1"}' and runs == ["slow"]


def test_two_racing_requests_with_one_key_run_the_use_case_once(rt):
    keys, who, runs = RequestKeys(rt.store, rt.clock.now_ms), _who(), []
    gate = threading.Barrier(2)
    outcomes: list[Any] = []

    def send() -> None:
        gate.wait(5)
        try:
            outcomes.append(_run(keys, who, "race", {"n": 1}, lambda: runs.append(1) or Answer(201, {"ok": True})))
        except Conflict as refused:
            outcomes.append(refused)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(runs) == 1 and len(outcomes) == 2
    assert all(isinstance(o, Conflict) or o.status == 201 for o in outcomes)


def test_a_key_is_kept_24_hours_then_a_new_request_runs(rt):
    clock = Clock(rt.clock.now_ms())
    keys, who, runs = RequestKeys(rt.store, clock.now_ms), _who(), []
    _run(keys, who, "day", {"a": 1}, lambda: runs.append(1) or Answer(201, {"n": 1}))
    clock.ms += KEEP_SECONDS * 1000 - 1000
    assert _run(keys, who, "day", {"a": 1}, lambda: runs.append(2) or Answer(201, {"n": 2})).body == '{"n": 1}'
    with pytest.raises(RuleViolation):
        _run(keys, who, "day", {"a": 2}, lambda: runs.append(3) or Answer(201, {"n": 3}))
    clock.ms += 2000
    assert _run(keys, who, "day", {"a": 2}, lambda: runs.append(4) or Answer(201, {"n": 4})).status == 201
    assert runs == [1, 4]


def test_a_retryable_failure_records_nothing_so_the_retry_runs(rt):
    from revgov.domain.errors import Unavailable

    keys, who, runs = RequestKeys(rt.store, rt.clock.now_ms), _who(), []

    def busy() -> Answer:
        runs.append("busy")
        raise Unavailable("the table is throttling")

    with pytest.raises(Unavailable):
        _run(keys, who, "busy", {"a": 1}, busy)
    assert _run(keys, who, "busy", {"a": 1}, lambda: runs.append("ok") or Answer(201, {})).status == 201
    assert runs == ["busy", "ok"]
    with pytest.raises(MalformedRequest):
        _run(keys, who, "not a key", {"a": 1}, lambda: runs.append("never") or Answer(201, {}))
    assert runs == ["busy", "ok"]


def test_a_secret_shown_once_is_not_stored_for_a_replay(rt):
    keys, who = RequestKeys(rt.store, rt.clock.now_ms), _who()

    def create() -> Answer:
        return Answer(201, {"key_id": "key_1", "key": "rg_live_secret"})

    def run() -> Answer:
        return keys.run(
            who,
            "secret",
            "fp",
            create,
            to_text=__import__("json").dumps,
            on_error=lambda e: problem(e, "/v1/keys", "c"),
            secret_fields=("key",),
        )

    assert run().body["key"] == "rg_live_secret"
    stored = rt.store.get(who.tenant_id, "REQUESTKEY", f"{who.key_id}#secret")
    assert "rg_live_secret" not in str(stored.data)
    assert '"key": "withheld' in run().body


def test_an_operator_retry_of_a_tenant_creation_creates_one_tenant_and_never_replays_its_secrets(operator):
    from support import example_tenant

    config, key = example_tenant(), _key()
    first = operator.post("/v1/tenants", config, headers=key)
    assert first.status_code == 201, first.text
    try:
        again = operator.post("/v1/tenants", config, headers=key)
        assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["tenant"] == first.json()["tenant"]
        secrets = (first.json()["admin_key"]["key"], first.json()["webhook_secret"])
        assert all(secret not in again.text for secret in secrets)
        assert again.json()["admin_key"]["key_id"] == first.json()["admin_key"]["key_id"]
        assert again.json()["admin_key"]["key"].startswith("withheld")
        listed = operator.get("/v1/tenants", limit=200).json()["items"]
        assert [t["tenant_id"] for t in listed].count(config["tenant_id"]) == 1
    finally:
        operator.delete(f"/v1/tenants/{config['tenant_id']}")
