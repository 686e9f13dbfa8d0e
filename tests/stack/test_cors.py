"""CORS per tenant from `branding.allowed_origins`: a reseller's browser app on a listed origin calls the API; any
other origin cannot read the answers. Expectations from the Fetch standard's CORS protocol
(https://fetch.spec.whatwg.org/#http-cors-protocol) and the tenant schema:

> "allowed_origins": "Https origins allowed to embed the portal (frame-ancestors) and to call the API from a browser
> (CORS)." (schemas/tenant.schema.json)

> Fetch §3.2.5: "`Access-Control-Allow-Credentials` ... Indicates whether the response can be shared when request's
> credentials mode is "include"." Revgov keys travel in `Authorization`, never cookies: it is never sent.
"""

import json
import os
import subprocess

import pytest
import yaml
from test_portal import _chromium, _playwright_core

from support import ROOT

pytestmark = pytest.mark.stack

NORTHWIND_ORIGIN = "https://partners.northwind.example"  # tenants/northwind/tenant.yaml branding.allowed_origins
CONTOSO_ORIGIN = "https://channel.contoso.example"  # tenants/contoso/tenant.yaml
UNLISTED = "https://reseller.unlisted.example"


def _preflight(api, path, origin, method="GET", headers="authorization,content-type"):
    return api.session.options(
        api.base_url + path,
        headers={"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers},
        timeout=30,
    )


def test_the_origins_come_from_each_tenants_config():
    for tenant in ("northwind", "contoso"):
        config = yaml.safe_load((ROOT / "tenants" / tenant / "tenant.yaml").read_text())
        assert {NORTHWIND_ORIGIN, CONTOSO_ORIGIN} & set(config["branding"]["allowed_origins"])


def test_a_preflight_from_a_listed_origin_is_answered_and_one_from_elsewhere_is_not(api):
    granted = _preflight(api, "/v1/partners/ptr_01ARZ3NDEKTSV4RRFFQ69G5FAV", NORTHWIND_ORIGIN)
    assert granted.status_code == 204
    assert granted.headers["Access-Control-Allow-Origin"] == NORTHWIND_ORIGIN  # the origin itself, never "*"
    assert "GET" in granted.headers["Access-Control-Allow-Methods"]
    allowed_headers = {h.strip().lower() for h in granted.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed_headers
    assert "Origin" in granted.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in granted.headers
    for refused in (
        _preflight(api, "/v1/keys", UNLISTED),
        _preflight(api, "/v1/keys", "null"),
        _preflight(api, "/v1/keys", NORTHWIND_ORIGIN + ".evil.example"),
        _preflight(api, "/v1/keys", "http://partners.northwind.example"),  # not the listed scheme
        _preflight(api, "/v1/keys", NORTHWIND_ORIGIN, method="PATCH"),  # not a method of the path
        _preflight(api, "/v1/keys", NORTHWIND_ORIGIN, headers="x-unknown-header"),
    ):
        assert refused.status_code == 204
        assert "Access-Control-Allow-Origin" not in refused.headers, refused.headers
        assert "Access-Control-Allow-Credentials" not in refused.headers


def test_an_answer_is_shared_only_with_the_callers_own_tenants_origins(api, keys):
    northwind = api.as_key(keys["tenants"]["northwind"]["admin_key"])
    own = northwind.get("/v1/keys", headers={"Origin": NORTHWIND_ORIGIN})
    assert own.status_code == 200 and own.headers["Access-Control-Allow-Origin"] == NORTHWIND_ORIGIN
    assert "X-Correlation-Id" in own.headers["Access-Control-Expose-Headers"]
    assert "Origin" in own.headers["Vary"]
    # contoso's origin, northwind's key: the request runs (the key is valid) but the browser may not read it
    other = northwind.get("/v1/keys", headers={"Origin": CONTOSO_ORIGIN})
    assert other.status_code == 200 and "Access-Control-Allow-Origin" not in other.headers
    assert "Origin" in other.headers["Vary"]
    unlisted = northwind.get("/v1/keys", headers={"Origin": UNLISTED})
    assert "Access-Control-Allow-Origin" not in unlisted.headers
    for response in (own, other, unlisted):
        assert "Access-Control-Allow-Credentials" not in response.headers
    no_origin = northwind.get("/v1/keys")
    assert "Access-Control-Allow-Origin" not in no_origin.headers and "Origin" in no_origin.headers["Vary"]


def test_in_chromium_a_resellers_page_on_a_listed_origin_calls_the_api_and_others_cannot(stack, keys):
    chromium, modules = _chromium(), _playwright_core()
    tenant = keys["tenants"]["northwind"]
    partner_id, partner_key = next((name, key) for name, key in tenant["keys"].items() if name.startswith("ptr_"))
    env = {**os.environ, "NODE_PATH": str(modules), "CHROMIUM": str(chromium), "API_BASE": stack.base_url,
           "API_KEY": partner_key, "API_PATH": f"/v1/partners/{partner_id}",
           "ORIGINS": json.dumps([NORTHWIND_ORIGIN, CONTOSO_ORIGIN, UNLISTED])}
    run = subprocess.run(["node", str(ROOT / "tests" / "browser" / "cors_check.cjs")], env=env, capture_output=True,
                         text=True, timeout=180)
    assert run.returncode == 0, f"{run.stdout[-2000:]}\n{run.stderr[-3000:]}"
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    listed = seen[NORTHWIND_ORIGIN]
    assert listed["page_origin"] == NORTHWIND_ORIGIN
    assert listed["ok"] and listed["status"] == 200 and listed["body"]["partner_id"] == partner_id, listed
    for origin in (CONTOSO_ORIGIN, UNLISTED):  # another tenant's reseller, and nobody's
        refused = seen[origin]
        assert refused["page_origin"] == origin
        assert not refused["ok"] and refused["status"] is None and "Failed to fetch" in refused["error"], refused
        assert refused["body"] is None
