"""Exceptions billing opens for finance: one per ERP event and category, in the posting's own commit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...domain.audit import AuditEntry
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
    """One exception per event and category, in this commit; None when this event already opened it (on an earlier
    delivery or replay: that exception is still what the event became, so it stays in `posting.case_ids`)."""
    marker = f"{posting.erp_event_id}#{category}"
    earlier = posting.get(CASE_MARKERS, marker)
    if earlier is not None:
        posting.case_ids.append(str(earlier.data["case_id"]))
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


def resolve_own_exception(
    posting: Posting, category: str, rule: Rule, note: Callable[[dict[str, Any]], str]
) -> str | None:
    """The undecided exception of `category` this ERP event opened on an earlier try, resolved in this commit by
    `rule` because what it reported no longer holds (the event is billed now), with the `note` made of the case; its
    id, or None when there is none to resolve (never opened, or already decided by its queue)."""
    marker = posting.get(CASE_MARKERS, f"{posting.erp_event_id}#{category}")
    stored = cases.find(posting.rt, posting.tenant_id, marker.data["case_id"]) if marker is not None else None
    if stored is None or not cases.undecided(stored.data):
        return None
    said = note(stored.data)
    cite = {"rule_id": rule.rule_id, "clause": rule.clause}
    posting.changes.puts.append(
        cases.closed_by_watcher(stored.data, stored.version, actor=ACTOR, note=said, rule=cite, at=posting.now)
    )
    record = AuditEntry(actor=ACTOR, action="exception.resolved", subject=stored.data["case_id"], outcome="resolved",
                        inputs={"category": category, "subject": stored.data["subject"], "note": said},
                        policy_version=posting.tenant.policy_version, rule_ids=(rule.rule_id,),
                        clauses=(rule.clause,), partner_id=stored.data.get("partner_id"))  # fmt: skip
    posting.changes.audit.append(record)
    return str(stored.data["case_id"])


def exception_note(posting: Posting, case_id: str | None, category: str) -> str:
    """How a held event's reason names its exception: the one this delivery opened, or the one an earlier delivery of
    the same event opened (a replay opens none: one exception per event and category)."""
    if case_id:
        return f"; exception {case_id}"
    earlier = posting.get(CASE_MARKERS, f"{posting.erp_event_id}#{category}")
    return f"; exception {earlier.data['case_id']} (opened by an earlier delivery)" if earlier else ""


def fail(posting: Posting, category: str, message: str, *rules: Rule) -> Outcome:
    """Not billable as it stands (unknown partner or SKU, rating failure): an exception for the event's partner citing
    `rules`; replayable once fixed."""
    case_id = open_exception(posting, category, message, partner_id=posting.data["partner_id"], rules=rules)
    return Outcome("failed", message + exception_note(posting, case_id, category), done=False)
