"""Rate limits from the tenant plan: per tenant and per key, counted in DynamoDB so every instance shares them.

A tenant with a small plan (10 requests a minute, 4 per key) shows the limits over HTTP: 429 problem+json with
Retry-After, the key's and the tenant's budgets, other tenants untouched, refused and unauthenticated requests not
counted, the counter tenant-prefixed with a TTL. The counter itself is checked across two limiter instances.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import clock_support
from fault_support import Fault, installed, writes_collection
from revgov.adapters.ratelimit import COLLECTION, WINDOW_SECONDS, DynamoRateLimiter, Limits
from security_support import Party, make_party, offboard
from support import assert_problem

# the DynamoDB rate limiter, its counter item and botocore-level faults: the stack on the AWS engine
pytestmark = [pytest.mark.aws]


PLAN = {"requests_per_minute": 10, "requests_per_minute_per_key": 4}


def _fresh_window(margin: int = 25) -> None:
    """Start well inside a minute window, so a test's requests all fall in the same one."""
    left = WINDOW_SECONDS - clock_support.clock().now_ms() / 1000 % WINDOW_SECONDS
    if left < margin:
        time.sleep(left + 0.2)


@pytest.fixture
def small(api: Any, operator: Any, stack: Any) -> Iterator[Party]:
    party = make_party(api, operator, stack, "northwind", plan={k: 1000 for k in PLAN})
    yield party
    offboard(operator, party)


def _limit(stack: Any, party: Party, plan: dict[str, int]) -> None:
    """Lower the party's plan now that its keys and partners are made, and start the minute's count afresh.

    (The plan is part of the tenant profile the authorizer reads; no API changes a plan, so the test writes it.)"""
    from revgov.ports import Changes, Put
    from revgov.services.tenant_repository import PROFILE

    _fresh_window()
    stored = stack.runtime.store.get(party.tenant_id, *PROFILE)
    profile = {**stored.data, "config": {**stored.data["config"], "plan": {**stored.data["config"]["plan"], **plan}}}
    stack.runtime.store.commit(party.tenant_id, Changes(puts=[Put(*PROFILE, profile, expected_version=stored.version)]))
    window = clock_support.epoch_seconds() // WINDOW_SECONDS * WINDOW_SECONDS
    stack.runtime.rate_limiter._dynamodb().delete_item(
        TableName=stack.runtime.settings.table_name,
        Key={"pk": {"S": f"T#{party.tenant_id}#{COLLECTION}"}, "sk": {"S": f"W#{window}"}},
    )


def test_a_key_over_its_limit_gets_429_with_retry_after_and_other_keys_go_on(small, stack, api):
    _limit(stack, small, PLAN)
    finance, viewer, legal = (small.by_role[r] for r in ("finance", "viewer", "legal"))
    assert [finance.get("/v1/invoices").status_code for _ in range(4)] == [200] * 4
    refused = finance.get("/v1/invoices")
    problem = assert_problem(refused, 429)
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= WINDOW_SECONDS
    assert problem["retry_after"] == retry_after and problem["limit"] == 4 and "API key" in problem["detail"]
    # the tenant has 6 left: the viewer's 4, then the legal key's 2, then the tenant is done for every key
    assert [viewer.get("/v1/invoices").status_code for _ in range(4)] == [200] * 4
    assert [legal.get("/v1/invoices").status_code for _ in range(3)] == [200, 200, 429]
    tenant_wide = assert_problem(small.admin.get("/v1/keys"), 429)
    assert tenant_wide["limit"] == 10 and "tenant" in tenant_wide["detail"]
    # another tenant is not affected
    other = make_party(api, api.as_key(stack.info["operator_key"]), stack, "contoso")
    try:
        assert other.admin.get("/v1/keys").status_code == 200
    finally:
        offboard(api.as_key(stack.info["operator_key"]), other)


def test_the_counter_is_tenant_prefixed_expires_and_counts_no_refused_or_unauthenticated_request(small, stack, api):
    _limit(stack, small, PLAN)
    forged = f"rgk.{small.tenant_id}.{small.key_ids['viewer']}.{'A' * 43}"
    assert all(api.as_key(forged).get("/v1/keys").status_code == 401 for _ in range(12))
    viewer = small.by_role["viewer"]
    assert [viewer.get("/v1/invoices").status_code for _ in range(6)] == [200] * 4 + [429] * 2
    window = clock_support.epoch_seconds() // WINDOW_SECONDS * WINDOW_SECONDS
    client = stack.runtime.rate_limiter._dynamodb()
    item = client.get_item(
        TableName=stack.runtime.settings.table_name,
        Key={"pk": {"S": f"T#{small.tenant_id}#{COLLECTION}"}, "sk": {"S": f"W#{window}"}},
        ConsistentRead=True,
    )["Item"]
    assert item["requests"]["N"] == "4"  # the 2 refused and the 12 forged were not counted
    assert int(item["expires_at"]["N"]) > clock_support.epoch_seconds()


def test_a_counter_that_cannot_be_reached_lets_requests_through(small, stack):
    _limit(stack, small, PLAN)
    with installed() as faults:
        outage = Fault("UpdateItem", writes_collection(small.tenant_id, COLLECTION), times=None)
        with faults.inject(outage):
            assert [small.by_role["sales"].get("/v1/deals").status_code for _ in range(6)] == [200] * 6


def test_two_instances_share_one_budget(stack):
    """Two limiters (two Lambda instances) on the same table: together they allow the limit, not twice it."""
    settings = stack.runtime.settings
    first, second = (
        DynamoRateLimiter(settings.table_name, settings.region, stack.runtime.clock, endpoint_url=settings.endpoint_url)
        for _ in range(2)
    )
    _fresh_window(10)
    tenant, limits = f"rl-{uuid.uuid4().hex[:8]}", Limits(6, 6)
    verdicts = [(first if n % 2 else second).hit(tenant, "key_A", limits).allowed for n in range(9)]
    assert verdicts == [True] * 6 + [False] * 3


def test_limits_come_from_the_plan():
    # the third: the partner keys' pool (red team 12), by default half the tenant's as a key's
    assert Limits.from_plan({"requests_per_minute": 600, "max_partners": 5}) == Limits(600, 300, 300)
    assert Limits.from_plan({"requests_per_minute": 600, "requests_per_minute_per_key": 900}) == Limits(600, 600, 300)
    assert Limits.from_plan({"requests_per_minute": 1}) == Limits(1, 1, 1)
    assert Limits.from_plan(None) is None
