"""Canonical JSON (RFC 8785 style) and SHA-256 over it: the basis of every hash in the audit chain."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal
from typing import Any


def _plain(value: Any) -> Any:
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
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()
