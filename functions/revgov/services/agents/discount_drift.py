"""Discount drift: a rising share of quotes that need an approval to go ahead (the override rate), tenant-wide and
per partner, over the current and previous month against the three months before, becomes a task for finance.
The rise must be significant (one-sided two-proportion z test, 95%); a rise that is not yet is escalated."""

from __future__ import annotations

from typing import Any

from ...domain.agents import Drift, Finding, override_drift
from ...domain.kpis import ALL, month_of, shift_month
from ...domain.rules import Rule
from .desk import AgentDesk

NAME = "discount_drift"
REQUIRED = 0.95
NOTICE = 0.75  # below this a rise is noise: nothing is opened


def run(desk: AgentDesk) -> None:
    current = month_of(desk.today)
    recent = [shift_month(current, -1), current]
    baseline = [shift_month(current, -i) for i in (4, 3, 2)]
    scopes = [ALL, *(f"partner:{p['partner_id']}" for p in desk.active_partners())]
    for scope in scopes:
        desk.report.looked_at += 1
        rollups = desk.rollups(scope, [*baseline, *recent])
        r_quotes, r_over = _total(rollups, recent, "quotes"), _total(rollups, recent, "overrides")
        b_quotes, b_over = _total(rollups, baseline, "quotes"), _total(rollups, baseline, "overrides")
        drift = override_drift(r_quotes, r_over, b_quotes, b_over)
        if drift is not None and drift.confidence >= NOTICE:
            counts = (r_quotes, r_over, b_quotes, b_over)
            desk.handle(_finding(scope, current, recent, baseline, drift, counts, approval_rules(desk.policy)))


def approval_rules(policy: dict[str, Any]) -> tuple[Rule, ...]:
    """The rules that make a quote need an approval, whose rate the agent watches: the tier caps (PA-6.2 / CPA-6.2)
    and the finance threshold (PA-6.6 / CPA-6.6)."""
    pricing = policy["pricing"]
    return (Rule.of(pricing["discount_caps"]), Rule.of(pricing["finance_approval"]))


def _total(rollups: dict[str, dict[str, Any]], months: list[str], figure: str) -> int:
    """A monthly figure summed over the months (a month without a rollup counts zero)."""
    return sum(int(rollups.get(month, {}).get(figure, 0)) for month in months)


def _finding(
    scope: str,
    current: str,
    recent: list[str],
    baseline: list[str],
    drift: Drift,
    counts: tuple[int, ...],
    rules: tuple[Rule, ...],
) -> Finding:
    partner_id = scope.split(":", 1)[1] if scope.startswith("partner:") else None
    who = f"partner {partner_id}" if partner_id else "all partners"
    return Finding(
        agent=NAME,
        key=f"{NAME}#{scope}#{current}",
        action="task",
        kind="discount_drift",
        queue="finance",
        title=f"Override rate of {who} rose to {drift.recent_rate:.0%} from {drift.baseline_rate:.0%} "
        f"({drift.rise_points:+.1f} points) in {recent[0]}..{recent[-1]}",
        subject={"kind": "partner" if partner_id else "tenant", "id": partner_id or "all"},
        partner_id=partner_id,
        evidence={
            "recent_months": recent,
            "baseline_months": baseline,
            "recent": {"quotes": counts[0], "needing_approval": counts[1], "rate": round(drift.recent_rate, 4)},
            "baseline": {"quotes": counts[2], "needing_approval": counts[3], "rate": round(drift.baseline_rate, 4)},
            "z": round(drift.z, 3),
            "test": "one-sided two-proportion z test",
        },
        confidence=drift.confidence,
        min_confidence=REQUIRED,
        rules=rules,
        why_unsure=f"the rise is significant at {drift.confidence:.0%} only; {REQUIRED:.0%} is required",
        draft_message={
            "to": "finance",
            "subject": f"Discount overrides rising for {who}",
            "body": f"{counts[1]} of {counts[0]} quotes in {recent[0]}..{recent[-1]} needed an approval "
            f"({drift.recent_rate:.0%}), against {drift.baseline_rate:.0%} in {baseline[0]}..{baseline[-1]}. "
            "Worth a review of the discount policy and the approvers' notes.",
        },
    )
