"""The recommended next steps of a partner performance summary, and the message drafted to the partner. Pure.

Each action follows from a rule over the summary's facts and names the rule it follows: the seed whitepaper's table
of recommended actions ("Partner health | Threshold attainment and renewal probability | ... | Launch proactive
enablement and account planning"; "Support economics | Support hours per revenue dollar | ... | Adjust entitlements or
introduce managed service tiers"; "Billing efficiency | Invoice cycle time ... | Automate event triggers and exception
routing") or the contract clause the facts cite. An action is a step for a team to take; none moves money, and the
product takes none of them itself.

The draft is plain text for a person to review and send (the product never sends it): the sentences the partner may
read, the steps that concern it, and no staff identity, cost or margin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from .performance_summary import Readings

PARTNER_HEALTH = "seed: Partner health -> Launch proactive enablement and account planning"
SUPPORT_ECONOMICS = "seed: Support economics -> Adjust entitlements or introduce managed service tiers"
BILLING_EFFICIENCY = "seed: Billing efficiency -> Automate event triggers and exception routing"


def _action(action_id: str, owner: str, text: str, rule: str, fact_ids: Sequence[str], *, clause: Any = None,
            partner_step: str | None = None, staff_only: bool = False) -> dict[str, Any]:
    return {"action_id": action_id, "owner": owner, "action": text, "rule": rule, "clause": clause or None,
            "facts": list(fact_ids), "moves_money": False, "partner_step": partner_step, "staff_only": staff_only}


def _thresholds(r: Readings, ahead: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        _action(f"enablement.{level['program_id']}", "channel_ops",
                f"Launch proactive enablement and account planning with the partner: {level['program']} is likely "
                "to be missed this Quarter.", PARTNER_HEALTH,
                [f"threshold.{level['program_id']}.p_miss", f"threshold.{level['program_id']}.gap"],
                clause=level.get("clause"),
                partner_step=f"Plan with your channel manager how to close the gap to the next level of "
                             f"{level['program']}.")
        for level in ahead if Decimal(str(level["p_miss"])) >= r.min_p_miss
    ]


def _certifications(r: Readings) -> list[dict[str, Any]]:
    return [
        _action(f"renew.{cert.cert_id}", "channel_ops",
                f"Remind the partner to renew {cert.name} and record the renewal evidence.",
                "certification validity and renewal reminders", [f"certification.{cert.cert_id}"], clause=cert.clause,
                partner_step=f"Renew {cert.name} and send the evidence from the certifying body.")
        for cert in r.certifications
    ]


def _support(r: Readings) -> list[dict[str, Any]]:
    h = r.support_hours
    if h is None or not h.get("entitled") or Decimal(str(h["hours_remaining"])) > 0:
        return []
    return [_action("support.allowance", "customer_success",
                    "The Quarter's support hours are used up: confirm the partner's prior written approval before "
                    "further hours, and review whether its entitlements or a managed service tier fit its use.",
                    SUPPORT_ECONOMICS, ["support.used", "support.entitled"], clause=h.get("clause"),
                    partner_step="Give prior written approval before any support hours beyond the allowance.")]


def _cycle(r: Readings) -> list[dict[str, Any]]:
    cycle = r.kpis["invoice_cycle_time"]
    if not r.invoice_sla or not cycle.get("sla_breaches"):
        return []
    return [_action("billing.cycle", "finance", "Review the billable events invoiced late and automate their "
                    "event triggers and exception routing.", BILLING_EFFICIENCY, ["cycle.breaches", "cycle.sla"],
                    clause=r.invoice_sla.get("clause"))]


def _cases(r: Readings) -> list[dict[str, Any]]:
    found = []
    if r.cases.disputes:
        found.append(_action("disputes.decide", "finance", "Decide the partner's open disputes within the time "
                             "limits of their clauses.", "dispute time limits", ["cases.disputes"]))
    if r.cases.waiting_on_partner:
        found.append(_action("cases.reply", "channel_ops", "Ask the partner for the replies its open items wait on.",
                             "waiting on partner", ["cases.waiting"],
                             partner_step="Reply to the open items that wait on you in the partner portal."))
    return found


def _tier(r: Readings) -> list[dict[str, Any]]:
    t = r.tier_review
    if t is None or t.get("outcome") not in ("downgrade", "watch"):
        return []
    return [_action("tier.account_plan", "channel_ops", "Plan the account with the partner before the tier review: "
                    "on the revenue invoiced so far it would not keep its tier.", PARTNER_HEALTH,
                    ["tier.review_day", "tier.revenue"], clause=t.get("clause"), staff_only=True)]


def _renewal(r: Readings) -> list[dict[str, Any]]:
    outlook = r.kpis.get("renewal_probability") or {}
    if not outlook.get("notice_given"):
        return []
    return [_action("renewal.account_plan", "channel_ops", "Launch account planning with the partner: notice of "
                    "non-renewal has been given for the Program Year end.", PARTNER_HEALTH, ["renewal.notice_given",
                    "renewal.year_end"], clause=outlook.get("clause"), staff_only=True)]


def recommend(r: Readings, ahead: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The next steps the facts call for, in the order of the summary."""
    return [*_thresholds(r, ahead), *_certifications(r), *_support(r), *_cycle(r), *_cases(r), *_tier(r),
            *_renewal(r)]


def draft(r: Readings, sentences: Sequence[Mapping[str, Any]], actions: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The message to the partner from the sentences and steps it may read: for a person to review and send."""
    lines = [f"Hello {r.legal_name} team,", "",
             f"Here is a summary of your performance in {r.period}:", ""]
    lines += [f"- {s['text']}" for s in sentences if not s["staff_only"]]
    steps = [a["partner_step"] for a in actions if a.get("partner_step") and not a["staff_only"]]
    if steps:
        lines += ["", "Suggested next steps:", *(f"- {step}" for step in steps)]
    lines += ["", "Your partner program team"]
    return {"to": r.legal_name, "subject": f"Your partner performance summary for {r.period}",
            "body": "\n".join(lines), "status": "draft",
            "note": "a draft for a person to review and send; Revgov never sends it"}
