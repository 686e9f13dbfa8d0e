"""A fast yes/no answer to "is this payload valid against that schema?", compiled once per schema.

jsonschema walks a schema keyword by keyword for every value (about 40% of a 50-line quote check's CPU). Most
request bodies are valid, and for those only the verdict matters. This module compiles a schema that uses only
common keywords into plain closures that give the same verdict as jsonschema's Draft 2020-12 validator, with the
validator's own type checker and format checker for the leaves. A schema that uses any other keyword compiles to
None, and a payload the closures refuse is validated again by jsonschema, which names the errors: the closures only
ever decide that there is nothing to report (tests/unit/test_schema_check.py proves the verdicts equal).
"""

from __future__ import annotations

import functools
import numbers
import re
from collections.abc import Callable, Iterable
from typing import Any

Check = Callable[[Any], bool]

# Keywords that only annotate: they never make a payload invalid.
_ANNOTATIONS = frozenset(
    {"description", "title", "examples", "$comment", "$schema", "$id", "$defs", "default", "deprecated", "readOnly",
     "writeOnly"}
)
_SUPPORTED = frozenset(
    {"type", "properties", "required", "additionalProperties", "pattern", "minLength", "maxLength", "minimum",
     "maximum", "enum", "const", "items", "minItems", "maxItems", "format", "$ref", "not", "allOf", "anyOf", "oneOf",
     "if", "then", "else", "uniqueItems", "propertyNames", "minProperties"}
)


@functools.lru_cache(maxsize=1024)
def ecma_regex(pattern: str) -> re.Pattern[str]:
    """A schema `pattern` compiled as ECMA-262 reads it (JSON Schema 2020-12 Validation §6.3.3): `$` outside a
    character class is the end of the input, as `\\Z`; Python's `$` also matches before a final line feed, which let
    `"CUST-1\\n"` through `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`. An escaped `\\$` and `[$]` stay the dollar sign."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            char = r"\Z"
        out.append(char)
        i += 1
    return re.compile("".join(out))


def ecma_search(pattern: str, text: str) -> bool:
    """Whether `text` matches the schema `pattern` somewhere, as ECMA-262's `RegExp.prototype.test` answers."""
    return ecma_regex(pattern).search(text) is not None


class Unsupported(Exception):
    """The schema uses a keyword this compiler does not reproduce: validate with jsonschema alone."""


class Compiler:
    """Compiles the subschemas of one schema; `$ref`s resolve through the validator's registry resolver."""

    def __init__(self, validator: Any, resolver: Any, resource: Callable[[dict[str, Any]], Any]) -> None:
        self._is_type = validator.is_type
        checker = validator.format_checker
        self._conforms: Callable[[Any, str], bool] = checker.conforms if checker is not None else (lambda i, f: True)
        self._resource = resource  # turns a subschema with its own `$id` into a resource to resolve against
        self._resolver = resolver
        self._memo: dict[tuple[int, str], Check] = {}

    def compile(self, schema: Any, resolver: Any = None) -> Check:
        resolver = resolver or self._resolver
        if schema is True or schema == {}:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise Unsupported("a schema is an object or a boolean")
        if "$id" in schema:
            resolver = resolver.in_subresource(self._resource(schema))
        key = (id(schema), str(getattr(resolver, "_base_uri", "")))
        if key in self._memo:
            return self._memo[key]
        cell: list[Check] = []
        self._memo[key] = lambda instance: cell[0](instance)  # a recursive $ref calls the check being built
        check = _all(self._checks(schema, resolver))
        cell.append(check)
        self._memo[key] = check
        return check

    def _checks(self, schema: dict[str, Any], resolver: Any) -> list[Check]:
        unknown = [k for k in schema if k not in _SUPPORTED and k not in _ANNOTATIONS and not k.startswith("x-")]
        if unknown:
            raise Unsupported(", ".join(unknown))
        checks: list[Check] = []
        if "$ref" in schema:
            resolved = resolver.lookup(schema["$ref"])
            checks.append(self.compile(resolved.contents, resolved.resolver))
        if "type" in schema:
            checks.append(self._type(schema["type"]))
        checks += _string_checks(schema) + _number_checks(schema, self._is_type)
        checks += _array_checks(schema) + _value_checks(schema)
        if "format" in schema:
            fmt, conforms = schema["format"], self._conforms
            checks.append(lambda i: conforms(i, fmt))
        if "items" in schema:
            item = self.compile(schema["items"], resolver)
            checks.append(lambda i: not isinstance(i, list) or all(item(v) for v in i))
        if {"properties", "required", "additionalProperties"} & set(schema):
            checks.append(self._object(schema, resolver))
        return checks + self._applicators(schema, resolver)

    def _applicators(self, schema: dict[str, Any], resolver: Any) -> list[Check]:
        """`not`, `allOf`, `anyOf`, `oneOf`, `if`/`then`/`else`, `propertyNames`: each exact given exact parts."""
        checks: list[Check] = []
        if "not" in schema:
            negated = self.compile(schema["not"], resolver)
            checks.append(lambda i: not negated(i))
        for keyword, verdict in (("allOf", all), ("anyOf", any)):
            if keyword in schema:
                checks.append(_combined([self.compile(sub, resolver) for sub in schema[keyword]], verdict))
        if "oneOf" in schema:
            choices = [self.compile(sub, resolver) for sub in schema["oneOf"]]
            checks.append(lambda i: sum(1 for c in choices if c(i)) == 1)
        if "if" in schema:
            test = self.compile(schema["if"], resolver)
            then, other = (self.compile(schema.get(k, True), resolver) for k in ("then", "else"))
            checks.append(lambda i: then(i) if test(i) else other(i))
        if "propertyNames" in schema:
            names = self.compile(schema["propertyNames"], resolver)
            checks.append(lambda i: not isinstance(i, dict) or all(names(k) for k in i))
        return checks

    def _type(self, expected: str | list[str]) -> Check:
        names = [expected] if isinstance(expected, str) else list(expected)
        if len(names) == 1 and names[0] in _PLAIN_TYPES:
            return _PLAIN_TYPES[names[0]]
        is_type = self._is_type
        return lambda i: any(is_type(i, name) for name in names)

    def _object(self, schema: dict[str, Any], resolver: Any) -> Check:
        properties = {name: self.compile(sub, resolver) for name, sub in schema.get("properties", {}).items()}
        required = list(schema.get("required", []))
        extra = schema.get("additionalProperties", True)
        other = None if extra is True else self.compile(extra, resolver)

        def check(instance: Any) -> bool:
            if not isinstance(instance, dict):
                return True
            for name, value in instance.items():
                known = properties.get(name)
                if known is not None:
                    if not known(value):
                        return False
                elif other is not None and not other(value):
                    return False
            return all(name in instance for name in required)

        return check


def _always(instance: Any) -> bool:
    return True


def _never(instance: Any) -> bool:
    return False


def _all(checks: list[Check]) -> Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda instance: first(instance) and second(instance)
    return lambda instance: all(check(instance) for check in checks)


# jsonschema's own definitions of the types (jsonschema/_types.py, Draft 6 and later: an integral float is an integer).
_PLAIN_TYPES: dict[str, Check] = {
    "integer": lambda i: (isinstance(i, int) and not isinstance(i, bool)) or (isinstance(i, float) and i.is_integer()),
    "number": lambda i: isinstance(i, numbers.Number) and not isinstance(i, bool),
    "string": lambda i: isinstance(i, str),
    "object": lambda i: isinstance(i, dict),
    "array": lambda i: isinstance(i, list),
    "boolean": lambda i: isinstance(i, bool),
    "null": lambda i: i is None,
}


def _combined(parts: list[Check], verdict: Callable[[Iterable[bool]], bool]) -> Check:
    return lambda i: verdict(part(i) for part in parts)


def _one_of_strings(members: frozenset[str]) -> Check:
    return lambda i: isinstance(i, str) and i in members


def _string_checks(schema: dict[str, Any]) -> list[Check]:
    checks: list[Check] = []
    if "pattern" in schema:
        search = ecma_regex(schema["pattern"]).search
        checks.append(lambda i: not isinstance(i, str) or search(i) is not None)
    low, high = schema.get("minLength"), schema.get("maxLength")
    if low is not None or high is not None:
        lo, hi = low or 0, high if high is not None else float("inf")
        checks.append(lambda i: not isinstance(i, str) or lo <= len(i) <= hi)
    return checks


def _number_checks(schema: dict[str, Any], is_type: Callable[[Any, str], bool]) -> list[Check]:
    if "minimum" not in schema and "maximum" not in schema:
        return []
    low, high = schema.get("minimum"), schema.get("maximum")

    def bounded(i: Any) -> bool:
        if not is_type(i, "number"):
            return True
        return (low is None or i >= low) and (high is None or i <= high)

    return [bounded]


def _array_checks(schema: dict[str, Any]) -> list[Check]:
    low, high = schema.get("minItems"), schema.get("maxItems")
    checks: list[Check] = []
    if low is not None or high is not None:
        lo, hi = low or 0, high if high is not None else float("inf")
        checks.append(lambda i: not isinstance(i, list) or lo <= len(i) <= hi)
    if schema.get("uniqueItems") is True:
        # strings only; any other array is left to jsonschema (a "no" here only means "let jsonschema decide")
        checks.append(lambda i: not isinstance(i, list) or (all(type(v) is str for v in i) and len(set(i)) == len(i)))
    if "minProperties" in schema:
        least = schema["minProperties"]
        checks.append(lambda i: not isinstance(i, dict) or len(i) >= least)
    return checks


def _value_checks(schema: dict[str, Any]) -> list[Check]:
    """`enum` and `const` of strings only (jsonschema compares a string to a string with `==`); others: unsupported."""
    allowed: list[Any] = []
    if "enum" in schema:
        allowed.append(schema["enum"])
    if "const" in schema:
        allowed.append([schema["const"]])
    checks: list[Check] = []
    for values in allowed:
        if not values or not all(isinstance(v, str) for v in values):
            raise Unsupported("enum or const of other values than strings")
        checks.append(_one_of_strings(frozenset(values)))
    return checks


def compiled(validator: Any, resolver: Any, resource: Callable[[dict[str, Any]], Any]) -> Check | None:
    """The fast check of `validator`'s schema, or None when the schema uses a keyword not reproduced here."""
    try:
        return Compiler(validator, resolver, resource).compile(validator.schema)
    except Unsupported:
        return None
