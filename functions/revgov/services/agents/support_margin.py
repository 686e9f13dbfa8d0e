"""Support cost vs margin: a partner whose support hours per dollar of net realized margin rose significantly in the
last complete Quarter against the three before it gets a task for the queue SOP-4.1 / COP-4.1 names for support hours
(`support_hours_overage` → customer_success), citing its quarterly allowance (PA-9.2 / CPA-9.2), the overage rule
(SOP-5.4 / COP-5.4) and that route. The test is in `revgov.domain.agents_support`: the rise must be at least twice
the baseline's hours per margin dollar and significant at 99 % (one-sided); a rise between 75 % and 99 %, a
tenant whose history is too short to estimate the spread of hours, or support logged against a partner whose net
margin is not positive is escalated. End customers are not covered: support time is logged per partner only
(`support.logged` names no customer)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ...domain.agents import Finding
from ...domain.agents_support import (
    MIN_DISPERSION_DF,
    Dispersion,
    SupportRise,
    Window,
    allowance_use,
    dispersion,
    hours_per_revenue_dollar,
    margin_not_positive,
    quarter_window,
    support_rise,
)
from ...domain.billing import quarter_of
from ...domain.cases import route_for
from ...domain.kpis import Period
from ...domain.rules import Rule
from .desk import AgentDesk

NAME = "support_margin"
REQUIRED = 0.99  # chosen on the tuning histories (tests/agents_eval.py): false tasks on fair histories ~2 %
NOTICE = 0.75  # below this a rise is noise: nothing is opened
BASELINE_QUARTERS = 3
CATEGORY = "support_hours_overage"  # the SOP-4.1 / COP-4.1 row for support hours: its queue gets the task


def quarters(today_quarter: str) -> tuple[str, list[str]]:
    """The last complete Quarter and the BASELINE_QUARTERS before it, oldest first."""
    names = [today_quarter]
    for _ in range(BASELINE_QUARTERS + 1):
        names.append(quarter_of(Period.parse(names[-1]).first_day - timedelta(days=1)))
    return names[1], list(reversed(names[2:]))


def run(desk: AgentDesk) -> None:
    recent, baseline = quarters(quarter_of(desk.today))
    rebates = {q: desk.rebates(q) for q in [*baseline, recent]}
    partners = desk.active_partners()
    windows: dict[str, list[Window]] = {}
    for partner in partners:
        pid = partner["partner_id"]
        months = [m for q in [*baseline, recent] for m in Period.parse(q).months]
        monthly = desk.rollups(f"partner:{pid}", months)
        windows[pid] = [
            quarter_window(q, [monthly[m] for m in Period.parse(q).months if m in monthly], rebates[q].get(pid, 0))
            for q in [*baseline, recent]
        ]
    spread = dispersion([w[:-1] for w in windows.values()])
    for partner in partners:
        desk.report.looked_at += 1
        history = windows[partner["partner_id"]]
        rise = support_rise(history[-1], history[:-1], spread)
        if rise is not None and rise.confidence >= NOTICE:
            desk.handle(_finding(desk.policy, partner, history, rise, spread))
        elif rise is None and margin_not_positive(history[-1]):
            desk.handle(_finding(desk.policy, partner, history, None, spread))


def support_rules(policy: dict[str, Any], tier: str | None) -> tuple[Rule, ...]:
    """The tier's quarterly support allowance (PA-9.2 / CPA-9.2), the overage rule (SOP-5.4 / COP-5.4) and the
    route of support-hours work (SOP-4.1 / COP-4.1), each as the policy states it."""
    found: list[Rule] = []
    for node in policy.get("partner_tiers", []):
        allowance = node.get("entitlements", {}).get("max_support_hours_per_quarter")
        if node["tier"] == tier and allowance:
            found.append(Rule.of(allowance))
    overage = policy.get("billing", {}).get("support_overage")
    if overage:
        found.append(Rule.of(overage))
    route = route_for(policy, CATEGORY)
    return (*found, Rule(route.rule_id, route.clause))


def _allowance(policy: dict[str, Any], tier: str | None) -> Any:
    for node in policy.get("partner_tiers", []):
        if node["tier"] == tier:
            return (node.get("entitlements", {}).get("max_support_hours_per_quarter") or {}).get("value")
    return None


def _evidence(history: list[Window], rise: SupportRise | None, spread: Dispersion, allowance: Any) -> dict[str, Any]:
    def quarter(w: Window) -> dict[str, Any]:
        return {"quarter": w.period, "support_hours": f"{w.hours:.2f}", "revenue": f"{w.revenue:.2f}",
                "net_margin": f"{w.net_margin:.2f}", "hours_per_revenue_dollar": hours_per_revenue_dollar(w)}

    return {
        "recent": quarter(history[-1]),
        "baseline": [quarter(w) for w in history[:-1]],
        "allowance_hours_per_quarter": allowance,
        "allowance_use": allowance_use(history[-1].hours, allowance),
        "hours_per_1000_net_margin": None if rise is None else {
            "recent": round(rise.recent_rate, 4), "baseline": round(rise.baseline_rate, 4),
            "ratio": round(rise.ratio, 3) if rise.ratio != float("inf") else None},
        "z": None if rise is None else round(rise.z, 3),
        "confidence": None if rise is None else round(rise.confidence, 4),
        "test": "one-sided Wald test of the rate ratio, variance phi*mu + kappa*mu^2 fitted on the tenant's "
                "baseline Quarters (revgov.domain.agents_support)",
        "dispersion": {"phi": round(spread.phi, 4), "kappa": round(spread.kappa, 5), "df": spread.df},
    }


def _finding(
    policy: dict[str, Any], partner: dict[str, Any], history: list[Window], rise: SupportRise | None,
    spread: Dispersion,
) -> Finding:
    pid, recent = partner["partner_id"], history[-1]
    name = partner.get("legal_name", pid)
    if rise is None:
        title = f"{name} logged {recent.hours:.2f} support hours in {recent.period} on a net margin of " \
                f"{recent.net_margin:.2f}"
        confidence, why = 0.0, "the net realized margin is not positive: hours per margin dollar has no value"
    else:
        title = f"{name}'s support hours per net margin dollar rose {rise.ratio:.1f}x in {recent.period} " \
                f"({rise.recent_rate:.2f} vs {rise.baseline_rate:.2f} hours per 1,000)"
        confidence = rise.confidence if spread.trusted else min(rise.confidence, 0.5)
        why = (f"the rise is significant at {rise.confidence:.1%} only; {REQUIRED:.0%} is required"
               if spread.trusted else f"the spread of hours rests on {spread.df} degrees of freedom; "
               f"{MIN_DISPERSION_DF} needed")
    return Finding(
        agent=NAME,
        key=f"{NAME}#{pid}#{recent.period}",
        action="task",
        kind="support_cost_rising",
        queue=route_for(policy, CATEGORY).queue,
        title=title,
        subject={"kind": "partner", "id": pid},
        partner_id=pid,
        evidence=_evidence(history, rise, spread, _allowance(policy, partner.get("tier"))),
        confidence=confidence,
        min_confidence=REQUIRED,
        rules=support_rules(policy, partner.get("tier")),
        why_unsure=why,
        draft_message={
            "to": route_for(policy, CATEGORY).queue,
            "subject": f"Support cost rising against margin: {name}",
            "body": f"{title}. Review the tickets behind the rise, the partner's use of its quarterly allowance "
                    "and whether overage or a change order applies before the next Quarter.",
        },
    )
