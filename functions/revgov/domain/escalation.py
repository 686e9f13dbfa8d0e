"""When an open exception's queue, its lead and the head of the owning team are told (SOP-4.2 / COP-4.2). Pure.

SOP-4.2: "When 75% of an exception's SLA has elapsed, the queue is notified. When the SLA is breached, the exception
is escalated to the queue lead and flagged on the operations dashboard; after twice the SLA it is escalated to the
head of the owning team." COP-4.2: "At 75% of the SLA the queue is reminded; at 100% the exception is escalated to
the queue lead; at 150% to the head of the owning team." Escalation changes who is told, never who may decide.

`exception_routing.escalation` {id, clause, remind_at_percent, lead_at_percent, head_at_percent}: the instants are
fractions of the exception's own SLA window (opened_at → due_at), stamped on the exception when it is opened so that
whoever notifies (the n8n exception-escalation flow) reads them and needs no policy. Approvals carry them too: PA-5.2
"A registration that is not decided within that time is escalated but is not approved by default" (CPA-5.1 "never
approved by default"); the flow escalates approvals past due the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .sla_pause import OPEN, WAITING
from .time import instant, iso


def marks(rule: dict[str, Any], opened_at: str, due_at: str) -> dict[str, str]:
    """The rule and the three instants: queue reminded, escalated to the queue lead, to the head of the team."""
    opened, due = instant(opened_at), instant(due_at)
    window = due - opened

    def at(percent: Any) -> str:
        return iso(opened + window * float(Decimal(str(percent)) / 100))

    return {
        "rule_id": rule["id"],
        "clause": rule["clause"],
        "remind_at": at(rule["remind_at_percent"]),
        "lead_at": at(rule["lead_at_percent"]),
        "head_at": at(rule["head_at_percent"]),
    }


# SOP-4.2 / COP-4.2's ladder in order: (the step an undecided item has reached, the mark at which it is reached)
LADDER = (("queue_reminded", "remind_at"), ("queue_lead", "lead_at"), ("team_head", "head_at"))
IN_QUEUE = "queue"  # within the first part of its SLA: only its queue has it


def current(case: Mapping[str, Any], now: str) -> dict[str, Any] | None:
    """The escalation step an undecided item is at, at `now`, and the next one with the time it is due; None for an
    item decided or without escalation marks. `step` is `queue` (before the reminder), `queue_reminded` (SOP-4.2 "the
    queue is notified"), `queue_lead` ("escalated to the queue lead"), `team_head` ("to the head of the owning team");
    `since` is when it was reached (None for `queue`: since it was opened or entered the queue). An item waiting on its
    partner (SOP-1.3: its clock paused) stays at the step it had when the wait began (`paused: true`); its marks move
    by the wait when the partner replies."""
    marks = case.get("escalation")
    if not marks or case.get("status") not in (OPEN.get(str(case.get("kind"))), WAITING):
        return None
    paused = case.get("status") == WAITING and bool(case.get("waiting"))
    at = instant(case["waiting"]["since"] if paused else now)
    step, since, next_step, next_at = IN_QUEUE, None, None, None
    for name, field in LADDER:
        if instant(marks[field]) <= at:
            step, since = name, marks[field]
        else:
            next_step, next_at = name, marks[field]
            break
    return {"step": step, "since": since, "next_step": next_step, "next_at": next_at, "due_at": case.get("due_at"),
            "paused": paused, "rule_id": marks["rule_id"], "clause": marks["clause"]}
