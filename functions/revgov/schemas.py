"""The one place that loads `schemas/` and validates payloads against them (JSON Schema 2020-12)."""

from __future__ import annotations

import json
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from .domain.errors import FieldError, MalformedRequest
from .settings import settings

BASE_URI = "https://revgov.dev/schemas/"


@lru_cache(maxsize=1)
def _catalog() -> dict[str, dict[str, Any]]:
    """Every schema under schemas/, by its path relative to that folder (e.g. `api/key-create.schema.json`)."""
    root: Path = settings().schemas_dir
    return {
        p.relative_to(root).as_posix(): json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(root.rglob("*.schema.json"))
    }


def schema(name: str) -> dict[str, Any]:
    return _catalog()[name]


def names() -> list[str]:
    return list(_catalog())


@cache
def _validator(name: str) -> Any:
    # jsonschema is imported here, not at module import: it is the heaviest import on the request path.
    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry, Resource

    resources = [(BASE_URI + n, Resource.from_contents(s)) for n, s in _catalog().items()]
    resources += [(s["$id"], Resource.from_contents(s)) for s in _catalog().values() if "$id" in s]
    registry: Registry[Any] = Registry().with_resources(resources)
    return Draft202012Validator(schema(name), registry=registry, format_checker=FormatChecker())


def problems(name: str, payload: Any) -> list[FieldError]:
    errors = sorted(_validator(name).iter_errors(payload), key=lambda e: list(e.absolute_path))
    return [FieldError("".join(f"/{p}" for p in error.absolute_path), _message(error)) for error in errors[:50]]


def _message(error: Any) -> str:
    """A field a schema refuses outright (`"not": {}`) is named with the schema's reason, not "should not be valid"."""
    if error.validator == "not" and error.validator_value == {} and isinstance(error.schema, dict):
        field = error.absolute_path[-1] if error.absolute_path else "this field"
        return f"{field} is not accepted. {error.schema.get('description', '')}".strip()
    return str(error.message)


def validate(name: str, payload: Any, *, what: str = "request body") -> None:
    found = problems(name, payload)
    if found:
        raise MalformedRequest(f"the {what} does not match {name}", errors=found)
