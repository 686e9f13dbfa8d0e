"""The suite's one clock (issue #22): every test that needs "now" or "today" takes it from here, and here is the
product's own clock, so the whole suite runs "as of" the date the product runs as of.

That is the running stack's `Clock` (once the `stack` fixture has started it: conftest registers it with `use`), or
before that a `SystemClock` like the one the stack builds. Both follow `REVGOV_CLOCK_START`
(`REVGOV_CLOCK_START=2027-01-01T00:00:05Z make test`); without it they are the real clock.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from typing import Any

from revgov.adapters.system import CLOCK_ANCHOR, CLOCK_START, SystemClock, real_time

_clock: Any = None


def use(clock: Any) -> None:
    """The clock of the stack this process runs (conftest's `stack` fixture)."""
    global _clock
    _clock = clock


def clock() -> Any:
    global _clock
    if _clock is None:
        _clock = SystemClock()
    return _clock


def now() -> datetime:
    return datetime.fromtimestamp(clock().now_ms() / 1000, UTC)


def today() -> date:
    return now().date()


def now_iso() -> str:
    return str(clock().now_iso())


def epoch_seconds() -> int:
    """Unix seconds on the product's clock (webhook signature timestamps, rate windows)."""
    return int(clock().now_ms() // 1000)


def within_one_month(hours_back: float, minutes_ahead: float = 30) -> str:
    """The month (`2027-01`) in which facts dated up to `hours_back` before now and whatever the test does in the next
    `minutes_ahead` all fall. If the current month is younger than that or ends sooner (a run in the first hours of a
    month, or just before midnight on its last day, e.g. `REVGOV_CLOCK_START=2027-01-01T00:00:05Z`), move this
    process's clock forward to the first instant that has both, as if the suite had been paused there. Only ever
    forward, so everything already written stays in the past."""
    current = now()
    month_start = current.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    if current + timedelta(minutes=minutes_ahead) >= next_month:
        month_start = next_month
    wanted = max(current, month_start + timedelta(hours=hours_back, minutes=5))
    if wanted > current:
        clock().offset_ms += int((wanted - current).total_seconds() * 1000)
        _export()
    return now().strftime("%Y-%m")


def forward_to(at: datetime) -> None:
    """Move this process's clock (and the stack's) forward to `at`, as if the suite had been paused until then; never
    back, so everything already written stays in the past (a no-op when `at` has passed)."""
    current = now()
    if at > current:
        clock().offset_ms += int((at - current).total_seconds() * 1000)
        _export()


def _export() -> None:
    """Processes started from here on (a `revgov dev` subprocess, n8n) start on this clock, moved or not."""
    os.environ[CLOCK_START] = now_iso()
    os.environ[CLOCK_ANCHOR] = str(int(real_time() * 1000))
