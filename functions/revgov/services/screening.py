"""Compliance screening use cases (PA-2.8 / CPA-2.8): the exception a potential match opens in Legal's queue, the
yearly repeat the lifecycle sweep asks for, and the hold other use cases consult (`held`).

A screening is filed as a partner document carrying its outcome (`services.partners.add_document`; the rules are
`domain.partners.screening`). A potential match opens one `compliance_screening_match` exception, routed by the
policy's exception routing (SOP-4.1 / COP-4.1: legal, 24 hours), in the same commit as the filing. Legal resolves by
filing the next screening: clear lifts the hold, confirmed keeps it and allows termination under PA-13.3 / CPA-13.3
(POST /v1/partners/{partner_id}/terminate, by a person: Revgov never terminates by itself)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..domain.access import Principal
from ..domain.errors import StaleWrite
from ..domain.partners import screening
from ..domain.time import parse_instant
from ..ports import Changes
from ..runtime import Runtime
from . import cases, tenants
from . import partner_repository as repository
from .toolkit import put_over

ACTOR = "system:screening-sweep"
# partner id:screening day[:ownership] -> the screening the exception asks to repeat: one exception per screening on
# file for the yearly repeat, one for an ownership change after it
DUE = "SCREENDUE"


def match_opened(rt: Runtime, who: Principal, policy: dict[str, Any], partner: Mapping[str, Any],
                 policy_version: str) -> Changes:
    """The changes a screening filing brings beyond the document: a potential match opens the Legal exception
    (PA-2.8 "A potential match is routed to Legal"; CPA-2.8 "referred to Legal"); any other outcome, nothing."""
    hold = screening.held_by(policy, partner)
    if hold is None or hold["outcome"] != screening.POTENTIAL:
        return Changes()
    message = (f"a potential screening match on {hold['screened_on']}: no quote, order, payment or incentive is "
               f"processed for the partner until Legal resolves it ({hold['clause']})")
    return _opened(rt, policy, partner, who, message, policy_version)


def _opened(rt: Runtime, policy: dict[str, Any], partner: Mapping[str, Any], by: Principal | str, message: str,
            policy_version: str) -> Changes:
    rule = screening.rule(policy)
    assert rule is not None  # only called where the policy has a screening rule
    _, changes = cases.open_case(
        rt, policy, kind="exception", category=rule["category"], subject_kind="partner",
        subject_id=partner["partner_id"], requested_by=by,
        reasons=[{"rule_id": rule["id"], "clause": rule["clause"], "message": message}],
        risk_score=90, partner_id=partner["partner_id"], policy_version=policy_version,
        context={"screened_on": (screening.latest(policy, partner) or {}).get("issued_at")},
    )
    return changes


def ownership_screening_due(rt: Runtime, who: Principal, policy: dict[str, Any], partner: Mapping[str, Any],
                            policy_version: str) -> Changes:
    """PA-2.8 "Screening is repeated [...] whenever ownership changes" (CPA-2.8 "on any change of control"): a recorded
    ownership change no screening on file covers opens one exception in the screening category (SOP-4.1 / COP-4.1:
    legal) asking for the new screening, once per screening on file, as the yearly repeat does. It holds nothing: the
    clause holds the partner on a potential match only, which the new screening's outcome decides."""
    change = screening.unscreened_change(policy, partner)
    if change is None:
        return Changes()
    screened = (screening.latest(policy, partner) or {})["issued_at"]
    key = f"{partner['partner_id']}:{screened}:ownership"
    if rt.store.get(who.tenant_id, DUE, key) is not None:  # its exception already asks for the new screening
        return Changes()
    clause = (screening.rule(policy) or {}).get("clause")
    message = (f"ownership changed on {change['changed_on']}, after the latest compliance screening of {screened}: "
               f"screen the partner, its beneficial owners and signatories again ({clause})")
    changes = _opened(rt, policy, partner, who, message, policy_version)
    changes.puts.append(put_over(DUE, key, {"partner_id": partner["partner_id"], "screened_on": screened,
                                            "changed_on": change["changed_on"]}, None))  # fmt: skip
    return changes


def held(rt: Runtime, tenant_id: str, policy: Mapping[str, Any], partner_id: str) -> dict[str, Any] | None:
    """The screening hold on a partner now (outcome, day, rule and clause), or None."""
    found = repository.record(rt.store, tenant_id, partner_id)
    return screening.held_by(policy, found) if found is not None else None


def sweep_repeats(rt: Runtime, tenant_id: str) -> dict[str, int]:
    """Scheduled with the lifecycle sweep: an active or suspended partner (PA-13.2 "without terminating this
    Agreement") whose latest screening is older than `repeat_months` (PA-2.8 "repeated at least once every 12
    months"; CPA-2.8 "every 12 months") gets one exception in the screening category asking for the repeat, once per
    screening on file. Idempotent."""
    counts = {"screening_due": 0}
    tenant, _ = tenants.load_tenant(rt, tenant_id)
    policy = tenant.policy
    if screening.rule(policy) is None:
        return counts
    now = rt.clock.now_iso()
    day = parse_instant(now).date()
    for partner in repository.every(rt.store, tenant_id):
        if not screening.overdue(policy, partner, day):
            continue
        screened = (screening.latest(policy, partner) or {})["issued_at"]
        key = f"{partner['partner_id']}:{screened}"
        if rt.store.get(tenant_id, DUE, key) is not None:
            continue
        message = (f"the latest compliance screening is of {screened}, older than the clause allows from "
                   f"{screening.due_on(policy, partner)}: screen the partner again")
        changes = _opened(rt, policy, partner, ACTOR, message, tenant.policy_version)
        changes.puts.append(put_over(DUE, key, {"partner_id": partner["partner_id"], "screened_on": screened}, None))
        try:
            rt.commit(tenant_id, changes)
        except StaleWrite:  # another run opened it meanwhile
            continue
        counts["screening_due"] += 1
    return counts
