"""Entitlements as of a time: those of the highest tier, up to the one the partner holds, whose certification
requirements still hold then (PA-4.3); withheld while suspended, ended by termination."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ..errors import NotFound, RuleViolation
from ..time import add_months, instant, parse_instant
from . import allowances
from .assessment import tier_unmet
from .evidence import counts_until, last_counted_before, valid_on
from .rules import entitlement_names, onboarding, rule_ref, tier, tiers_by_rank
from .tier_changes import assigned_on

_MONEY = re.compile(r"^[0-9]{1,15}(\.[0-9]{1,2})?$")
_STANDING = ("active", "suspended")


def _entitled(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value > 0
    if isinstance(value, str) and _MONEY.fullmatch(value):
        return Decimal(value) > 0
    return bool(value)


def _shown(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def effective_tier(policy: Mapping[str, Any], partner: Mapping[str, Any], day: date) -> dict[str, Any] | None:
    """The highest tier, up to the one assigned on `day` (a recorded tier change counts from its effective day,
    `tier_changes.assigned_on`), whose certification requirements hold on `day` (PA-4.3)."""
    assigned = tier(policy, assigned_on(partner, day))
    if assigned is None:
        return None
    eligible = [t for t in tiers_by_rank(policy) if int(t["rank"]) <= int(assigned["rank"])]
    return next((t for t in reversed(eligible) if not tier_unmet(t, partner, day, None)), None)


def held_tier(policy: Mapping[str, Any], partner: Mapping[str, Any], day: date) -> dict[str, Any] | None:
    """The tier the partner holds on `day`, which decides its rebates (CPA-2.1: the tier "determines discounts,
    rebates and entitlements"): the assigned tier until a certification it requires has been lacking for more than
    the policy's `tier_downgrade` days; the downgrade, to the highest tier whose certifications still count, takes
    effect on the first day of the following Billing Month (CPA-3.6, PA-3.7). Entitlements drop at once
    (`effective_tier`, CPA-4.3(a)). Without a `tier_downgrade` rule the two are the same."""
    rule = policy.get("tier_downgrade")
    if rule is None:
        return effective_tier(policy, partner, day)
    assigned = tier(policy, assigned_on(partner, day))
    if assigned is None:
        return None
    grace = int(rule["certification_lapse_days"])
    eligible = [t for t in tiers_by_rank(policy) if int(t["rank"]) <= int(assigned["rank"])]
    return next((t for t in reversed(eligible) if _still_held(t, partner, day, grace)), None)


def _still_held(rule: Mapping[str, Any], partner: Mapping[str, Any], day: date, grace: int) -> bool:
    """Every certification the tier requires counts on `day`, or lapsed too recently for the downgrade to apply."""
    held = partner.get("certifications", {})
    for cert_id in rule["requirements"]["certifications"]:
        record = held.get(cert_id)
        if record is None:
            return False
        if valid_on(record, day):
            continue
        ended = last_counted_before(record, day)
        if ended is None:  # not yet certified on `day`
            return False
        lacking_since = ended + timedelta(days=1)
        over_grace = lacking_since + timedelta(days=grace)  # the first day lacking for more than `grace` days
        if day >= add_months(over_grace.replace(day=1), 1):
            return False
    return True


def service_until(policy: Mapping[str, Any], partner: Mapping[str, Any], name: str, day: date) -> date | None:
    """PA-9.4: "Where a Partner ceases to be entitled to managed support, monitoring ends at the end of the Billing
    Month" (CPA-9.4: "at the end of the Billing Month in which the entitlement ends"). For an entitlement whose grant
    in the assigned tier says `service_to_month_end`, not held on `day`: the last day of the Billing Month of its last
    held day before `day` (a certification's last counting day: PA-4.3(a) removes it the day after), or None."""
    assigned = tier(policy, assigned_on(partner, day))
    grant = (assigned or {}).get("entitlements", {}).get(name) or {}
    if not grant.get("service_to_month_end"):
        return None
    last_days = {counts_until(cert) for cert in partner.get("certifications", {}).values()}
    for last in sorted((d for d in last_days if d is not None and d < day), reverse=True):
        held = effective_tier(policy, partner, last)
        if held is not None and _entitled((held["entitlements"].get(name) or {}).get("value")):
            return add_months(last.replace(day=1), 1) - timedelta(days=1)
    return None


def below_deployment_floor(answer: Mapping[str, Any], deployment_list_value: str | None,
                           new_deployment: bool | None = None) -> dict[str, Any]:
    """PA-9.3: "premium onboarding for each new Customer deployment above USD 50,000.00 in List Price" (CPA-9.3:
    "new End Customer deployments above EUR 40,000.00"). An entitlement answer with `min_deployment_list_value` reads
    as not entitled for a deployment that is not reported as new (`new_deployment` false or not stated) or whose List
    Price value is at or below the floor (or not stated): SOP-5.1 "never delivered as an included service"; it may be
    bought as a Service (a change order)."""
    floor = answer.get("min_deployment_list_value")
    if not answer.get("entitled") or floor is None:
        return dict(answer)
    if new_deployment is not True:
        stated = "not reported as new" if new_deployment is None else "not a new deployment"
        reason = (f"{answer['name']} is included only for a new Customer deployment ({answer['clause']}); this "
                  f"deployment is {stated}")
        return {**answer, "entitled": False, "reason": reason}
    if deployment_list_value is not None and Decimal(deployment_list_value) > Decimal(floor):
        return dict(answer)
    stated = deployment_list_value if deployment_list_value is not None else "not stated"
    reason = (f"{answer['name']} is included only for a new deployment above {floor} in List Price "
              f"({answer['clause']}); this deployment's is {stated}")
    return {**answer, "entitled": False, "reason": reason}


def _assigned(policy: Mapping[str, Any], partner: Mapping[str, Any], day: date) -> dict[str, Any]:
    found = tier(policy, assigned_on(partner, day))
    if found is None:
        raise RuleViolation(f"partner {partner['partner_id']} holds tier {assigned_on(partner, day)}, which the "
                            "policy lacks")
    return found


def _answer(name: str, entitled: bool, value: Any, rule: Mapping[str, Any], reason: str) -> dict[str, Any]:
    return {
        "name": name,
        "entitled": entitled,
        "value": value,
        "reason": reason,
        "rule_id": rule["id"],
        "clause": rule["clause"],
    }


NOT_YET = "not yet applied"  # the status on a day before the partner's application was recorded


def status_on(partner: Mapping[str, Any], at_iso: str) -> str:
    """The partner's status at `at_iso`. PA-13.1 "This Agreement starts on the date the Partner is approved": before
    `activated_at` it held no standing (its history's status then, or NOT_YET before its application). From then on,
    the last suspension, reinstatement or termination its history records up to `at_iso`; at or after its last step
    (or with no such step recorded before `at_iso`), the status on file."""
    when = instant(at_iso)
    history = [s for s in partner.get("history") or [] if s.get("at") and s.get("to")]
    steps = sorted((instant(str(s["at"])), str(s["to"])) for s in history)
    then = [to for at, to in steps if at <= when]
    activated = partner.get("activated_at")
    if activated and when < instant(str(activated)):
        return then[-1] if then and then[-1] not in _STANDING else NOT_YET
    standing = [to for to in then if to in _STANDING or to == "terminated"]
    later = any(at > when for at, _ in steps)
    return standing[-1] if standing and later else str(partner["status"])


def _withheld(policy: Mapping[str, Any], status: str, name: str) -> dict[str, Any] | None:
    """The answer when the partner's status alone decides: terminated, not yet active, or withheld in suspension."""
    rules = onboarding(policy)
    if status == "terminated":
        return _answer(name, False, None, rules["termination"], "the partner is terminated")
    if status not in _STANDING:
        reason = f"the partner is {status}; entitlements start at activation"
        return _answer(name, False, None, rules["activation_approval"], reason)
    if status == "suspended" and name in rules["suspension"].get("withholds", []):
        return _answer(name, False, None, rules["suspension"], f"{name} is withheld while the partner is suspended")
    return None


def _one(
    policy: Mapping[str, Any], partner: Mapping[str, Any], name: str, effective: Mapping[str, Any] | None,
    lapsed: list[str], status: str, day: date,
) -> dict[str, Any]:
    withheld = _withheld(policy, status, name)
    if withheld is not None:
        return withheld
    lapse = onboarding(policy)["certification_lapse"]
    if effective is None:
        return _answer(name, False, None, lapse, "no tier's certification requirements are met: " + "; ".join(lapsed))
    grant = effective["entitlements"].get(name)
    if grant is None:
        return _answer(name, False, None, effective, f"the {effective['name']} tier does not grant {name}")
    value = grant["value"]
    original = _assigned(policy, partner, day)["entitlements"].get(name, {}).get("value")
    if lapsed and original != value:
        reason = (
            f"{name} is {_shown(value)} under the {effective['name']} tier instead of {_shown(original)}, "
            f"from the moment a required certification lapsed: {'; '.join(lapsed)}"
        )
        return _answer(name, _entitled(value), value, lapse, reason)
    return _answer(name, _entitled(value), value, grant, f"the {effective['name']} tier sets {name} to {_shown(value)}")


def _reasons(
    policy: Mapping[str, Any], status: str, effective: Mapping[str, Any] | None, lapsed: list[str]
) -> list[dict[str, Any]]:
    rules = onboarding(policy)
    reasons = []
    if status == "terminated":
        reasons.append(rule_ref(rules["termination"], "a terminated partner has no entitlements"))
    elif status not in _STANDING:
        reasons.append(
            rule_ref(rules["activation_approval"], f"the partner is {status}; entitlements start at activation")
        )
    if effective is not None:
        reasons.append(rule_ref(effective, f"entitlements of the {effective['name']} tier apply"))
    if lapsed:
        reasons.append(rule_ref(rules["certification_lapse"], "; ".join(lapsed)))
    if status == "suspended":
        reasons.append(rule_ref(rules["suspension"], "some entitlements are withheld while the partner is suspended"))
    return reasons


def entitlements(policy: Mapping[str, Any], partner: Mapping[str, Any], at_iso: str) -> dict[str, Any]:
    """Every entitlement the partner has at `at_iso`, from its status then (its history), its tier and the
    certifications valid then. Before activation there is no tier (the tier is assigned when the partner is approved)
    and every entitlement is withheld with the activation rule's reason."""
    day = parse_instant(at_iso).date()
    onboarding(policy)
    status = status_on(partner, at_iso)
    standing = status in _STANDING
    effective = effective_tier(policy, partner, day) if standing else None
    lapsed = [m["message"] for m in tier_unmet(_assigned(policy, partner, day), partner, day, None)] if standing else []
    answers = {name: _one(policy, partner, name, effective, lapsed, status, day) for name in entitlement_names(policy)}
    for name, answer in answers.items():  # PA-9.3 / CPA-9.3: premium onboarding only above a deployment's value
        floor = ((effective or {}).get("entitlements", {}).get(name) or {}).get("min_deployment_list_value")
        if answer["entitled"] and floor is not None:
            answer["min_deployment_list_value"] = floor
    for name in allowances.COUNTED:
        if name in answers:
            answer = answers[name]
            answer["remaining"] = allowances.remaining(partner, name, answer["value"], answer["entitled"], at_iso)
    if standing:
        for name, answer in answers.items():
            until = None if answer["entitled"] else service_until(policy, partner, name, day)
            if until is not None:
                answer["service_until"] = until.isoformat()
    return {
        "partner_id": partner["partner_id"],
        "as_of": at_iso,
        "status": status,
        "tier": assigned_on(partner, day) if standing or status == "terminated" else None,
        "effective_tier": effective["tier"] if effective else None,
        "entitlements": answers,
        "reasons": _reasons(policy, status, effective, lapsed),
    }


def entitlement(policy: Mapping[str, Any], partner: Mapping[str, Any], name: str, at_iso: str) -> dict[str, Any]:
    """One entitlement at `at_iso`; a name no tier grants is not found."""
    if name not in entitlement_names(policy):
        raise NotFound(f"no entitlement {name} in this program")
    every = entitlements(policy, partner, at_iso)
    return {
        **every["entitlements"][name],
        "as_of": at_iso,
        "tier": every["tier"],
        "effective_tier": every["effective_tier"],
    }
