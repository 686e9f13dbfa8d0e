"""Tasks: work that agents open for a team (with the evidence and a drafted message), listed by `GET /v1/tasks`.

A task never approves, settles or changes anything: a person of the named queue reads it and acts through the
product. Each task is opened once per finding (its `dedupe_key`), whatever the number of agent runs.
"""

from __future__ import annotations

from typing import Any, TypedDict

from ..domain.audit import AuditEntry
from ..domain.rules import Rule
from ..ports import Changes, DomainEvent, Page, Put
from ..runtime import Runtime

TASKS = "TASK"
TASK_KEYS = "TASKKEY"  # dedupe key -> the task (or escalation) opened for that finding


class Task(TypedDict):
    """`schemas/api/responses/task.schema.json`."""

    task_id: str
    agent: str
    kind: str
    finding_kind: str  # the finding's own kind; an escalation's `kind` is "escalation" (docs/kpis.md)
    queue: str
    status: str
    title: str
    subject: dict[str, Any]
    partner_id: str | None
    evidence: dict[str, Any]
    confidence: float
    escalated: bool
    draft_message: dict[str, Any] | None
    dedupe_key: str
    opened_at: str
    opened_by: str


def _opened(task: Task, rules: tuple[Rule, ...], policy_version: str | None) -> Changes:
    """The changes that open `task`: its dedupe guard, the task listed open in its queue, its audit record (citing
    the rules the agent acted on, PA-14.2 / CPA-14.2, under the policy version it read them in), its event."""
    agent, task_id, escalated = task["agent"], task["task_id"], task["escalated"]
    inputs = {"kind": task["kind"], "finding_kind": task["finding_kind"], "queue": task["queue"],
              "subject": task["subject"], "partner_id": task["partner_id"], "confidence": task["confidence"],
              "evidence": task["evidence"], "dedupe_key": task["dedupe_key"]}
    detail = {"task_id": task_id, "agent": agent, "kind": task["kind"], "finding_kind": task["finding_kind"],
              "queue": task["queue"], "escalated": escalated,
              "partner_id": task["partner_id"]}
    return Changes(
        puts=[
            Put(TASK_KEYS, task["dedupe_key"], {"task_id": task_id, "agent": agent}, must_be_absent=True,
                conflict_detail=f"a task for {task['dedupe_key']} is already open"),
            Put(TASKS, task_id, dict(task), lookup=(f"{TASKS}#open", f"{task['queue']}#{task['opened_at']}#{task_id}")),
        ],
        audit=[AuditEntry(actor=task["opened_by"], actor_role="agent",
                          action="task.escalated" if escalated else "task.opened", subject=task_id,
                          outcome="escalated" if escalated else "open", inputs=_exact(inputs),
                          policy_version=policy_version, rule_ids=tuple(r.rule_id for r in rules),
                          clauses=tuple(r.clause for r in rules))],
        events=[DomainEvent("revgov.agents", "task.opened", detail)],
    )


def new_task(
    rt: Runtime,
    *,
    agent: str,
    kind: str,
    queue: str,
    title: str,
    finding_kind: str | None = None,
    dedupe_key: str,
    subject: dict[str, Any],
    partner_id: str | None,
    evidence: dict[str, Any],
    confidence: float,
    draft_message: dict[str, Any] | None,
    escalated: bool,
    rules: tuple[Rule, ...],
    policy_version: str | None = None,
) -> tuple[dict[str, Any], Changes]:
    """The task and the changes that open it (its dedupe guard, its audit record citing `rules` under
    `policy_version`, its event). `finding_kind`: the finding's own kind when `kind` is not it (an escalation)."""
    task = Task(
        task_id=rt.ids.new("tsk"),
        agent=agent,
        kind=kind,
        finding_kind=finding_kind or kind,
        queue=queue,
        status="open",
        title=title,
        subject=subject,
        partner_id=partner_id,
        evidence=evidence,
        confidence=round(confidence, 4),
        escalated=escalated,
        draft_message=draft_message,
        dedupe_key=dedupe_key,
        opened_at=rt.clock.now_iso(),
        opened_by=f"agent:{agent}",
    )
    return dict(task), _opened(task, rules, policy_version)


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
