"""The embedded engine's rate limiter takes permits in blocks far from a limit (#17: every authenticated request had
queued for the database's one writer just to count itself). The limits mean what they meant: per tenant and per key,
fixed one-minute windows, refused requests not counted, one budget for every limiter on the file."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any

from test_embedded_engine import Clock  # a clock the test sets

from revgov.adapters.ratelimit import Limits, SqliteRateLimiter
from revgov.adapters.sqlite_db import Database

START = 1_800_000_000_000  # a window's start (a multiple of 60 s)


class CountingDb(Database):
    writes = 0

    @contextmanager
    def write(self) -> Any:
        self.writes += 1
        with super().write() as c:
            yield c


def _count(db: Database, tenant: str, who: str) -> int:
    found = db.fetch_one("SELECT count FROM rate_counts WHERE tenant = ? AND who = ?", (tenant, who))
    return int(found[0]) if found else 0


def test_one_limiter_allows_exactly_the_key_limit_with_a_write_per_block_not_per_request(tmp_path):
    db = CountingDb(tmp_path / "r.sqlite")
    limiter = SqliteRateLimiter(db, Clock(START))
    limits = Limits(tenant_per_minute=20_000, key_per_minute=10_000)
    verdicts = [limiter.hit("t1", "key_A", limits) for _ in range(10_050)]
    assert sum(v.allowed for v in verdicts) == 10_000 and all(v.allowed for v in verdicts[:10_000])
    refused = verdicts[-1]
    assert (refused.scope, refused.limit, refused.retry_after) == ("key", 10_000, 60)
    assert _count(db, "t1", "k_key_A") == 10_000 == _count(db, "t1", "requests")  # every permit taken was used
    assert db.writes < 600  # was 10,050, one per request; smaller blocks as the room shrinks, then one at a time


def test_eight_threads_on_one_limiter_never_pass_the_limit_and_lose_no_permit(tmp_path):
    db = Database(tmp_path / "r.sqlite")
    limiter = SqliteRateLimiter(db, Clock(START))
    limits = Limits(tenant_per_minute=100_000, key_per_minute=3_000)
    allowed: list[int] = []

    def work() -> None:
        allowed.append(sum(limiter.hit("t1", "key_A", limits).allowed for _ in range(500)))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(allowed) <= 3_000 and _count(db, "t1", "k_key_A") <= 3_000
    assert sum(allowed) >= 3_000 - 3_000 // SqliteRateLimiter.ROOM_SHARE  # a race may leave one block's remainder


def test_limiters_on_one_file_share_one_budget_never_exceeding_it(tmp_path):
    db = Database(tmp_path / "r.sqlite")
    clock = Clock(START)
    limiters = [SqliteRateLimiter(db, clock) for _ in range(3)]
    limits = Limits(tenant_per_minute=5_000, key_per_minute=5_000)
    allowed = sum(limiters[n % 3].hit("t1", f"key_{n % 2}", limits).allowed for n in range(6_000))
    assert _count(db, "t1", "requests") <= 5_000 and allowed <= 5_000
    # permits another limiter still holds are the only ones lost: at most 1/64 of the room each block was taken from
    assert allowed >= 5_000 - 2 * 3 * 5_000 // SqliteRateLimiter.ROOM_SHARE


def test_permits_do_not_outlive_their_window_and_near_a_limit_each_request_is_counted_alone(tmp_path):
    db = CountingDb(tmp_path / "r.sqlite")
    clock = Clock(START)
    limiter = SqliteRateLimiter(db, clock)
    limits = Limits(tenant_per_minute=1_000_000, key_per_minute=100_000)
    assert limiter.hit("t1", "key_A", limits).allowed  # takes a block
    assert _count(db, "t1", "k_key_A") == 256
    clock.ms += 60_000
    writes = db.writes
    assert limiter.hit("t1", "key_A", limits).allowed
    assert db.writes == writes + 1  # the next window's first request asks the file again
    small = Limits(tenant_per_minute=100, key_per_minute=60)
    assert [limiter.hit("t2", "key_B", small).allowed for _ in range(61)] == [True] * 60 + [False]
    assert _count(db, "t2", "k_key_B") == 60  # one permit at a time: room // 64 is 0 below 64, 1 below 128
