"""The local stand-in for EventBridge schedules: runs every handler of `events/schedules.json` (outbox flush, SLA
sweep, agents) on its cadence, as the stacks schedule them in AWS.

`REVGOV_SCHEDULE_EVERY_SECONDS` overrides every cadence (e.g. 30 to watch the agents work in `revgov dev`); 0 turns
the scheduler off. Each handler's first run comes one interval after start. A run that fails is logged and runs
again at the next tick, as a scheduled Lambda would. A run that starts more than one interval after it was due (the
process was busy or asleep) counts as a missed run (metric ScheduledRuns, outcome missed) before it runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..adapters.system import real_time
from ..logs import logger
from ..metrics import record
from ..resources import load_schedules

Handler = Callable[[dict[str, Any], Any], Any]


class SqliteScheduleState:
    """Each job's last run, in the embedded database: a restart keeps the cadence (a daily job that ran an hour ago
    runs in 23 hours, not one interval after every start)."""

    def __init__(self, db: Any) -> None:
        self._db = db

    def last_runs(self) -> dict[str, float]:
        with self._db.read() as c:
            return {str(n): float(at) for n, at in c.execute("SELECT name, last_run FROM schedule_runs").fetchall()}

    def ran(self, name: str, at: float) -> None:
        with self._db.write() as c:
            c.execute(
                "INSERT INTO schedule_runs (name, last_run, runs) VALUES (?, ?, 1) "
                "ON CONFLICT (name) DO UPDATE SET last_run = excluded.last_run, runs = runs + 1",
                (name, at),
            )


class Scheduler:
    """Runs each job (name -> (every seconds, handler)) until `stop`; `runs` counts the runs per job. With a `state`
    (the embedded engine's), a job's first run after a restart comes one interval after its last run."""

    def __init__(self, jobs: dict[str, tuple[float, Handler]], state: SqliteScheduleState | None = None) -> None:
        self._jobs = jobs
        self._state = state
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="scheduler")
        self.runs: dict[str, int] = dict.fromkeys(jobs, 0)

    def start(self) -> None:
        if self._jobs:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def first_due(self) -> dict[str, float]:
        """When each job first runs (monotonic): one interval after start, or after its last run if one is known."""
        last = self._state.last_runs() if self._state is not None else {}
        now, wall = time.monotonic(), real_time()
        due = {}
        for name, (every, _) in self._jobs.items():
            since = wall - last[name] if name in last else 0.0
            due[name] = now + max(0.0, every - since) if 0 <= since else now + every
        return due

    def _loop(self) -> None:
        due = self.first_due()
        while not self._stop.is_set():
            for name, at in due.items():
                if time.monotonic() >= at and not self._stop.is_set():
                    every, handler = self._jobs[name]
                    if time.monotonic() - at > every:
                        record("ScheduledRuns", 1, job=name, outcome="missed")
                    try:
                        handler({"source": "aws.events", "detail-type": "Scheduled Event", "local": True}, None)
                        self.runs[name] += 1
                        if self._state is not None:
                            self._state.ran(name, real_time())
                    except Exception:
                        logger.exception("scheduled run failed", extra={"job": name})
                    due[name] = time.monotonic() + every
            self._stop.wait(min(1.0, max(0.05, min(due.values()) - time.monotonic())))


def from_schedules(
    events_dir: Path,
    handlers: dict[str, Handler],
    every_override: float | None,
    extra: dict[str, tuple[float, Handler]] | None = None,
    state: SqliteScheduleState | None = None,
) -> Scheduler:
    """The schedules of `events/schedules.json` against the handlers of the app (edge.handlers), plus the engine's own
    housekeeping (`extra`, e.g. the embedded engine's TTL sweep)."""
    if every_override == 0:
        return Scheduler({})
    jobs = {
        s.name: (every_override or s.every_minutes * 60, handlers[s.handler]) for s in load_schedules(events_dir)
    }
    for name, (every, handler) in (extra or {}).items():
        jobs[name] = (every_override or every, handler)
    return Scheduler(jobs, state)
