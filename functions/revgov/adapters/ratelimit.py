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
PARTNERS = "partners"  # the pool every partner key also counts in (`pool`), so staff keep part of the budget


@dataclass(frozen=True)
class Limits:
    """Requests per minute: across all the tenant's keys, for any one key, and across its partner keys together
    (None: no partner pool). Red team 12: two partner keys, each at the per-key half, spent the whole tenant's budget
    and staff got 429s; the partner pool keeps the rest for them."""

    tenant_per_minute: int
    key_per_minute: int
    partners_per_minute: int | None = None

    @classmethod
    def from_plan(cls, plan: dict[str, Any] | None) -> Limits | None:
        """The tenant plan's limits (`requests_per_minute`, optional `requests_per_minute_per_key` and
        `requests_per_minute_partners`, each by default half of it)."""
        if not plan or not plan.get("requests_per_minute"):
            return None
        tenant = int(plan["requests_per_minute"])
        per_key = int(plan.get("requests_per_minute_per_key") or max(1, (tenant + 1) // 2))
        partners = int(plan.get("requests_per_minute_partners") or max(1, (tenant + 1) // 2))
        return cls(tenant, min(per_key, tenant), min(partners, tenant))

    def scopes(self, key_id: str, pool: str | None) -> list[tuple[str, str, int]]:
        """(scope, counter, limit) of a request by `key_id` (in `pool`: PARTNERS for a partner key)."""
        found = [("tenant", _TENANT_COUNT, self.tenant_per_minute), ("key", f"k_{key_id}", self.key_per_minute)]
        if pool == PARTNERS and self.partners_per_minute is not None:
            found.append((PARTNERS, PARTNERS, self.partners_per_minute))
        return found


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

    def hit(self, tenant_id: str, key_id: str, limits: Limits, *, since: str = "", pool: str | None = None
            ) -> Verdict:  # fmt: skip
        """`since`: the tenant's provisioning (its profile's `created_at`), which the memory is kept under; `pool`:
        PARTNERS for a partner key (it also counts in the tenant's partner pool)."""
        now = self._clock.now_ms() // 1000
        window = now - now % WINDOW_SECONDS
        retry_after = max(1, window + WINDOW_SECONDS - now)
        scopes = limits.scopes(key_id, pool)
        for scope, _, limit in scopes:
            if self._exhausted.get((tenant_id, since, _remembered(scope, key_id))) == window:
                return Verdict(False, retry_after, scope, limit)
        tags = ("t", "k", "p")  # the tenant's, the key's and the partner pool's counters: #t < :tl, ...
        names = {f"#{tag}": counter for tag, (_, counter, _) in zip(tags, scopes, strict=False)}
        values = {f":{tag}l": {"N": str(limit)} for tag, (_, _, limit) in zip(tags, scopes, strict=False)}
        try:
            self._dynamodb().update_item(
                TableName=self._table,
                Key={TABLE.partition_key: {"S": f"T#{tenant_id}#{COLLECTION}"},
                     TABLE.sort_key: {"S": f"W#{window}"}},
                UpdateExpression="SET #ttl = if_not_exists(#ttl, :ttl) ADD " + ", ".join(f"{n} :one" for n in names),
                ConditionExpression=" AND ".join(f"(attribute_not_exists(#{tag}) OR #{tag} < :{tag}l)"
                                                 for tag in tags[: len(scopes)]),
                ExpressionAttributeNames={**names, "#ttl": TABLE.ttl_attribute},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":ttl": {"N": str(window + 2 * WINDOW_SECONDS)},
                    **values,
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )  # fmt: skip
        except Exception as error:  # any failure of the counter must not fail the request
            code = getattr(error, "response", {}).get("Error", {}).get("Code")
            if code != "ConditionalCheckFailedException":
                logger.warning("rate limit counter unavailable; request let through", extra={"error": str(error)})
                return Verdict(True)
            # Which limit was reached: from the item as it was. Unknown, only this key is held back in memory.
            old = getattr(error, "response", {}).get("Item") or {}
            scope, _, limit = next(((s, c, lim) for s, c, lim in scopes if s != "key"
                                    and int(old.get(c, {}).get("N", "0")) >= lim), scopes[1])  # fmt: skip
            with self._lock:
                self._forget_before(window)
                self._exhausted[(tenant_id, since, _remembered(scope, key_id))] = window
            return Verdict(False, retry_after, scope, limit)
        return Verdict(True)

    def _forget_before(self, window: int) -> None:
        for stale in [k for k, w in self._exhausted.items() if w < window]:
            self._exhausted.pop(stale, None)


def _remembered(scope: str, key_id: str) -> str:
    """Under what a window known full is remembered: the tenant, the partner pool, or the key."""
    return key_id if scope == "key" else scope


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

    def hit(self, tenant_id: str, key_id: str, limits: Limits, *, since: str = "", pool: str | None = None
            ) -> Verdict:  # fmt: skip
        """`since`: the tenant's provisioning (its profile's `created_at`), which the permits are kept under; `pool`:
        PARTNERS for a partner key (it also counts in the tenant's partner pool)."""
        now = self._clock.now_ms() // 1000
        window = now - now % WINDOW_SECONDS
        held_as = (tenant_id, since, key_id)
        with self._lock:
            held = self._permits.get(held_as)
            if held is not None and held[0] == window and held[1] > 0:
                self._permits[held_as] = (window, held[1] - 1)
                return Verdict(True)
        try:
            verdict, taken = self._take(tenant_id, limits.scopes(key_id, pool), window,
                                        max(1, window + WINDOW_SECONDS - now))  # fmt: skip
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

    def _take(self, tenant_id: str, scopes: list[tuple[str, str, int]], window: int, retry_after: int
              ) -> tuple[Verdict, int]:  # fmt: skip
        """Count this request and the block of permits taken with it, or refuse it; returns the permits taken."""
        counters = [counter for _, counter, _ in scopes]
        with self._db.write() as c:
            counts = dict(c.execute(
                "SELECT who, count FROM rate_counts WHERE tenant = ? AND window = ? AND who IN "  # noqa: S608
                f"({', '.join('?' for _ in counters)})",
                (tenant_id, window, *counters),
            ).fetchall())
            for scope, who, limit in scopes:
                if counts.get(who, 0) >= limit:
                    return Verdict(False, retry_after, scope, limit), 0
            room = min(limit - counts.get(who, 0) for _, who, limit in scopes)
            taken = max(1, min(self._block, room // self.ROOM_SHARE))
            c.executemany(
                "INSERT INTO rate_counts (tenant, window, who, count) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (tenant, window, who) DO UPDATE SET count = count + excluded.count",
                [(tenant_id, window, who, taken) for who in counters],
            )
            if not counts:  # the window's first request: forget the windows that ended (a TTL's work)
                c.execute("DELETE FROM rate_counts WHERE tenant = ? AND window < ?", (tenant_id, window))
        return Verdict(True), taken
