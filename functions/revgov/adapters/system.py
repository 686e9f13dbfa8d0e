"""The real clock and id generator (the domain is handed their outputs, never calls them)."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime

from ..domain.ids import typed_id


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def now_iso(self) -> str:
        return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class RandomIds:
    def __init__(self, clock: SystemClock) -> None:
        self._clock = clock

    def new(self, prefix: str) -> str:
        return typed_id(prefix, self._clock.now_ms(), secrets.token_bytes(10))

    def secret(self) -> str:
        return secrets.token_urlsafe(32)
