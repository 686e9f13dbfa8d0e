"""OpenAPI 3.1, generated from the route table and `schemas/`: the machine-readable contract."""

from __future__ import annotations

import json
import posixpath
import re
from functools import lru_cache
from typing import Any

from .. import schemas
from ..domain.ids import typed_id_pattern
from ..resources import outbound_event_types
from ..settings import settings
from .idempotency import REPLAYED_HEADER
from .registry import IDEMPOTENCY_KEY, OPERATIONS, Operation

_PARAM = re.compile(r"{([a-z_]+)}")
# The contract's own version (semver), independent of the package's: docs/api-changelog.md says what each changed.
API_VERSION = "1.69.1"
_PROBLEM = {"$ref": "#/components/responses/Problem"}


def _component(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", name.removesuffix(".schema.json"))


def _localized(node: Any, name: str) -> Any:
    """A schema of schemas/ as a component: each $ref (relative to the file, or to its $id) points into
    #/components/schemas, and no $id is left to rebase it, so any OpenAPI tool resolves it without fetching."""
    if isinstance(node, list):
        return [_localized(item, name) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    # A date-time whose pattern demands `Z`: a generator would turn `format: date-time` into a datetime that it
    # writes back as `+00:00`, which the pattern refuses; as a plain pattern-checked string it round-trips.
    zulu_only = node.get("format") == "date-time" and "Z$" in str(node.get("pattern", ""))
    for key, value in node.items():
        if key in ("$id", "$schema") or (zulu_only and key == "format"):
            continue
        if key == "$ref" and isinstance(value, str):
            target, _, pointer = value.removeprefix(schemas.BASE_URI).partition("#")
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target)) if target else name
            out[key] = f"#/components/schemas/{_component(resolved)}{pointer}"
        else:
            out[key] = _localized(value, name)
    return out


def example_body(op: Operation) -> Any:
    if isinstance(op.example, str):
        return json.loads((settings().schemas_dir / "examples" / op.example).read_text(encoding="utf-8"))
    return op.example


def _success_schema(op: Operation) -> dict[str, Any]:
    if not op.produces.endswith("json"):
        return {"type": "string"}
    if op.response_schema:
        return {"$ref": f"#/components/schemas/{_component(op.response_schema)}"}
    if op.paginated:
        return {"$ref": "#/components/schemas/Page"}
    return {"type": "object"}


def _success_content(op: Operation) -> dict[str, Any]:
    """The success body's schema and example: the operation's own, else the first of its schema's `examples`."""
    content: dict[str, Any] = {"schema": _success_schema(op)}
    example = op.response_example
    if isinstance(example, str):
        example = json.loads((settings().schemas_dir / "examples" / example).read_text(encoding="utf-8"))
    if example is None and op.response_schema:
        example = next(iter(schemas.schema(op.response_schema).get("examples") or []), None)
    if example is not None:
        content["examples"] = {"default": {"value": example}}
    return content


def _error_responses(op: Operation) -> dict[str, Any]:
    """The problem+json answers this operation can give (RFC 9457), as the HTTP edge produces them."""
    codes = ["400", "404", "413", "422"]  # malformed input, unknown id or route, body over the limit, broken rule
    if not op.public or op.raw_body:
        codes += ["401", "403"]  # no or bad credentials (a key, or a signature); role or tenant not allowed
    if op.body_schema or op.raw_body:
        codes += ["415"]
    if op.method in ("POST", "PUT", "PATCH", "DELETE"):
        codes += ["409"]  # state conflict: already decided, changed meanwhile, already exists
    responses: dict[str, Any] = {code: _PROBLEM for code in codes}
    for status, description, example in op.problems:  # a refusal of its own, described with its example body
        content = {"schema": {"$ref": "#/components/schemas/Problem"}, "examples": {"default": {"value": example}}}
        responses[str(status)] = {"description": description, "content": {"application/problem+json": content}}
    if not op.public:
        responses["429"] = {"$ref": "#/components/responses/RateLimited"}
    if op.name not in _STATIC:
        responses["503"] = {"$ref": "#/components/responses/Unavailable"}
    return dict(sorted(responses.items()))


_STATIC = frozenset({"health", "openapi_document"})  # answered from memory: no backing service to be unavailable
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying",
        "required": True,
        "schema": {"type": "string", "pattern": "^[1-9][0-9]*$"},
    }
}


def _operation(op: Operation) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "operationId": op.name,
        "summary": op.summary,
        "tags": [op.tag],
        "x-revgov-roles": sorted(r.value for r in op.roles),
        "responses": {
            str(op.status): {
                "description": "Success",
                "headers": _success_headers(op),
                "content": {op.produces: _success_content(op)},
            },
            **_error_responses(op),
        },
    }
    if op.description:
        doc["description"] = op.description
    if op.open_when_suspended:  # PA-9.6 / CPA-9.8: other partner writes are refused to a suspended partner (403)
        doc["x-revgov-open-when-suspended"] = op.open_when_suspended
    if op.public:
        doc["security"] = []
    params = _parameters(op)
    if params:
        doc["parameters"] = params
    if op.body_schema:
        doc["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{_component(op.body_schema)}"},
                    "examples": {"default": {"value": example_body(op)}},
                }
            },
        }
        doc["responses"]["413"] = _PROBLEM
    elif op.raw_body_schemas:  # checked by the handler over the raw bytes (a signature first), described here
        refs = [{"$ref": f"#/components/schemas/{_component(name)}"} for name in op.raw_body_schemas]
        body: dict[str, Any] = {"schema": refs[0] if len(refs) == 1 else {"oneOf": refs}}
        if op.example is not None:
            body["examples"] = {"default": {"value": example_body(op)}}
        doc["requestBody"] = {"required": True, "content": {"application/json": body}}
    return doc


def _success_headers(op: Operation) -> dict[str, Any]:
    """The headers of a success a client reads (browsers too: edge/cors.EXPOSE_HEADERS)."""
    headers: dict[str, Any] = {
        "X-Correlation-Id": {
            "description": "This request's id, as the logs and a problem's `correlation_id` name it",
            "schema": {"type": "string"},
        }
    }
    if IDEMPOTENCY_KEY in op.headers:
        headers[REPLAYED_HEADER] = {
            "description": "`true` when this answer replays the first one given to the same Idempotency-Key and body",
            "schema": {"type": "string", "enum": ["true"]},
        }
    return headers


def _path_pattern(op: Operation, name: str) -> dict[str, str]:
    """The form the edge holds a path parameter to (another is 404 before any read): a typed id's prefix and ULID
    (`Operation.id_params`), or a tenant id's, as the tenant file's schema gives it (the platform routes' `_tenant_id`
    checks it)."""
    if name in op.id_params:
        return {"pattern": typed_id_pattern(op.id_params[name])}
    if name == "tenant_id":
        return {"pattern": str(schemas.schema("tenant.schema.json")["properties"]["tenant_id"]["pattern"])}
    if name == "customer_id":  # the ERP's customer id (services/vat_validation.py: another form is 404)
        return {"pattern": str(schemas.schema("events/erp-event.schema.json")["$defs"]["customer_id"]["pattern"])}
    return {}


def _parameters(op: Operation) -> list[dict[str, Any]]:
    """The operation's path, query and header parameters, then a list's `limit` and `cursor`."""
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", **_path_pattern(op, name)}}
        for name in _PARAM.findall(op.path)
    ]
    params += [
        {
            "name": q.name,
            "in": "query",
            "required": q.required,
            "description": q.description,
            "schema": {
                "type": "string",
                **({"enum": list(q.enum)} if q.enum else {}),
                **({"pattern": q.pattern} if q.pattern else {}),
            },
        }
        for q in op.query
    ]
    params += [
        {
            "name": h.name,
            "in": "header",
            "required": h.required,
            "description": h.description,
            "schema": {"type": "string", **({"pattern": h.pattern} if h.pattern else {})},
        }
        for h in op.headers
    ]
    if op.paginated:
        params += [
            {
                "name": "limit",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
            },
            {"name": "cursor", "in": "query", "schema": {"type": "string"}},
        ]
    return params


def _flattened(document: dict[str, Any]) -> dict[str, Any]:
    """Every `$defs` entry of a component becomes a component of its own (`Tenant_hex_color`) and every reference
    to it points there: generators (openapi-python-client, openapi-typescript) resolve only references to whole
    components, and dropped the schemas (and operations) that used nested ones."""
    schemas_ = document["components"]["schemas"]
    renamed: dict[str, str] = {}
    pending = list(schemas_)
    while pending:
        name = pending.pop()
        defs = schemas_[name].pop("$defs", None) if isinstance(schemas_[name], dict) else None
        for def_name, definition in (defs or {}).items():
            flat = f"{name}_{re.sub(r'[^A-Za-z0-9]', '_', def_name)}"
            renamed[f"#/components/schemas/{name}/$defs/{def_name}"] = f"#/components/schemas/{flat}"
            schemas_[flat] = definition
            pending.append(flat)

    def resolve(pointer: str) -> Any:
        node: Any = document
        for part in pointer.removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def rewrite(node: Any) -> Any:
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                while value in renamed:
                    value = renamed[value]
                if value.startswith("#/components/schemas/") and value.count("/") > 3:
                    # a reference into a component (…/tenant/properties/tenant_id): inlined, so every reference
                    # left names a whole component
                    return rewrite({**resolve(value), **{k: v for k, v in node.items() if k != "$ref"}})
                out[key] = value
            else:
                out[key] = rewrite(value)
        return out

    return dict(rewrite(document))


def _webhooks() -> dict[str, Any]:
    """Outbound events (OpenAPI 3.1 `webhooks`): what a subscription (POST /v1/subscriptions) receives, one entry per
    event type Revgov emits, i.e. per sample under events/revgov.<area>/ other than the ERP's own events."""
    types = sorted(outbound_event_types(settings().events_dir))
    signature = {
        "name": "Revgov-Signature",
        "in": "header",
        "required": True,
        "description": "t=<unix seconds>,v1=<hex HMAC-SHA256 of '{t}.{raw body}' with the subscription's secret>",
        "schema": {"type": "string"},
    }
    hooks = {}
    for event_type in types:
        hooks[event_type] = {
            "post": {
                "operationId": "webhook_" + re.sub(r"[^A-Za-z0-9]", "_", event_type),
                "summary": f"{event_type}: delivered to each subscription that wants it",
                "parameters": [signature],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/events_webhook_delivery"}
                        }
                    },
                },
                "responses": {"2XX": {"description": "Received; any other answer is retried with backoff"}},
            }
        }
    return hooks


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """The whole route table's document: the route modules are loaded first, since the result is cached and would
    otherwise hold only the routes of the modules a process happened to import before its first call."""
    from .routes import load_all

    load_all()
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    components = {_component(name): _localized(schemas.schema(name), name) for name in schemas.names()}
    components["Page"] = _page_schema()
    components["Problem"] = _problem_schema()
    return _flattened({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Revgov API",
            "version": API_VERSION,
            "description": "Revenue governance for distributors that run white-label partner programs. "
            "Money is a decimal string; errors are application/problem+json (RFC 9457).",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "tags": [{"name": tag} for tag in sorted({op.tag for op in OPERATIONS})],
        "paths": paths,
        "webhooks": _webhooks(),
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key: rgk.<tenant>.<key id>.<secret>",
                }
            },
            "schemas": components,
            "responses": _shared_responses(),
        },
    })


def _page_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "maxItems": 200, "items": {"type": "object"}},
            "next_cursor": {"type": ["string", "null"], "description": "pass as ?cursor= for the next page"},
        },
    }


def _problem_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "correlation_id": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {"type": "object", "properties": {"path": {"type": "string"}, "message": {"type": "string"}}},
            },
        },
    }


def _shared_responses() -> dict[str, Any]:
    """The error answers operations refer to: any problem, a rate limit used up, a backing service unavailable."""
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    return {
        "Problem": {"description": "An error", "content": problem},
        "RateLimited": {
            "description": "The tenant's or the key's requests per minute (tenant plan) are used up",
            "headers": _RETRY_AFTER,
            "content": problem,
        },
        "Unavailable": {
            "description": "A backing service is throttling or unreachable; nothing was changed, retry after "
            "Retry-After. Without Retry-After (`operator_action` in the body, e.g. `free_storage`: the embedded "
            "engine's disk is full) waiting does not help: an operator must act first",
            "headers": {"Retry-After": {**_RETRY_AFTER["Retry-After"], "required": False,
                                        "description": "Seconds to wait before retrying; absent when an operator "
                                        "must act first"}},
            "content": problem,
        },
    }


@lru_cache(maxsize=1)
def document_json() -> str:
    return json.dumps(document(), separators=(",", ":"))
