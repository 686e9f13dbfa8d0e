"""What the code's facts say as metrics: each function turns one kind of fact (a commit, a decision, a copilot answer,
a handler's batch) into records of the metrics declared in `revgov.metrics`. The use cases call these after the fact
is true (committed, answered), so a metric never counts what was rolled back.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from typing import Any

from .domain.sla_pause import clock_seconds
from .domain.time import instant
from .metrics import record

# The copilot's recent outcomes per tenant (1 refused, 0 answered): its live refusal rate, against the baseline.
REFUSAL_WINDOW = 100
_refusals: dict[str, deque[int]] = {}
_refusals_lock = threading.Lock()


def committed(tenant_id: str, audit: list[Any]) -> None:
    """A commit went through: the approvals and exceptions it opened (their audit records name category and queue)."""
    for entry in audit:
        kind, _, verb = str(getattr(entry, "action", "")).partition(".")
        if verb == "opened" and kind in ("approval", "exception"):
            inputs = entry.inputs if isinstance(entry.inputs, dict) else {}
            record(
                "CasesOpened", 1, tenant=tenant_id, kind=kind,
                category=str(inputs.get("category") or ""), queue=str(inputs.get("queue") or ""),
            )


def case_decided(tenant_id: str, case: Mapping[str, Any]) -> None:
    """A person decided an approval or exception: the outcome, the time it took, a breached SLA, and (approved) the
    override it is, per approver and per rule the case cites."""
    decision = case.get("decision") or {}
    kind, queue, outcome = str(case["kind"]), str(case["queue"]), str(decision.get("outcome") or case["status"])
    record("CaseDecisions", 1, tenant=tenant_id, kind=kind, queue=queue, outcome=outcome)
    decided_at = instant(str(decision["at"]))
    seconds = clock_seconds(case, str(decision["at"]))  # waiting on the partner is off the clock (SOP-1.3)
    record("TimeToDecision", seconds, tenant=tenant_id, kind=kind, queue=queue)
    if decided_at > instant(str(case["due_at"])):
        record("ApprovalSlaBreaches", 1, tenant=tenant_id, kind=kind, queue=queue)
    if kind == "approval" and outcome == "approved":
        routing = case["reasons"][0].get("rule_id") if case.get("reasons") else None
        rules = [str(r["rule_id"]) for r in case.get("reasons", [])[1:] if r.get("rule_id")] or [str(routing or "")]
        approver = str(decision.get("by") or "")
        for rule in dict.fromkeys(rules):
            record("Overrides", 1, tenant=tenant_id, approver=approver, rule=rule)


def copilot_answered(
    tenant_id: str, *, refused: bool, rejected_citations: int, seconds: float, top_score: float, baseline: float,
    retrieved: bool = True,
) -> None:
    """One copilot answer or refusal: outcome, rejected citations, latency, best evidence score, refusal drift. An
    answer from a partner's own records (`retrieved=False`) retrieved nothing: it moves neither the evidence score
    nor the refusal drift, both measures of retrieval against its evaluation baseline."""
    record("CopilotAnswers", 1, tenant=tenant_id, outcome="refused" if refused else "answered")
    if rejected_citations:
        record("CitationRejections", rejected_citations, tenant=tenant_id)
    record("CopilotAnswerLatency", seconds * 1000, tenant=tenant_id)
    if not retrieved:
        return
    record("CopilotTopEvidenceScore", top_score, tenant=tenant_id)
    with _refusals_lock:
        window = _refusals.setdefault(tenant_id, deque(maxlen=REFUSAL_WINDOW))
        window.append(1 if refused else 0)
        rate = sum(window) / len(window)
    record("CopilotRefusalDrift", rate - baseline, tenant=tenant_id)


def handler_record(handler: str, bus_event: Any, attributes: dict[str, Any], failed: bool) -> None:
    """One bus event through a queue handler: a failure, and a retry when SQS delivered it before."""
    detail = bus_event.get("detail") if isinstance(bus_event, dict) else None
    tenant = detail.get("tenant_id") if isinstance(detail, dict) else None
    tenant = tenant if isinstance(tenant, str) else None
    if failed:
        record("HandlerFailures", 1, handler=handler, tenant=tenant)
    try:
        receives = int(attributes.get("ApproximateReceiveCount", 1))
    except (TypeError, ValueError):
        receives = 1
    if receives > 1:
        record("HandlerRetries", 1, handler=handler, tenant=tenant)


def dead_lettered(rule: str, bus_event: Any) -> None:
    detail = bus_event.get("detail") if isinstance(bus_event, dict) else None
    tenant = detail.get("tenant_id") if isinstance(detail, dict) else None
    record("DeadLetters", 1, rule=rule, tenant=tenant if isinstance(tenant, str) else None)
