"""Signed ERP webhooks: `Revgov-Signature: t=<unix>,v1=<hex>[,v1=<hex>]` over `{t}.{raw body}`, and secret rotation.

Pure: the time is handed in. Comparisons are constant-time; schemes other than v1 are ignored, so a sender can
add a stronger scheme beside v1 without breaking receivers.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .errors import Unauthenticated
from .time import instant

TOLERANCE_SECONDS = 300
SCHEME = "v1"
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_HEX_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class SignatureHeader:
    timestamp: int
    signatures: tuple[str, ...]


def parse_signature_header(header: str | None) -> SignatureHeader:
    """The timestamp and every v1 signature; a header without exactly one `t` or without any v1 is refused."""
    if not header:
        raise Unauthenticated("send Revgov-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>")
    timestamps: list[str] = []
    signatures: list[str] = []
    for part in header.split(","):
        scheme, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if scheme == "t":
            timestamps.append(value)
        elif scheme == SCHEME and _HEX_SHA256.match(value.lower()):
            signatures.append(value.lower())
    if len(timestamps) != 1 or not _TIMESTAMP.match(timestamps[0]):
        raise Unauthenticated("Revgov-Signature needs exactly one t=<unix seconds>")
    if not signatures:
        raise Unauthenticated("Revgov-Signature carries no v1 signature")
    return SignatureHeader(int(timestamps[0]), tuple(signatures))


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 of `{timestamp}.{body}` with the secret, as lowercase hex."""
    return hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},{SCHEME}={sign(secret, timestamp, body)}"


def verify(
    header: str | None, body: bytes, secrets: Sequence[str], now: int, tolerance: int = TOLERANCE_SECONDS
) -> None:
    """Accept when the timestamp is within `tolerance` seconds of now (both ways) and any v1 matches any secret."""
    parsed = parse_signature_header(header)
    if abs(now - parsed.timestamp) > tolerance:
        # the caller is told how far its `t` is from Revgov's clock (a drifting ERP clock, or a local stack run "as of"
        # another day, REVGOV_CLOCK_START, whose clock the Date header does not show): the time is no secret
        side = "behind" if parsed.timestamp < now else "ahead of"
        raise Unauthenticated(
            f"the signature timestamp t={parsed.timestamp} is {abs(now - parsed.timestamp)} s {side} Revgov's clock "
            f"(t={now}); more than {tolerance} s either way is refused: sign again with the current time")
    matched = False
    for secret in secrets:
        expected = sign(secret, parsed.timestamp, body)
        for candidate in parsed.signatures:
            # every pair is compared, so the time taken does not tell which secret or signature matched
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise Unauthenticated("no v1 signature matches this body with a current webhook secret")


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def current_secrets(stored: Sequence[dict[str, Any]], now_iso: str) -> list[str]:
    """The secrets valid now: those without `valid_until` and those whose grace has not ended."""
    now = instant(now_iso)
    return [s["secret"] for s in stored if s.get("valid_until") is None or now < instant(s["valid_until"])]


def rotate(
    stored: Sequence[dict[str, Any]], new_secret: str, now_iso: str, grace_seconds: int
) -> tuple[list[dict[str, Any]], str]:
    """Put a new secret first; the current ones stay valid for the grace period, expired ones are dropped.

    Returns the new list and the end of the grace period.
    """
    now = instant(now_iso)
    grace_ends = _iso(now + timedelta(seconds=grace_seconds))
    kept = []
    for entry in stored:
        until = entry.get("valid_until")
        if until is None or instant(until) > instant(grace_ends):
            until = grace_ends
        if instant(until) > now:  # a zero grace (or an already lapsed one) drops the secret now
            kept.append({"secret": entry["secret"], "valid_until": until})
    return [{"secret": new_secret, "valid_until": None}, *kept], grace_ends


# --- outbound retries ------------------------------------------------------------------------------------------------
RETRY_BASE_SECONDS = 10
RETRY_CAP_SECONDS = 900
MAX_DELIVERY_ATTEMPTS = 8  # then the delivery is `failed` for good (events/rules.json dead-letters the rule after it)


def retry_delay(attempt: int, jitter: float) -> int:
    """Seconds before attempt `attempt + 1`: exponential from RETRY_BASE_SECONDS, capped at RETRY_CAP_SECONDS, with
    "equal jitter" (`jitter` in [0, 1)), so subscribers that failed together do not all come back at once."""
    ceiling: int = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, attempt - 1))
    return max(1, round(ceiling / 2 + min(max(jitter, 0.0), 1.0) * ceiling / 2))
