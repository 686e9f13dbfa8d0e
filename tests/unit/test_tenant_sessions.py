"""TenantSessions on its own (a stand-in STS): cache, renewal margin, eviction, and clients that carry only the
tenant's credentials. The same against moto's STS and DynamoDB: tests/integration/test_tenant_scoping.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from revgov.adapters.tenant_sessions import REFRESH_MARGIN_SECONDS, TenantScopeError, TenantSessions

ROLE = "arn:aws:iam::111122223333:role/TenantAccessRole"


class FakeSts:
    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.calls: list[dict[str, Any]] = []

    def assume_role(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        n = len(self.calls)
        return {"Credentials": {
            "AccessKeyId": f"ASIA{n:016d}", "SecretAccessKey": f"secret-{n}", "SessionToken": f"token-{n}",
            "Expiration": datetime.fromtimestamp(self.clock[0] + kwargs["DurationSeconds"], UTC),
        }}


def make(max_tenants: int = 8) -> tuple[TenantSessions, FakeSts, list[float]]:
    clock = [1_800_000_000.0]
    sts = FakeSts(clock)
    sessions = TenantSessions(ROLE, "eu-west-1", sts_client=sts, clock=lambda: clock[0], max_tenants=max_tenants)
    return sessions, sts, clock


def test_one_session_per_tenant_until_the_renewal_margin() -> None:
    sessions, sts, clock = make()
    first = sessions.credentials("northwind")
    assert sessions.credentials("northwind") is first
    assert sts.calls == [{"RoleArn": ROLE, "RoleSessionName": "revgov-northwind",
                          "Tags": [{"Key": "TenantId", "Value": "northwind"}], "DurationSeconds": 900}]
    clock[0] = first.expires_at - REFRESH_MARGIN_SECONDS - 1
    assert sessions.credentials("northwind") is first
    clock[0] += 1
    renewed = sessions.credentials("northwind")
    assert renewed is not first and renewed.access_key_id != first.access_key_id and len(sts.calls) == 2
    assert "secret" not in repr(renewed) and "token" not in repr(renewed)


def test_least_recently_used_sessions_are_dropped_beyond_the_bound() -> None:
    sessions, sts, _ = make(max_tenants=2)
    for tenant in ("aaa", "bbb", "aaa", "ccc"):  # bbb is the least recently used when ccc arrives
        sessions.credentials(tenant)
    sessions.credentials("aaa")
    assert [c["Tags"][0]["Value"] for c in sts.calls] == ["aaa", "bbb", "ccc"]
    sessions.credentials("bbb")
    assert [c["Tags"][0]["Value"] for c in sts.calls][-1] == "bbb"


@pytest.mark.parametrize("bad", ["*", "t?", "a#b", "a/b", " x", "", None])
def test_ids_that_are_not_plain_tenant_ids_are_refused(bad: Any) -> None:
    sessions, sts, _ = make()
    with pytest.raises(TenantScopeError):
        sessions.credentials(bad)
    assert sts.calls == []


def test_clients_are_signed_with_the_tenant_credentials_only() -> None:
    sessions, _, _ = make()
    credentials = sessions.credentials("_platform")
    client = sessions.client("dynamodb", credentials)
    frozen = client._request_signer._credentials.get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key, frozen.token) == (
        credentials.access_key_id, credentials.secret_access_key, credentials.session_token
    )
    assert client.meta.region_name == "eu-west-1"


def test_a_role_per_tenant_template_opens_each_tenant_on_its_own_role_and_can_leave_the_tag_out() -> None:
    clock = [1_800_000_000.0]
    sts = FakeSts(clock)
    template = "arn:aws:iam::111122223333:role/revgov-dev-search-{tenant_id}"
    sessions = TenantSessions(template, "eu-west-1", tag_sessions=False, sts_client=sts, clock=lambda: clock[0])
    northwind, contoso = sessions.credentials("northwind"), sessions.credentials("contoso")
    assert northwind.access_key_id != contoso.access_key_id and sessions.credentials("northwind") is northwind
    assert sts.calls == [
        {"RoleArn": "arn:aws:iam::111122223333:role/revgov-dev-search-northwind",
         "RoleSessionName": "revgov-northwind", "DurationSeconds": 900},
        {"RoleArn": "arn:aws:iam::111122223333:role/revgov-dev-search-contoso",
         "RoleSessionName": "revgov-contoso", "DurationSeconds": 900},
    ]
