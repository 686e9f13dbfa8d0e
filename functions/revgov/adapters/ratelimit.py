"""Request rate limits per tenant and per API key: fixed one-minute windows counted in DynamoDB.

One UpdateItem per request counts both the tenant's and the key's request in the window's item (tenant-prefixed
key, TTL), conditioned on both being under their limits, so the limit holds across every Lambda instance. A refused
request is not counted, and once a window is known to be exhausted this process answers from memory until it ends
(a flood costs no extra writes). If the counter cannot be reached the request is let through: rate limiting protects
availability, so it never takes the API down with it.

What a limiter keeps in memory (a window known full, permits taken in a block) belongs to one provisioning of the
tenant (`since`, its profile's `created_at`): offboarding deletes the tenant's counts with its data, and a tenant
provisioned again under the same id starts counting afresh in every process, also one that counted the former tenant
in the same minute (offboarding runs in another process than the API, so it cannot clear their memory).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from ..logs import logger
from ..ports import Clock
from ..resources import TABLE

WINDOW_SECONDS = 60
COLLECTION = "RATELIMIT"
_TENANT_COUNT = "requests"


@dataclass(frozen=True)
class Limits:
    """Requests per minute: across all the tenant's keys, and for any one key."""

    tenant_per_minute: int
    key_per_minute: int

    @classmethod
    def from_plan(cls, plan: dict[str, Any] | None) -> Limits | None:
        """The tenant plan's limits (`requests_per_minute`, optional `requests_per_minute_per_key`, default half)."""
        if not plan or not plan.get("requests_per_minute"):
            return None
        tenant = int(plan["requests_per_minute"])
        per_key = int(plan.get("requests_per_minute_per_key") or max(1, (tenant + 1) // 2))
        return cls(tenant, min(per_key, tenant))


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until the window ends, when refused
    scope: str = ""  # "tenant" or "key": the limit that was reached (when refused)
    limit: int = 0


class DynamoRateLimiter:
    """The counter. `hit` is called once per authenticated request, after the key is resolved."""

    def __init__(self, table_name: str, region: str, clock: Clock, *, endpoint_url: str | None = None,
                 client: Any = None) -> None:
        self._table = table_name
        self._region = region
        self._endpoint = endpoint_url
        self._clock = clock
        self._client = client
        self._exhausted: dict[tuple[str, str, str], int] = {}  # (tenant, since, "tenant"|key) -> full in window
        self._lock = threading.Lock()

    def _dynamodb(self) -> Any:
        if self._client is None:  # created on first use: keeps botocore's client out of the cold-start import path
            import botocore.session

            self._client = botocore.session.get_session().create_client(
                "dynamodb", region_name=self._region, endpoint_url=self._endpoint
            )
        return self._client

    def hit(self, tenant_id: str, key_id: str, limits: Limits, *, since: str = "") -> Verdict:
        """`since`: the tenant's provisioning (its profile's `created_at`), which the memory is kept under."""
        now = self._clock.now_ms() // 1000
        window = now - now % WINDOW_SECONDS
        retry_after = max(1, window + WINDOW_SECONDS - now)
        for scope, who, limit in (("tenant", "tenant", limits.tenant_per_minute), ("key", key_id,
                                                                                   limits.key_per_minute)):
            if self._exhausted.get((tenant_id, since, who)) == window:
                return Verdict(False, retry_after, scope, limit)
        try:
            self._dynamodb().update_item(
                TableName=self._table,
                Key={TABLE.partition_key: {"S": f"T#{tenant_id}#{COLLECTION}"},
                     TABLE.sort_key: {"S": f"W#{window}"}},
                UpdateExpression="SET #ttl = if_not_exists(#ttl, :ttl) ADD #t :one, #k :one",
                ConditionExpression="(attribute_not_exists(#t) OR #t < :tl) AND (attribute_not_exists(#k) OR #k < :kl)",
                ExpressionAttributeNames={"#t": _TENANT_COUNT, "#k": f"k_{key_id}", "#ttl": TABLE.ttl_attribute},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":ttl": {"N": str(window + 2 * WINDOW_SECONDS)},
                    ":tl": {"N": str(limits.tenant_per_minute)},
                    ":kl": {"N": str(limits.key_per_minute)},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Exception as error:  # any failure of the counter must not fail the request
            code = getattr(error, "response", {}).get("Error", {}).get("Code")
            if code != "ConditionalCheckFailedException":
                logger.warning("rate limit counter unavailable; request let through", extra={"error": str(error)})
                return Verdict(True)
            # Which limit was reached: from the item as it was. Unknown, only this key is held back in memory.
            old = getattr(error, "response", {}).get("Item") or {}
            tenant_count = int(old.get(_TENANT_COUNT, {}).get("N", "0"))
            scope = "tenant" if tenant_count >= limits.tenant_per_minute else "key"
            with self._lock:
                self._forget_before(window)
                self._exhausted[(tenant_id, since, "tenant" if scope == "tenant" else key_id)] = window
            limit = limits.tenant_per_minute if scope == "tenant" else limits.key_per_minute
            return Verdict(False, retry_after, scope, limit)
        return Verdict(True)

    def _forget_before(self, window: int) -> None:
        for stale in [k for k, w in self._exhausted.items() if w < window]:
            self._exhausted.pop(stale, None)


class SqliteRateLimiter:
    """The same fixed one-minute windows in the embedded database: one write transaction checks both counts and
    counts only requests it lets through (a refused request is not counted).

    Far from both limits a limiter takes its permits from the shared counts in blocks (`room // ROOM_SHARE`, at most
    `block`), and spends them from memory: one write transaction per block instead of one per request, which every
    authenticated request otherwise queued for behind the store's commits (the database has one writer). Near a limit
    the block is one permit. The counts on file never exceed a limit, so limiters on one file share one budget; one
    limiter alone refuses exactly when the window's count reached the limit (it asks the file again only once its
    block is spent, so every permit it took was used); with several, a limiter can be refused while another still
    holds unused permits, at most 1/ROOM_SHARE of the room left when each block was taken."""

    ROOM_SHARE = 64

    def __init__(self, db: Any, clock: Clock, *, block: int = 256) -> None:
        self._db = db
        self._clock = clock
        self._block = block
        self._lock = threading.Lock()
        self._permits: dict[tuple[str, str, str], tuple[int, int]] = {}  # (tenant, since, key) -> (window, left)

    def hit(self, tenant_id: str, key_id: str, limits: Limits, *, since: str = "") -> Verdict:
        """`since`: the tenant's provisioning (its profile's `created_at`), which the permits are kept under."""
        now = self._clock.now_ms() // 1000
        window = now - now % WINDOW_SECONDS
        held_as = (tenant_id, since, key_id)
        with self._lock:
            held = self._permits.get(held_as)
            if held is not None and held[0] == window and held[1] > 0:
                self._permits[held_as] = (window, held[1] - 1)
                return Verdict(True)
        try:
            verdict, taken = self._take(tenant_id, key_id, limits, window, max(1, window + WINDOW_SECONDS - now))
        except Exception as error:  # the counter must never take the API down with it
            logger.warning("rate limit counter unavailable; request let through", extra={"error": str(error)})
            return Verdict(True)
        if taken > 1:
            with self._lock:
                if len(self._permits) > 10_000:  # keys seen in earlier windows
                    self._permits = {k: v for k, v in self._permits.items() if v[0] == window}
                held = self._permits.get(held_as)
                left = held[1] if held is not None and held[0] == window else 0
                self._permits[held_as] = (window, left + taken - 1)
        return verdict

    def _take(self, tenant_id: str, key_id: str, limits: Limits, window: int, retry_after: int) -> tuple[Verdict, int]:
        """Count this request and the block of permits taken with it, or refuse it; returns the permits taken."""
        key_counter = f"k_{key_id}"
        with self._db.write() as c:
            counts = dict(c.execute(
                "SELECT who, count FROM rate_counts WHERE tenant = ? AND window = ? AND who IN (?, ?)",
                (tenant_id, window, _TENANT_COUNT, key_counter),
            ).fetchall())
            for scope, who, limit in (("tenant", _TENANT_COUNT, limits.tenant_per_minute),
                                      ("key", key_counter, limits.key_per_minute)):
                if counts.get(who, 0) >= limit:
                    return Verdict(False, retry_after, scope, limit), 0
            room = min(limits.tenant_per_minute - counts.get(_TENANT_COUNT, 0),
                       limits.key_per_minute - counts.get(key_counter, 0))
            taken = max(1, min(self._block, room // self.ROOM_SHARE))
            c.executemany(
                "INSERT INTO rate_counts (tenant, window, who, count) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (tenant, window, who) DO UPDATE SET count = count + excluded.count",
                [(tenant_id, window, _TENANT_COUNT, taken), (tenant_id, window, key_counter, taken)],
            )
            if not counts:  # the window's first request: forget the windows that ended (a TTL's work)
                c.execute("DELETE FROM rate_counts WHERE tenant = ? AND window < ?", (tenant_id, window))
        return Verdict(True), taken
