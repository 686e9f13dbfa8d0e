"""Outbound webhooks cannot be turned against Revgov's own network: https to public addresses only, checked at
subscription and again at every delivery, connected to at an address that was checked (no DNS rebinding), no redirects
followed, the loopback exception a local-stage setting that is off by default; deliveries are signed like the inbound
webhook and retried by the queue until answered 2xx."""

from __future__ import annotations

import http.server
import itertools
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, ClassVar

import pytest

import clock_support
from revgov.domain.webhooks import verify
from revgov.runtime import Runtime
from revgov.services import subscriptions
from revgov.settings import Settings

PUBLIC = "93.184.216.34"
REFUSED = [
    "127.0.0.1", "127.8.9.1", "::1", "0.0.0.0", "10.0.0.5", "172.16.3.4", "192.168.1.10", "169.254.169.254",
    "100.64.0.1", "fd00::1", "fe80::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "224.0.0.1", "198.18.0.1", "::",
]


@pytest.mark.parametrize("address", REFUSED)
def test_internal_addresses_are_refused(address):
    assert subscriptions.url_problems("https://hooks.example/x", [address], allow_loopback=False)


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example/x",  # not https
        "https://user:pass@hooks.example/x",  # credentials in the URL
        "ftp://hooks.example/x",
        "https:///x",
        "file:///etc/passwd",
        "gopher://hooks.example/x",
    ],
)
def test_only_plain_https_urls_are_accepted(url):
    assert subscriptions.url_problems(url, [PUBLIC], allow_loopback=False)


def test_a_public_https_url_is_accepted():
    assert subscriptions.url_problems("https://hooks.example/revgov", [PUBLIC], allow_loopback=False) == []


def test_a_name_that_resolves_to_a_public_and_an_internal_address_is_refused():
    assert subscriptions.url_problems("https://rebind.example/x", [PUBLIC, "10.1.2.3"], allow_loopback=False)


def test_the_loopback_exception_is_off_by_default_and_only_ever_on_a_local_stage():
    assert Settings.from_env({}).outbound_allow_loopback is False
    assert subscriptions.loopback_allowed(Settings.from_env({})) is False
    on = {"REVGOV_OUTBOUND_ALLOW_LOOPBACK": "1"}
    assert subscriptions.loopback_allowed(Settings.from_env({**on, "REVGOV_STAGE": "local"})) is True
    assert subscriptions.loopback_allowed(Settings.from_env({**on, "REVGOV_STAGE": "prod"})) is False
    # even where loopback is allowed, private ranges and link-local (cloud metadata) are not
    for address in ("10.0.0.5", "169.254.169.254", "192.168.1.10"):
        assert subscriptions.url_problems("http://hooks.example/x", [address], allow_loopback=True)


class _Receiver(http.server.BaseHTTPRequestHandler):
    answer = 200
    location: str | None = None
    seen: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
        self.send_response(type(self).answer)
        if type(self).location:
            self.send_header("Location", type(self).location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"seen": [], "answer": 200, "location": None})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()


@pytest.fixture(scope="module")
def victim(api: Any, operator: Any, stack: Any) -> Iterator[Any]:
    """A tenant of this module's own, nothing else happening in it: the stack's event router delivers every event of
    a tenant to its subscriptions in the background, so a subscription to `*` in the shared security victim also
    received that tenant's other events while a test ran (CI saw a second POST to `/hook`, and a background delivery
    resolving the rebinding name). The router is idle before the first test subscribes."""
    from security_support import make_party, offboard
    from support import settle

    party = make_party(api, operator, stack, "contoso")
    settle(stack)
    yield party
    offboard(operator, party)


def _seen(handler: type[_Receiver], event: dict[str, Any]) -> list[dict[str, Any]]:
    """What the receiver was sent for `event` (by its Revgov-Event-Id), whatever else reached it."""
    event_id = event["detail"]["event_id"]
    return [s for s in handler.seen if s["headers"].get("Revgov-Event-Id") == event_id]


def _runtime(stack: Any, *, loopback: bool) -> Runtime:
    config = replace(stack.runtime.settings, stage="local", outbound_allow_loopback=loopback)
    return replace(stack.runtime, settings=config)


def _subscribe(rt: Runtime, party: Any, url: str, resolver: Any = None) -> dict[str, Any]:
    who = party.principal("admin")
    body = {"url": url, "event_types": ["*"]}
    return subscriptions.create(rt, who, body, resolver=resolver or subscriptions.resolve)


def _event(party: Any, n: int) -> dict[str, Any]:
    event_id = f"evt_01JX{n:022d}"
    detail = {"tenant_id": party.tenant_id, "event_id": event_id, "occurred_at": "2026-11-27T10:00:00Z", "n": n}
    return {"source": "revgov.probe", "detail-type": "probe.fired", "detail": detail}


def test_a_delivery_is_signed_like_the_inbound_webhook_and_verifies(victim, stack, receiver):
    base, handler = receiver
    rt = _runtime(stack, loopback=True)
    made = _subscribe(rt, victim, f"{base}/hook")
    try:
        event = _event(victim, 1)
        assert subscriptions.deliver(rt, event) == 1
        [sent] = _seen(handler, event)
        now = clock_support.epoch_seconds()
        verify(sent["headers"]["Revgov-Signature"], sent["body"], [made["signing_secret"]], now=now)
        assert json.loads(sent["body"])["tenant_id"] == victim.tenant_id
    finally:
        subscriptions.delete(rt, victim.principal("admin"), made["subscription_id"])


def test_a_redirect_is_an_answer_not_an_instruction(victim, stack, receiver):
    base, handler = receiver
    handler.answer, handler.location = 307, f"{base}/internal-admin"
    rt = _runtime(stack, loopback=True)
    made = _subscribe(rt, victim, f"{base}/hook")
    try:
        with pytest.raises(subscriptions.DeliveryFailed, match="307"):
            subscriptions.deliver(rt, event := _event(victim, 2))
        assert [s["path"] for s in _seen(handler, event)] == ["/hook"]
    finally:
        subscriptions.delete(rt, victim.principal("admin"), made["subscription_id"])


def test_a_failed_delivery_is_retried_until_answered_and_then_never_again(victim, stack, receiver):
    base, handler = receiver
    handler.answer = 503
    rt = _runtime(stack, loopback=True)
    made = _subscribe(rt, victim, f"{base}/hook")
    event = _event(victim, 3)
    try:
        for _ in range(2):
            with pytest.raises(subscriptions.DeliveryFailed):
                subscriptions.deliver(rt, event)
        handler.answer = 200
        assert subscriptions.deliver(rt, event) == 1
        assert subscriptions.deliver(rt, event) == 0  # a redelivery of the bus event skips the delivered pair
        attempts = [s["headers"]["Revgov-Delivery-Attempt"] for s in _seen(handler, event)]
        assert attempts == ["1", "2", "3"]
    finally:
        subscriptions.delete(rt, victim.principal("admin"), made["subscription_id"])


def test_retries_back_off_exponentially_with_jitter_up_to_a_cap():
    from revgov.domain.webhooks import RETRY_BASE_SECONDS, RETRY_CAP_SECONDS, retry_delay

    lows = [retry_delay(attempt, 0.0) for attempt in range(1, 12)]
    highs = [retry_delay(attempt, 0.999) for attempt in range(1, 12)]
    assert highs[0] == RETRY_BASE_SECONDS and lows[0] == RETRY_BASE_SECONDS // 2
    assert all(b == min(2 * a, RETRY_CAP_SECONDS) for a, b in itertools.pairwise(highs))
    assert max(highs) == RETRY_CAP_SECONDS and all(lo * 2 == hi for lo, hi in zip(lows, highs, strict=True))


def test_the_webhook_queue_keeps_an_event_as_long_as_its_deliveries_have_attempts():
    from revgov.domain.webhooks import MAX_DELIVERY_ATTEMPTS
    from revgov.resources import load_rules
    from support import ROOT

    [rule] = [r for r in load_rules(ROOT / "events") if r.handler == "deliver_webhooks"]
    assert rule.max_receive_count == MAX_DELIVERY_ATTEMPTS


def test_a_delivery_that_keeps_failing_backs_off_then_fails_for_good(victim, stack, receiver, monkeypatch):
    from revgov.domain.webhooks import MAX_DELIVERY_ATTEMPTS

    base, handler = receiver
    handler.answer = 503
    rt = _runtime(stack, loopback=True)
    made = _subscribe(rt, victim, f"{base}/hook")
    event, waits = _event(victim, 9), []
    try:
        for attempt in range(1, MAX_DELIVERY_ATTEMPTS):
            with pytest.raises(subscriptions.DeliveryFailed) as failed:
                subscriptions.deliver(rt, event)
            waits.append(failed.value.retry_in)
            [record] = subscriptions.deliveries(rt, victim.tenant_id, event["detail"]["event_id"])
            assert (record["status"], record["attempts"]) == ("retrying", attempt) and record["next_attempt_at"]
        assert subscriptions.deliver(rt, event) == 0  # the last attempt: not retried again
        [record] = subscriptions.deliveries(rt, victim.tenant_id, event["detail"]["event_id"])
        assert (record["status"], record["attempts"], record["next_attempt_at"]) == ("failed", 8, None)
        assert len(_seen(handler, event)) == MAX_DELIVERY_ATTEMPTS
        assert waits[-1] > 4 * waits[0], waits  # exponential, whatever the jitter drew
    finally:
        subscriptions.delete(rt, victim.principal("admin"), made["subscription_id"])


def test_the_handler_delays_a_failed_events_redelivery_on_its_queue(victim, stack, receiver):
    """deliver_webhooks changes the message's visibility to the backoff delay: with a queue that would hand the
    message back at once (visibility 0), it is not receivable again until the delay has passed."""
    import boto3

    from revgov.edge.handlers import deliver_webhooks

    base, handler = receiver
    handler.answer = 500
    config = stack.runtime.settings  # the embedded engine's queues answer the same SQS calls
    sqs = stack.runtime.queues or boto3.client("sqs", region_name=config.region, endpoint_url=config.endpoint_url)
    url = sqs.create_queue(QueueName=f"probe-backoff-{victim.tenant_id}", Attributes={"VisibilityTimeout": "0"})[
        "QueueUrl"
    ]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    made = _subscribe(stack.runtime, victim, f"{base}/hook")
    try:
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event := _event(victim, 10)))
        [message] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
        record = {
            "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
            "eventSource": "aws:sqs", "eventSourceARN": arn,
        }
        assert deliver_webhooks({"Records": [record]}, None)["batchItemFailures"] == [
            {"itemIdentifier": message["MessageId"]}
        ]
        assert len(_seen(handler, event)) == 1
        assert not sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2).get("Messages"), "redelivered without delay"
    finally:
        sqs.delete_queue(QueueUrl=url)
        subscriptions.delete(stack.runtime, victim.principal("admin"), made["subscription_id"])


def test_a_name_that_now_resolves_inside_is_not_delivered_to(victim, stack):
    """Checked at every delivery: a subscription made while its name was public is not followed inside later."""
    rt = _runtime(stack, loopback=False)
    public = _subscribe(rt, victim, "https://hooks.example/x", resolver=lambda host: [PUBLIC])
    sent: list[str] = []
    try:
        with pytest.raises(subscriptions.DeliveryFailed, match="not a public address"):
            subscriptions.deliver(
                rt, _event(victim, 4), send=lambda url, addresses, body, headers: sent.append(url) or 200,
                resolver=lambda host: ["169.254.169.254"],
            )
        assert sent == []
    finally:
        subscriptions.delete(rt, victim.principal("admin"), public["subscription_id"])


def test_a_name_that_rebinds_between_the_check_and_the_connection_is_not_followed(victim, stack, monkeypatch):
    """The name answers a public address when checked, loopback afterwards: the delivery connects to the checked
    address (refused here, so no test ever reaches the internet) and never to a second resolution of the name.

    Only this test's thread sees the rebinding name and has its connections recorded (the stack's background threads
    resolve and connect as usual), and the listener counts only a TLS hello naming `rebind.example`: a background
    delivery to a port the listener happens to reuse is not this delivery."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    port, accepted = listener.getsockname()[1], []

    def accept() -> None:
        for _ in range(50):
            try:
                connection, _ = listener.accept()
                connection.settimeout(2)
                if b"rebind.example" in connection.recv(4096):  # the SNI of a TLS hello for the name
                    accepted.append(1)
                connection.close()
            except OSError:
                pass

    watcher = threading.Thread(target=accept, daemon=True)
    watcher.start()
    rt = _runtime(stack, loopback=False)
    made = _subscribe(rt, victim, f"https://rebind.example:{port}/hook", resolver=lambda host: [PUBLIC])
    real_resolve, real_connect, answers = socket.getaddrinfo, socket.create_connection, iter([PUBLIC])
    ours, connected_to = threading.get_ident(), []

    def rebinding(host: str, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.example" or threading.get_ident() != ours:
            return real_resolve(host, *args, **kwargs)
        address = next(answers, "127.0.0.1")  # public when checked, loopback when connected to
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    def connect(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        if threading.get_ident() == ours:
            connected_to.append(address[0])
            if address[0] == PUBLIC:
                raise ConnectionRefusedError("the checked public address (unreachable from a test)")
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(socket, "create_connection", connect)
    try:
        with pytest.raises(subscriptions.DeliveryFailed):
            subscriptions.deliver(rt, _event(victim, 5))
        watcher.join(timeout=15)
        assert accepted == [], "the delivery connected to an address that was never checked"
        assert connected_to == [PUBLIC]
    finally:
        monkeypatch.undo()
        listener.close()
        subscriptions.delete(rt, victim.principal("admin"), made["subscription_id"])


def test_a_delivery_names_the_host_it_was_checked_for_though_it_connects_to_the_address(victim, stack, receiver):
    """`hooks.revgov.test` resolves nowhere but in the resolver the check used: only a connection to the checked
    address reaches the receiver, and the request still says `Host: hooks.revgov.test`."""
    base, handler = receiver
    port = base.rsplit(":", 1)[1]
    rt = _runtime(stack, loopback=True)
    made = _subscribe(rt, victim, f"http://hooks.revgov.test:{port}/hook", resolver=lambda host: ["127.0.0.1"])
    event = _event(victim, 6)
    try:
        assert subscriptions.deliver(rt, event, resolver=lambda host: ["127.0.0.1"]) == 1
        [sent] = _seen(handler, event)
        assert sent["headers"]["Host"] == f"hooks.revgov.test:{port}"
    finally:
        subscriptions.delete(rt, victim.principal("admin"), made["subscription_id"])


@pytest.mark.parametrize(("certified", "delivered"), [("hooks.revgov.test", True), ("other.revgov.test", False)])
def test_tls_is_verified_against_the_host_name_not_the_address_connected_to(victim, stack, certified, delivered):
    """https to the checked address: SNI names the host, and a certificate for another name is refused."""
    from functools import partial

    pem, server = _tls_receiver(certified)
    seen: list[str | None] = []
    server.context.sni_callback = lambda sock, name, ctx: seen.append(name)  # type: ignore[assignment]
    trust = ssl.create_default_context(cadata=pem)
    rt = _runtime(stack, loopback=True)
    url = f"https://hooks.revgov.test:{server.port}/hook"
    made = _subscribe(rt, victim, url, resolver=lambda host: ["127.0.0.1"])
    send, resolver = partial(subscriptions.post, tls=trust), (lambda host: ["127.0.0.1"])
    try:
        if delivered:
            assert subscriptions.deliver(rt, _event(victim, 7), send=send, resolver=resolver) == 1
        else:
            with pytest.raises(subscriptions.DeliveryFailed, match="certificate"):
                subscriptions.deliver(rt, _event(victim, 8), send=send, resolver=resolver)
        assert seen and seen[0] == "hooks.revgov.test"
    finally:
        server.stop()
        subscriptions.delete(rt, victim.principal("admin"), made["subscription_id"])


class _TlsServer:
    """One-thread https receiver on 127.0.0.1 answering 200 to every POST."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _tls_receiver(name: str) -> tuple[str, _TlsServer]:
    """A self-signed certificate for `name` (its PEM, to trust) and a receiver that presents it."""
    import datetime
    import tempfile

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    from revgov.adapters.system import real_time

    now = datetime.datetime.fromtimestamp(real_time(), datetime.UTC)  # OpenSSL checks validity by the real clock
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as chain:
        chain.write(private + pem)
        chain.flush()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(chain.name)
    return pem, _TlsServer(context)
