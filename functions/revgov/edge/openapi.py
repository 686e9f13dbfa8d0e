"""OpenAPI 3.1, generated from the route table and `schemas/`: the machine-readable contract."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from .. import __version__, schemas
from ..settings import settings
from .registry import OPERATIONS, Operation

_PARAM = re.compile(r"{([a-z_]+)}")
_PROBLEM = {"$ref": "#/components/responses/Problem"}


def _component(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", name.removesuffix(".schema.json"))


def example_body(op: Operation) -> Any:
    if isinstance(op.example, str):
        return json.loads((settings().schemas_dir / "examples" / op.example).read_text(encoding="utf-8"))
    return op.example


def _operation(op: Operation) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "operationId": op.name,
        "summary": op.summary,
        "tags": [op.tag],
        "x-revgov-roles": sorted(r.value for r in op.roles),
        "responses": {
            str(op.status): {
                "description": "Success",
                "content": {op.produces: {"schema": {"type": "object" if op.produces.endswith("json") else "string"}}},
            },
            "400": _PROBLEM,
            "404": _PROBLEM,
            "422": _PROBLEM,
            "500": _PROBLEM,
        },
    }
    if op.description:
        doc["description"] = op.description
    if not op.public:
        doc["responses"].update({"401": _PROBLEM, "403": _PROBLEM})
    else:
        doc["security"] = []
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in _PARAM.findall(op.path)
    ]
    params += [
        {
            "name": q.name,
            "in": "query",
            "required": False,
            "description": q.description,
            "schema": {
                "type": "string",
                **({"enum": list(q.enum)} if q.enum else {}),
                **({"pattern": q.pattern} if q.pattern else {}),
            },
        }
        for q in op.query
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
    return doc


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    components = {
        _component(name): {k: v for k, v in schemas.schema(name).items() if k not in ("$schema",)}
        for name in schemas.names()
    }
    components["Problem"] = {
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
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Revgov API",
            "version": __version__,
            "description": "Revenue governance for distributors that run white-label partner programs. "
            "Money is a decimal string; errors are application/problem+json (RFC 9457).",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "tags": [{"name": tag} for tag in sorted({op.tag for op in OPERATIONS})],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key: rgk.<tenant>.<key id>.<secret>",
                }
            },
            "schemas": components,
            "responses": {
                "Problem": {
                    "description": "An error",
                    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                }
            },
        },
    }


@lru_cache(maxsize=1)
def document_json() -> str:
    return json.dumps(document(), separators=(",", ":"))
