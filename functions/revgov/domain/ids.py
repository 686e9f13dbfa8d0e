"""Typed ULIDs (`ptr_01J…`): sortable by time, not guessable. Pure: time and entropy are handed in."""

from __future__ import annotations

import re

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIXES = frozenset(
    {
        "aud", "key", "ten", "ptr", "dec", "inv", "apr", "exc", "evt", "dl", "set", "dsp", "tsk", "sub", "req", "imp",
        "ivd", "cnh", "pdr", "lpc", "off", "rcn", "mdfa", "mdfc", "mcn", "sbx", "vch", "cpt", "rvw", "lgh", "pau",
        "arp", "sin",
    }
)
_ULID = "[0-9A-HJKMNP-TV-Z]{26}"  # Crockford base32, no I, L, O or U
_ID = re.compile(rf"^([a-z]{{2,4}})_{_ULID}$")


def ulid(ms: int, entropy: bytes) -> str:
    """Encode a 48-bit millisecond timestamp and 80 bits of entropy as a 26-char ULID."""
    if len(entropy) != 10:
        raise ValueError("ULID entropy is exactly 10 bytes")
    if not 0 <= ms < 2**48:
        raise ValueError("ULID time out of range")
    value = (ms << 80) | int.from_bytes(entropy, "big")
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def typed_id(prefix: str, ms: int, entropy: bytes) -> str:
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    return f"{prefix}_{ulid(ms, entropy)}"


def is_typed_id(value: str, prefix: str) -> bool:
    """`value` is a typed id of `prefix` (or of one of the prefixes `prefix` joins with `|`)."""
    match = _ID.fullmatch(value)  # not `match`: `$` would let a trailing newline through
    return bool(match) and match.group(1) in prefix.split("|")  # type: ignore[union-attr]


def typed_id_pattern(prefix: str) -> str:
    """The regular expression (ECMA-262, as OpenAPI's `pattern`) a typed id of `prefix` (`a|b`: either) matches."""
    for one in prefix.split("|"):
        if one not in PREFIXES:
            raise ValueError(f"unknown id prefix {one!r}")
    return f"^{prefix}_{_ULID}$" if "|" not in prefix else f"^({prefix})_{_ULID}$"


def typed_id_ms(value: str) -> int | None:
    """The millisecond timestamp a typed ULID was made at (its first 48 bits); None if `value` is not a typed id."""
    match = _ID.fullmatch(value)  # not `match`: `$` would let a trailing newline through
    if not match:
        return None
    ms = 0
    for char in value[len(match.group(1)) + 1 :][:10]:
        ms = ms * 32 + _CROCKFORD.index(char)
    return ms  # ten characters hold 50 bits: two bits of padding, then the 48 of the time
