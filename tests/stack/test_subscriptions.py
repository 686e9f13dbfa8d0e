"""Outbound webhooks over HTTP on the local stack: subscribe, receive signed deliveries, retries, the URL policy."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import clock_support
from billing_support import wait_until
from revgov.domain.webhooks import verify
from revgov.services.subscriptions import url_problems
from support import assert_problem, scenario

ABOVE_CAP = scenario("pricing/http.json")["above_cap"]


class Receiver:
    """A subscriber on loopback: records every POST; answers 503 to every first attempt while `failing_first`, else
    200.

    It subscribes in northwind, the demo tenant every stack test of the worker shares: the router also delivers that
    tenant's other quote events (earlier tests' approvals, quotes checked meanwhile) to it in the background, so a test
    looks only at the deliveries of its own decision (`of_type(..., decision_id)`), and a failing answer is per event,
    not the next POST whoever's it is."""

    def __init__(self):
        self.received, self.failing_first = [], False
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.received.append((dict(self.headers), body))
                first = self.headers.get("Revgov-Delivery-Attempt") == "1"
                self.send_response(503 if owner.failing_first and first else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/revgov"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def of_type(self, event_type, decision_id):
        """The deliveries of `event_type` for the decision `decision_id`, in the order they arrived."""
        return [(h, b) for h, b in list(self.received)
                if h.get("Revgov-Event-Type") == event_type and json.loads(b)["data"].get("decision_id") == decision_id]


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.server.shutdown()


@pytest.fixture
def nw(api, keys):
    tenant = keys["tenants"]["northwind"]
    active = next(p for p in tenant["partners"] if p["status"] == "active")
    return {"admin": api.as_key(tenant["admin_key"]), "sales": api.as_key(tenant["keys"]["sales"]),
            "ops": api.as_key(tenant["keys"]["channel_ops"]), "partner_id": active["partner_id"]}


@pytest.fixture
def subscribed(nw, receiver):
    created = nw["admin"].post(
        "/v1/subscriptions", {"url": receiver.url, "event_types": ["quote.*"], "description": "test portal"}
    )
    assert created.status_code == 201, created.text
    yield created.json()
    nw["admin"].delete(f"/v1/subscriptions/{created.json()['subscription_id']}")


def test_a_quote_decided_by_an_approver_is_delivered_signed_with_the_subscription_secret(nw, receiver, subscribed):
    assert subscribed["signing_secret"].startswith("whsec_") and subscribed["status"] == "active"
    listed = nw["admin"].get("/v1/subscriptions").json()["items"]
    assert subscribed["subscription_id"] in {s["subscription_id"] for s in listed}
    assert all("secret" not in s and "signing_secret" not in s for s in listed)
    checked = nw["sales"].post("/v1/pricing/check", {**ABOVE_CAP, "partner_id": nw["partner_id"]}).json()
    assert checked["outcome"] == "approval_required"
    approval_id = checked["approvals"][0]["approval_id"]
    nw["ops"].post(f"/v1/approvals/{approval_id}/decision", {"outcome": "approved", "note": "webhook test"})
    decision_id = checked["decision_id"]
    wait_until(lambda: receiver.of_type("quote.approved", decision_id), 20, what="the quote.approved delivery")
    headers, body = receiver.of_type("quote.approved", decision_id)[0]
    verify(headers["Revgov-Signature"], body, [subscribed["signing_secret"]], now=clock_support.epoch_seconds())
    event = json.loads(body)
    assert event["type"] == "quote.approved" and event["tenant_id"] == "northwind"
    assert event["data"] == {"decision_id": checked["decision_id"], "outcome": "allow"}
    assert headers["Revgov-Event-Id"] == event["event_id"] and headers["Revgov-Subscription-Id"]
    # only the types subscribed to (approval.decided is not one), whoever's event it is
    assert {h["Revgov-Event-Type"].split(".")[0] for h, _ in list(receiver.received)} == {"quote"}


def test_a_subscriber_that_fails_is_retried_until_it_answers_2xx(nw, receiver, subscribed):
    receiver.failing_first = True
    checked = nw["sales"].post("/v1/pricing/check", {**ABOVE_CAP, "partner_id": nw["partner_id"]}).json()

    def ours():
        return receiver.of_type("quote.checked", checked["decision_id"])

    wait_until(lambda: len(ours()) >= 2, 30, what="a second delivery")
    first, second = ours()[:2]
    assert first[1] == second[1]
    assert (first[0]["Revgov-Delivery-Attempt"], second[0]["Revgov-Delivery-Attempt"]) == ("1", "2")
    event_id = json.loads(second[1])["event_id"]
    path = f"/v1/subscriptions/{subscribed['subscription_id']}/deliveries/{event_id}"
    wait_until(lambda: nw["admin"].get(path).json().get("status") == "delivered", 10, what=path)
    assert nw["admin"].get(path).json()["attempts"] == 2


def test_only_https_to_public_addresses_is_accepted_and_loopback_only_on_a_local_stack(nw):
    for url in ("http://203.0.113.9/hook", "https://10.1.2.3/hook", "https://user:pw@127.0.0.1/x"):
        assert_problem(nw["admin"].post("/v1/subscriptions", {"url": url, "event_types": ["*"]}), 422)
    assert_problem(nw["admin"].post("/v1/subscriptions", {"url": "ftp://x/y", "event_types": ["*"]}), 400)
    assert url_problems("https://hooks.example/x", ["93.184.216.34"], allow_loopback=False) == []
    assert url_problems("https://hooks.example/x", ["169.254.169.254"], allow_loopback=False)
    assert url_problems("http://localhost:5678/x", ["127.0.0.1"], allow_loopback=False)
    assert url_problems("http://localhost:5678/x", ["127.0.0.1"], allow_loopback=True) == []
    plain_http = url_problems("http://hooks.example/x", ["93.184.216.34"], allow_loopback=True)
    assert plain_http == ["deliveries go over https only"]


def test_subscriptions_are_the_admins_and_unknown_fields_are_refused(nw, receiver):
    assert_problem(nw["sales"].post("/v1/subscriptions", {"url": receiver.url, "event_types": ["*"]}), 403)
    assert_problem(nw["admin"].post("/v1/subscriptions", {"url": receiver.url, "event_types": ["*"], "x": 1}), 400)
    assert_problem(nw["admin"].post("/v1/subscriptions", {"url": receiver.url, "event_types": ["Quote"]}), 400)
    assert_problem(nw["admin"].get("/v1/subscriptions/sub_01JX0000000000000000000000"), 404)
