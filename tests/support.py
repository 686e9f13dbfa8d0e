"""Test helpers: a small HTTP client for the local stack and scenario data loaders."""

from __future__ import annotations

import json
import threading
import time
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
        response = self.session.request(
            method, self.base_url + path, data=data, headers=sent, params=params or None, timeout=90
        )
        check_response_schema(method, path, response)
        return response

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.request("GET", path, **params)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)


_ROUTES: list[tuple[str, Any, str]] | None = None


def check_response_schema(method: str, path: str, response: requests.Response) -> None:
    """Every success answer any stack test receives matches the response schema its operation declares in the route
    table (`response_schema`), so a declared schema is checked against everything the suite does."""
    global _ROUTES
    if not 200 <= response.status_code < 300 or not response.headers.get("Content-Type", "").startswith(
        "application/json"
    ):
        return
    if _ROUTES is None:
        import re

        from revgov.edge.registry import OPERATIONS
        from revgov.edge.routes import load_all

        load_all()
        _ROUTES = [
            (op.method, re.compile("^" + re.sub(r"{[a-z_]+}", "[^/]+", op.path) + "$"), op.response_schema)
            for op in OPERATIONS
            if op.response_schema
        ]
    schema = next((s for m, pattern, s in _ROUTES if m == method.upper() and pattern.match(path.split("?")[0])), None)
    if schema is None:
        return
    from revgov import schemas

    found = schemas.problems(schema, response.json())
    assert not found, f"{method} {path} answered outside {schema}: {[e.as_dict() for e in found][:5]}"


def settle(stack: Any, seconds: float = 20) -> None:
    """Wait until the stack's event router has nothing waiting or in flight (`EventRouter.idle`): before a test
    offboards a tenant, so no handler of an event the test caused reads the tenant before and writes after."""
    deadline = time.monotonic() + seconds
    while not stack.router.idle() and time.monotonic() < deadline:
        time.sleep(0.05)


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


def northwind_silver_partners(stack: Any, api: Api, labels: tuple[str, ...], name: str) -> dict[str, Any]:
    """Northwind's staff keys (by role) and fresh active silver resellers, one per label, each with its own partner
    key, onboarded through the use cases: {"roles", "partners": [(partner_id, client)], "rt"}."""
    from revgov.domain.access import Principal, Role
    from revgov.domain.partners import tiers_by_rank
    from revgov.local.demo_partners import demo_application, onboard
    from revgov.services import keys as key_service

    rt = stack.runtime
    tenant = stack.info["tenants"]["northwind"]
    by_role = {role: api.as_key(key) for role, key in tenant["keys"].items() if not role.startswith("ptr_")}
    policy = rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]
    silver = tiers_by_rank(policy)[1]
    sales = Principal("northwind", Role.SALES, "key_01JX00000000000000000SALES")
    approver = Principal("northwind", Role.CHANNEL_OPS, "key_01JX000000000000000000OPS0")
    admin = Principal("northwind", Role.ADMIN, "key_01JX0000000000000000ADMIN0")
    made = []
    for label in labels:
        application = demo_application(f"{name} {label} {uuid.uuid4().hex[:6]}", "reseller", silver)
        partner = onboard(rt, policy, application, "active", sales=sales, approver=approver)
        assert partner["status"] == "active" and partner["tier"] == "silver", partner
        key = key_service.create_key(rt, admin, "northwind", Role.PARTNER, partner["partner_id"], label)["key"]
        made.append((partner["partner_id"], api.as_key(key)))
    return {"roles": by_role, "partners": made, "rt": rt}


def for_this_thread(monkeypatch: Any, owner: Any, name: str, replacement: Any) -> None:
    """Patch the callable `owner.name` for the calling thread only; every other thread keeps the real one.

    The worker's stack (a session fixture) runs on in the background while later tests run: its router calls the
    handlers, which find their runtime through `handlers.runtime()`, and its threads sleep through `time.sleep`. A
    test that swaps such a global for its own would otherwise hand the stack's events to its in-memory runtime."""
    real, ours = getattr(owner, name), threading.get_ident()

    def patched(*args: Any, **kwargs: Any) -> Any:
        return (replacement if threading.get_ident() == ours else real)(*args, **kwargs)

    monkeypatch.setattr(owner, name, patched)
