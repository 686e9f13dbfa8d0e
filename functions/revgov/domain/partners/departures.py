"""A certified individual leaving the partner (PA-4.4 / CPA-4.2), and the notice the partner owes. Pure.

PA-4.4: "If the only certified individual for a certification leaves the Partner's employment, that certification
ceases to count for the Partner on the individual's last day of employment, with the same effect as expiry under
PA-4.3. The Partner must notify Channel Operations within 10 business days of the departure. Failure to notify is a
material breach where the Partner continues to quote Products of the affected Product Family."
CPA-4.2: "The Partner notifies Channel Operations within 10 business days when a certified individual leaves; the
certification stops counting on the individual's last working day." (no breach clause: no `late_notice` rule).

`policy.onboarding.certification_departure` {id, clause, notice_business_days, late_notice?: {id, clause}}. A
departure lowers the certification's `holders`; the last one sets `holder_left_on`, which ends it like an expiry
(`evidence.counts_until`: PA-4.3 then follows through every reader of certification validity).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ..access import Principal, Role
from ..calendar import BusinessCalendar
from ..errors import Conflict, FieldError, Forbidden, RuleViolation
from ..time import instant, parse_day, parse_instant
from .lifecycle import TAKES_EVIDENCE, require
from .rules import certification as certification_rule
from .rules import onboarding

_DEPARTURES_KEPT = 50


@dataclass(frozen=True)
class QuoteSeen:
    """A quote check the partner made: its decision, when, and the product families of its lines not refused."""

    decision_id: str
    at: str
    families: frozenset[str]


@dataclass(frozen=True)
class Departure:
    """A departure as recorded: the partner after it, the entry on the certification, and the notice it owed."""

    partner: dict[str, Any]
    entry: dict[str, Any]
    certification: dict[str, Any]
    ended: bool  # the last certified individual left: the certification stopped counting after `last_day`

    @property
    def last_day(self) -> date:
        return parse_day(self.entry["last_day"])

    @property
    def late(self) -> bool:
        return bool(self.entry["notice"]["late"])


def rule(policy: Mapping[str, Any]) -> dict[str, Any]:
    """`onboarding.certification_departure`; a program without it records no departures (422)."""
    found = onboarding(policy).get("certification_departure")
    if not isinstance(found, dict):
        raise RuleViolation("this program's policy has no rule on certified staff leaving (certification_departure)")
    return found


def notice_due_on(policy: Mapping[str, Any], country: str | None, last_day: date) -> date:
    """The last day the partner may notify: the Nth business day after the last day of employment (PA-4.4 "within 10
    business days of the departure"), on the partner's calendar (PA-1.3 / CPA-1.3)."""
    calendar = BusinessCalendar.from_policy(dict(policy), country)
    due = last_day
    for _ in range(int(rule(policy)["notice_business_days"])):
        due = calendar.next_business_day(due)
    return due


def _day(body: Mapping[str, Any], field: str, today: date) -> date:
    day = parse_day(body[field])
    if day > today:
        raise RuleViolation(f"{field} {body[field]} is in the future: a departure is recorded once it has happened",
                            errors=[FieldError(f"/{field}", "on or before today")])
    return day


def _held(policy: Mapping[str, Any], partner: Mapping[str, Any], cert_id: str) -> dict[str, Any]:
    if certification_rule(policy, cert_id) is None:
        known = ", ".join(sorted(c["id"] for c in policy.get("certifications", [])))
        raise RuleViolation(f"{cert_id} is not in this program's certification catalogue",
                            errors=[FieldError("/certification_id", f"one of {known}")])
    record = partner.get("certifications", {}).get(cert_id)
    if record is None:
        raise RuleViolation(f"the partner holds no {cert_id} on record",
                            errors=[FieldError("/certification_id", "a certification the partner holds")])
    if record.get("holder_left_on"):
        raise Conflict(f"every certified individual for {cert_id} has already left (last on "
                       f"{record['holder_left_on']}); record the certification again when someone holds it")
    return dict(record)


def _notice(policy: Mapping[str, Any], partner: Mapping[str, Any], body: Mapping[str, Any], last_day: date,
            by: Principal, today: date) -> dict[str, Any]:
    """When Channel Operations was notified: today, when the partner records it; a staff member recording a notice
    received otherwise may say when (`notified_on`), never a partner key (it would date its own notice)."""
    if "notified_on" in body and by.role is Role.PARTNER:
        raise Forbidden("a partner's notice is dated when it is recorded: notified_on is for Channel Operations",
                        errors=[FieldError("/notified_on", "not accepted from a partner key")])
    notified = _day(body, "notified_on", today) if "notified_on" in body else today
    due = notice_due_on(policy, partner.get("country"), last_day)
    departure = rule(policy)
    return {"due_on": due.isoformat(), "notified_on": notified.isoformat(), "late": notified > due,
            "rule_id": departure["id"], "clause": departure["clause"]}


def record_departure(
    policy: Mapping[str, Any], partner: Mapping[str, Any], body: Mapping[str, Any], *, by: Principal, at: str
) -> Departure:
    """Record that a certified individual left on `last_day`: one holder fewer; the last one ends the certification
    at the end of its last day of employment (the latest last day recorded in this spell)."""
    require(partner, TAKES_EVIDENCE, "record departures")
    rule(policy)
    cert_id, today = body["certification_id"], parse_instant(at).date()
    record = _held(policy, partner, cert_id)
    last_day = _day(body, "last_day", today)
    if last_day < parse_day(record["earned_at"]):
        raise RuleViolation(f"last_day {body['last_day']} is before {cert_id} was earned ({record['earned_at']})",
                            errors=[FieldError("/last_day", f"on or after {record['earned_at']}")])
    entry = {"last_day": last_day.isoformat(), "recorded_at": at, "recorded_by": by.actor,
             "notice": _notice(policy, partner, body, last_day, by, today)}
    departures = [*record.get("departures", []), entry][-_DEPARTURES_KEPT:]
    holders = max(int(record.get("holders", 1)) - 1, 0)
    updated = {**record, "holders": holders, "departures": departures}
    if holders == 0:
        updated["holder_left_on"] = max(d["last_day"] for d in departures)
    certifications = {**partner.get("certifications", {}), cert_id: updated}
    moved = {**partner, "certifications": certifications, "updated_at": at}
    return Departure(moved, entry, updated, ended=holders == 0)


def quotes_while_unnotified(departure: Departure, quotes: Iterable[QuoteSeen], now: str) -> list[QuoteSeen]:
    """PA-4.4 "continues to quote Products of the affected Product Family": the partner's quotes with a line of the
    certification's family (not refused) made after the last day of employment and before the notice was recorded."""
    family = departure.certification["product_family"]
    after = _midnight(departure.last_day + timedelta(days=1))
    notified_on = parse_day(departure.entry["notice"]["notified_on"])
    notified = min(instant(now), _midnight(notified_on + timedelta(days=1)))
    return [q for q in quotes if family in q.families and after <= instant(q.at) < notified]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def late_notice_reason(
    policy: Mapping[str, Any], departure: Departure, quotes: list[QuoteSeen]
) -> dict[str, Any] | None:
    """The PA-4.4 breach to raise (rule, clause, message), or None: the notice was in time, the certification still
    counts, the program has no breach clause, or the partner did not quote the family meanwhile."""
    late_rule = rule(policy).get("late_notice")
    if late_rule is None or not departure.ended or not departure.late or not quotes:
        return None
    notice = departure.entry["notice"]
    family = departure.certification["product_family"]
    return {
        "rule_id": late_rule["id"],
        "clause": late_rule["clause"],
        "message": (
            f"the last certified individual for {departure.certification['certification_id']} left on "
            f"{departure.entry['last_day']}; Channel Operations was notified on {notice['notified_on']}, after the "
            f"notice was due ({notice['due_on']}), and the partner quoted {family} {len(quotes)} time(s) meanwhile: "
            f"a material breach ({late_rule['clause']})"
        ),
    }
