"""Red team, twelfth round: partner keys together spending the whole tenant's request budget.

tenant.schema.json `requests_per_minute_per_key`: "default: half of requests_per_minute, so no single key, such as a
partner portal's, can use up the tenant's budget"; SECURITY.md threat model: availability of the shared pool against
"a leaked partner key". Two partner keys (two partners, or a partner's two portal keys) each took their half, and
the tenant's finance, channel operations and admin keys got 429 for the rest of the minute. Partner keys now also
count in one pool, `requests_per_minute_partners` (default half of the tenant's): together they are refused at it
(`scope: partners`), and staff keep the rest of the tenant's budget. Both limiters: the embedded engine's and
DynamoDB's (on moto).
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws

from revgov.adapters.ratelimit import PARTNERS, DynamoRateLimiter, Limits, SqliteRateLimiter
from revgov.adapters.sqlite_db import Database

START = 1_800_000_000_000  # a window's start (a multiple of 60 s)


class Clock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def now_ms(self) -> int:
        return self.ms


def test_the_plan_sets_the_partner_pool_by_default_half_the_tenants() -> None:
    assert Limits.from_plan({"requests_per_minute": 600}) == Limits(600, 300, 300)
    assert Limits.from_plan({"requests_per_minute": 600, "requests_per_minute_partners": 100}).partners_per_minute \
        == 100  # fmt: skip
    assert Limits.from_plan({"requests_per_minute": 10, "requests_per_minute_partners": 50}).partners_per_minute == 10


def _flood(limiter: Any) -> None:
    limits = Limits(tenant_per_minute=20, key_per_minute=10, partners_per_minute=10)
    first = [limiter.hit("t1", "key_P1", limits, pool=PARTNERS) for _ in range(6)]
    second = [limiter.hit("t1", "key_P2", limits, pool=PARTNERS) for _ in range(6)]
    assert all(v.allowed for v in first)
    assert [v.allowed for v in second] == [True] * 4 + [False] * 2  # ten partner requests in all
    refused = second[-1]
    assert (refused.scope, refused.limit) == ("partners", 10)
    staff = [limiter.hit("t1", "key_FIN", limits) for _ in range(10)]
    assert all(v.allowed for v in staff)  # finance still works: the tenant's other half
    assert not limiter.hit("t1", "key_OPS", limits).allowed  # the tenant's own limit still holds (20)


def test_the_embedded_limiter_bounds_partner_keys_together(tmp_path) -> None:
    _flood(SqliteRateLimiter(Database(tmp_path / "r.sqlite"), Clock(START)))


def test_the_dynamodb_limiter_bounds_partner_keys_together(monkeypatch: pytest.MonkeyPatch) -> None:
    # moto's in-process mock answers AWS's own endpoints only: a worker that ran the DynamoDB-engine stack has
    # AWS_ENDPOINT_URL pointing at its emulator (stopped by now), which botocore would call instead (a fresh clone's
    # `make test` failed so: connection refused)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="revgov", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        )  # fmt: skip
        _flood(DynamoRateLimiter("revgov", "us-east-1", Clock(START), client=client))


@pytest.mark.parametrize("pool", [None, PARTNERS])
def test_a_single_key_is_still_bounded_by_its_own_limit(tmp_path, pool) -> None:
    limiter = SqliteRateLimiter(Database(tmp_path / "r.sqlite"), Clock(START))
    limits = Limits(tenant_per_minute=100, key_per_minute=5, partners_per_minute=50)
    verdicts = [limiter.hit("t1", "key_A", limits, pool=pool) for _ in range(7)]
    assert [v.allowed for v in verdicts] == [True] * 5 + [False] * 2 and verdicts[-1].scope == "key"
