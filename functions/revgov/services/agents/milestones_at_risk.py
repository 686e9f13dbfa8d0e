"""Milestones at risk: a statement of work whose next milestone (PA-10.6 / CPA-10.5 milestone billing) is later than
the tenant's own pace gets a task with the billing at risk. SOP-4.1 / COP-4.1 have no category for it, and "an item
that matches no category goes to channel_ops for triage": the task goes to the triage route's queue, citing the
milestone schedule and that route. The agent changes no invoice: billing bills the milestone when it is accepted.
The test is in `revgov.domain.agents_milestones` (a rank test against the other statements of work's steps); a step
later than 1.5 × the median step but not significant at 95 % (or judged on few reference steps) is escalated."""

from __future__ import annotations

from ...domain.agents import Finding
from ...domain.agents_milestones import (
    MilestoneRisk,
    StatementOfWork,
    milestone_risk,
    milestone_schedule,
    statement_of_work,
    step_durations,
)
from ...domain.cases import route_for
from ...domain.money import format_money
from ...domain.rules import Rule
from .desk import AgentDesk

NAME = "milestones_at_risk"
REQUIRED = 0.95  # chosen on the tuning histories (tests/agents_eval.py): false tasks on fair histories ~1 %
CATEGORY = "milestone_at_risk"  # not a SOP-4.1 / COP-4.1 category: routed to triage


def run(desk: AgentDesk) -> None:
    node = desk.policy.get("billing", {}).get("milestones")
    if not node:
        return
    schedule = milestone_schedule(node)
    sows = [sow for sow in map(statement_of_work, desk.statements_of_work()) if sow is not None]
    durations = step_durations(sows, list(schedule))
    route = route_for(desk.policy, CATEGORY)
    rules = (Rule.of(node), Rule(route.rule_id, route.clause))
    for sow in sows:
        desk.report.looked_at += 1
        risk = milestone_risk(sow, schedule, durations, desk.today)
        if risk is not None:
            desk.handle(_finding(sow, risk, route.queue, rules))


def _finding(sow: StatementOfWork, risk: MilestoneRisk, queue: str, rules: tuple[Rule, ...]) -> Finding:
    title = (f"{sow.sow_ref} of {sow.partner_id}: {risk.next_milestone} is {risk.elapsed_days} days after "
             f"{risk.last_milestone} (median {risk.median_days:.0f}); {format_money(risk.at_risk)} of milestone "
             "billing at risk")
    return Finding(
        agent=NAME,
        key=f"{NAME}#{sow.partner_id}#{sow.sow_ref}#{risk.next_milestone}",
        action="task",
        kind="milestone_at_risk",
        queue=queue,
        title=title,
        subject={"kind": "statement_of_work", "id": f"{sow.partner_id}#{sow.sow_ref}"},
        partner_id=sow.partner_id,
        evidence={
            "sow_ref": sow.sow_ref,
            "sow_value": format_money(sow.value),
            "accepted": {name: day.isoformat() for name, day in sow.accepted.items()},
            "last_milestone": risk.last_milestone,
            "last_accepted_on": risk.last_accepted.isoformat(),
            "next_milestone": risk.next_milestone,
            "elapsed_days": risk.elapsed_days,
            "median_step_days": risk.median_days,
            "expected_by": risk.expected_by.isoformat(),
            "reference_steps": risk.reference_steps,
            "next_milestone_amount": format_money(risk.next_amount),
            "billing_at_risk": format_money(risk.at_risk),
            "confidence": round(risk.confidence, 4),
            "test": "rank p-value of the wait against the other statements of work's completed steps "
                    "(revgov.domain.agents_milestones)",
        },
        confidence=risk.confidence,
        min_confidence=REQUIRED,
        rules=rules,
        why_unsure=f"the wait is later than {risk.confidence:.0%} of {risk.reference_steps} reference steps; "
        f"{REQUIRED:.0%} is required",
        draft_message={
            "to": queue,
            "subject": f"Milestone billing at risk on {sow.sow_ref}",
            "body": f"{title}. Check the project's status with the partner's delivery lead; billing follows the "
                    "milestone's acceptance (PA-10.6 / CPA-10.5) and changes nothing before it.",
        },
    )
