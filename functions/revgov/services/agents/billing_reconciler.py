"""Billing reconciler: a fulfilment or activation with no invoice line after the warning time (the policy's
`invoice_sla.warn_hours`: SOP-2.1's 36 hours, COP-2.1's 24; three quarters of the SLA where a policy names none)
becomes an `unbilled_fulfilment` exception for finance, before the SLA is breached. What billing already reported (a
failed or parked event) is left to it; contradictory ledgers are escalated."""

from __future__ import annotations

from typing import Any

from ...domain.agents import Finding
from ...domain.rules import Rule
from .desk import AgentDesk

NAME = "billing_reconciler"
WARN_SHARE = 0.75


def run(desk: AgentDesk) -> None:
    sla = desk.policy.get("billing", {}).get("invoice_sla")
    if not sla:
        return
    warn_after = float(sla.get("warn_hours") or float(sla["hours"]) * WARN_SHARE)
    for watch in desk.unbilled_fulfilments():
        desk.report.looked_at += 1
        if watch["age_hours"] < warn_after or watch.get("breached"):
            continue  # not late yet, or billing's SLA sweep has already raised the breach
        if watch["log_status"] in ("failed", "parked"):
            continue  # billing has opened its own exception, or waits for the activation
        desk.handle(_finding(watch, sla, warn_after))


def _finding(watch: dict[str, Any], sla: dict[str, Any], warn_after: float) -> Finding:
    marker = watch["billed_marker"]
    contradictory = bool(marker and marker.get("line_ids"))
    return Finding(
        agent=NAME,
        key=f"{NAME}#{watch['event_id']}",
        action="exception",
        category="unbilled_fulfilment",
        kind="unbilled_fulfilment",
        title=f"{watch['detail_type']} {watch['erp_event_id']} of {watch['occurred_at']} has no invoice line after "
        f"{watch['age_hours']:.1f} h (warning at {warn_after:.0f} h, SLA {sla['hours']} h, due {watch['due_at']})",
        subject={"kind": "erp_event", "id": watch["event_id"]},
        partner_id=watch.get("partner_id"),
        evidence={
            "erp_event_id": watch["erp_event_id"],
            "detail_type": watch["detail_type"],
            "occurred_at": watch["occurred_at"],
            "due_at": watch["due_at"],
            "age_hours": watch["age_hours"],
            "event_log_status": watch["log_status"],
            "billing_marker": marker,
            "rule": {"rule_id": sla["id"], "clause": sla["clause"]},
        },
        confidence=0.4 if contradictory else 0.95,
        rules=(Rule.of(sla),),  # SOP-2.1 / COP-2.1: the invoicing SLA and its warning
        why_unsure="billing marks the event as settled with lines, yet its SLA watch is still open"
        if contradictory
        else None,
    )
