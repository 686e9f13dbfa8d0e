"""Bounded agents: scheduled, per tenant, each a small module that reads through an `AgentDesk` and hands in
findings. Each runs from its own Lambda handler `agent_<name>` on the cadence `events/schedules.json` gives it
(EventBridge in AWS, the local scheduler in `revgov dev`), or on demand with `revgov agents run NAME`.

Importing this package is cheap: no agent module is loaded until one runs.
"""

from __future__ import annotations

import importlib
from typing import Any

AGENTS = ("threshold_watcher", "billing_reconciler", "certification_watcher", "discount_drift")


def run(rt: Any, agent: str, tenant_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Run one agent for the named tenants (default: every active tenant); one report per tenant."""
    from ...domain.access import PLATFORM
    from ..tenants import REGISTRY
    from .desk import AgentDesk

    if agent not in AGENTS:
        raise LookupError(f"no agent {agent!r}; agents: {', '.join(AGENTS)}")
    module = importlib.import_module(f"{__name__}.{agent}")
    if tenant_ids is None:
        tenant_ids, cursor = [], None
        while True:
            page = rt.store.query(PLATFORM, REGISTRY, limit=100, cursor=cursor)
            tenant_ids += [item.key for item in page.items if item.data.get("status") == "active"]
            cursor = page.next_cursor
            if not cursor:
                break
    reports = []
    for tenant_id in tenant_ids:
        desk = AgentDesk(rt, agent, tenant_id)
        module.run(desk)
        reports.append(desk.report.as_dict())
    return reports
