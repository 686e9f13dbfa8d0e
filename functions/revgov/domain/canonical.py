"""Canonical JSON (RFC 8785 style) and SHA-256 over it: the basis of every hash in the audit chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

# Values JSON writes as they are: `_plain` returns them without a call per value (the bulk of a quote's leaves).
_AS_IS = frozenset({str, int, bool, type(None)})
_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is dict:
        return {
            (k if type(k) is str else str(k)): (v if type(v) in _AS_IS else _plain(v)) for k, v in value.items()
        }
    if kind is list or kind is tuple:
        return [v if type(v) in _AS_IS else _plain(v) for v in value]
    return _plain_other(value)


def _plain_other(value: Any) -> Any:
    """Subclasses of the JSON types (str and int enums, ordered dicts…), Decimals, and the refused types."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        raise TypeError("floats are not allowed in canonical JSON; money is a decimal string")
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, datetime):
        raise TypeError("format datetimes as UTC ISO-8601 strings before hashing")
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    raise TypeError(f"cannot canonicalize {type(value).__name__}")


def canonical_json(value: Any) -> str:
    """Keys sorted, no insignificant whitespace, UTF-8 kept, Decimals as strings, floats refused."""
    return _ENCODE(_plain(value))


def sha256_text(text: str) -> str:
    """SHA-256 of a canonical JSON text already computed (so a value is serialised once, then hashed)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_hex(value: Any) -> str:
    return sha256_text(canonical_json(value))


def canonical_object(members: Mapping[str, Any], texts: Mapping[str, str]) -> str:
    """The canonical JSON of the object `members | texts`, where each of `texts` is a member whose canonical JSON is
    already known: equal, to the byte, to `canonical_json` of the whole object, without serialising those again."""
    parts = {k: _ENCODE(v) for k, v in _plain(dict(members)).items()} | dict(texts)
    return "{" + ",".join(_ENCODE(k) + ":" + parts[k] for k in sorted(parts)) + "}"


class NotCanonical:
    """A number with a fraction or an exponent, or NaN/Infinity, as `decode` reads it from stored JSON: canonical JSON
    holds none (money is a decimal string), so `canonical_json` and `canonical_json_of_decoded` refuse a value holding
    one. Never a float: a stored `12.50` must not pass for the `"12.50"` that was sealed."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"NotCanonical({self.text!r})"


_DECODER = json.JSONDecoder(parse_float=NotCanonical, parse_constant=NotCanonical)  # shared, as json.loads' own


def decode(text: str) -> Any:
    """Stored JSON text as values: dicts with string keys, lists, strings, ints, booleans, None, and `NotCanonical` for
    any other number. Raises ValueError on text that is not JSON."""
    return _DECODER.decode(text)


def _refuse(value: Any) -> Any:
    raise TypeError(f"cannot canonicalize {type(value).__name__}: money is a decimal string, floats are not allowed")


_ENCODE_DECODED = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_refuse
).encode


def canonical_json_of_decoded(value: Any) -> str:
    """`canonical_json(value)` for a value `decode` returned, without `_plain`'s pass over every leaf.

    Equal to the byte: `_plain` returns such a value unchanged (every type `decode` makes other than `NotCanonical`
    is one `_plain` passes as is: str, int, bool, None, a list of them, a dict with str keys), and this encoder is
    `_ENCODE` with the same settings, whose `default` is reached only for a type JSON has no encoding for, which here
    is only `NotCanonical`: refused (TypeError) as `canonical_json` refuses it. Not for other values: a float would be
    written, not refused."""
    return _ENCODE_DECODED(value)


def canonical_object_of_decoded(members: dict[str, Any], name: str, text: str) -> str:
    """`canonical_json_of_decoded(members | {name: value})` where `text` is `canonical_json_of_decoded(value)`,
    without encoding the value again: canonical JSON writes an object's members in key order, so the members before
    `name` and those after it are each one encoded object whose braces are dropped. `members` must not hold `name`."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key, value in members.items():
        (before if key < name else after)[key] = value
    parts = (_ENCODE_DECODED(before)[1:-1], _ENCODE(name) + ":" + text, _ENCODE_DECODED(after)[1:-1])
    return "{" + ",".join(part for part in parts if part) + "}"


@dataclass(frozen=True)
class Canonical:
    """A value with its canonical JSON computed once, so the steps that hash or embed it (the decision's stored body,
    its audit record's inputs and hash) do not serialise it again. The value must not change after `of`."""

    value: Any
    text: str

    @classmethod
    def of(cls, value: Any) -> Canonical:
        return cls(value, canonical_json(value))

    @property
    def sha256(self) -> str:
        return sha256_text(self.text)
