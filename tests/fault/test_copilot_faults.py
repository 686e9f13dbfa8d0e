"""Bedrock and OpenSearch errors and timeouts: the copilot answers from the retrieved clauses alone when the model
fails, and a clause index that is down or throttled is a 503 problem+json with Retry-After, never a raw 500."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.stub import Stubber
from opensearchpy.exceptions import ConnectionTimeout

from revgov.adapters.answerers import BedrockAnswerer
from support import assert_problem

QUESTION = {"question": "What margin floor applies to quote lines?"}


@pytest.fixture(scope="module")
def northwind_legal(api: Any, keys: dict[str, Any]) -> Any:
    """The demo tenant whose contracts the local stack indexed at start (a fresh tenant has none to retrieve)."""
    return api.as_key(keys["tenants"]["northwind"]["keys"]["legal"])


class _TimingOut:
    def converse(self, **_: Any) -> Any:
        raise ReadTimeoutError(endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com/model/x/converse")


def _throttled_bedrock() -> Any:
    client = boto3.client("bedrock-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    for _ in range(5):
        stubber.add_client_error("converse", service_error_code="ThrottlingException", http_status_code=429)
    stubber.activate()
    return client


class _IndexDown:
    """The clause index as OpenSearch (or Titan embeddings) fails it."""

    def __init__(self, real: Any, error: Exception) -> None:
        self._real, self._error = real, error

    def search(self, *args: Any, **kwargs: Any) -> Any:
        raise self._error

    def get(self, *args: Any, **kwargs: Any) -> Any:
        raise self._error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


@pytest.mark.parametrize("client", [_throttled_bedrock, _TimingOut], ids=["throttled", "timeout"])
def test_a_failing_model_degrades_to_quoting_the_retrieved_clauses(client, northwind, northwind_legal, stack,
                                                                   monkeypatch):
    monkeypatch.setattr(stack.runtime, "answerer", BedrockAnswerer("model", "us-east-1", client=client()))
    answered = northwind_legal.post("/v1/copilot/ask", QUESTION)
    assert answered.status_code == 200, answered.text
    body = answered.json()
    assert body["degraded"] and "language model" in body["degraded"]
    assert body["refused"] is False and body["citations"], body
    assert all(c["quote"] and c["quote"] in body["answer"] for c in body["citations"])
    record = _audit_record(northwind, body["audit_id"])
    assert record["inputs"]["degraded"] == body["degraded"] and record["outcome"] == "answered"


@pytest.mark.parametrize(
    "error",
    [
        ConnectionTimeout("TIMEOUT", "Read timed out", None),
        ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "embeddings throttled"}}, "InvokeModel"
        ),
    ],
    ids=["opensearch-timeout", "titan-throttled"],
)
def test_a_clause_index_that_is_down_is_a_503_with_retry_after(error, northwind, northwind_legal, stack, monkeypatch):
    before = northwind.get("/v1/audit/verify").json()["records"]
    monkeypatch.setattr(stack.runtime, "clause_index", _IndexDown(stack.runtime.clause_index, error))
    problem = assert_problem(northwind_legal.post("/v1/copilot/ask", QUESTION), 503)
    assert "retry" in problem["detail"]
    monkeypatch.undo()
    copilot_records = [r for r in _tail(northwind, before) if r["action"].startswith("copilot.")]
    assert copilot_records == []  # nothing answered, nothing audited


def _tail(client: Any, after_seq: int) -> list[dict[str, Any]]:
    """The tenant's audit records after the first `after_seq` (the chain read in order, page by page)."""
    records, cursor = [], None
    while True:
        page = client.get("/v1/audit", limit=200, **({"cursor": cursor} if cursor else {})).json()
        records += [r for r in page["items"] if r["seq"] > after_seq]
        cursor = page["next_cursor"]
        if not cursor:
            return records


def _audit_record(client: Any, record_id: str) -> dict[str, Any]:
    cursor = None
    for _ in range(100):
        page = client.get("/v1/audit", subject="copilot", limit=200, **({"cursor": cursor} if cursor else {})).json()
        found = [r for r in page["items"] if r["record_id"] == record_id]
        if found or not page["next_cursor"]:
            return found[0]
        cursor = page["next_cursor"]
    raise AssertionError(f"no audit record {record_id}")
