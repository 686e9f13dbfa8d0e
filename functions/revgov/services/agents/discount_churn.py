"""Discount behaviour before churn: where the tenant's own history shows that partners whose override rate rose went
on to churn more often (Fisher's exact test at 95 %, relative risk ≥ 2; `revgov.domain.agents_churn`), an active
partner whose override rate is rising now gets a task for the triage queue (SOP-4.1 / COP-4.1: no category names it),
with the tenant's table as evidence. Where the history shows no such link, nothing is opened: the agent never assumes
one. Churn: terminated (PA-13.3 / CPA-13.3) or six complete months without invoiced revenue."""

from __future__ import annotations

from typing import Any

from ...domain.agents import Finding
from ...domain.agents_churn import AS_OF_BACK, ASSOCIATION, Association, Month, association, churn_month, rising
from ...domain.cases import route_for
from ...domain.kpis import month_of, shift_month
from ...domain.partners.portal_access import terminated_at
from ...domain.rules import Rule
from .desk import AgentDesk

NAME = "discount_churn"
CATEGORY = "churn_risk"  # not a SOP-4.1 / COP-4.1 category: routed to triage
HISTORY_MONTHS = max(AS_OF_BACK) + 9  # the oldest as-of month and the 9 months its override rate looks at


def run(desk: AgentDesk) -> None:
    this_month = month_of(desk.today)
    last = shift_month(this_month, -1)
    wanted = [shift_month(this_month, -i) for i in range(HISTORY_MONTHS, 0, -1)]
    histories: list[tuple[dict[str, Any], dict[str, Month], str | None]] = []
    for partner in desk.partners():
        if partner.get("status") not in ("active", "suspended", "terminated"):
            continue  # never onboarded: no history
        stored = desk.rollups(f"partner:{partner['partner_id']}", wanted)
        months = {m: Month(int(r.get("revenue_minor", 0)), int(r.get("quotes", 0)), int(r.get("overrides", 0)))
                  for m, r in stored.items()}
        ended = terminated_at(partner)
        histories.append((partner, months, churn_month(months, ended[:7] if ended else None, last)))
    found = association([(months, churned) for _, months, churned in histories], this_month)
    for partner, months, churned in histories:
        if partner.get("status") != "active" or churned is not None:
            continue
        desk.report.looked_at += 1
        if found is not None and found.established and rising(months, last):
            desk.handle(_finding(desk.policy, partner, months, last, found))


def churn_rules(policy: dict[str, Any]) -> tuple[Rule, ...]:
    """The behaviour watched (the tier caps PA-6.2 / CPA-6.2 and the finance threshold PA-6.6 / CPA-6.6 that make a
    quote need an approval), the termination rule that defines churn (PA-13.3 / CPA-13.3) and the triage route."""
    pricing, route = policy["pricing"], route_for(policy, CATEGORY)
    found = [Rule.of(pricing["discount_caps"]), Rule.of(pricing["finance_approval"])]
    termination = (policy.get("onboarding") or {}).get("termination")
    if termination:
        found.append(Rule.of(termination))
    return (*found, Rule(route.rule_id, route.clause))


def _finding(
    policy: dict[str, Any], partner: dict[str, Any], months: dict[str, Month], last: str, found: Association
) -> Finding:
    pid = partner["partner_id"]
    name = partner.get("legal_name", pid)
    recent = [months.get(shift_month(last, -i), Month(0, 0, 0)) for i in range(3)]
    quotes, overrides = sum(m.quotes for m in recent), sum(m.overrides for m in recent)
    queue = route_for(policy, CATEGORY).queue
    often = ("while no other partner did" if found.relative_risk == float("inf")
             else f"{found.relative_risk:.1f}x as often as the others")
    return Finding(
        agent=NAME,
        key=f"{NAME}#{pid}#{last}",
        action="task",
        kind="churn_risk",
        queue=queue,
        title=f"{name}'s override rate is rising ({overrides} of {quotes} quotes needed an approval in the 3 months "
        f"to {last}); on this tenant's history partners whose rate rose went on to churn {often}",
        subject={"kind": "partner", "id": pid},
        partner_id=pid,
        evidence={"recent_months_to": last, "recent": {"quotes": quotes, "needing_approval": overrides},
                  "association": found.as_dict(),
                  "churn": "terminated, or 6 complete months without invoiced revenue, within 6 months"},
        confidence=found.confidence,
        min_confidence=ASSOCIATION,
        rules=churn_rules(policy),
        why_unsure=f"the link on this tenant's history is significant at {found.confidence:.1%} only",
        draft_message={"to": queue, "subject": f"Churn risk: {name}",
                       "body": "Review the partner's recent quotes and approvals and plan a conversation with its "
                               "account owner; the agent found the pattern, it decided nothing."},
    )
