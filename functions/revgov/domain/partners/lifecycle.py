"""The onboarding lifecycle as a state machine: an application as received, its terms, and the moves between
statuses (approval decided, suspend, reinstate, terminate), each recorded in the partner's history."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from ..access import Principal
from ..errors import Conflict, FieldError, Forbidden, RuleViolation
from ..money import format_money, parse_money
from ..time import instant
from .rules import onboarding, payment_terms, tier, tiers_by_rank

# applied → pending_documents ⇄ (resubmit) → pending_approval → active ⇄ suspended → terminated; or rejected; or,
# incomplete too long after submission, lapsed (PA-2.9 / CPA-2.9: a new application is needed).
TRANSITIONS: dict[str, frozenset[str]] = {
    "applied": frozenset({"pending_documents", "pending_approval"}),
    "pending_documents": frozenset({"pending_documents", "pending_approval", "lapsed"}),
    "pending_approval": frozenset({"active", "rejected"}),
    "active": frozenset({"suspended", "terminated"}),
    "suspended": frozenset({"active", "terminated"}),
    "rejected": frozenset(),
    "lapsed": frozenset(),
    "terminated": frozenset(),
}
STATUSES = tuple(TRANSITIONS)
TAKES_EVIDENCE = frozenset({"applied", "pending_documents", "pending_approval", "active", "suspended"})
TAKES_TERMS = frozenset({"applied", "pending_documents"})
TAKES_SUBMISSION = frozenset({"applied", "pending_documents"})


def _refused(partner: Mapping[str, Any], message: str) -> Conflict:
    allowed = TRANSITIONS.get(partner["status"], frozenset())
    return Conflict(message, extra={"current_status": partner["status"], "allowed_next": sorted(allowed)})


def moved(
    partner: Mapping[str, Any], status: str, *, at: str, by: Principal, reason: str | None,
    rule: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The partner in `status`, the step appended to its history (with the rule relied on, when one is named: PA-13.2
    / CPA-13.2 "A suspension states its reason and the clause relied on"); a move the machine does not allow is a
    409."""
    current = partner["status"]
    if status not in TRANSITIONS.get(current, frozenset()):
        raise _refused(partner, f"partner {partner['partner_id']} is {current}; it cannot become {status}")
    step = {"from": current, "to": status, "at": at, "by": by.actor, "reason": reason}
    if rule is not None:
        step.update(rule_id=rule["id"], clause=rule["clause"])
    return {**partner, "status": status, "updated_at": at, "history": [*partner.get("history", []), step]}


def suspended_when(partner: Mapping[str, Any], at: str) -> str | None:
    """When the suspension the partner was under at instant `at` began (its history's move to `suspended`), or None:
    not suspended then. A suspension runs from that move up to, not including, the move out of it (PA-13.2 "is lifted
    when the reason is cured"); one still running has no end."""
    moment, since = instant(at), None
    for step in partner.get("history", []):
        if step.get("to") == "suspended":
            since = str(step["at"])
        elif step.get("from") == "suspended" and since is not None:
            if instant(since) <= moment < instant(str(step["at"])):
                return since
            since = None
    return since if since is not None and instant(since) <= moment else None


def require(partner: Mapping[str, Any], statuses: frozenset[str], action: str) -> None:
    if partner["status"] not in statuses:
        raise _refused(partner, f"partner {partner['partner_id']} is {partner['status']}; it cannot {action}")


def normal_terms(policy: Mapping[str, Any], terms: Mapping[str, Any], path: str) -> dict[str, Any]:
    """The terms with the commitment as money, refused beyond the longest payment terms granted."""
    normal = dict(terms)
    if "annual_commitment" in normal:
        normal["annual_commitment"] = format_money(parse_money(normal["annual_commitment"]))
    days = normal.get("payment_terms_days")
    rule = payment_terms(policy) or {}
    limit = rule.get("max_days")
    if days is not None and limit is not None and days > limit:
        raise RuleViolation(
            f"payment terms longer than {limit} days are not granted ({rule['id']}, {rule['clause']})",
            errors=[FieldError(f"{path}/payment_terms_days", f"at most {limit}")],
        )
    return normal


def _check_application(policy: Mapping[str, Any], application: Mapping[str, Any]) -> None:
    types = onboarding(policy)["partner_types"]
    if application["partner_type"] not in types:
        raise RuleViolation(
            f"this program does not admit partner type {application['partner_type']}",
            errors=[FieldError("/partner_type", f"one of {', '.join(sorted(types))}")],
        )
    if tier(policy, application["requested_tier"]) is None:
        names = ", ".join(t["tier"] for t in tiers_by_rank(policy))
        raise RuleViolation(
            f"there is no tier {application['requested_tier']}",
            errors=[FieldError("/requested_tier", f"one of {names}")],
        )


def new_application(
    policy: Mapping[str, Any], *, partner_id: str, application: Mapping[str, Any], created_by: Principal, at: str
) -> dict[str, Any]:
    """An application as received: its type and requested tier must exist in the policy; nothing is checked yet."""
    _check_application(policy, application)
    return {
        "partner_id": partner_id,
        "legal_name": application["legal_name"],
        "partner_type": application["partner_type"],
        "requested_tier": application["requested_tier"],
        "proposed_tier": None,
        "tier": None,
        "status": "applied",
        "terms": normal_terms(policy, application.get("terms", {}), "/terms"),
        "contact": application["contact"],
        "country": application.get("country"),
        "documents": {},
        "certifications": {},
        "assessment": None,
        "approval_id": None,
        "decision": None,
        "created_at": at,
        "created_by": created_by.actor,
        "created_by_role": created_by.role.value,
        "created_by_key": created_by.key_id,
        "submitted_at": None,
        "submitted_by": None,
        "submitted_by_key": None,
        "updated_at": at,
        "history": [{"from": None, "to": "applied", "at": at, "by": created_by.actor, "reason": None}],
    }


def amended_terms(
    policy: Mapping[str, Any], partner: Mapping[str, Any], terms: Mapping[str, Any], *, at: str
) -> dict[str, Any]:
    """Complete or correct the commercial terms before the application goes to approval."""
    require(partner, TAKES_TERMS, "change its terms once submitted for approval")
    merged = normal_terms(policy, {**partner.get("terms", {}), **terms}, "")
    return {**partner, "terms": merged, "updated_at": at}


def awaiting_approval(partner: Mapping[str, Any], approval_id: str) -> dict[str, Any]:
    return {**partner, "approval_id": approval_id}


def decided(
    partner: Mapping[str, Any], *, approval_id: str, outcome: str, note: str | None, by: Principal, at: str
) -> dict[str, Any]:
    """The activation approval was decided: approved activates at the proposed tier; rejected records why."""
    if partner.get("approval_id") != approval_id:
        raise _refused(partner, f"approval {approval_id} is not the pending activation of partner "
                                f"{partner['partner_id']}")
    if by.key_id in {partner.get("created_by_key"), partner.get("submitted_by_key")}:
        raise Forbidden("segregation of duties: whoever created or submitted an application may not decide it")
    decision = {"outcome": outcome, "approval_id": approval_id, "by": by.actor, "at": at, "note": note}
    if outcome == "approved":
        active = moved(partner, "active", at=at, by=by, reason=note)
        return {**active, "tier": partner["proposed_tier"], "activated_at": at, "decision": decision}
    rejected = moved(partner, "rejected", at=at, by=by, reason=note)
    return {**rejected, "decision": decision}


def moved_to(
    policy: Mapping[str, Any], partner: Mapping[str, Any], status: str, *, by: Principal, at: str, reason: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Suspend, reinstate or terminate; returns the partner and the rule (id, clause) that allows it."""
    rules = onboarding(policy)
    rule = rules["termination"] if status == "terminated" else rules["suspension"]
    return moved(partner, status, at=at, by=by, reason=reason, rule=rule), rule


# A partner that was onboarded and verified: it may have ordered, and what it ordered is billed while suspended
# (PA-13.2: orders already accepted are fulfilled) or terminated (PA-13.3: subscriptions run to their term).
ONBOARDED = frozenset({"active", "suspended", "terminated"})


def not_onboarded_on(partner: Mapping[str, Any], day: date) -> str | None:
    """Why the partner could not have quoted, ordered or registered a deal on `day` (PA-2.2 / CPA-2.2: "Before the
    Partner may quote, order, register deals or accrue any incentive, the following must be received and
    verified"), or None: it is not onboarded yet, or `day` is before the day it was activated (the activation is an
    instant; the day it falls on counts as onboarded). A partner onboarded without a recorded activation instant is
    judged by its status alone."""
    status = partner.get("status")
    if status not in ONBOARDED:
        return f"partner {partner.get('partner_id')} is {status}: its onboarding is not verified"
    activated_at = partner.get("activated_at")
    if not activated_at or day >= instant(str(activated_at)).date():
        return None
    return (f"partner {partner.get('partner_id')} was activated on {instant(str(activated_at)).date()}, after "
            f"{day}: its onboarding was not verified yet")
