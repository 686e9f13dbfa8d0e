"""An approval or exception assigned to a member of its queue keeps its SLA clock (SOP-1.3 / COP-1.3). Pure.

SOP-1.3: "Reassigning an item to another member of the same queue does not restart its clock". COP-1.3: "Moving an
item within a queue keeps its clock". SOP-1.2 / COP-1.2: "A member of a queue may act only on items in that queue".
A queue's members are the tenant's live keys of the queue's role. Assigning says who works the item; it never
changes who may decide it (SOP-4.2: "Escalation changes who is notified, never who may approve").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .access import Principal
from .errors import Conflict, FieldError, Forbidden, RuleViolation
from .sla_pause import OPEN, WAITING


def assign(case: Mapping[str, Any], who: Principal, queue_role: str, key: Mapping[str, Any] | None, assignee: str,
           note: str | None, at: str, *, holders: frozenset[str] = frozenset(),
           segregation: Mapping[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """The case with `assignee` (a key of the tenant, as stored, or None when there is none) as its assignee, the
    step kept in `assignments`; every field of its clock untouched. `holders`: the keys whose holder also holds the
    assignee's key (services/key_lineage.py); the requester's among them is refused (SOP-4.3 / COP-4.3: "A requester
    can never approve their own request": the item is not handed to the one member who may not decide it)."""
    if case["status"] not in (OPEN[case["kind"]], WAITING):
        raise Conflict(f"{case['kind']} {case['case_id']} is {case['status']}: only an undecided item is assigned",
                       extra={"current_status": case["status"]})  # fmt: skip
    if who.role.value != queue_role:
        raise Forbidden(f"only the {case['queue']} queue ({queue_role} role) assigns this {case['kind']}")
    member = key is not None and key.get("role") == queue_role and not key.get("revoked_at")
    if not member:
        raise RuleViolation(
            f"{assignee} is not a member of the {case['queue']} queue: a live key of the {queue_role} role",
            errors=[FieldError("/assignee", f"not a live {queue_role} key of this tenant")],
        )
    requester = case.get("requested_by_key")
    if requester and requester in {assignee, *holders}:
        clause = (segregation or {}).get("clause") or case["reasons"][0]["clause"]
        raise RuleViolation(
            f"{assignee} holds the key that requested {case['kind']} {case['case_id']}: a requester can never "
            f"decide their own request ({clause}), so it is not assigned to them",
            errors=[FieldError("/assignee", f"the requester's key, or one in the requester's hands ({clause})")],
        )
    current = (case.get("assignee") or {}).get("key_id")
    if current == assignee:
        raise RuleViolation(f"{case['kind']} {case['case_id']} is already assigned to {assignee}",
                            errors=[FieldError("/assignee", "already the assignee")])  # fmt: skip
    label = str((key or {}).get("label") or "")
    step = {"from": current, "to": assignee, "at": at, "by": who.actor, "note": note}
    return {
        **case,
        "assignee": {"key_id": assignee, "label": label, "since": at, "by": who.actor},
        "assignments": [*case.get("assignments", []), step],
    }
