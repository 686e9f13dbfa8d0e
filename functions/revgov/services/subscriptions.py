"""Outbound webhooks: a tenant subscribes a URL to Revgov's domain events; each matching event is POSTed to it,
signed like the inbound ERP webhook, and retried until the subscriber answers 2xx.

Signature: `Revgov-Signature: t=<unix>,v1=<hex HMAC-SHA256 of '{t}.{raw body}'>` with the subscription's signing
secret (shown once, at creation). URL policy: https to public addresses only (an IPv6 address that carries an IPv4
one for a translator, NAT64, 6to4, SIIT, is public only if that IPv4 address is), checked at creation and again at
each delivery (the name may resolve elsewhere by then), and the delivery connects to an address it just checked, never
to a second resolution of the name (DNS rebinding); Host and TLS (SNI, certificate) still name the host; redirects are
never followed. A local stack
(`REVGOV_STAGE=local` and `REVGOV_OUTBOUND_ALLOW_LOOPBACK=1`, which `revgov dev` sets) also accepts loopback
URLs, http included, so flows in a local n8n can be driven by real deliveries.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import random
import re
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from .. import metrics
from ..domain import retention
from ..domain.access import Principal
from ..domain.audit import AuditEntry
from ..domain.errors import Conflict, FieldError, NotFound, RuleViolation
from ..domain.webhooks import MAX_DELIVERY_ATTEMPTS, retry_delay, signature_header
from ..ports import Changes, Delete, Put
from ..resources import outbound_event_types
from ..runtime import Runtime
from ..settings import Settings
from . import tenant_repository

SUBSCRIPTIONS = "WEBHOOKSUB"
DELIVERIES = "WEBHOOKDELIVERY"  # `{event_id}#{subscription_id}` -> what became of that delivery
MAX_PER_TENANT = 25
TIMEOUT_SECONDS = 10
USER_AGENT = "Revgov-Webhooks/1"
_ENVELOPE = ("tenant_id", "event_id", "occurred_at")
_PUBLIC = ("subscription_id", "url", "event_types", "description", "status", "created_at", "created_by")
_TYPE = re.compile(r"^(\*|[a-z][a-z_]{0,39}\.(\*|[a-z][a-z_]{0,59}))$")

Resolver = Callable[[str], list[str]]
# (url, the checked addresses of its host, body, headers) -> the subscriber's status
Sender = Callable[[str, list[str], bytes, dict[str, str]], int]


class DeliveryFailed(Exception):
    """At least one subscriber did not answer 2xx and has attempts left; the bus event is delivered again (only to
    those) in `retry_in` seconds."""

    def __init__(self, message: str, retry_in: int) -> None:
        super().__init__(message)
        self.retry_in = retry_in


# --- the URL policy (pure, given the addresses the host resolves to) ----------------------------------------------
def loopback_allowed(config: Settings) -> bool:
    return config.outbound_allow_loopback and config.stage == "local"


def url_problems(url: str, addresses: list[str], *, allow_loopback: bool) -> list[str]:
    """Why Revgov will not POST to `url` (empty: it may). `addresses` are what its host resolves to."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return ["send an absolute https URL"]
    if parts.username or parts.password:
        return ["credentials in the URL are not accepted; authenticate with the signature instead"]
    if parts.fragment:
        return ["a URL fragment is never sent; remove it"]
    ips = [ipaddress.ip_address(a.split("%", 1)[0]) for a in addresses]
    loopback = bool(ips) and all(ip.is_loopback for ip in ips)
    # every reason at once, the scheme first: an http URL is refused whatever its host resolves to (or not yet)
    problems = ["deliveries go over https only"] if parts.scheme == "http" and not (allow_loopback and loopback) else []
    if not addresses:
        return [*problems, f"{parts.hostname} does not resolve"]
    for ip in ips:
        if ip.is_loopback and allow_loopback:
            continue
        inner = embedded_ipv4(ip)
        if not ip.is_global or ip.is_multicast or (inner is not None and (not inner.is_global or inner.is_multicast)):
            shown = f"{ip} (carrying {inner})" if inner is not None else str(ip)
            problems.append(f"{parts.hostname} resolves to {shown}, which is not a public address")
    return problems


# IPv6 prefixes whose last 32 bits are an IPv4 address a translator on the path delivers to: NAT64's well-known
# prefix (RFC 6052 §2.1) and local-use prefix (RFC 8215), IPv4-translated (RFC 6052 §2.1) and the deprecated
# IPv4-compatible addresses (RFC 4291 §2.5.5.1). 6to4 (RFC 3056) and IPv4-mapped addresses are read by `ipaddress`.
_EMBEDDING = tuple(ipaddress.IPv6Network(n) for n in ("64:ff9b::/96", "64:ff9b:1::/48", "::ffff:0:0:0/96", "::/96"))


def embedded_ipv4(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries for a translator (NAT64, 6to4, SIIT, mapped, compatible), or None: a
    delivery to it may reach that IPv4 address, so it must be public too."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in network for network in _EMBEDDING) and int(ip) > 1:  # `::` and `::1` are not IPv4-compatible
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def resolve(host: str) -> list[str]:
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)})
    except (socket.gaierror, UnicodeError):
        return []


def check_url(url: str, config: Settings, resolver: Resolver = resolve) -> list[str]:
    """The addresses `url`'s host resolves to, all of them allowed; the only ones a delivery may connect to."""
    host = urlsplit(url).hostname or ""
    addresses = resolver(host) if host else []
    problems = url_problems(url, addresses, allow_loopback=loopback_allowed(config))
    if problems:
        raise RuleViolation(
            "; ".join(problems), errors=[FieldError("/url", problem) for problem in problems]
        )
    return addresses


def event_type_problems(event_types: list[str], emitted: frozenset[str]) -> list[FieldError]:
    """Each entry that names no event Revgov emits: not the shape of one (the schema says so too; this keeps the use
    case safe on its own), an exact name not emitted (a typo would never be delivered), an area with none."""
    problems = []
    for i, event_type in enumerate(event_types):
        if not _TYPE.fullmatch(event_type):
            problems.append(FieldError(f"/event_types/{i}", f"{event_type!r} is not an event type, an area.* or *"))
        elif event_type != "*" and not any(matches([event_type], emitted_type) for emitted_type in emitted):
            problems.append(FieldError(f"/event_types/{i}", f"Revgov emits no {event_type} event"))
    return problems


def matches(event_types: list[str], detail_type: str) -> bool:
    area = detail_type.split(".", 1)[0]
    return any(t in ("*", detail_type, f"{area}.*") for t in event_types)


# --- subscriptions --------------------------------------------------------------------------------------------------
def public_view(data: dict[str, Any]) -> dict[str, Any]:
    """What callers see: never the signing secret."""
    return {k: data.get(k) for k in _PUBLIC}


def _all(rt: Runtime, tenant_id: str) -> list[dict[str, Any]]:
    page = rt.store.query(tenant_id, SUBSCRIPTIONS, limit=MAX_PER_TENANT + 1)
    return [item.data for item in page.items]


def create(rt: Runtime, who: Principal, body: dict[str, Any], resolver: Resolver = resolve) -> dict[str, Any]:
    """A new subscription; its signing secret is in this answer only."""
    unknown = event_type_problems(body["event_types"], outbound_event_types(rt.settings.events_dir))
    try:
        check_url(body["url"], rt.settings, resolver)
    except RuleViolation as refused:  # named together with the event types, so one correction fixes both
        raise RuleViolation(refused.detail, errors=[*refused.errors, *unknown]) from None
    if unknown:
        raise RuleViolation("a subscription names only events Revgov emits (the OpenAPI `webhooks`)", errors=unknown)
    if len(_all(rt, who.tenant_id)) >= MAX_PER_TENANT:
        raise Conflict(f"a tenant has at most {MAX_PER_TENANT} subscriptions; delete one first")
    subscription_id = rt.ids.new("sub")
    data = {
        "subscription_id": subscription_id,
        "url": body["url"],
        "event_types": list(body["event_types"]),
        "description": body.get("description"),
        "status": "active",
        "created_at": rt.clock.now_iso(),
        "created_by": who.actor,
        "secret": "whsec_" + rt.ids.secret(),
    }
    rt.commit(
        who.tenant_id,
        Changes(
            puts=[Put(SUBSCRIPTIONS, subscription_id, data, must_be_absent=True)],
            audit=[
                AuditEntry.by(
                    who,
                    "subscription.created",
                    subscription_id,
                    "created",
                    inputs={"url": body["url"], "event_types": data["event_types"]},
                )
            ],
        ),
    )
    return {**public_view(data), "signing_secret": data["secret"]}


def list_subscriptions(rt: Runtime, tenant_id: str, *, limit: int, cursor: str | None) -> dict[str, Any]:
    page = rt.store.query(tenant_id, SUBSCRIPTIONS, limit=limit, cursor=cursor)
    return {"items": [public_view(item.data) for item in page.items], "next_cursor": page.next_cursor}


def get(rt: Runtime, tenant_id: str, subscription_id: str) -> dict[str, Any]:
    stored = rt.store.get(tenant_id, SUBSCRIPTIONS, subscription_id)
    if stored is None:
        raise NotFound(f"no subscription {subscription_id}")
    return public_view(stored.data)


def delete(rt: Runtime, who: Principal, subscription_id: str) -> dict[str, Any]:
    stored = rt.store.get(who.tenant_id, SUBSCRIPTIONS, subscription_id)
    if stored is None:
        raise NotFound(f"no subscription {subscription_id}")
    rt.commit(
        who.tenant_id,
        Changes(
            deletes=[Delete(SUBSCRIPTIONS, subscription_id)],
            audit=[
                AuditEntry.by(
                    who, "subscription.deleted", subscription_id, "deleted", inputs={"url": stored.data["url"]}
                )
            ],
        ),
    )
    return {**public_view(stored.data), "status": "deleted"}


def deliveries(rt: Runtime, tenant_id: str, event_id: str) -> list[dict[str, Any]]:
    """What became of one event's deliveries, one entry per subscription it matched."""
    page = rt.store.query(tenant_id, DELIVERIES, limit=MAX_PER_TENANT, prefix=f"{event_id}#")
    return [item.data for item in page.items]


# --- delivery (the deliver_webhooks handler) ------------------------------------------------------------------------
def delivery_body(bus_event: dict[str, Any]) -> bytes:
    """What a subscriber receives: the event's envelope and its payload, as compact JSON (the signed bytes)."""
    detail = bus_event["detail"]
    body = {
        "event_id": detail["event_id"],
        "type": bus_event.get("detail-type") or bus_event.get("detail_type"),
        "source": bus_event.get("source"),
        "tenant_id": detail["tenant_id"],
        "occurred_at": detail["occurred_at"],
        "data": {k: v for k, v in detail.items() if k not in _ENVELOPE},
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def _connect(addresses: list[str], port: int) -> socket.socket:
    """A TCP connection to the first checked address that answers; the host name is never resolved again."""
    last: OSError = OSError("no address to connect to")
    for address in addresses:
        try:
            return socket.create_connection((address.split("%", 1)[0], port), timeout=TIMEOUT_SECONDS)
        except OSError as refused:
            last = refused
    raise last


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Plain http (a local stack's loopback only): connects to the checked addresses, sends `Host: <host>`."""

    def __init__(self, host: str, port: int, addresses: list[str]) -> None:
        super().__init__(host, port, timeout=TIMEOUT_SECONDS)
        self.addresses = addresses

    def connect(self) -> None:
        self.sock = _connect(self.addresses, self.port)


@lru_cache(maxsize=1)
def _system_trust() -> ssl.SSLContext:
    return ssl.create_default_context()  # certificate and host name verification on, the system's CAs


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """https to the checked addresses; SNI and the certificate are verified against the host name, not the IP."""

    def __init__(self, host: str, port: int, addresses: list[str], tls: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=TIMEOUT_SECONDS, context=tls)
        self.tls = tls
        self.addresses = addresses

    def connect(self) -> None:
        self.sock = self.tls.wrap_socket(_connect(self.addresses, self.port), server_hostname=self.host)


def post(
    url: str, addresses: list[str], body: bytes, headers: dict[str, str], *, tls: ssl.SSLContext | None = None
) -> int:
    """POST to `url` over a connection to one of `addresses` (`tls`: the trust to verify its certificate with; the
    system's by default). A 3xx is an answer like any other non-2xx: nothing follows a Location, so the URL policy is
    never bypassed by one."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)  # explicit: http.client misreads a bare IPv6 host
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = _PinnedHTTPSConnection(host, port, addresses, tls or _system_trust())
    else:
        connection = _PinnedHTTPConnection(host, port, addresses)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", target, body=body, headers=headers)
        return int(connection.getresponse().status)
    finally:
        connection.close()


def deliver(rt: Runtime, bus_event: dict[str, Any], *, send: Sender = post, resolver: Resolver = resolve,
            read: dict[str, list[dict[str, Any]]] | None = None) -> int:  # fmt: skip
    """POST one bus event to every active subscription of its tenant that wants its type; returns how many got it.

    `read`: the subscriptions already read, per tenant, for the events of one handler batch (each tenant's read
    once); an event no subscription wants costs that read and nothing else.

    Each (event, subscription) pair is delivered at most once successfully: a redelivery of the bus event skips
    the subscribers that already answered 2xx. A pair that failed is `retrying` with its `next_attempt_at` (backing
    off exponentially, with jitter, up to a cap), and `failed` for good after MAX_DELIVERY_ATTEMPTS. Raises
    DeliveryFailed while any is retrying, so the queue delivers the event again when the first retry is due.
    """
    detail = bus_event.get("detail")
    detail_type = bus_event.get("detail-type") or bus_event.get("detail_type")
    if not isinstance(detail, dict) or not detail.get("tenant_id") or not detail.get("event_id") or not detail_type:
        return 0  # not a Revgov domain event: nothing anyone subscribed to
    tenant_id, event_id = str(detail["tenant_id"]), str(detail["event_id"])
    known = read if read is not None else {}
    if tenant_id not in known:
        known[tenant_id] = _all(rt, tenant_id)
    wanted = [s for s in known[tenant_id] if s["status"] == "active" and matches(s["event_types"], detail_type)]
    if not wanted:
        return 0
    delivery = _Delivery(rt, tenant_id, event_id, str(detail_type), delivery_body(bus_event), send, resolver,
                         _keep_seconds(rt, tenant_id))
    delivered, failed, retry_in = 0, [], []
    for subscription in wanted:
        record = delivery.to(subscription)
        if record is None:  # delivered before
            continue
        if record["status"] == "retrying":
            failed.append(f"{subscription['subscription_id']}: {record['last_error']}")
            retry_in.append(record["retry_in"])
        elif record["status"] == "delivered":
            delivered += 1
    if failed:
        raise DeliveryFailed(f"event {event_id}: " + "; ".join(failed), retry_in=min(retry_in))
    return delivered


def _keep_seconds(rt: Runtime, tenant_id: str) -> int:
    """How long a delivery record is kept after its last attempt: the tenant's retention policy (webhook_deliveries,
    docs/retention.md), its floor once the tenant is gone."""
    found = tenant_repository.find(rt.store, tenant_id)
    days = retention.days_of(found[0].config, "webhook_deliveries") if found else retention.DELIVERIES_MIN_DAYS
    return days * 24 * 3600


@dataclass(frozen=True)
class _Delivery:
    """One bus event on its way to the subscriptions that want it."""

    rt: Runtime
    tenant_id: str
    event_id: str
    detail_type: str
    body: bytes
    send: Sender
    resolver: Resolver
    keep_seconds: int

    def to(self, subscription: dict[str, Any]) -> dict[str, Any] | None:
        """One attempt to one subscriber, recorded (None: it answered 2xx before, nothing is sent again). The record
        returned carries `retry_in` (seconds) while it is retrying."""
        rt, key = self.rt, f"{self.event_id}#{subscription['subscription_id']}"
        previous = rt.store.get(self.tenant_id, DELIVERIES, key)
        if previous is not None and previous.data["status"] == "delivered":
            return None
        attempt = (previous.data["attempts"] if previous else 0) + 1
        status, error = self._attempt(subscription, attempt)
        retrying = error is not None and attempt < MAX_DELIVERY_ATTEMPTS
        delay = retry_delay(attempt, random.random()) if retrying else None  # noqa: S311 (jitter, not a secret)
        record = {
            "event_id": self.event_id,
            "subscription_id": subscription["subscription_id"],
            "event_type": self.detail_type,
            "status": ("retrying" if retrying else "failed") if error else "delivered",
            "attempts": attempt,
            "max_attempts": MAX_DELIVERY_ATTEMPTS,
            "next_attempt_at": _iso_after(rt, delay) if delay else None,
            "last_status": status,
            "last_error": error,
            "updated_at": rt.clock.now_iso(),
        }
        expires = rt.clock.now_ms() // 1000 + self.keep_seconds  # a TTL on every engine (the retention policy)
        rt.store.commit(self.tenant_id, Changes(puts=[Put(DELIVERIES, key, record, expires_at=expires)]))
        metrics.record("WebhookDeliveries", 1, tenant=self.tenant_id, outcome=record["status"])
        return {**record, "retry_in": delay} if delay else record

    def _attempt(self, subscription: dict[str, Any], attempt: int) -> tuple[int | None, str | None]:
        """The subscriber's status and what went wrong (None: it answered 2xx); the URL is checked again first."""
        try:
            addresses = check_url(subscription["url"], self.rt.settings, self.resolver)
            stamp = self.rt.clock.now_ms() // 1000
            headers = {
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "Revgov-Signature": signature_header(subscription["secret"], stamp, self.body),
                "Revgov-Event-Id": self.event_id,
                "Revgov-Event-Type": self.detail_type,
                "Revgov-Subscription-Id": subscription["subscription_id"],
                "Revgov-Delivery-Attempt": str(attempt),
            }
            status = self.send(subscription["url"], addresses, self.body, headers)
        except RuleViolation as refused:
            return None, f"not delivered: {refused.detail}"
        except (OSError, ValueError, http.client.HTTPException) as unreachable:  # timeouts, refusals, TLS: OSErrors
            return None, f"not delivered: {unreachable}"
        return status, None if 200 <= status < 300 else f"the subscriber answered {status}"


def _iso_after(rt: Runtime, seconds: int) -> str:
    at = datetime.fromtimestamp(rt.clock.now_ms() / 1000 + seconds, tz=UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")
