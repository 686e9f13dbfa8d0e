"""An exception rerouted to another queue starts a new SLA clock there and keeps its original entry time (SOP-1.3 /
COP-1.3). Pure.

SOP-1.3: "Reassigning an item to another member of the same queue does not restart its clock; rerouting it to another
queue starts a new clock for that queue and records the original entry time." COP-1.3: "Moving an item within a queue
keeps its clock; moving it to another queue starts a new clock for that queue and keeps the original entry time for
reporting." SOP-4.1: "An item that matches no category goes to channel_ops for triage": triage names the category,
and the policy's route for it gives the queue and its SLA.

Only exceptions are rerouted: an approval's category decides who may approve it (SOP-4.3 / SOP-4.4), so moving it to
another queue would change its approver. A move within the same queue is no reroute: its clock is kept (refused
here, nothing changes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .access import Principal
from .cases import Route
from .errors import Conflict, FieldError, Forbidden, RuleViolation
from .escalation import marks
from .sla_pause import OPEN


def reroute(case: Mapping[str, Any], who: Principal, route: Route, queue_role: str, note: str, at: str,
            ladder: dict[str, Any] | None) -> dict[str, Any]:  # fmt: skip
    """The exception moved to `route`'s queue (its category's): a new clock from `at` with that route's SLA, the
    original entry time kept in `entered_at`, the move recorded in `reroutes`; the SOP-4.2 / COP-4.2 escalation
    instants stamped again on the new clock when the policy has a ladder."""
    if case["kind"] != "exception":
        raise RuleViolation(f"an {case['kind']} is not rerouted: its category decides who may decide it (SOP-4.3)")
    if case["status"] != OPEN["exception"]:
        raise Conflict(f"exception {case['case_id']} is {case['status']}: only an open exception is rerouted",
                       extra={"current_status": case["status"]})  # fmt: skip
    if who.role.value != queue_role:
        raise Forbidden(f"only the {case['queue']} queue ({queue_role} role) reroutes this exception")
    if route.queue == case["queue"]:
        raise RuleViolation(
            f"{route.category} is routed to {route.queue}, the exception's own queue: a move within a queue keeps its "
            "clock (SOP-1.3 / COP-1.3); nothing to reroute",
            errors=[FieldError("/category", f"routed to {route.queue}, the exception's own queue")],
        )
    if not note.strip():
        raise RuleViolation("a reroute states why", errors=[FieldError("/note", "must not be blank")])
    moved = {
        "from_queue": case["queue"], "from_category": case["category"], "to_queue": route.queue,
        "to_category": route.category, "at": at, "by": who.actor, "note": note,
        "previous_opened_at": case["opened_at"], "previous_due_at": case["due_at"],
    }  # fmt: skip
    rerouted: dict[str, Any] = {
        **case,
        "category": route.category,
        "queue": route.queue,
        "sla_hours": route.sla_hours,
        "sla_business_days": route.sla_business_days,
        "entered_at": case.get("entered_at") or case["opened_at"],
        "opened_at": at,
        "due_at": route.due(at),
        "reasons": [
            {"rule_id": route.rule_id, "clause": route.clause, "message": f"rerouted to {route.queue}"},
            *case["reasons"][1:],
        ],
        "reroutes": [*case.get("reroutes", []), moved],
        "paused_seconds": 0,  # a new clock: the old queue's waits stay in `pauses`
    }
    if ladder:
        rerouted["escalation"] = marks(ladder, at, rerouted["due_at"])
    return rerouted
