"""The real clock and id generator (the domain is handed their outputs, never calls them).

`SystemClock` is the product's one source of "now": every business date and time Revgov uses comes from the `Clock`
port, and this is the only product module that reads the wall clock (tests/unit/test_clock_source.py checks it).

`REVGOV_CLOCK_START` (an ISO 8601 instant with its offset, e.g. `2027-01-01T09:00:00Z`) shifts it: the clock reads
that instant when the process (or the first process of a tree: `make run`, a pytest session) starts, and runs on
from there at the real rate, so timed waits, visibility timeouts and TTLs keep working. The real instant it was
anchored at is kept in `REVGOV_CLOCK_ANCHOR` (epoch milliseconds), set by the first process that reads the setting and
inherited by the processes it starts (xdist workers, the n8n harness), so all of them read the same "now". Absent or
empty, the clock is the real one, unchanged.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import MutableMapping
from datetime import UTC, datetime

from ..domain.ids import typed_id
from ..ports import Clock
from ..settings import SettingError

CLOCK_START = "REVGOV_CLOCK_START"
CLOCK_ANCHOR = "REVGOV_CLOCK_ANCHOR"


def _real_ms() -> int:
    return time.time_ns() // 1_000_000


def real_time() -> float:
    """The unshifted wall clock, epoch seconds. Only for machinery that runs on real time whatever the business date:
    queue visibility deadlines, the scheduler's cadence, telemetry minutes, AWS credential expiry, and records whose
    expiry a library computes with the real clock (powertools idempotency). Business dates come from `SystemClock`."""
    return time.time()


def clock_offset_ms(environ: MutableMapping[str, str] | None = None) -> int:
    """Milliseconds to add to the real time so "now" follows `REVGOV_CLOCK_START` (0 when it is not set). The first
    call anchors the start at the real time of that call and records it in the environment (`REVGOV_CLOCK_ANCHOR`)."""
    env = os.environ if environ is None else environ
    start = env.get(CLOCK_START, "").strip()
    if not start:
        return 0
    try:
        at = datetime.fromisoformat(start.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise SettingError(
            f"{CLOCK_START} must be an ISO 8601 instant such as 2027-01-01T09:00:00Z, not {start!r}"
        ) from None
    if at.tzinfo is None:
        raise SettingError(f"{CLOCK_START} must carry its UTC offset (e.g. 2027-01-01T09:00:00Z), not {start!r}")
    anchor = env.get(CLOCK_ANCHOR, "").strip()
    if not anchor:
        anchor = str(_real_ms())
        env[CLOCK_ANCHOR] = anchor
    if not anchor.isdigit():
        raise SettingError(f"{CLOCK_ANCHOR} must be epoch milliseconds, not {anchor!r}")
    return int(at.timestamp() * 1000) - int(anchor)


class SystemClock:
    """The wall clock, shifted by `offset_ms` (from `REVGOV_CLOCK_START` unless given)."""

    def __init__(self, offset_ms: int | None = None) -> None:
        self.offset_ms = clock_offset_ms() if offset_ms is None else offset_ms

    def now_ms(self) -> int:
        return _real_ms() + self.offset_ms

    def now_iso(self) -> str:
        return iso_of_ms(self.now_ms())


def iso_of_ms(ms: int) -> str:
    """`2027-01-01T00:00:05.000Z` for epoch milliseconds (the shape `Clock.now_iso` answers)."""
    at = datetime.fromtimestamp(ms // 1000, UTC).replace(microsecond=ms % 1000 * 1000)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class RandomIds:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def new(self, prefix: str) -> str:
        return typed_id(prefix, self._clock.now_ms(), secrets.token_bytes(10))

    def secret(self) -> str:
        return secrets.token_urlsafe(32)
