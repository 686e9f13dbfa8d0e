"""A tenant offboarded and provisioned again under the same id starts its rate-limit counts afresh, also in a process
that counted the former tenant in the same minute.

docs/tenants.md / docs/retention.md: offboarding is "export, then delete everything, then prove nothing is left";
rate-limit
windows are kept for "the current minute" and deleted with the tenant (sqlite_store.delete_tenant: "its idempotency
records and rate windows"). The plan's limits are per tenant and per key per minute (adapters/ratelimit.py). What a
limiter held in memory survived: the DynamoDB limiter's "this window is full" answered the new tenant 429 for the rest
of the minute (checked on moto before the fix: after delete_tenant, a new key of the same id was refused), and the
embedded limiter's unspent permits let the former key's requests through uncounted. The memory is now kept under the
tenant's provisioning (`Caller.since`, the profile's `created_at`), which a new provisioning changes.
"""

from __future__ import annotations

from typing import Any

from test_embedded_engine import Clock  # a clock the test sets

from memory_store import memory_runtime
from revgov.adapters.ratelimit import DynamoRateLimiter, Limits, SqliteRateLimiter
from revgov.adapters.sqlite_db import Database
from revgov.domain.access import PLATFORM, Principal, Role
from revgov.services import keys, tenant_repository, tenants
from revgov.tenant_files import load_tenant_file
from support import ROOT

START = 1_800_000_000_000  # a window's start (a multiple of 60 s)
FORMER, AGAIN = "2026-12-07T10:00:00.000Z", "2026-12-07T10:00:30.000Z"  # two provisionings of one id


class _Table:
    """DynamoDB's UpdateItem as the limiter uses it: counts per window item, refused at the limit (the condition
    failing with the item as it was), the tenant's item deletable as offboarding deletes the tenant's partition."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, int]] = {}

    def update_item(self, **call: Any) -> None:
        item = self.items.setdefault((call["Key"]["pk"]["S"], call["Key"]["sk"]["S"]), {})
        values, names = call["ExpressionAttributeValues"], call["ExpressionAttributeNames"]
        if item.get(names["#t"], 0) >= int(values[":tl"]["N"]) or item.get(names["#k"], 0) >= int(values[":kl"]["N"]):
            error = Exception("ConditionalCheckFailedException")
            error.response = {"Error": {"Code": "ConditionalCheckFailedException"},  # type: ignore[attr-defined]
                              "Item": {k: {"N": str(v)} for k, v in item.items()}}
            raise error
        for name in (names["#t"], names["#k"]):
            item[name] = item.get(name, 0) + 1

    def delete_tenant(self, tenant_id: str) -> None:
        self.items = {k: v for k, v in self.items.items() if not k[0].startswith(f"T#{tenant_id}#")}


def test_the_dynamodb_limiters_full_window_is_the_former_tenants_not_the_new_ones() -> None:
    table = _Table()
    limiter = DynamoRateLimiter("revgov", "us-east-1", Clock(START), client=table)
    limits = Limits(tenant_per_minute=3, key_per_minute=3)
    assert [limiter.hit("t1", "key_A", limits, since=FORMER).allowed for _ in range(5)] == [True] * 3 + [False] * 2
    table.delete_tenant("t1")  # offboarding deletes the tenant's partition, its window item with it
    # provisioned again in the same minute, a new admin key: its plan's 3 requests, not the former tenant's 429
    assert [limiter.hit("t1", "key_B", limits, since=AGAIN).allowed for _ in range(4)] == [True] * 3 + [False]
    assert limiter.hit("t1", "key_A", limits, since=FORMER).allowed is False  # the former tenant's: still full


def test_the_embedded_limiters_unspent_permits_are_the_former_tenants(tmp_path: Any) -> None:
    db = Database(tmp_path / "r.sqlite")
    limiter = SqliteRateLimiter(db, Clock(START))
    limits = Limits(tenant_per_minute=20_000, key_per_minute=10_000)  # far from the limits: permits in blocks
    assert limiter.hit("t1", "key_A", limits, since=FORMER).allowed
    with db.write() as c:  # what the embedded store's delete_tenant does to the rate windows
        c.execute("DELETE FROM rate_counts WHERE tenant = ?", ("t1",))
    # the same id and key id again (a tenant imported from its export keeps its keys): the request is counted on the
    # file, in the new tenant's window, not spent from the former tenant's block
    assert limiter.hit("t1", "key_A", limits, since=AGAIN).allowed
    counted = db.fetch_one("SELECT count FROM rate_counts WHERE tenant = ? AND who = ?", ("t1", "requests"))
    assert counted is not None and int(counted[0]) >= 1


def test_a_resolved_key_carries_its_tenants_provisioning() -> None:
    rt, _ = memory_runtime(FORMER)
    config = load_tenant_file(ROOT / "tenants" / "contoso" / "tenant.yaml")
    created = tenants.create_tenant(rt, Principal(PLATFORM, Role.OPERATOR, "key_op"), config)
    caller = keys.resolve_caller(rt, f"Bearer {created['admin_key']['key']}")
    profile = tenant_repository.stored_profile(rt.store, "contoso")
    assert profile is not None and caller.since == profile.data["created_at"] == created["tenant"]["created_at"]
