"""The exception-escalation flow's step code (n8n-workflows/exception-escalation.json, node "Due soon or overdue"),
run in Node with n8n's luxon at fixed instants on each side of each step.

SOP-4.2: "When 75% of an exception's SLA has elapsed, the queue is notified. When the SLA is breached, the exception
is escalated to the queue lead and flagged on the operations dashboard; after twice the SLA it is escalated to the
head of the owning team." COP-4.2: "At 75% of the SLA the queue is reminded; at 100% the exception is escalated to
the queue lead; at 150% to the head of the owning team."
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from typing import Any

import pytest
from n8n_harness import ensure_n8n

from memory_store import memory_runtime
from revgov.services import cases
from support import ROOT

FLOW = json.loads((ROOT / "n8n-workflows" / "exception-escalation.json").read_text())
CODE = next(n for n in FLOW["nodes"] if n["name"] == "Due soon or overdue")["parameters"]["jsCode"]
RUNNER = """
const { DateTime } = require(process.argv[1]);
const input = JSON.parse(process.argv[2]);
const $ = () => ({ first: () => ({ json: { as_of: input.as_of } }) });
const $input = { all: () => input.items.map((json) => ({ json })) };
const step = new Function('DateTime', '$', '$input', process.argv[3]);
process.stdout.write(JSON.stringify(step(DateTime, $, $input).map((i) => i.json)));
"""


def _steps(exceptions: list[dict[str, Any]], as_of: str) -> dict[str, str]:
    """exception id → the step the flow's code says it reached as of `as_of` (absent: nothing to send yet)."""
    luxon = ensure_n8n().parents[2] / "luxon"
    payload = json.dumps({"as_of": as_of, "items": exceptions})
    done = subprocess.run(["node", "-e", RUNNER, str(luxon), payload, CODE], capture_output=True, text=True,
                          check=True, timeout=60)  # fmt: skip
    return {item["exception_id"]: item["step"] for item in json.loads(done.stdout)}


def _exception(tenant: str) -> dict[str, Any]:
    """An exception opened by the product at 2026-11-02T10:00Z under the tenant's policy (4 h or 8 h SLA)."""
    rt, _ = memory_runtime("2026-11-02T10:00:00.000Z", tenant=tenant)
    policy = rt.store.get(tenant, "TENANT", "PROFILE").data["config"]["policy"]  # type: ignore[union-attr]
    case, _ = cases.open_case(rt, policy, kind="exception", category="invoice_sla_breach", subject_kind="erp_event",
                              subject_id="evt_1", requested_by="system:test")  # fmt: skip
    return {**case, "exception_id": case["case_id"]}


@pytest.mark.parametrize(("tenant", "head_share"), [("northwind", 2.0), ("contoso", 1.5)])
def test_sop_4_2_the_queue_at_75_percent_the_lead_at_breach_the_head_at_twice_or_150_percent(tenant, head_share):
    exception = _exception(tenant)
    clause = "SOP-4.2" if tenant == "northwind" else "COP-4.2"
    assert exception["escalation"]["clause"] == clause
    sla_ms = (int(exception["sla_hours"]) * 3600) * 1000
    opened = 1793613600000  # 2026-11-02T10:00:00Z

    def at(share: float, delta_ms: int) -> str:
        moment = datetime.fromtimestamp((opened + int(sla_ms * share) + delta_ms) / 1000, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    one = [exception]
    assert _steps(one, at(0.75, -1000)) == {}  # before 75%: nothing is sent
    assert _steps(one, at(0.75, 0)) == {exception["exception_id"]: "queue"}
    assert _steps(one, at(1.0, -1000)) == {exception["exception_id"]: "queue"}
    assert _steps(one, at(1.0, 0)) == {exception["exception_id"]: "queue_lead"}
    assert _steps(one, at(head_share, -1000)) == {exception["exception_id"]: "queue_lead"}
    assert _steps(one, at(head_share, 0)) == {exception["exception_id"]: "head_of_team"}


def test_an_exception_without_escalation_instants_is_judged_at_75_100_and_200_percent_of_its_window():
    legacy = {"exception_id": "exc_old", "opened_at": "2026-11-02T10:00:00.000Z", "due_at": "2026-11-02T18:00:00.000Z"}
    assert _steps([legacy], "2026-11-02T15:59:59.000Z") == {}
    assert _steps([legacy], "2026-11-02T16:00:00.000Z") == {"exc_old": "queue"}
    assert _steps([legacy], "2026-11-02T18:00:00.000Z") == {"exc_old": "queue_lead"}
    assert _steps([legacy], "2026-11-03T02:00:00.000Z") == {"exc_old": "head_of_team"}
