"""The OpenSearch clause index in AWS: each tenant's requests go to that tenant's index, signed (SigV4, `aoss`) with an
STS session of that tenant's search role and nothing else. STS is botocore's Stubber (parameters validated against the
service model); OpenSearch is opensearch-py's real urllib3 connection and signer with the socket pool replaced by a
recorder, so the recorded headers are the ones the real client would send."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, ClassVar

import boto3
import pytest
from botocore.stub import Stubber
from opensearchpy import Urllib3HttpConnection
from urllib3 import HTTPHeaderDict

from revgov.adapters.local_index import SqliteClauseIndex
from revgov.adapters.opensearch_index import OpenSearchClauseIndex
from revgov.adapters.tenant_sessions import REFRESH_MARGIN_SECONDS, TenantScopeError, TenantSessions
from revgov.bootstrap import build_copilot
from revgov.domain.copilot import Scope
from revgov.resources import SEARCH
from revgov.settings import Settings

REGION = "eu-west-1"
TEMPLATE = "arn:aws:iam::111122223333:role/revgov-test-search-{tenant_id}"
ENDPOINT = "https://abc123.eu-west-1.aoss.amazonaws.com"
NOW = 1_800_000_000.0


class FakeEmbedder:
    model_id, dimension = "fake-4", 4

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [[1.0, 0.0, 0.0, 0.0] for _ in texts]


class _Response:
    def __init__(self, status: int, payload: Any) -> None:
        self.status = status
        self.data = json.dumps(payload).encode()
        self.headers = HTTPHeaderDict({"content-type": "application/json"})


class RecordingPool:
    def urlopen(self, method: str, url: str, body: Any = None, headers: Any = None, **_: Any) -> _Response:
        lowered = {name.lower(): value for name, value in (headers or {}).items()}
        RecordingConnection.sent.append((method, url.split("?")[0], lowered))
        if method == "POST" and url.split("?")[0].endswith("/_search"):
            return _Response(200, {"hits": {"hits": []}})
        if method == "POST" and url.split("?")[0].endswith("/_msearch"):  # one empty answer per search sent
            searches = (body.decode() if isinstance(body, bytes) else body).strip().count("\n") // 2 + 1
            return _Response(200, {"responses": [{"hits": {"hits": []}}] * searches})
        return _Response(200, {"acknowledged": True})

    def close(self) -> None:
        pass


class RecordingConnection(Urllib3HttpConnection):
    """opensearch-py's own connection (so its SigV4 signer runs), with the socket pool swapped for a recorder."""

    sent: ClassVar[list[tuple[str, str, dict[str, str]]]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pool = RecordingPool()  # type: ignore[assignment]


def granted(tenant_id: str, n: int = 1, expires: float = NOW + 900) -> dict[str, Any]:
    return {"Credentials": {
        "AccessKeyId": f"ASIA{tenant_id.upper()}{n:08d}", "SecretAccessKey": f"secret-{tenant_id}-{n}",
        "SessionToken": f"token-{tenant_id}-{n}", "Expiration": datetime.fromtimestamp(expires, UTC),
    }}


def expected_assume(tenant_id: str) -> dict[str, Any]:
    """What the adapter must ask STS: the tenant's own role, untagged (its trust policy allows no sts:TagSession)."""
    return {"RoleArn": TEMPLATE.format(tenant_id=tenant_id), "RoleSessionName": f"revgov-{tenant_id}",
            "DurationSeconds": 900}


def signer_key(headers: dict[str, str]) -> str:
    match = re.search(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request", headers["authorization"])
    assert match, headers["authorization"]
    assert match.group(2, 3) == (REGION, "aoss")
    return match.group(1)


@pytest.fixture
def clock() -> list[float]:
    return [NOW]


@pytest.fixture
def sts() -> Any:
    return boto3.client("sts", region_name=REGION, aws_access_key_id="function-own", aws_secret_access_key="x")


def make_index(sts: Any, clock: list[float]) -> OpenSearchClauseIndex:
    RecordingConnection.sent = []
    sessions = TenantSessions(TEMPLATE, REGION, tag_sessions=False, sts_client=sts, clock=lambda: clock[0])
    return OpenSearchClauseIndex(FakeEmbedder(), endpoint=ENDPOINT, region=REGION, service="aoss",
                                 sessions=sessions, connection_class=RecordingConnection)


def requests_to(path_prefix: str) -> list[tuple[str, str, dict[str, str]]]:
    return [r for r in RecordingConnection.sent if r[1].startswith(path_prefix)]


def test_the_adapter_assumes_the_tenant_search_role_and_queries_the_tenant_index(sts: Any, clock: list[float]) -> None:
    index = make_index(sts, clock)
    with Stubber(sts) as stub:
        stub.add_response("assume_role", granted("northwind"), expected_assume("northwind"))
        index.search(Scope("northwind"), "margin floor")
        stub.assert_no_pending_responses()
    searched = [path for method, path, _ in RecordingConnection.sent if method == "POST"]
    assert searched == ["/northwind_clauses/_msearch"] == [f"/{SEARCH.clause_index('northwind')}/_msearch"]
    for _, _, headers in RecordingConnection.sent:
        assert signer_key(headers) == "ASIANORTHWIND00000001"
        assert headers["x-amz-security-token"] == "token-northwind-1"


def test_tenant_a_requests_are_never_signed_with_tenant_b_role(sts: Any, clock: list[float]) -> None:
    index = make_index(sts, clock)
    with Stubber(sts) as stub:
        stub.add_response("assume_role", granted("northwind"), expected_assume("northwind"))
        stub.add_response("assume_role", granted("contoso"), expected_assume("contoso"))
        for tenant in ("northwind", "contoso", "northwind", "contoso"):
            index.search(Scope(tenant), "margin floor")
        stub.assert_no_pending_responses()  # one session each, reused from the cache
    northwind, contoso = requests_to("/northwind_"), requests_to("/contoso_")
    assert northwind and contoso
    assert {signer_key(h) for _, _, h in northwind} == {"ASIANORTHWIND00000001"}
    assert {h["x-amz-security-token"] for _, _, h in northwind} == {"token-northwind-1"}
    assert {signer_key(h) for _, _, h in contoso} == {"ASIACONTOSO00000001"}
    assert {h["x-amz-security-token"] for _, _, h in contoso} == {"token-contoso-1"}
    assert not [h for _, _, h in RecordingConnection.sent if "function-own" in h["authorization"]]


def test_a_session_about_to_expire_is_renewed_before_the_next_request(sts: Any, clock: list[float]) -> None:
    index = make_index(sts, clock)
    with Stubber(sts) as stub:
        stub.add_response("assume_role", granted("northwind", 1), expected_assume("northwind"))
        stub.add_response("assume_role", granted("northwind", 2, NOW + 1800), expected_assume("northwind"))
        index.search(Scope("northwind"), "margin floor")
        clock[0] = NOW + 900 - REFRESH_MARGIN_SECONDS
        RecordingConnection.sent = []
        index.search(Scope("northwind"), "margin floor")
        stub.assert_no_pending_responses()
    assert {signer_key(h) for _, _, h in RecordingConnection.sent} == {"ASIANORTHWIND00000002"}


def test_a_tenant_id_that_is_not_one_opens_no_session_and_sends_nothing(sts: Any, clock: list[float]) -> None:
    index = make_index(sts, clock)
    with Stubber(sts):  # no response queued: any AssumeRole would fail the test
        with pytest.raises(TenantScopeError):
            index.search(Scope("*"), "margin floor")
    assert RecordingConnection.sent == []


def test_the_stack_settings_select_opensearch_with_one_search_role_per_tenant() -> None:
    env = {"REVGOV_COPILOT_INDEX": "opensearch", "REVGOV_OPENSEARCH_ENDPOINT": ENDPOINT,
           "REVGOV_OPENSEARCH_SERVICE": "aoss", "REVGOV_SEARCH_ROLE_ARN_TEMPLATE": TEMPLATE, "AWS_REGION": REGION}
    index, _ = build_copilot(Settings.from_env(env))
    assert isinstance(index, OpenSearchClauseIndex)
    sessions = index._sessions
    assert sessions is not None and not sessions.tag_sessions
    assert sessions.role_for("contoso") == "arn:aws:iam::111122223333:role/revgov-test-search-contoso"
    with pytest.raises(ValueError, match="tenant_id"):
        build_copilot(Settings.from_env({**env, "REVGOV_SEARCH_ROLE_ARN_TEMPLATE": TEMPLATE.replace("{tenant_id}",
                                                                                                     "northwind")}))


def test_the_local_stage_keeps_its_local_index(tmp_path: Any) -> None:
    index, _ = build_copilot(Settings.from_env({"REVGOV_COPILOT_INDEX_PATH": str(tmp_path / "i.sqlite")}))
    assert isinstance(index, SqliteClauseIndex)
