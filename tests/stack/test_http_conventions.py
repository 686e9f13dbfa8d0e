"""HTTP conventions, checked once for every operation of the route table (so a new operation gets them for free).

- RFC 9110 §15.5.6: "The origin server MUST generate an Allow header field in a 405 response containing a list of
  the target resource's currently supported methods."
- RFC 9110 §15.5.2 / RFC 6750 §3: "The server generating a 401 response MUST send a WWW-Authenticate header field
  containing at least one challenge"; for a bearer token: `WWW-Authenticate: Bearer realm="example"`, and
  `error="invalid_token"` when "The access token provided is expired, revoked, malformed, or invalid"; "If the
  request lacks any authentication information ..., the resource server SHOULD NOT include an error code".
- RFC 9457 §3.1.5: "instance": "A JSON string containing a URI reference that identifies the specific occurrence of
  the problem" — the path asked for, not the route template.
- API.md (Conventions): errors are problem+json and "`instance` is the request's path" — also for the answers the
  gateway makes itself before the app runs (no key → 401, unknown route → 404).
- README: validation errors are `errors: [{path, message}]`, `path` a JSON pointer (RFC 6901) to the field.
- Operations that take no body accept `{}` (what n8n and generated clients send).
"""

from __future__ import annotations

import re

import pytest

from support import assert_problem

pytestmark = pytest.mark.stack

ULID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def _operations():
    from revgov.edge.registry import OPERATIONS
    from revgov.edge.routes import load_all

    load_all()
    return list(OPERATIONS)


OPERATIONS = _operations()
PATHS: dict[str, set[str]] = {}
for _op in OPERATIONS:
    PATHS.setdefault(_op.path, set()).add(_op.method)


def concrete(op) -> str:
    """The operation's path with ids that are well-formed but name nothing."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in op.id_params:
            return f"{op.id_params[name].split('|')[0]}_{ULID}"  # `dec|aud`: either names one
        if name.endswith("_id") and name != "tenant_id":
            prefix = {"event_id": "evt", "decision_id": "dec"}.get(name, name.removesuffix("_id")[:3])
            return f"{prefix}_{ULID}"
        return "no-such-thing" if name == "tenant_id" else "nothing"

    return re.sub(r"{([a-z_]+)}", fill, op.path)


REQUIRED_QUERY = {"/v1/kpis": {"period": "2026-Q4"}, "/v1/partners/{partner_id}/forecast": {"period": "2026-Q4"}}


def _key_for(op, keys) -> str | None:
    from revgov.domain.access import Role

    if op.public:
        return None
    if Role.OPERATOR in op.roles:
        return keys["operator_key"]
    tenant = keys["tenants"]["northwind"]
    if Role.ADMIN in op.roles:
        return tenant["admin_key"]
    staff = sorted(r.value for r in op.roles if r is not Role.PARTNER)
    if not staff:  # a partner-only operation (an appeal of its own dispute): any demo partner's key
        return next(key for name, key in sorted(tenant["keys"].items()) if name.startswith("ptr_"))
    return tenant["keys"][staff[0]]


@pytest.mark.parametrize("path", sorted(PATHS), ids=str)
def test_a_method_the_path_lacks_is_405_with_allow(api, path):
    missing = next(m for m in ("PATCH", "PUT", "DELETE", "POST", "GET") if m not in PATHS[path])
    example = next(op for op in OPERATIONS if op.path == path)
    response = api.request(missing, concrete(example))
    problem = assert_problem(response, 405)
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed == PATHS[path] | {"OPTIONS"}, response.headers["Allow"]
    assert problem["instance"] == concrete(example)


@pytest.mark.parametrize("op", [op for op in OPERATIONS if not op.public], ids=lambda op: f"{op.method} {op.path}")
def test_no_key_or_a_bad_key_is_401_with_a_bearer_challenge(api, op):
    path = concrete(op)
    none = api.request(op.method, path)
    assert assert_problem(none, 401)["instance"] == path  # the gateway's own 401 (no Authorization at all)
    assert re.fullmatch(r'Bearer realm="[^"]+"', none.headers["WWW-Authenticate"]), none.headers
    bad = api.as_key("rgk.northwind.key_01ARZ3NDEKTSV4RRFFQ69G5FAV.not-a-secret").request(op.method, path)
    problem = assert_problem(bad, 401)
    assert re.fullmatch(r'Bearer realm="[^"]+", error="invalid_token"', bad.headers["WWW-Authenticate"])
    assert problem["instance"] == path


def test_the_signed_erp_webhooks_401_challenges_with_its_signature_not_a_bearer_key(api):
    # Found as a new ERP integrator (ninth round): `POST /v1/webhooks/erp` takes no API key (docs/billing.md "no API
    # key. Headers: `Revgov-Tenant` ... and `Revgov-Signature`"), yet its 401 challenged `Bearer realm="revgov"`,
    # inviting an Authorization header the route ignores. RFC 9110 §11.6.1: the challenge is one "applicable to the
    # target resource".
    body = b'{"id": "NU9-1", "type": "usage.reported", "occurred_at": "2026-12-07T10:00:00Z", "data": {}}'
    headers = {"Content-Type": "application/json", "Revgov-Tenant": "northwind",
               "Revgov-Signature": "t=1,v1=" + "0" * 64}
    for sent in (headers, {"Content-Type": "application/json"}):
        response = api.request("POST", "/v1/webhooks/erp", raw=body, headers=sent)
        assert_problem(response, 401)
        assert re.fullmatch(r'Revgov-Signature realm="[^"]+"', response.headers["WWW-Authenticate"]), response.headers


@pytest.mark.parametrize("path", ["/v1/no-such-route", "/v1/partners/ptr_x/no-such-thing", "/nothing"])
def test_an_unknown_route_is_a_404_problem_naming_the_path(api, keys, path):
    """The gateway answers an unknown route itself; API.md asks `instance` of every problem+json."""
    for caller in (api, api.as_key(keys["tenants"]["northwind"]["admin_key"])):
        problem = assert_problem(caller.get(path, q="1"), 404)
        assert problem["instance"] == path, problem  # the path, without the query


@pytest.mark.parametrize(
    "op",
    [op for op in OPERATIONS if op.id_params and op.method == "GET"],
    ids=lambda op: f"{op.method} {op.path}",
)
def test_a_problems_instance_is_the_path_asked_for(api, keys, op):
    path = concrete(op)
    response = api.as_key(_key_for(op, keys)).get(path, **REQUIRED_QUERY.get(op.path, {}))
    problem = assert_problem(response, 404)
    assert problem["instance"] == path and "{" not in problem["instance"]


@pytest.mark.parametrize(
    "op",
    [op for op in OPERATIONS if op.body_schema is None and not op.raw_body],
    ids=lambda op: f"{op.method} {op.path}",
)
def test_an_operation_without_a_body_accepts_an_empty_object(api, keys, op):
    caller = api.as_key(_key_for(op, keys))
    response = caller.request(op.method, concrete(op), raw=b"{}", **REQUIRED_QUERY.get(op.path, {}))
    if response.status_code == 400:
        assert "body" not in response.json()["detail"], response.text
    assert response.status_code < 500, response.text
    not_json = caller.request(op.method, concrete(op), raw=b'{"x": 1}')
    assert_problem(not_json, 400)  # anything else than {} is still refused


def _object_schema(op):
    from revgov import schemas

    schema = schemas.schema(op.body_schema)
    return schema if schema.get("type") == "object" else None


@pytest.mark.parametrize(
    "op",
    [op for op in OPERATIONS if op.body_schema and op.example is not None and _object_schema(op)],
    ids=lambda op: f"{op.method} {op.path}",
)
def test_a_missing_or_unknown_top_level_field_is_named_by_its_pointer(api, keys, op):
    from revgov.edge.openapi import example_body

    caller = api.as_key(_key_for(op, keys))
    schema = _object_schema(op)
    example = example_body(op)
    if schema.get("additionalProperties") is False or schema.get("unevaluatedProperties") is False:
        problem = assert_problem(caller.request(op.method, concrete(op), {**example, "zz_unknown": 1}), 400)
        assert any(e["path"] == "/zz_unknown" for e in problem["errors"]), problem["errors"]
    for name in schema.get("required", []):
        without = {k: v for k, v in example.items() if k != name}
        problem = assert_problem(caller.request(op.method, concrete(op), without), 400)
        assert any(e["path"] == f"/{name}" for e in problem["errors"]), (name, problem["errors"])
