"""Exceptions billing opens for finance: one per ERP event and category, in the posting's own commit."""

from __future__ import annotations

from typing import Any

from ...domain.rules import Rule
from ...ports import Put
from .. import cases
from .posting import ACTOR, Outcome, Posting
from .repository import CASE_MARKERS


def open_exception(
    posting: Posting,
    category: str,
    message: str,
    *,
    partner_id: str | None,
    rules: tuple[Rule, ...] = (),
    context: dict[str, Any] | None = None,
) -> str | None:
    """One exception per event and category, in this commit; None when this event already opened it."""
    marker = f"{posting.erp_event_id}#{category}"
    if posting.get(CASE_MARKERS, marker) is not None:
        return None
    reasons: list[dict[str, str | None]] = [{**r.as_dict(), "message": message} for r in rules]
    reasons = reasons or [{"rule_id": None, "clause": None, "message": message}]
    case, opened = cases.open_case(
        posting.rt,
        posting.tenant.policy,
        kind="exception",
        category=category,
        subject_kind="erp_event",
        subject_id=posting.event_id,
        requested_by=ACTOR,
        reasons=reasons,
        partner_id=partner_id,
        context={
            **(context or {}),
            "event_id": posting.event_id,
            "erp_event_id": posting.erp_event_id,
            "detail_type": posting.detail_type,
            "message": message,
        },
        policy_version=posting.tenant.policy_version,
    )
    posting.changes.merge(opened).puts.append(
        Put(CASE_MARKERS, marker, {"case_id": case["case_id"], "event_id": posting.event_id}, must_be_absent=True)
    )
    posting.case_ids.append(case["case_id"])
    return str(case["case_id"])


def fail(posting: Posting, category: str, message: str, *rules: Rule) -> Outcome:
    """Not billable as it stands (unknown partner or SKU, rating failure): an exception for the event's partner citing
    `rules`; replayable once fixed."""
    case_id = open_exception(posting, category, message, partner_id=posting.data["partner_id"], rules=rules)
    note = f"; exception {case_id}" if case_id else "; its exception is already open"
    return Outcome("failed", message + note, done=False)
