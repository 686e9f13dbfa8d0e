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

from decimal import Decimal
from typing import Any

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
