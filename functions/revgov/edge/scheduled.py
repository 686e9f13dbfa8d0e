"""A scheduled job's run, counted in the workflow metrics (ScheduledRuns by job and outcome)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from ..metrics import record as record_metric
from .offboarded import each_tenant


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


def sweep_tenants(job: str, rt: Any, tenant_ids: Iterable[str], totals: dict[str, int],
                  *sweeps: Callable[[Any, str], dict[str, int]]) -> dict[str, int]:
    """One scheduled run of `sweeps` over every tenant, their counts summed into `totals`; a tenant offboarded during
    the run is left out (`offboarded.each_tenant`)."""

    def each(tenant_id: str) -> list[dict[str, int]]:
        return [sweep(rt, tenant_id) for sweep in sweeps]

    with scheduled(job):
        for counts in each_tenant(job, tenant_ids, each).values():
            for found in counts:
                for name, count in found.items():
                    totals[name] += count
    return totals
