"""Test helpers: a small HTTP client for the local stack and scenario data loaders."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = Path(__file__).resolve().parent / "scenarios"


class Api:
    """requests against the stack's base URL, optionally as one API key."""

    def __init__(self, base_url: str, key: str | None = None) -> None:
        self.base_url = base_url
        self.key = key
        self.session = requests.Session()

    def as_key(self, key: str | None) -> Api:
        return Api(self.base_url, key)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> requests.Response:
        sent = {"Content-Type": "application/json"}
        if self.key:
            sent["Authorization"] = f"Bearer {self.key}"
        sent.update(headers or {})
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        return self.session.request(
            method, self.base_url + path, data=data, headers=sent, params=params or None, timeout=90
        )

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.request("GET", path, **params)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)


def example_tenant(tenant_id: str | None = None) -> dict[str, Any]:
    config = json.loads((ROOT / "schemas" / "examples" / "tenant-create.json").read_text())
    config["tenant_id"] = tenant_id or f"t-{uuid.uuid4().hex[:12]}"
    return config


def scenario(name: str) -> Any:
    return json.loads((SCENARIOS / name).read_text())


def assert_problem(response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, f"{response.status_code} {response.text}"
    assert response.headers["Content-Type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["status"] == status and body["type"].startswith("https://") and body["title"] and body["detail"]
    return dict(body)
