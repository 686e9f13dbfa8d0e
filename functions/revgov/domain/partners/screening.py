"""Compliance screening (PA-2.8 / CPA-2.8): who may record an outcome, whether a partner is held, when one is due.

PA-2.8: "Screening is repeated at least once every 12 months and whenever ownership changes. A potential match is routed
to Legal, and no quote, order or incentive may be processed for the Partner while the match is unresolved. A confirmed
match is grounds for immediate termination under PA-13.3." CPA-2.8 adds payment: "no quote, order, payment or incentive
is processed for the Partner until Legal resolves it."

A screening is a document of the policy's screening type (`policy.onboarding.screening.document_type`) carrying an
`outcome`; the latest one filed is the partner's standing. A potential or a confirmed match holds the partner (a
confirmed match stays held until a person terminates under PA-13.3 / CPA-13.3: Revgov never terminates by itself); a
clear one lifts the hold. Pure: the policy, the partner record and the day are handed in."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from ..access import Principal, Role
from ..errors import FieldError, Forbidden, MalformedRequest, RuleViolation
from ..time import add_months, parse_day

CLEAR, POTENTIAL, CONFIRMED = "clear", "potential_match", "confirmed_match"
OUTCOMES = (CLEAR, POTENTIAL, CONFIRMED)
HOLDING = frozenset({POTENTIAL, CONFIRMED})
# PA-2.8 / SOP-1.2: Legal owns screening matches, Channel Operations partner onboarding (the screening is the
# Distributor's own, never the partner's word about itself)
RECORDERS = frozenset({Role.CHANNEL_OPS, Role.LEGAL})


def rule(policy: Mapping[str, Any]) -> dict[str, Any] | None:
    """The policy's screening rule, or None where the tenant's policy records no screening outcome."""
    found = policy.get("onboarding", {}).get("screening")
    return dict(found) if found else None


def check_outcome(policy: Mapping[str, Any], partner: Mapping[str, Any], document: Mapping[str, Any],
                  by: Principal) -> None:
    """Refuse an outcome on anything but a screening (422), from a key other than channel ops or legal (403), and a
    screening over an unresolved match from anyone but Legal (403: "until Legal resolves it")."""
    screening = rule(policy)
    outcome = document.get("outcome")
    is_screening = screening is not None and document["document_type"] == screening["document_type"]
    if outcome is not None and not is_screening:
        raise RuleViolation("only a compliance screening has an outcome",
                            errors=[FieldError("/outcome", "only on the screening document type")])
    if by.role is Role.LEGAL and not is_screening:  # SOP-1.2: legal owns screening matches, not onboarding
        raise Forbidden("legal files compliance screenings only; channel ops file the other onboarding documents")
    if not is_screening or screening is None:
        return
    cite = f"{screening['clause']} ({screening['id']})"
    if by.role is Role.PARTNER:  # "The Distributor screens each Partner": its own upload would restart the 12 months
        raise Forbidden(f"the Distributor screens the partner under {cite}: a partner key files no screening")
    if outcome is not None and by.role not in RECORDERS:
        raise Forbidden(f"only channel ops or legal record a screening outcome under {cite}")
    if held_by(policy, partner) is not None and by.role is not Role.LEGAL:
        raise Forbidden(f"a screening match is unresolved: only Legal files the next screening under {cite}")


def latest(policy: Mapping[str, Any], partner: Mapping[str, Any]) -> dict[str, Any] | None:
    """The screening on file (a new one replaces the previous), or None."""
    screening = rule(policy)
    if screening is None:
        return None
    found = partner.get("documents", {}).get(screening["document_type"])
    return dict(found) if found else None


def held_by(policy: Mapping[str, Any], partner: Mapping[str, Any]) -> dict[str, Any] | None:
    """The hold on the partner: its latest screening is a potential or confirmed match. None: not held. The answer
    names the outcome, the screening day and the rule (id and clause) the hold rests on."""
    on_file = latest(policy, partner)
    screening = rule(policy)
    if screening is None or on_file is None or on_file.get("outcome") not in HOLDING:
        return None
    return {"outcome": on_file["outcome"], "screened_on": on_file["issued_at"],
            "rule_id": screening["id"], "clause": screening["clause"]}


def refuse_while_held(policy: Mapping[str, Any], partner: Mapping[str, Any], what: str) -> None:
    """A RuleViolation naming the hold when the partner is held: `what` (a payment or an incentive, e.g. an MDF claim's
    approval) is not processed until Legal resolves the match (PA-2.8 "no quote, order or incentive may be processed
    for the Partner while the match is unresolved"; CPA-2.8 "no quote, order, payment or incentive")."""
    hold = held_by(policy, partner)
    if hold is None:
        return
    raise RuleViolation(
        f"{what} is not processed: the partner's compliance screening of {hold['screened_on']} is a {hold['outcome']} "
        f"that Legal has not resolved ({hold['rule_id']}, {hold['clause']})",
        extra={**hold},
    )


def due_on(policy: Mapping[str, Any], partner: Mapping[str, Any]) -> date | None:
    """The first day the repeat screening is overdue: `repeat_months` after the latest screening's day (PA-2.8 "at
    least once every 12 months": screened on 2026-01-15, due by 2027-01-15, overdue from 2027-01-16). None: no rule,
    or nothing on file (the onboarding gate asks for the first one)."""
    screening = rule(policy)
    on_file = latest(policy, partner)
    if screening is None or on_file is None:
        return None
    return add_months(parse_day(on_file["issued_at"]), int(screening["repeat_months"])) + timedelta(days=1)


# The partners under the Agreement: a suspension leaves it in force (PA-13.2 / CPA-13.2 "without terminating this
# Agreement"), so a suspended partner is screened every 12 months as an active one is
SCREENED_STATUSES = frozenset({"active", "suspended"})


def overdue(policy: Mapping[str, Any], partner: Mapping[str, Any], day: date) -> bool:
    """A partner under the Agreement (active or suspended) whose latest screening is older than `repeat_months` on
    `day`."""
    due = due_on(policy, partner)
    return partner.get("status") in SCREENED_STATUSES and due is not None and day >= due


# The ownership changes kept on the partner record: the latest ones (and the earliest no screening covers). Each is
# whole on the audit trail (`partner.ownership_changed`); a record told of changes without end would pass the store's
# 400 KB item limit, and no write of the partner (Legal's screening, a suspension, a termination) could follow.
OWNERSHIP_CHANGES_KEPT = 10


def ownership_changed(partner: Mapping[str, Any], change: Mapping[str, Any], *, by: Principal, at: str,
                      policy: Mapping[str, Any]) -> dict[str, Any]:  # fmt: skip
    """The partner with a change of its ownership recorded (PA-2.8 "whenever ownership changes"; CPA-2.8 "on any
    change of control"): the day it changed (a calendar date, else a 400; not after today, else a 422; each naming
    `/changed_on`), what changed and the owners after it, and who told (the partner itself, or channel ops / legal
    for the Distributor; the key is in the audit record, never on the partner). A terminated partner has no
    screening left to repeat (422). The record keeps `OWNERSHIP_CHANGES_KEPT` of them, the earliest uncovered one
    among them."""
    try:
        changed_on = parse_day(str(change["changed_on"]))
    except ValueError:
        raise MalformedRequest("the day ownership changed is a calendar date",
                               errors=[FieldError("/changed_on", "not a calendar date")]) from None
    if changed_on > parse_day(at[:10]):
        raise RuleViolation("an ownership change is recorded once it has happened",
                            errors=[FieldError("/changed_on", "not after today")])  # fmt: skip
    if partner.get("status") == "terminated":
        raise RuleViolation(f"partner {partner['partner_id']} is terminated: no screening is repeated for it",
                            extra={"current_status": "terminated"})  # fmt: skip
    recorded = {"changed_on": changed_on.isoformat(), "description": change["description"],
                "beneficial_owners": list(change.get("beneficial_owners") or []), "recorded_at": at,
                "reported_by_role": by.role.value}  # fmt: skip
    changes = [*partner.get("ownership_changes", []), recorded]
    kept = changes[-OWNERSHIP_CHANGES_KEPT:]
    first = unscreened_change(policy, {**partner, "ownership_changes": changes})
    if first is not None and first not in kept:  # the change that makes the screening due stays on the record
        kept = [first, *kept[1:]]
    return {**partner, "ownership_changes": kept, "updated_at": at}


def unscreened_change(policy: Mapping[str, Any], partner: Mapping[str, Any]) -> dict[str, Any] | None:
    """The earliest recorded ownership change no screening on file covers (one issued on the change day or later),
    or None. With no screening on file, onboarding asks for the first one (PA-2.2(d)): nothing to repeat."""
    on_file = latest(policy, partner)
    if rule(policy) is None or on_file is None:
        return None
    screened = parse_day(on_file["issued_at"])
    uncovered = [c for c in partner.get("ownership_changes", []) if parse_day(c["changed_on"]) > screened]
    return min(uncovered, key=lambda c: c["changed_on"]) if uncovered else None
