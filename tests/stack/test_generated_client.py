"""Clients generated from GET /v1/openapi.json make real calls against the running local product, the ERP webhook
included: Python (openapi-python-client, from PyPI through the dev extra; no schema or operation dropped) and
TypeScript (openapi-typescript + openapi-fetch, `npm ci` from tests/clients/typescript/package-lock.json, the program
type-checked under `strict`).

Issue #20: "nested `$defs` references make openapi-python-client drop 16 schemas and the `POST /v1/tenants`
operation"; "`POST /v1/webhooks/erp` declares no request body and neither `Revgov-Tenant` nor `Revgov-Signature`".
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

import clock_support
from billing_support import sample, wait_until, webhook_body
from revgov.domain.webhooks import signature_header
from revgov.tenant_files import load_tenant_file
from support import ROOT

pytestmark = pytest.mark.stack

VENV_BIN = Path(sys.executable).parent
# image/svg+xml (the favicon) is bytes to the client, as application/octet-stream is
CONFIG = "content_type_overrides:\n  image/svg+xml: application/octet-stream\n"


@pytest.fixture(scope="module")
def generated(api, tmp_path_factory) -> tuple[Any, dict[str, Any], str]:
    folder = tmp_path_factory.mktemp("client")
    spec = api.get("/v1/openapi.json").json()
    (folder / "openapi.json").write_text(json.dumps(spec))
    (folder / "config.yaml").write_text(CONFIG)
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [str(VENV_BIN / "openapi-python-client"), "generate", "--path", "openapi.json", "--config", "config.yaml",
         "--meta", "none", "--output-path", "revgov_client"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("revgov_client"), spec, output
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m == "revgov_client" or m.startswith("revgov_client.")]:
            del sys.modules[name]


TS_SOURCE = ROOT / "tests" / "clients" / "typescript"  # package.json + committed package-lock.json, check.ts
TS_DIR = ROOT / ".revgov" / "ts-client"  # the npm install (gitignored), redone when the lock changes


def _typescript_check(base_url: str, admin_key: str, tenant_id: str, secret: str) -> dict[str, Any]:
    import hashlib
    import shutil

    npm = shutil.which("npm")
    assert npm, "npm (Node >= 20) is needed for the TypeScript client"
    lock = (TS_SOURCE / "package-lock.json").read_bytes()
    stamp = TS_DIR / ".lock-sha256"
    TS_DIR.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json", "check.ts", "tsconfig.json"):
        shutil.copy(TS_SOURCE / name, TS_DIR / name)
    if not stamp.exists() or stamp.read_text() != hashlib.sha256(lock).hexdigest():
        done = subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=TS_DIR,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        stamp.write_text(hashlib.sha256(lock).hexdigest())
    spec = requests.get(f"{base_url}/v1/openapi.json", timeout=30).text
    (TS_DIR / "openapi.json").write_text(spec)
    node = shutil.which("node")
    steps = [
        [node, "node_modules/openapi-typescript/bin/cli.js", "openapi.json", "-o", "schema.d.ts"],
        [node, "node_modules/typescript/bin/tsc", "-p", "."],
    ]
    for step in steps:
        done = subprocess.run(step, cwd=TS_DIR, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{step[1]}: {done.stdout[-3000:]} {done.stderr[-2000:]}"
    event = {**webhook_body(sample("shipment.confirmed")), "id": f"TS-{os.urandom(6).hex()}"}  # not the Python one's
    env = {**os.environ, "API_BASE": base_url, "ADMIN_KEY": admin_key, "TENANT_ID": tenant_id,
           "WEBHOOK_SECRET": secret, "ERP_EVENT": json.dumps(event), "SIGNED_AT": str(clock_support.epoch_seconds())}
    run = subprocess.run([node, "out/check.js"], cwd=TS_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    return dict(json.loads(run.stdout.strip().splitlines()[-1]))


def conforms(operation_id: str, response: Any) -> None:
    """The success answer matches the response schema the route table declares for the operation."""
    from revgov import schemas
    from revgov.edge.registry import OPERATIONS

    op = next(op for op in OPERATIONS if op.name == operation_id)
    assert op.response_schema, f"{operation_id} declares no response schema"
    found = schemas.problems(op.response_schema, json.loads(response.content))
    assert not found, (operation_id, [e.as_dict() for e in found])


def _module(client_package: Any, tag: str, operation_id: str) -> Any:
    return importlib.import_module(f"{client_package.__name__}.api.{tag}.{operation_id}")


def test_the_client_is_generated_with_every_operation_and_no_warning(generated):
    package, spec, output = generated
    assert "Warning" not in output and "WARNING" not in output, output[-3000:]
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            module = _module(package, operation["tags"][0], operation["operationId"])
            assert hasattr(module, "sync_detailed"), f"{method.upper()} {path} was dropped"


def test_the_generated_client_calls_the_product_for_real(generated, api, keys, stack):
    package, _, _ = generated
    from revgov_client import AuthenticatedClient, Client  # type: ignore[import-not-found]

    call = lambda tag, op, client, **kw: _module(package, tag, op).sync_detailed(client=client, **kw)  # noqa: E731
    public = Client(base_url=stack.base_url, raise_on_unexpected_status=True)
    health = call("platform", "health", public)
    assert health.status_code == 200
    conforms("health", health)

    # the operator provisions a tenant through POST /v1/tenants (dropped by the generator before)
    operator = AuthenticatedClient(base_url=stack.base_url, token=keys["operator_key"])
    config = load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml")
    config["tenant_id"] = f"gen-{os.urandom(4).hex()}"
    create_module = _module(package, "tenants", "create_tenant")
    body_type = create_module._get_kwargs.__annotations__["body"]
    body_class = (
        getattr(importlib.import_module(f"{package.__name__}.models"), body_type)
        if isinstance(body_type, str)
        else body_type
    )
    created = create_module.sync_detailed(client=operator, body=body_class.from_dict(config))
    assert created.status_code == 201, created.content[:800]
    provisioned = json.loads(created.content)
    tenant_id, secret = config["tenant_id"], provisioned["webhook_secret"]
    try:
        admin = AuthenticatedClient(base_url=stack.base_url, token=provisioned["admin_key"]["key"])
        me = call("portal", "me", admin)
        assert me.status_code == 200 and me.parsed.tenant_id == tenant_id and me.parsed.role.value == "admin"
        conforms("me", me)
        from revgov_client.models import KeyCreate  # type: ignore[import-not-found]

        minted = call("keys", "create_key", admin, body=KeyCreate.from_dict({"role": "finance", "label": "gen"}))
        assert minted.status_code == 201, minted.content[:500]
        conforms("create_key", minted)
        listed = call("keys", "list_keys", admin)
        assert listed.status_code == 200 and len(json.loads(listed.content)["items"]) == 2
        conforms("list_keys", listed)

        # the signed ERP webhook: the body model, and the two headers the contract now declares
        from revgov_client.models import ErpEvent  # type: ignore[import-not-found]

        event = ErpEvent.from_dict(webhook_body(sample("shipment.confirmed")))
        import httpx

        raw = httpx.Request("POST", stack.base_url, json=event.to_dict()).content  # the bytes the client sends
        stamp = clock_support.epoch_seconds()
        received = call("events", "receive_erp_events", public, body=event, revgov_tenant=tenant_id,
                        revgov_signature=signature_header(secret, stamp, raw))
        assert received.status_code == 202, received.content[:500]
        assert json.loads(received.content)["status"] == "received"
        conforms("receive_erp_events", received)
        refused = _module(package, "events", "receive_erp_events").sync_detailed(
            client=Client(base_url=stack.base_url), body=event, revgov_tenant=tenant_id,
            revgov_signature=signature_header("not-the-secret", stamp, raw))
        assert refused.status_code == 401 and refused.parsed.status == 401  # the Problem model

        # the TypeScript client (openapi-typescript + openapi-fetch), type-checked under strict, against the same
        seen = _typescript_check(stack.base_url, provisioned["admin_key"]["key"], tenant_id, secret)
        assert seen["health"] == 200 and seen["minted"] == 201, seen
        assert seen["me"] == {"status": 200, "tenant_id": tenant_id, "role": "admin"}, seen
        assert seen["keys"] == {"status": 200, "count": 3}, seen  # admin, the Python client's, the TypeScript one's
        assert seen["received"]["status"] == 202 and seen["received"]["body"]["status"] == "received", seen
        assert seen["unsigned"] == {"status": 401, "problem_status": 401}, seen
    finally:
        rt = stack.runtime
        wait_until(lambda: not rt.store.lookup(tenant_id, "EVENT#received", limit=1).items, 30, what="handlers")
        offboarded = call("tenants", "offboard_tenant", operator, tenant_id=tenant_id)
        assert offboarded.status_code == 200
