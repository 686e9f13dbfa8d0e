"""Bounded agents: scheduled, per tenant, each a small module that reads through an `AgentDesk` and hands in
findings. Each runs from its own Lambda handler `agent_<name>` on the cadence `events/schedules.json` gives it
(EventBridge in AWS, the local scheduler in `revgov dev`), or on demand with `revgov agents run NAME`.

The composition root maps each name to its module's `run` (`runtime.Registry.agents`), built on first use: importing
this package loads no agent module and not the desk (the CLI imports it for the names of the agents).
"""

from __future__ import annotations

from typing import Any

from ...domain.errors import TenantOffboarded
from ...runtime import Runtime
from ..tenant_repository import registry_items

AGENTS = (
    "threshold_watcher",
    "billing_reconciler",
    "certification_watcher",
    "discount_drift",
    "support_margin",
    "milestones_at_risk",
    "discount_churn",
)


def run(rt: Runtime, agent: str, tenant_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Run one agent for the named tenants (default: every active tenant); one report per tenant."""
    if agent not in AGENTS:
        raise LookupError(f"no agent {agent!r}; agents: {', '.join(AGENTS)}")
    # imported here, not at the top: the desk reads through the analytics, billing and rebate services, which the
    # CLI (it lists AGENTS for every command) and the API's cold start do not need
    from .desk import AgentDesk

    work = rt.registry.agents[agent]
    if tenant_ids is None:
        tenant_ids = [item.key for item in registry_items(rt.store) if item.data.get("status") == "active"]
    reports = []
    for tenant_id in tenant_ids:
        desk = AgentDesk(rt, agent, tenant_id)
        try:
            work(desk)
        except TenantOffboarded as gone:  # its offboarding began during the run: left out, the others still run
            if gone.extra.get("tenant_id") != tenant_id:
                raise
            continue
        reports.append(desk.report.as_dict())
    return reports
