"""A caller's text inside a message meant for humans (RFC 9457 `detail`): quoted, escaped, bounded. Pure."""

from __future__ import annotations

import json

SHOWN_CHARS = 64  # the longest machine name the request schemas accept (a deal's family) is shown whole


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """A caller's value for a problem's `detail`: quoted, control and non-ASCII characters escaped (no bidi or
    terminal tricks), at most `limit` characters of it (the rest counted, never echoed)."""
    text = value if isinstance(value, str) else repr(value)
    more = f" (and {len(text) - limit} more characters)" if len(text) > limit else ""
    return json.dumps(text[:limit], ensure_ascii=True) + more
