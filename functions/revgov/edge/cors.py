"""CORS for resellers' browser apps, per tenant, from `branding.allowed_origins` (Fetch standard, CORS protocol).

- A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) carries no key, so it cannot know the
  tenant: it is allowed when some tenant lists the origin and the path has that method.
- The actual response names the origin in `Access-Control-Allow-Origin` only when the authenticated caller's tenant
  lists it (a page of tenant A's reseller can never read tenant B's answers, even with B's key); requests without a
  principal (public operations, refused credentials) are readable by any listed origin.
- Keys travel in `Authorization`, never in cookies: `Access-Control-Allow-Credentials` is never sent, for any origin.
- Every answer varies by `Origin`, so no cache hands one origin's answer to another.

Origins are read from the store and kept for `TTL_SECONDS` (a changed tenant config applies within that time).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from ..services import tenant_repository

TTL_SECONDS = 60.0
ALLOW_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "X-Correlation-Id")
# what a page may read of an answer (Fetch: other headers than the CORS-safelisted ones read as absent); the replay
# flag of an Idempotency-Key retry (edge/idempotency.py) too, since the page may send that key (ALLOW_HEADERS)
EXPOSE_HEADERS = ("X-Correlation-Id", "Retry-After", "Location", "WWW-Authenticate", "Allow", "Idempotent-Replayed")
MAX_AGE_SECONDS = 600


class _Cached:
    """A value per key, recomputed after TTL_SECONDS (the clock is injectable for tests)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._values: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, compute: Callable[[], frozenset[str]]) -> frozenset[str]:
        now = self._clock()
        with self._lock:
            hit = self._values.get(key)
        if hit is not None and now - hit[0] < TTL_SECONDS:
            return hit[1]
        value = compute()
        with self._lock:
            self._values[key] = (now, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


_cache = _Cached()
_ALL = "\x00all"


def _origins_of(config: Any) -> frozenset[str]:
    branding = config.get("branding") if isinstance(config, dict) else None
    origins = branding.get("allowed_origins") if isinstance(branding, dict) else None
    return frozenset(o for o in origins or [] if isinstance(o, str))


def tenant_origins(rt: Any, tenant_id: str) -> frozenset[str]:
    """The origins the tenant lists (none for an unknown tenant)."""

    def compute() -> frozenset[str]:
        stored = tenant_repository.stored_profile(rt.store, tenant_id)
        return _origins_of(stored.data.get("config")) if stored is not None else frozenset()

    return _cache.get(tenant_id, compute)


def any_tenant_origins(rt: Any) -> frozenset[str]:
    """Every origin some active tenant lists: what a preflight, which carries no key, may be allowed for."""

    def compute() -> frozenset[str]:
        origins: set[str] = set()
        for item in tenant_repository.registry_items(rt.store):
            if item.data.get("status", "active") == "active":
                origins |= tenant_origins(rt, item.key)
        return frozenset(origins)

    return _cache.get(_ALL, compute)


def clear_cache() -> None:
    _cache.clear()


def preflight(
    rt: Any, origin: str | None, request_method: str | None, request_headers: str | None, methods: Iterable[str]
) -> dict[str, str]:
    """The headers of the answer to OPTIONS on a path with `methods`: CORS grants only for a listed origin."""
    allowed_methods = sorted({*methods, "OPTIONS"})
    headers = {
        "Allow": ", ".join(allowed_methods),
        "Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
    }
    if not origin or not request_method or request_method.upper() not in allowed_methods:
        return headers
    if origin not in any_tenant_origins(rt):
        return headers
    asked = [h.strip() for h in (request_headers or "").split(",") if h.strip()]
    known = {h.lower() for h in ALLOW_HEADERS}
    if any(h.lower() not in known for h in asked):
        return headers  # a header we do not read: the browser refuses the request
    headers.update(
        {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": ", ".join(allowed_methods),
            "Access-Control-Allow-Headers": ", ".join(ALLOW_HEADERS),
            "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
        }
    )
    return headers


def response_headers(rt: Any, origin: str | None, tenant_id: str | None) -> dict[str, str]:
    """The CORS headers of an actual response: the origin is named only if the caller's tenant lists it."""
    headers = {"Vary": "Origin"}
    if not origin:
        return headers
    try:
        allowed = tenant_origins(rt, tenant_id) if tenant_id else any_tenant_origins(rt)
    except Exception:  # the store is unavailable: no grant (the request's own answer says what failed)
        return headers
    if origin in allowed:
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSE_HEADERS)
    return headers
