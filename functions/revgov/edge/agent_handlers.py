"""The bounded agents' scheduled Lambda handlers (`agent_<name>`, events/schedules.json), one per agent of
revgov.services.agents; `revgov.edge.handlers` re-exports them for app.py and the local scheduler."""

from __future__ import annotations

from typing import Any

from ..bootstrap import runtime
from ..logs import logger
from .api import app
from .scheduled import scheduled


def _agent(name: str) -> dict[str, Any]:
    """Run one bounded agent for every active tenant: it opens tasks and exceptions, or escalates; it never
    approves, settles or prices (see revgov.services.agents.desk)."""
    from ..services import agents

    with scheduled(f"agent-{name.replace('_', '-')}"):
        reports = agents.run(runtime(), name)
    logger.info("agent ran", extra={"agent": name, "reports": reports})
    return {"agent": name, "reports": reports}


@app.lambda_function(name="agent_threshold_watcher")
def agent_threshold_watcher(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled: partners likely to miss a volume threshold this quarter -> a task for channel ops."""
    return _agent("threshold_watcher")


@app.lambda_function(name="agent_billing_reconciler")
def agent_billing_reconciler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled: fulfilments or activations still unbilled at 3/4 of the invoice SLA -> an exception for finance."""
    return _agent("billing_reconciler")


@app.lambda_function(name="agent_certification_watcher")
def agent_certification_watcher(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled: certifications expired or lapsing on live deal registrations -> an exception or a task."""
    return _agent("certification_watcher")


@app.lambda_function(name="agent_discount_drift")
def agent_discount_drift(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled: a significant rise of the override rate -> a task for finance."""
    return _agent("discount_drift")


@app.lambda_function(name="agent_support_margin")
def agent_support_margin(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled: support hours per net margin dollar rising significantly -> a task for customer success."""
    return _agent("support_margin")


@app.lambda_function(name="agent_milestones_at_risk")
def agent_milestones_at_risk(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled: a statement of work's next milestone later than the tenant's pace -> a task, billing at risk."""
    return _agent("milestones_at_risk")


@app.lambda_function(name="agent_discount_churn")
def agent_discount_churn(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled: an override rate rising where the tenant's history links that to churn -> a triage task."""
    return _agent("discount_churn")
