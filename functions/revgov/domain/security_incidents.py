"""Security incidents and personal-data breaches affecting the other party's data: the notice and its deadline. Pure.

PA-11.2: "Each party notifies the other without undue delay, and in any event within 72 hours, of a security incident
affecting the other's data, and cooperates in its investigation." CPA-11.2: "Personal data breaches are notified to
the other party without undue delay and within 48 hours of becoming aware."

An incident is recorded in either direction: a partner reports one affecting the distributor's data through its own
key (the report is its notice, `notified_at` is when Revgov received it), or staff record one affecting a partner's
data, with the time the notice was sent (now or later). The policy's `security_incidents` rule gives the hours.
The notice is on time when sent at or before `became_aware_at` + the hours ("within 72 hours": the 72nd hour itself
is within); later it is late, and while nothing is sent after the deadline it is overdue. The sweep
(services/security_incidents.watch_security_incidents) turns a late or overdue notice into one exception for the
queue the policy routes its category to (legal).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .errors import FieldError, MalformedRequest, RuleViolation
from .rules import Rule
from .time import iso, parse_instant

TO_DISTRIBUTOR, TO_PARTNER = "partner_to_distributor", "distributor_to_partner"
ON_TIME, LATE, PENDING, OVERDUE = "on_time", "late", "pending", "overdue"
MAX_SUMMARY = 2000
STAFF_ONLY = ("recorded_by", "notice_recorded_by")


@dataclass(frozen=True)
class IncidentRule:
    """`security_incidents` compiled."""

    rule: Rule
    notify_within_hours: int
    category: str  # the exception a late or unsent notice opens

    @classmethod
    def of(cls, policy: Mapping[str, Any]) -> IncidentRule | None:
        node = policy.get("security_incidents")
        if not node:
            return None
        return cls(Rule.of(node), int(node["notify_within_hours"]), str(node["category"]))


def _summary(body: Mapping[str, Any]) -> str:
    value = body.get("summary")
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_SUMMARY or "\x00" in value:
        raise MalformedRequest(f"summary is text of 1 to {MAX_SUMMARY} characters",
                               errors=[FieldError("/summary", f"1 to {MAX_SUMMARY} characters")])  # fmt: skip
    return value.strip()


def _not_after_now(moment: datetime, now: datetime, path: str) -> None:
    if moment > now:
        raise RuleViolation(f"{path[1:]} cannot be in the future", errors=[FieldError(path, "not after now")])


def notice_state(incident: Mapping[str, Any], now: datetime) -> str:
    """on_time / late (sent, before or after the deadline), pending / overdue (not sent, before or after it)."""
    deadline = parse_instant(incident["notify_by"])
    if incident.get("notified_at"):
        return ON_TIME if parse_instant(incident["notified_at"]) <= deadline else LATE
    return PENDING if now <= deadline else OVERDUE


def record(
    rule: IncidentRule,
    body: Mapping[str, Any],
    *,
    incident_id: str,
    partner_id: str,
    by_partner: bool,
    now: datetime,
    by: str,
) -> dict[str, Any]:
    """A new incident. Reported by the partner's key: it affects the distributor's data and the report is the notice
    (sent now). Recorded by staff: it affects the partner's data; `notified_at` (optional) is when the distributor
    sent its notice, not before it became aware and not after now."""
    became_aware = parse_instant(body.get("became_aware_at"), field_path="/became_aware_at")
    _not_after_now(became_aware, now, "/became_aware_at")
    summary = _summary(body)
    if by_partner:
        if body.get("notified_at") is not None:
            raise MalformedRequest("a partner's report is its notice: notified_at is when it is received",
                                   errors=[FieldError("/notified_at", "not sent by a partner")])  # fmt: skip
        notified: datetime | None = now
    elif body.get("notified_at") is None:
        notified = None
    else:
        notified = parse_instant(body.get("notified_at"), field_path="/notified_at")
        _not_after_now(notified, now, "/notified_at")
    if notified is not None and notified < became_aware:
        raise RuleViolation("notified_at is before became_aware_at",
                            errors=[FieldError("/notified_at", "not before became_aware_at")])  # fmt: skip
    incident: dict[str, Any] = {
        "incident_id": incident_id,
        "partner_id": partner_id,
        "direction": TO_DISTRIBUTOR if by_partner else TO_PARTNER,
        "affected_party": "distributor" if by_partner else "partner",
        "notifying_party": "partner" if by_partner else "distributor",
        "summary": summary,
        "became_aware_at": iso(became_aware),
        "notify_within_hours": rule.notify_within_hours,
        "notify_by": iso(became_aware + timedelta(hours=rule.notify_within_hours)),
        "notified_at": iso(notified) if notified else None,
        "recorded_at": iso(now),
        "recorded_by": by,
        "notice_recorded_by": by if notified else None,
        "exception_id": None,
        **rule.rule.as_dict(),
    }
    incident["notice"] = notice_state(incident, now)
    return incident


def with_notice(incident: Mapping[str, Any], body: Mapping[str, Any], *, now: datetime, by: str) -> dict[str, Any]:
    """The distributor's notice of an incident affecting the partner's data, sent at `notified_at`."""
    if incident["direction"] != TO_PARTNER:
        raise RuleViolation(f"incident {incident['incident_id']} was reported by the partner: its report is the "
                            f"notice")  # fmt: skip
    if incident.get("notified_at"):
        sent = f"the notice of incident {incident['incident_id']} was recorded as sent at {incident['notified_at']}"
        raise RuleViolation(sent, errors=[FieldError("/notified_at", "already sent")])
    notified = parse_instant(body.get("notified_at"), field_path="/notified_at")
    _not_after_now(notified, now, "/notified_at")
    if notified < parse_instant(incident["became_aware_at"]):
        raise RuleViolation("notified_at is before became_aware_at",
                            errors=[FieldError("/notified_at", "not before became_aware_at")])  # fmt: skip
    updated = {**incident, "notified_at": iso(notified), "notice_recorded_by": by}
    updated["notice"] = notice_state(updated, now)
    return updated


def partner_view(incident: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in incident.items() if k not in STAFF_ONLY}
