"""Tasks: work that agents open for a team (with the evidence and a drafted message), listed by `GET /v1/tasks`.

A task never approves, settles or changes anything: a person of the named queue reads it and acts through the
product. Each task is opened once per finding (its `dedupe_key`), whatever the number of agent runs.
"""

from __future__ import annotations

from typing import Any

from ..domain.audit import AuditEntry
from ..ports import Changes, DomainEvent, Page, Put
from ..runtime import Runtime

TASKS = "TASK"
TASK_KEYS = "TASKKEY"  # dedupe key -> the task (or escalation) opened for that finding


def new_task(
    rt: Runtime,
    *,
    agent: str,
    kind: str,
    queue: str,
    title: str,
    dedupe_key: str,
    subject: dict[str, Any],
    partner_id: str | None,
    evidence: dict[str, Any],
    confidence: float,
    draft_message: dict[str, Any] | None,
    escalated: bool,
) -> tuple[dict[str, Any], Changes]:
    """The task and the changes that open it (its dedupe guard, its audit record, its event)."""
    now = rt.clock.now_iso()
    task = {
        "task_id": rt.ids.new("tsk"),
        "agent": agent,
        "kind": kind,
        "queue": queue,
        "status": "open",
        "title": title,
        "subject": subject,
        "partner_id": partner_id,
        "evidence": evidence,
        "confidence": round(confidence, 4),
        "escalated": escalated,
        "draft_message": draft_message,
        "dedupe_key": dedupe_key,
        "opened_at": now,
        "opened_by": f"agent:{agent}",
    }
    changes = Changes(
        puts=[
            Put(TASK_KEYS, dedupe_key, {"task_id": task["task_id"], "agent": agent}, must_be_absent=True,
                conflict_detail=f"a task for {dedupe_key} is already open"),
            Put(TASKS, task["task_id"], task, lookup=(f"{TASKS}#open", f"{queue}#{now}#{task['task_id']}")),
        ],
        audit=[
            AuditEntry(
                actor=f"agent:{agent}",
                actor_role="agent",
                action="task.escalated" if escalated else "task.opened",
                subject=task["task_id"],
                outcome="escalated" if escalated else "open",
                inputs=_exact(
                    {"kind": kind, "queue": queue, "subject": subject, "partner_id": partner_id,
                     "confidence": task["confidence"], "evidence": evidence, "dedupe_key": dedupe_key}
                ),
            )
        ],
        events=[
            DomainEvent(
                "revgov.agents",
                "task.opened",
                {"task_id": task["task_id"], "agent": agent, "kind": kind, "queue": queue, "escalated": escalated,
                 "partner_id": partner_id},
            )
        ],
    )
    return task, changes


def _exact(value: Any) -> Any:
    """Audit inputs are canonical JSON, which has no floats: probabilities and hours go in as decimal strings."""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_exact(v) for v in value]
    return value


def already_opened(rt: Runtime, tenant_id: str, dedupe_key: str) -> bool:
    return rt.store.get(tenant_id, TASK_KEYS, dedupe_key) is not None


def list_tasks(rt: Runtime, tenant_id: str, *, queue: str | None, limit: int, cursor: str | None) -> Page:
    return rt.store.lookup(
        tenant_id, f"{TASKS}#open", limit=limit, cursor=cursor, prefix=f"{queue}#" if queue else ""
    )
