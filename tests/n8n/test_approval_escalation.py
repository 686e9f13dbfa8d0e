"""The escalation flow's approvals branch (n8n-workflows/exception-escalation.json, node "Compose approval
escalation"), run in Node with n8n's luxon on approvals the product opened, at instants on each side of each step.

PA-5.2: "Channel Operations approves or rejects a registration within 2 business days. A registration that is not
decided within that time is escalated but is not approved by default." CPA-5.1: "Channel Operations decides within 3
business days; registrations are never approved by default."
SOP-4.2: "When the SLA is breached, the exception is escalated to the queue lead [...]; after twice the SLA it is
escalated to the head of the owning team. Escalation changes who is notified, never who may approve". COP-4.2: "at
100% the exception is escalated to the queue lead; at 150% to the head of the owning team."
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta
from typing import Any

import pytest
from n8n_harness import ensure_n8n
from test_escalation_steps import RUNNER  # the same Node runner: luxon, $, $input

from memory_store import memory_runtime
from revgov.domain.cases import view
from revgov.services import cases
from support import ROOT

FLOW = json.loads((ROOT / "n8n-workflows" / "exception-escalation.json").read_text())
NODES = {n["name"]: n for n in FLOW["nodes"]}
CODE = NODES["Compose approval escalation"]["parameters"]["jsCode"]
OPENED = "2026-11-02T10:00:00.000Z"  # a Monday


def _sent(approvals: list[dict[str, Any]], as_of: str) -> dict[str, dict[str, Any]]:
    """approval id → the escalation the flow's code composes as of `as_of` (absent: nothing is sent)."""
    luxon = ensure_n8n().parents[2] / "luxon"
    payload = json.dumps({"as_of": as_of, "items": approvals})
    done = subprocess.run(["node", "-e", RUNNER, str(luxon), payload, CODE], capture_output=True, text=True,
                          check=True, timeout=60)  # fmt: skip
    return {item["approval_id"]: item for item in json.loads(done.stdout)}


def _registration_review(tenant: str) -> dict[str, Any]:
    """A deal_registration_review approval the product opened at OPENED, as GET /v1/approvals shows it."""
    rt, _ = memory_runtime(OPENED, tenant=tenant)
    policy = rt.store.get(tenant, "TENANT", "PROFILE").data["config"]["policy"]  # type: ignore[union-attr]
    case, _ = cases.open_case(rt, policy, kind="approval", category="deal_registration_review", subject_kind="deal",
                              subject_id="dl_1", requested_by="sales:key_1")  # fmt: skip
    return view(case)


def _at(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.mark.parametrize(("tenant", "clause", "days", "head_share"),
                         [("northwind", "PA-5.2", 2, 2.0), ("contoso", "CPA-5.1", 3, 1.5)])
def test_an_undecided_registration_goes_to_the_queue_lead_when_due_and_to_the_head_later(tenant, clause, days,
                                                                                         head_share):
    approval = _registration_review(tenant)
    opened, due = datetime.fromisoformat(OPENED), datetime.fromisoformat(approval["due_at"])
    assert due == opened + timedelta(days=days)  # business days, Monday: no weekend in between
    head = opened + (due - opened) * head_share
    one, second = [approval], timedelta(seconds=1)
    assert _sent(one, _at(due - second)) == {}  # decided in time: nothing to escalate
    lead = _sent(one, _at(due))[approval["approval_id"]]
    assert (lead["step"], lead["queue"], lead["rule"]["clause"]) == ("queue_lead", "channel_ops",
                                                                      "SOP-4.2" if tenant == "northwind" else "COP-4.2")
    assert clause in lead["text"] and "Not approved by default" in lead["text"]
    assert _sent(one, _at(head - second))[approval["approval_id"]]["step"] == "queue_lead"
    assert _sent(one, _at(head))[approval["approval_id"]]["step"] == "head_of_team"


def test_an_approval_without_escalation_instants_goes_to_the_head_at_twice_its_window():
    legacy = {"approval_id": "apr_old", "category": "deal_registration_review", "queue": "channel_ops",
              "opened_at": "2026-11-02T10:00:00.000Z", "due_at": "2026-11-04T10:00:00.000Z", "reasons": []}
    assert _sent([legacy], "2026-11-04T09:59:59.000Z") == {}
    assert _sent([legacy], "2026-11-04T10:00:00.000Z")["apr_old"]["step"] == "queue_lead"
    assert _sent([legacy], "2026-11-06T10:00:00.000Z")["apr_old"]["step"] == "head_of_team"


def test_the_branch_reads_pending_approvals_due_before_its_instant_and_posts_only_a_notification():
    """SOP-8.1: "Automated workflows may [...] route exceptions. They may not approve exceptions": the branch reads
    GET /v1/approvals and posts to the notification URL, never to a decision."""
    query = {p["name"]: p["value"] for p in NODES["Approvals past due"]["parameters"]["queryParameters"]["parameters"]}
    assert query["status"] == "pending" and "as_of" in query["due_before"] and query["queue"] == "={{ $json.queue }}"
    assert NODES["Escalate approval"]["parameters"]["url"] == "={{ $('Settings').first().json.notify_url }}"
    wiring = FLOW["connections"]
    assert {"node": "One item per approval queue", "type": "main", "index": 0} in wiring["Settings"]["main"][0]
