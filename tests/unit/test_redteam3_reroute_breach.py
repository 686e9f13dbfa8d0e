"""Red team (redteam3): rerouting an exception after its queue's due time passed does not erase that breach.

SOP-1.3: "rerouting it to another queue starts a new clock for that queue and records the original entry time";
COP-1.3: "moving it to another queue starts a new clock for that queue and keeps the original entry time for
reporting". The new clock is the new queue's; the first queue's clock had already run out, and the metric counted
"exceptions due in the period that were not closed by their due time". A queue that lets an exception run past its
SLA and then moves it elsewhere still breached it: otherwise a reroute hides every breach.
"""

from __future__ import annotations

from revgov.domain import workflow_metrics as core
from revgov.domain.kpis import Period


def _rerouted(moved_at: str, decided_at: str | None) -> dict:
    """Opened in channel_ops on 1 October, due 2 October 00:00 (24 h); moved to finance at `moved_at`, 16 h there."""
    return {
        "kind": "exception", "case_id": "exc_1", "queue": "finance", "category": "billing_failure",
        "status": "resolved" if decided_at else "open", "entered_at": "2026-10-01T00:00:00Z",
        "opened_at": moved_at, "due_at": "2026-10-03T16:00:00Z" if moved_at < "2026-10-03" else "2026-10-04T16:00:00Z",
        "decision": {"at": decided_at, "by": "finance:key_x"} if decided_at else None,
        "reroutes": [{"from_queue": "channel_ops", "from_category": "unmatched", "to_queue": "finance",
                      "to_category": "billing_failure", "at": moved_at, "by": "channel_ops:key_y", "note": "billing",
                      "previous_opened_at": "2026-10-01T00:00:00Z", "previous_due_at": "2026-10-02T00:00:00Z"}],
    }  # fmt: skip


def test_an_exception_moved_after_its_first_queues_due_time_counts_that_breach():
    case = _rerouted("2026-10-04T00:00:00Z", "2026-10-04T08:00:00Z")  # on time in finance, 48 h late in channel_ops
    found = core.figures([case], Period.parse("2026-10"), "2026-10-31T00:00:00Z")
    assert found["exception_sla_breaches"]["value"] == 1


def test_an_exception_moved_in_time_and_closed_in_time_is_no_breach():
    case = _rerouted("2026-10-01T12:00:00Z", "2026-10-02T08:00:00Z")  # left channel_ops 12 h in, closed in time
    assert core.figures([case], Period.parse("2026-10"), "2026-10-31T00:00:00Z")["exception_sla_breaches"]["value"] == 0
