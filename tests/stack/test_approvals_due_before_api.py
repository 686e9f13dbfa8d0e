"""GET /v1/approvals?due_before= over HTTP: bad instants are a 400 naming the parameter; a good one filters.

PA-5.2: "A registration that is not decided within that time is escalated but is not approved by default": the
escalation flow asks for the pending approvals due before its instant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from support import assert_problem

pytestmark = pytest.mark.stack


def test_due_before_takes_a_utc_instant_only_and_lists_nothing_due_later(stack: Any, api: Any):
    ops = api.as_key(stack.info["tenants"]["northwind"]["keys"]["channel_ops"])
    for bad in ("2026-02-30T00:00:00Z", "2026-11-02T10:00:00+01:00", "2026-11-02", "yesterday", "2026-11-02T10:00:00"):
        problem = assert_problem(ops.get("/v1/approvals", status="pending", due_before=bad), 400)
        assert [e["path"] for e in problem["errors"]] == ["/query/due_before"], (bad, problem)
    now = stack.runtime.clock.now_iso()
    listed = ops.get("/v1/approvals", status="pending", queue="channel_ops", due_before=now, limit=200)
    assert listed.status_code == 200, listed.text
    cutoff = datetime.fromisoformat(now.replace("Z", "+00:00"))
    assert all(datetime.fromisoformat(a["due_at"].replace("Z", "+00:00")) < cutoff for a in listed.json()["items"])
