"""Cursors of every document store: opaque to callers, checked here against the list they were minted for."""

from __future__ import annotations

import base64
import binascii
import json

from ..domain.errors import FieldError, MalformedRequest


def encode_cursor(last_key: dict[str, str] | None) -> str | None:
    if not last_key:
        return None
    text = json.dumps(last_key, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, partition_attr: str, expected: str) -> dict[str, str] | None:
    """Cursors are opaque to callers but checked here: one minted for another partition (another tenant's, another
    list's) is refused, whatever backend minted it."""
    if not cursor:
        return None
    try:
        plain = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise bad_cursor("cursor is not valid") from exc
    if (
        not isinstance(plain, dict)
        or plain.get(partition_attr) != expected
        or not all(isinstance(v, str) for v in plain.values())
    ):
        raise bad_cursor("cursor is not valid for this list")
    return plain


def bad_cursor(detail: str) -> MalformedRequest:
    """A cursor this list did not mint: a 400 naming the `cursor` query parameter it came in (README: validation
    errors name their field), as the edge does for a cursor it can refuse without the store."""
    return MalformedRequest(detail, errors=[FieldError("/query/cursor", "not a cursor of this list")])


def start_key_valid(start: dict[str, str], index: bool) -> bool:
    """A decoded cursor names the attributes of its list's key: (pk, sk), or (gsi1pk, gsi1sk, pk, sk) for the index."""
    wanted = {"gsi1pk", "gsi1sk", "pk", "sk"} if index else {"pk", "sk"}
    return set(start) == wanted
