"""Time limits on a partner's file: an application left incomplete lapses, an insurance certificate not renewed
suspends. Pure: the day is given.

PA-2.9: "Applications that remain incomplete for 60 days after submission lapse and must be resubmitted." (CPA-2.9:
"Files incomplete 45 days after submission are closed.") → `onboarding.application_lapse` {id, clause, days}.

PA-2.7: "If a renewed certificate is not verified within 15 days after the expiry date, the Partner is suspended from
new quotes, new orders and new deal registrations under PA-13.2 until a valid certificate is verified." (CPA-2.4: 10
days.) → `onboarding.insurance_lapse` {id, clause, grace_days, documents}: the insurance documents it watches, of
those the partner's type requires.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from ..time import instant, parse_day
from .evidence import verified_document
from .lifecycle import TRANSITIONS
from .rules import onboarding, required_documents

INCOMPLETE = "pending_documents"  # submitted, waiting for documents


def first_submitted_on(partner: Mapping[str, Any]) -> date | None:
    """The day the application was first submitted (its first move out of `applied`), or None."""
    for step in partner.get("history", []):
        if step.get("from") == "applied":
            return instant(str(step["at"])).date()
    return None


def application_lapse(policy: Mapping[str, Any], partner: Mapping[str, Any], day: date) -> dict[str, str] | None:
    """Why the application has lapsed on `day` (still incomplete more than `days` after its first submission), or
    None. Counted in calendar days: submitted on 5 January with 60 days, it may still be completed on 6 March."""
    rule = onboarding(policy).get("application_lapse")
    submitted = first_submitted_on(partner)
    if rule is None or partner.get("status") != INCOMPLETE or submitted is None:
        return None
    last = submitted + timedelta(days=int(rule["days"]))
    if day <= last:
        return None
    return {
        "rule_id": rule["id"],
        "clause": rule["clause"],
        "message": f"the application submitted on {submitted} was still incomplete {rule['days']} days later "
        f"({last}): it has lapsed and must be resubmitted as a new application ({rule['clause']})",
    }


def insurance_lapse(policy: Mapping[str, Any], partner: Mapping[str, Any], day: date) -> dict[str, str] | None:
    """Why the partner is suspended on `day` for want of a renewed insurance certificate (one the partner's type
    requires expired more than `grace_days` before `day`, and no valid one was verified since: a certificate the
    partner uploads itself counts once Channel Operations file it, `evidence.verified_document`), or None."""
    rule = onboarding(policy).get("insurance_lapse")
    if rule is None or not partner.get("partner_type"):
        return None
    required = required_documents(policy, str(partner["partner_type"]))
    watched = [name for name in rule["documents"] if name in required]
    for name in watched:
        on_file = partner.get("documents", {}).get(name)
        expires = (verified_document(partner, on_file) or on_file or {}).get("expires_at")
        if expires is None:
            continue
        deadline = parse_day(str(expires)) + timedelta(days=int(rule["grace_days"]))
        if day > deadline:
            return {
                "rule_id": rule["id"],
                "clause": rule["clause"],
                "message": f"{name} expired on {expires} and no renewed certificate was verified within "
                f"{rule['grace_days']} days ({deadline}): suspended from new quotes, orders and deal registrations "
                f"until a valid certificate is verified ({rule['clause']})",
            }
    return None


ACTOR = "system:partner_standing"  # the scheduled partner-lifecycle sweep, as it appears in history and audit


def standing_step(
    policy: Mapping[str, Any], partner: Mapping[str, Any], day: date
) -> tuple[str, dict[str, str]] | None:
    """What the time limits do to the partner on `day`: (`lapsed` | `suspended` | `active`, the rule's reason), or
    None. An incomplete application past its days lapses; an active partner whose insurance lapsed is suspended; a
    partner this sweep suspended for its insurance is reinstated once a valid certificate is on file."""
    status = partner.get("status")
    if status == INCOMPLETE:
        lapse = application_lapse(policy, partner, day)
        return ("lapsed", lapse) if lapse else None
    if status == "active":
        uninsured = insurance_lapse(policy, partner, day)
        return ("suspended", uninsured) if uninsured else None
    history = partner.get("history") or [{}]
    rule = onboarding(policy).get("insurance_lapse")
    last = history[-1]
    if status != "suspended" or rule is None or last.get("by") != ACTOR or insurance_lapse(policy, partner, day):
        return None
    return ("active", {"rule_id": rule["id"], "clause": rule["clause"],
                       "message": f"a valid insurance certificate is on file: the suspension under {rule['clause']} "
                       "ends"})


def moved_by_rule(partner: Mapping[str, Any], status: str, reason: Mapping[str, str], *, at: str) -> dict[str, Any]:
    """The partner moved by the sweep, the step in its history saying why (the rule's message and clause)."""
    if status not in TRANSITIONS.get(str(partner["status"]), frozenset()):
        raise ValueError(f"partner {partner['partner_id']} is {partner['status']}; it cannot become {status}")
    step = {"from": partner["status"], "to": status, "at": at, "by": ACTOR, "reason": reason["message"],
            "rule_id": reason["rule_id"], "clause": reason["clause"]}
    return {**partner, "status": status, "updated_at": at, "history": [*partner.get("history", []), step]}
