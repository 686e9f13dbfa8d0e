"""GET /v1/approvals?due_before=: the pending approvals an escalation flow polls, on the in-memory engine.

PA-5.2: "Channel Operations approves or rejects a registration within 2 business days. A registration that is not
decided within that time is escalated but is not approved by default." SOP-4.2: "Escalation changes who is notified,
never who may approve". The filter lists what is past due; approvals carry their SOP-4.2 instants like exceptions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from memory_store import memory_runtime
from revgov.services import cases

MONDAY = "2026-11-02T10:00:00.000Z"


def _open(rt: Any, clock: Any, at: str, category: str) -> str:
    clock.set(at)
    policy = rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]
    case, changes = cases.open_case(rt, policy, kind="approval", category=category, subject_kind="deal",
                                    subject_id=f"dl_{at}", requested_by="sales:key_1")  # fmt: skip
    rt.commit("northwind", changes)
    return str(case["case_id"])


def _listed(rt: Any, *, queue: str | None, due_before: str, limit: int = 200, cursor: str | None = None) -> Any:
    return cases.list_cases(rt, "northwind", "approval", status="pending", queue=queue, limit=limit, cursor=cursor,
                            due_before=datetime.fromisoformat(due_before))


def test_only_approvals_due_before_the_instant_are_listed_with_or_without_a_queue():
    rt, clock = memory_runtime(MONDAY)
    first = _open(rt, clock, MONDAY, "deal_registration_review")  # 2 business days (PA-5.2): due Wednesday 10:00
    later = _open(rt, clock, "2026-11-03T10:00:00.000Z", "deal_registration_review")  # due Thursday 10:00
    finance = _open(rt, clock, MONDAY, "credit_note_approval")  # 24 h (SOP-2.5): due Tuesday 10:00
    wednesday = "2026-11-04T10:00:00.000Z"
    assert [i.key for i in _listed(rt, queue="channel_ops", due_before=wednesday).items] == []  # due at, not before
    thursday = "2026-11-05T09:00:00.000Z"
    assert [i.key for i in _listed(rt, queue="channel_ops", due_before=thursday).items] == [first]
    assert {i.key for i in _listed(rt, queue=None, due_before=thursday).items} == {first, finance}
    friday = "2026-11-06T00:00:00.000Z"
    page = _listed(rt, queue="channel_ops", due_before=friday, limit=1)
    assert [i.key for i in page.items] == [first] and page.next_cursor
    rest = _listed(rt, queue="channel_ops", due_before=friday, limit=1, cursor=page.next_cursor)
    assert [i.key for i in rest.items] == [later]


def test_an_approval_carries_its_escalation_instants_like_an_exception():
    """SOP-4.2: the queue lead at the breach, the head of the owning team after twice the SLA."""
    rt, clock = memory_runtime(MONDAY)
    approval_id = _open(rt, clock, MONDAY, "deal_registration_review")
    stored = cases.find(rt, "northwind", approval_id)
    assert stored is not None
    assert stored.data["escalation"] == {"rule_id": "ROUTE-ESCALATION", "clause": "SOP-4.2",
                                         "remind_at": "2026-11-03T22:00:00.000Z",
                                         "lead_at": "2026-11-04T10:00:00.000Z",
                                         "head_at": "2026-11-06T10:00:00.000Z"}
