"""What a desk reads of each item in its queue: the escalation step it is at now and when the next one is due; and what
a partner reads of its own item: which desk has it, never which person.

SOP-4.2: "When 75% of an exception's SLA has elapsed, the queue is notified. When the SLA is breached, the exception
is escalated to the queue lead and flagged on the operations dashboard; after twice the SLA it is escalated to the
head of the owning team. Escalation changes who is notified, never who may approve". COP-4.2: "At 75% of the SLA the
queue is reminded; at 100% the exception is escalated to the queue lead; at 150% to the head of the owning team."
SOP-1.3: an item waiting on the partner has its clock paused. SOP-4.1: `compliance_screening_match` | legal | 24 h
(COP-4.1: 24 h too). docs/onboarding.md / PA-11.1: a partner reads which team acted, never which key (the
Distributor's own). The list is read on the clock at the time of the test (fixed, in memory).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.edge.registry import OPERATIONS
from revgov.edge.routes import cases as case_routes  # noqa: F401  (declares the queue operations)
from revgov.ports import Changes, Put
from revgov.services import case_assignment, case_waiting, cases, tenants

P1 = "ptr_01JBNWPARTNER0000000000001"
SALES = Principal("northwind", Role.SALES, "key_sales")
LEGAL_KEY = "key_01JBNWLEGALDESK000000000A"


def _opened(tenant: str) -> tuple[Any, Any, dict[str, Any]]:
    rt, clock = memory_runtime("2026-11-02T08:00:00Z", tenant=tenant)
    policy = tenants.load_tenant(rt, tenant)[0].policy
    rt.store.commit(tenant, Changes(puts=[Put("PARTNER", P1, {"partner_id": P1, "legal_name": "Queue Probe LLC",
                                                              "partner_type": "reseller", "status": "active"})]))
    case, changes = cases.open_case(rt, policy, kind="exception", category="compliance_screening_match",
                                    subject_kind="partner", subject_id=P1, requested_by=SALES, partner_id=P1)
    rt.commit(tenant, changes)
    return rt, clock, case


def _listed(rt: Any, tenant: str, case_id: str, status: str = "open") -> dict[str, Any]:
    """The item as GET /v1/exceptions?status= answers it (the operation itself, on this runtime)."""
    op = next(o for o in OPERATIONS if o.name == "list_exceptions")
    call = SimpleNamespace(runtime=rt, who=Principal(tenant, Role.LEGAL, LEGAL_KEY), query={"status": status},
                           limit=50, cursor=None, params={})  # fmt: skip
    page = op.handler(call)
    return next(item for item in page["items"] if item["exception_id"] == case_id)


@pytest.mark.parametrize(("tenant", "head_hours"), [("northwind", 48), ("contoso", 36)])
def test_the_list_shows_each_items_current_escalation_step_and_when_the_next_is_due(tenant: str,
                                                                                     head_hours: int) -> None:
    rt, clock, case = _opened(tenant)  # opened 2026-11-02 08:00, 24 h SLA: due 2026-11-03 08:00
    assert case["due_at"].startswith("2026-11-03T08:00:00")
    first = _listed(rt, tenant, case["case_id"])["escalation_step"]
    assert (first["step"], first["since"], first["next_step"]) == ("queue", None, "queue_reminded")
    assert first["next_at"].startswith("2026-11-03T02:00:00")  # 75 % of 24 h = 18 h after opening
    clock.set("2026-11-03T02:00:00Z")  # 75 %: "the queue is notified"
    assert _listed(rt, tenant, case["case_id"])["escalation_step"]["step"] == "queue_reminded"
    clock.set("2026-11-03T08:00:01Z")  # breached: "escalated to the queue lead"
    lead = _listed(rt, tenant, case["case_id"])["escalation_step"]
    assert (lead["step"], lead["next_step"]) == ("queue_lead", "team_head")
    # SOP-4.2 "after twice the SLA" (48 h); COP-4.2 "at 150%" (36 h): the head of the owning team
    assert lead["next_at"].startswith(f"2026-11-0{2 + (8 + head_hours) // 24}T{(8 + head_hours) % 24:02d}:00:00")
    clock.set(lead["next_at"])
    head = _listed(rt, tenant, case["case_id"])["escalation_step"]
    assert (head["step"], head["next_step"], head["next_at"]) == ("team_head", None, None)
    assert head["clause"] == ("SOP-4.2" if tenant == "northwind" else "COP-4.2")


def test_an_item_waiting_on_its_partner_stays_at_its_step_and_the_partner_reads_only_the_desk() -> None:
    rt, clock, case = _opened("northwind")
    legal = Principal("northwind", Role.LEGAL, LEGAL_KEY)
    rt.store.commit("northwind", Changes(puts=[Put("KEY", LEGAL_KEY, {"key_id": LEGAL_KEY, "role": "legal",
                                                                          "label": "Ana Legal"})]))  # fmt: skip
    case_assignment.assign(rt, legal, "exception", case["case_id"], LEGAL_KEY, "mine")
    clock.set("2026-11-03T03:00:00Z")  # reminded at 02:00
    case_waiting.ask_partner(rt, legal, "exception", case["case_id"], "Who are your beneficial owners?")
    clock.set("2026-11-05T09:00:00Z")  # days later, still waiting: the clock is paused, no escalation
    step = _listed(rt, "northwind", case["case_id"], "waiting_on_partner")["escalation_step"]
    assert (step["step"], step["paused"]) == ("queue_reminded", True)
    partner = Principal("northwind", Role.PARTNER, "key_p1", partner_id=P1)
    items, _ = case_waiting.waiting_on(rt, partner, None, limit=10, cursor=None)
    (mine,) = [i for i in items if i["exception_id"] == case["case_id"]]
    assert mine["desk"] == {"queue": "legal", "assigned": True}
    assert LEGAL_KEY not in repr(mine) and "Ana Legal" not in repr(mine)  # never the person
    replied = case_waiting.partner_reply(rt, partner, "exception", case["case_id"], "Harbor Capital LP, 40%")
    assert replied["desk"] == {"queue": "legal", "assigned": True}
    assert LEGAL_KEY not in repr(replied) and "Ana Legal" not in repr(replied)
