"""`revgov dev` refuses a clock that reads earlier than what its database already recorded.

Found as a new user (round 8) restarting the local stack with `REVGOV_CLOCK_START` earlier than the last run (the
README's way to run "as of" another instant; also what a restart with the same REVGOV_CLOCK_START and no
REVGOV_CLOCK_ANCHOR does after a shifted run, README Configuration: "Set it yourself to continue a shifted run across
restarts"): it started, sealed audit records dated days before the records under them, and `GET
/v1/decisions/aud_…/explain` answered 404 for such a record, which exists. docs/audit.md "Explaining one record by
its id": "ids grow with the sequence, up to the difference between the writers' clocks ... on one machine there is
one clock" (`services/audit_lookup.SKEW_MS`, 2 s). So the start checks every chain's last record against the clock,
with that same tolerance, and says what to do, before anything is written."""

from __future__ import annotations

import pytest

from revgov.adapters.system import SystemClock
from revgov.bootstrap import build_memory_runtime
from revgov.local.clock_guard import ClockBehindData, check_clock
from revgov.local.seed import seed
from revgov.services.audit_lookup import SKEW_MS
from revgov.settings import Settings

DAY_MS = 86_400_000


@pytest.fixture
def rt_and_clock():
    clock = SystemClock(offset_ms=0)
    rt = build_memory_runtime(Settings.from_env({"REVGOV_BACKEND": "memory"}), clock=clock)
    seed(rt)  # every tenant's chain (and the platform's) gets records sealed now
    return rt, clock


def test_a_clock_days_behind_the_last_record_is_refused_with_what_to_do(rt_and_clock):
    rt, clock = rt_and_clock
    clock.offset_ms = -7 * DAY_MS
    with pytest.raises(ClockBehindData) as refused:
        check_clock(rt)
    message = str(refused.value)
    assert "earlier than the last audit record" in message
    for way_on in ("REVGOV_CLOCK_START", "REVGOV_CLOCK_ANCHOR", "--reset", "--data-file"):
        assert way_on in message


def test_the_same_clock_a_later_one_and_writers_within_the_lookups_skew_start(rt_and_clock):
    rt, clock = rt_and_clock
    for offset in (0, 30 * DAY_MS, -(SKEW_MS // 2)):
        clock.offset_ms = offset
        check_clock(rt)


def test_an_empty_database_starts_whatever_the_clock(rt_and_clock):
    clock = SystemClock(offset_ms=-365 * DAY_MS)
    check_clock(build_memory_runtime(Settings.from_env({"REVGOV_BACKEND": "memory"}), clock=clock))
