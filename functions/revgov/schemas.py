"""The one place that loads `schemas/` and validates payloads against them (JSON Schema 2020-12)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from . import schema_check
from .domain.caller_text import shown
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
    from jsonschema import FormatChecker

    return _ecma_validator_class()(schema(name), registry=_registry(), format_checker=FormatChecker())


@lru_cache(maxsize=1)
def _ecma_validator_class() -> Any:
    """Draft 2020-12 with `pattern` read as ECMA-262 reads it (Validation §6.3.3; `schema_check.ecma_regex`): a
    trailing line feed is no part of `^...$`."""
    from jsonschema import Draft202012Validator, ValidationError, validators

    def pattern(validator: Any, wanted: str, instance: Any, _schema: Any) -> Any:
        if validator.is_type(instance, "string") and not schema_check.ecma_search(wanted, instance):
            yield ValidationError(f"{instance!r} does not match {wanted!r}")

    return validators.extend(Draft202012Validator, {"pattern": pattern})  # type: ignore[no-untyped-call]


@lru_cache(maxsize=1)
def _registry() -> Any:
    """Every schema by its URI under BASE_URI and by its own `$id`: what a `$ref` resolves against. Built once."""
    from referencing import Registry, Resource  # with jsonschema, imported on first use: see `_validator`

    resources = [(BASE_URI + n, Resource.from_contents(s)) for n, s in _catalog().items()]
    resources += [(s["$id"], Resource.from_contents(s)) for s in _catalog().values() if "$id" in s]
    registry: Registry[Any] = Registry().with_resources(resources)
    return registry


@cache
def _fast(name: str) -> schema_check.Check | None:
    """The schema's compiled yes/no check (schema_check.py), or None when it uses a keyword not compiled there."""
    from referencing import Resource  # with jsonschema, imported on first use: see `_validator`
    from referencing.jsonschema import DRAFT202012

    def resource(contents: dict[str, Any]) -> Any:
        return Resource.from_contents(contents, default_specification=DRAFT202012)

    resolver = _registry().resolver_with_root(resource(schema(name)))
    return schema_check.compiled(_validator(name), resolver, resource)


def _pointer(parts: Any) -> str:
    """A JSON pointer (RFC 6901): `~` and `/` in a name escaped."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _located(error: Any) -> list[FieldError]:
    """One error per field: a missing required field or an unexpected one is located at that field's own pointer
    (`/status`), not at the object that holds it (``)."""
    where = list(error.absolute_path)
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        missing = [n for n in error.validator_value if n not in instance and error.message.startswith(repr(n))]
        if missing:
            return [FieldError(_pointer([*where, missing[0]]), error.message)]
    if error.validator in ("additionalProperties", "unevaluatedProperties") and isinstance(instance, dict):
        schema = error.schema if isinstance(error.schema, dict) else {}
        known = set(schema.get("properties", {}))
        patterns = list(schema.get("patternProperties", {}))
        extra = sorted(
            k
            for k in instance
            if k not in known and not any(re.search(p, k) for p in patterns) and repr(k) in error.message
        )
        if extra and error.validator_value is False:
            return [FieldError(_pointer([*where, k]), f"{shown(k)} is not a field of this object") for k in extra]
    return [FieldError(_pointer(where), _message(error))]


def problems(name: str, payload: Any) -> list[FieldError]:
    """The payload's errors against the schema, one per field, in path order; none when it is valid. A payload the
    compiled check accepts has none to name; any other is walked by jsonschema, which names each error."""
    fast = _fast(name)
    if fast is not None and fast(payload):
        return []
    errors = sorted(_validator(name).iter_errors(payload), key=lambda e: list(e.absolute_path))
    # a field whose schema says a thing twice (`"type"` beside a `$ref` saying it again) is told it once
    named = {(found.path, found.message): found for error in errors for found in _located(error)}
    return list(named.values())[:50]


def _message(error: Any) -> str:
    """A field a schema refuses outright (`"not": {}`) is named with the schema's reason, not "should not be valid";
    a caller's text the message quotes is shown escaped and bounded (`caller_text.shown`)."""
    if error.validator == "not" and error.validator_value == {} and isinstance(error.schema, dict):
        field = error.absolute_path[-1] if error.absolute_path else "this field"
        return f"{field} is not accepted. {error.schema.get('description', '')}".strip()
    if (error.validator in ("anyOf", "oneOf") and "not valid under any" in str(error.message)
            and isinstance(error.schema, dict) and error.schema.get("description")):
        # "is not valid under any of the given schemas" names no form: the field's own description does
        return f"{shown(error.instance)} is none of the forms this field takes: {error.schema['description']}"
    if error.validator in ("maxItems", "minItems") and isinstance(error.instance, list) and error.instance:
        # jsonschema quotes the array's Python form ("[{'id': ..."), no JSON the caller sent; the count and bound do
        bound = "at most" if error.validator == "maxItems" else "at least"
        return f"{len(error.instance)} items; {bound} {error.validator_value} are accepted"
    if isinstance(error.instance, str | dict | list) and repr(error.instance) in error.message:  # quoted whole
        message = str(error.message).replace(repr(error.instance), shown(error.instance))
        if error.validator in ("maxLength", "minLength") and isinstance(error.instance, str):
            bound = "at most" if error.validator == "maxLength" else "at least"
            message += f" ({bound} {error.validator_value} characters)"
        if error.validator == "pattern" and isinstance(error.schema, dict) and error.schema.get("description"):
            message += f" ({error.schema['description'].rstrip('.')})"  # the form in words, beside the pattern
        return message
    if isinstance(error.instance, int | Decimal) and not isinstance(error.instance, bool):
        # the edge keeps a number with a fraction as a Decimal (money never a float): quote it as it was sent
        message = str(error.message).replace(repr(error.instance), str(error.instance))
        if error.validator == "type" and error.validator_value == "string" and _written_as_decimal(error.schema):
            message += ' (money and decimal quantities are sent as a decimal string, e.g. "1000.50")'
        return message
    return str(error.message)


def _written_as_decimal(schema: Any) -> bool:
    """A string field whose pattern takes numbers and refuses words: money, a quantity, a percentage (a note or a
    name is not told how money is written)."""
    pattern = schema.get("pattern") if isinstance(schema, dict) else None
    if not isinstance(pattern, str):
        return False
    return any(re.search(pattern, n) for n in ("1000.50", "1000", "10", "1.5")) and not re.search(pattern, "x")


def validate(name: str, payload: Any, *, what: str = "request body") -> None:
    found = problems(name, payload)
    if found:
        raise MalformedRequest(f"the {what} does not match {name}", errors=found)
