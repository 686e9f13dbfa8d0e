"""Issue #21: "`runtime.py:65` ... swallow[s] failures without a log line". A publish that raises leaves the events in
the outbox for the next flush (DESIGN.md: events are committed as outbox items so none is lost) and now says so in
the structured log."""

from __future__ import annotations

from typing import Any

import pytest

from revgov.bootstrap import build_memory_runtime
from revgov.ports import Changes, DomainEvent
from revgov.runtime import OUTBOX
from revgov.settings import Settings


class DownBus:
    def publish(self, tenant_id: str, events: list[dict[str, Any]]) -> list[str]:
        raise ConnectionError("bus unreachable")


def test_a_failed_publish_keeps_the_events_in_the_outbox_and_logs_it(caplog: pytest.LogCaptureFixture) -> None:
    rt = build_memory_runtime(Settings.from_env({"REVGOV_BACKEND": "memory"}))
    rt.publisher = DownBus()
    rt.commit("t1", Changes(events=[DomainEvent("revgov.test", "thing.happened", {"n": 1})]))

    assert len(rt.store.query("t1", OUTBOX, limit=10).items) == 1  # kept for flush_outbox
    failed = [r for r in caplog.records if "event publish failed" in r.getMessage()]
    assert len(failed) == 1
    assert failed[0].levelname == "ERROR" and failed[0].exc_info is not None
    assert getattr(failed[0], "tenant_id", None) == "t1" and getattr(failed[0], "events", None) == 1
    assert isinstance(failed[0].exc_info[1], ConnectionError)
