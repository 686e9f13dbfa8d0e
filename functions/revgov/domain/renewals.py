"""A partner agreement's own term and its renewal (PA-13.1 / CPA-13.1), pure: the policy's term rule, the partner
record and the day are handed in.

PA-13.1: "This Agreement starts on the date the Partner is approved and continues until the end of the Program Year,
and then renews automatically for successive Program Years unless either party gives notice of non-renewal at least
60 days before the end of the current Program Year." CPA-13.1: "This Agreement runs from admission to the end of the
Program Year and renews for further Program Years unless either party gives notice at least 90 days before year
end." Both define "Program Year" as a calendar year (PA-1 / CPA-1), so a Program Year ends on 31 December.

Reading of "at least N days before the end": the year ends at 24:00 on 31 December (= 00:00 on 1 January); a notice
is in time when it is given no later than N days before that instant, i.e. on or before 31 December minus N days
(northwind 2026: 1 November; contoso 2026: 2 October). A late notice does not stop the renewal the clause makes
automatic: it is refused (422 citing the clause and naming the next Program Year end it can still be given for); the
party may give it for that later year end explicitly (`effective_at`).

The term (`partner["term"]`): `started_on` (the approval day), `year_end` (the end of the current Program Year),
`renewals` (year ends passed with a renewal), `renewal_due_for` (the year end a reminder was sent for) and
`non_renewal` (the notice, or None). A partner without a stored term (approved before terms were recorded) has the
term its approval day implies: the Program Year of its approval, rolled forward by the sweep one year at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from .errors import Conflict, FieldError, MalformedRequest, RuleViolation
from .time import instant, iso, parse_day

RUNNING = frozenset({"active", "suspended"})  # an agreement in force: it renews or ends at year end
PARTIES = frozenset({"partner", "distributor"})


@dataclass(frozen=True)
class TermRule:
    """`policy.onboarding.term`: the clause, the notice period and the reminder lead (a policy setting, no clause)."""

    rule_id: str
    clause: str
    notice_days: int
    reminder_days: int

    def cited(self) -> dict[str, str]:
        return {"rule_id": self.rule_id, "clause": self.clause}


def term_rule(policy: Mapping[str, Any]) -> TermRule | None:
    """The tenant's term rule, or None where the policy names none (no renewal is managed)."""
    rule = policy.get("onboarding", {}).get("term")
    if not rule:
        return None
    return TermRule(rule["id"], rule["clause"], int(rule["notice_days"]), int(rule.get("reminder_days", 0)))


def year_end_of(day: date) -> date:
    """The end of the Program Year (a calendar year) `day` falls in."""
    return date(day.year, 12, 31)


def year_end_instant(year_end: date) -> datetime:
    """The instant a Program Year ends: 00:00 UTC on the next day."""
    return datetime.combine(year_end + timedelta(days=1), time(0), tzinfo=UTC)


def last_notice_day(rule: TermRule, year_end: date) -> date:
    """The last day a notice of non-renewal for `year_end` is in time: `notice_days` before the year ends."""
    return year_end - timedelta(days=rule.notice_days)


def term_of(partner: Mapping[str, Any]) -> dict[str, Any]:
    """The stored term, or the one the approval implies: from the approval day to the end of that Program Year."""
    stored = partner.get("term")
    if stored:
        return dict(stored)
    started = instant(str(partner["activated_at"])).date()
    return {"started_on": started.isoformat(), "year_end": year_end_of(started).isoformat(), "renewals": [],
            "renewal_due_for": None, "non_renewal": None}


def as_of(rule: TermRule, partner: Mapping[str, Any], day: date) -> Mapping[str, Any]:
    """The partner as of `day`: Program Years that ended without a notice for them have renewed (PA-13.1 "renews
    automatically"), whether or not the daily sweep has recorded it yet. An ending is left to the sweep."""
    while (step := year_end_step(rule, partner, day)) is not None and step.kind == "renewed":
        partner = step.partner
    return partner


def view(rule: TermRule, partner: Mapping[str, Any]) -> dict[str, Any]:
    """The term as callers read it, with the notice period and the last day a notice is in time, citing the clause."""
    term = term_of(partner)
    year_end = parse_day(term["year_end"])
    notice = term.get("non_renewal")
    shown = {k: v for k, v in notice.items() if not k.endswith("_key")} if notice else None
    return {"partner_id": partner["partner_id"], "status": partner["status"], **term, "non_renewal": shown,
            "notice_days": rule.notice_days, "last_notice_day": last_notice_day(rule, year_end).isoformat(),
            **rule.cited()}


def _effective(term: Mapping[str, Any], effective_at: object) -> date:
    """The Program Year end a notice is for: the current one unless the caller names the next one (a notice is about
    "the current Program Year"; too late for it, the refusal names the next). A later one is refused: it would sit on
    file and keep the other party's notice for the current year out."""
    current = parse_day(term["year_end"])
    if effective_at is None:
        return current
    try:
        wanted = parse_day(str(effective_at))
    except ValueError as exc:
        raise MalformedRequest(f"{effective_at!r} is not a date",
                               errors=[FieldError("/effective_at", "use YYYY-MM-DD")]) from exc
    following = date(current.year + 1, 12, 31)
    if (wanted.month, wanted.day) != (12, 31) or not current <= wanted <= following:
        raise RuleViolation(f"{wanted} is not the end of the current Program Year ({current}) or of the next "
                            f"({following})", errors=[FieldError("/effective_at", f"{current} or {following}")])
    return wanted


def non_renewal(
    rule: TermRule, partner: Mapping[str, Any], *, party: str, notice: Mapping[str, Any], by: Mapping[str, str],
    given_at: str,
) -> dict[str, Any]:
    """The partner with a notice of non-renewal recorded, or the refusal: 409 when the agreement is not in force or a
    notice for the same or an earlier year end is on file; 422 citing the clause when it is too late for the Program
    Year end it is for. The current Program Year is the one as of the notice (`as_of`: years that ended without a
    notice have renewed, recorded by the sweep or not); the notice is kept on the stored term, which the sweep rolls.
    A notice for an earlier year end than one on file replaces it ("either party" may end the current year)."""
    if partner["status"] not in RUNNING:
        raise Conflict(f"partner {partner['partner_id']} is {partner['status']}: no agreement term runs",
                       extra={"current_status": partner["status"]})
    term = term_of(as_of(rule, partner, instant(given_at).date()))
    effective = _effective(term, notice.get("effective_at"))
    on_file = term.get("non_renewal")
    if on_file and parse_day(on_file["effective_at"]) <= effective:
        raise Conflict(f"a notice of non-renewal is already on file for {on_file['effective_at']}",
                       extra={"non_renewal": {k: v for k, v in on_file.items() if not k.endswith("_key")}})
    deadline = year_end_instant(effective) - timedelta(days=rule.notice_days)
    if instant(given_at) > deadline:
        later = date(effective.year + 1, 12, 31)
        raise RuleViolation(
            f"notice of non-renewal must be given at least {rule.notice_days} days before the end of the Program Year "
            f"({rule.clause}): the last day for {effective} was {last_notice_day(rule, effective)}; the agreement "
            f"renews; a notice now can be for {later}",
            errors=[FieldError("/effective_at", f"too late for {effective}; {later} is the earliest possible")],
            extra={**rule.cited(), "last_notice_day": last_notice_day(rule, effective).isoformat(),
                   "earliest_effective_at": later.isoformat()},
        )
    recorded = {"party": party, "given_at": given_at, "effective_at": effective.isoformat(),
                "reason": notice["reason"], **by, **rule.cited()}
    return {**partner, "term": {**term_of(partner), "non_renewal": recorded}, "updated_at": given_at}


@dataclass(frozen=True)
class Step:
    """One thing the year-end sweep does to a partner: `due` (remind), `renewed` or `ended`."""

    kind: str
    year_end: date
    partner: dict[str, Any]


def year_end_step(rule: TermRule, partner: Mapping[str, Any], day: date) -> Step | None:
    """What is due on `day`: a Program Year that ended renews, or ends the agreement when a notice of non-renewal was
    given for it; a year whose last notice day is `reminder_days` away or closer gets one reminder. None: nothing."""
    if partner["status"] not in RUNNING:
        return None
    term = term_of(partner)
    year_end = parse_day(term["year_end"])
    notice = term.get("non_renewal")
    if year_end < day:
        if notice and notice["effective_at"] == term["year_end"]:
            return Step("ended", year_end, {**partner, "term": term})
        renewed = {**term, "year_end": date(year_end.year + 1, 12, 31).isoformat(),
                   "renewals": [*term.get("renewals", []), term["year_end"]]}
        return Step("renewed", year_end, {**partner, "term": renewed})
    remind_from = last_notice_day(rule, year_end) - timedelta(days=rule.reminder_days)
    if not notice and term.get("renewal_due_for") != term["year_end"] and day >= remind_from:
        return Step("due", year_end, {**partner, "term": {**term, "renewal_due_for": term["year_end"]}})
    return None


def ended_at(year_end: date) -> str:
    """The instant an agreement not renewed ends: the end of its last Program Year."""
    return iso(year_end_instant(year_end))
