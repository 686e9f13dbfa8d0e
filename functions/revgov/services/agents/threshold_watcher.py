"""Threshold watcher: partners likely to miss a volume threshold this quarter get a task for channel ops, with the
forecast as evidence and a drafted note to the partner. Short history means an unsure forecast: escalated."""

from __future__ import annotations

from typing import Any

from ...domain.agents import Finding, note_to_partner
from ...domain.billing import quarter_of
from ...domain.money import parse_money  # the forecast's figures are decimal strings: never compared as float
from ...domain.rules import Rule
from .desk import AgentDesk

NAME = "threshold_watcher"
LIKELY = 0.5  # P(miss) from which a partner is "likely to miss"
FULL_HISTORY_MONTHS = 6  # months of the partner's own history behind a fully trusted forecast


def run(desk: AgentDesk) -> None:
    period = quarter_of(desk.today)
    for partner in desk.active_partners():
        desk.report.looked_at += 1
        outlook = desk.forecast(partner, period)
        by_program: dict[str, dict[str, Any]] = {}
        for threshold in outlook["thresholds"]:  # per program, the lowest level not yet reached
            if parse_money(threshold["threshold"]) > parse_money(outlook["to_date"]):
                by_program.setdefault(threshold["program_id"], threshold)
        for threshold in by_program.values():
            if threshold["p_miss"] >= LIKELY:
                desk.handle(_finding(partner, period, outlook, threshold))


def _note(partner: dict[str, Any], period: str, outlook: dict[str, Any], threshold: dict[str, Any]) -> dict[str, Any]:
    """The drafted note to the partner: where it stands, what the level needs, and the projection."""
    gap = parse_money(threshold["threshold"]) - parse_money(outlook["to_date"])
    return note_to_partner(
        partner,
        f"Your {period} progress toward {threshold['program']}",
        f"You have invoiced {outlook['to_date']} so far in {period}; {threshold['program']} ({threshold['level']}) "
        f"needs {threshold['threshold']}, {gap:.2f} more. At the current pace the quarter is projected at "
        f"{outlook['projected']}. Could we plan the rest of the quarter together?",
    )


def _finding(partner: dict[str, Any], period: str, outlook: dict[str, Any], threshold: dict[str, Any]) -> Finding:
    months = outlook["history_months"]
    confidence = min(1.0, months / FULL_HISTORY_MONTHS)
    name = partner.get("legal_name", partner["partner_id"])
    figures = {k: outlook[k] for k in ("to_date", "projected", "interval_80", "elapsed_percent")}
    evidence = {"period": period, "threshold": threshold, **figures, "history_months": months,
                "method": outlook["method"]}
    return Finding(
        NAME,
        f"{NAME}#{partner['partner_id']}#{threshold['program_id']}#{period}",
        "task",
        f"{name} is likely to miss {threshold['program']} ({threshold['level']}) in {period}: "
        f"P(miss) {threshold['p_miss']:.0%}",
        {"kind": "partner", "id": partner["partner_id"]},
        evidence,
        confidence,
        kind="threshold_at_risk",
        partner_id=partner["partner_id"],
        why_unsure=None if confidence >= 1 else f"only {months} month(s) of the partner's own history",
        draft_message=_note(partner, period, outlook, threshold),
        rules=(Rule(threshold["program_id"], threshold["clause"]),),  # the rebate program's level (PA-7.2 / CPA-7.2)
    )
