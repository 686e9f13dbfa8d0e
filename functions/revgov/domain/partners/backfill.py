"""An onboarding that happened before Revgov recorded it (the partners a program had on the day it started using
Revgov, such as the demo partners): the partner as the lifecycle would have left it, replayed step by step at the
instants the steps happened (the application, each piece of evidence as received, the submission and its assessment,
the activation, the renewals since), so every check the lifecycle makes holds for the dates given: no document or
certification dated after the day it was received, an activation only on a complete assessment as of its submission.

Every historical step is by `backfill` (BACKFILL_ACTOR), never by a person's key, and the activation's decision has
no approval id: nobody in Revgov approved it then. The record's `backfill` says who recorded it and when."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

from ..access import Principal
from ..errors import FieldError, RuleViolation
from ..time import instant, iso, parse_instant
from .assessment import submitted
from .evidence import record_certification, record_document
from .lifecycle import moved, new_application

BACKFILL_ACTOR = "backfill"


@dataclass(frozen=True)
class _Clerk(Principal):
    """Whoever records a backfill, acting in its historical steps as `backfill`: the key kept for segregation of
    duties is the recorder's, the actor shown is not a person's."""

    @property
    def actor(self) -> str:
        return BACKFILL_ACTOR


@dataclass(frozen=True)
class Filed:
    """One piece of evidence as it was received: a document (`document_type`, `reference`, `checksum`, `issued_at`,
    `expires_at`) or a certification (`certification_id`, `earned_at`)."""

    received_at: str
    item: Mapping[str, Any]


@dataclass(frozen=True)
class OnboardingHistory:
    """When the partner applied, submitted and was activated, the evidence in the order received (onboarding and
    renewals since), and the note every step carries."""

    applied_at: str
    submitted_at: str
    activated_at: str
    evidence: tuple[Filed, ...]
    note: str


def _at(text: str, path: str) -> datetime:
    return parse_instant(text, field_path=path, problem=RuleViolation)


def _instants(history: OnboardingHistory, recorded_at: str) -> dict[str, datetime]:
    """The history's instants, in the order the lifecycle needs them; a step out of order is a 422 naming it."""
    named = {
        "/applied_at": _at(history.applied_at, "/applied_at"),
        "/submitted_at": _at(history.submitted_at, "/submitted_at"),
        "/activated_at": _at(history.activated_at, "/activated_at"),
    }
    bounds = [*named.items(), ("recorded_at", instant(recorded_at))]
    for (earlier, first), (later, second) in pairwise(bounds):
        if second < first:
            raise RuleViolation(f"a backfilled onboarding runs in order: {later} is before {earlier}",
                                errors=[FieldError(later, f"on or after {iso(first)}")])
    for n, filed in enumerate(history.evidence):
        at = _at(filed.received_at, f"/evidence/{n}/received_at")
        if not named["/applied_at"] <= at <= bounds[-1][1]:
            raise RuleViolation(f"evidence {n} was received at {filed.received_at}, outside the application's life",
                                errors=[FieldError(f"/evidence/{n}/received_at", "between applied_at and now")])
    return {**named, "recorded_at": bounds[-1][1]}


def _file(policy: Mapping[str, Any], clerk: Principal) -> Callable[[dict[str, Any], Filed], dict[str, Any]]:
    def filed(partner: dict[str, Any], evidence: Filed) -> dict[str, Any]:
        if "certification_id" in evidence.item:
            return record_certification(policy, partner, evidence.item, by=clerk, at=evidence.received_at)
        return record_document(policy, partner, evidence.item, by=clerk, at=evidence.received_at)

    return filed


def _activated(policy: Mapping[str, Any], partner: dict[str, Any], history: OnboardingHistory,
               clerk: Principal) -> dict[str, Any]:
    """Submitted and activated at the history's instants: the assessment is the one the submission made then."""
    pending, assessment = submitted(policy, partner, by=clerk, at=history.submitted_at)
    if not assessment.complete:
        gaps = "; ".join(gap["message"] for gap in assessment.missing) or "no tier is met"
        raise RuleViolation(f"the backfilled onboarding was not complete when submitted ({history.submitted_at}): "
                            f"{gaps}", errors=[FieldError("/evidence", "the evidence verified at onboarding")])
    active = moved(pending, "active", at=history.activated_at, by=clerk, reason=history.note)
    decision = {"outcome": "approved", "approval_id": None, "by": BACKFILL_ACTOR, "at": history.activated_at,
                "note": history.note}
    return {**active, "tier": pending["proposed_tier"], "activated_at": history.activated_at, "decision": decision}


def backfilled(policy: Mapping[str, Any], application: Mapping[str, Any], history: OnboardingHistory, *,
               partner_id: str, recorded_by: Principal, recorded_at: str) -> dict[str, Any]:
    """The active partner `history` leaves, by the lifecycle's own steps at their instants, recorded now."""
    instants = _instants(history, recorded_at)
    clerk = _Clerk(recorded_by.tenant_id, recorded_by.role, recorded_by.key_id)
    file = _file(policy, clerk)
    evidence = sorted(history.evidence, key=lambda filed: instant(filed.received_at))
    partner = new_application(policy, partner_id=partner_id, application=application, created_by=clerk,
                              at=history.applied_at)
    for filed in (f for f in evidence if instant(f.received_at) <= instants["/submitted_at"]):
        partner = file(partner, filed)
    partner = _activated(policy, partner, history, clerk)
    for filed in (f for f in evidence if instant(f.received_at) > instants["/submitted_at"]):
        partner = file(partner, filed)
    stamp = {"recorded_at": recorded_at, "recorded_by": recorded_by.actor, "note": history.note}
    return {**partner, "updated_at": recorded_at, "backfill": stamp}
