"""A scheduled job's run, counted in the workflow metrics (ScheduledRuns by job and outcome)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..metrics import record as record_metric


@contextmanager
def scheduled(job: str) -> Iterator[None]:
    """One run of a scheduled job (its name in events/schedules.json), counted as ok or failed (a failure still
    raises, for Lambda to report)."""
    try:
        yield
    except Exception:
        record_metric("ScheduledRuns", 1, job=job, outcome="failed")
        raise
    record_metric("ScheduledRuns", 1, job=job, outcome="ok")
