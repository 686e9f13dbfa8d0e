"""The SLA clock of an approval or exception paused while it waits on the partner (SOP-1.3 / COP-1.3). Pure.

SOP-1.3: "SLA hours in this SOP are elapsed hours on a 24x7 clock in UTC, measured from the time an item enters its
queue until it is decided. The clock is paused only while an item is in the status "waiting on partner" and
restarts when the Partner responds." COP-1.3: "The clock stops while an item waits for information from the Partner
and resumes when the Partner replies."

A member of the item's queue asks the partner a question: the case's status becomes `waiting_on_partner` (it leaves
its queue's pending/open list, so no escalation runs on it: the clock stands still). The partner's reply (its own
item only) puts it back in its queue: the time it waited is added to its due time and to each escalation instant not
yet reached (SOP-4.2 / COP-4.2 count on the same clock), and kept in `pauses` / `paused_seconds`, which the cycle-time
figures subtract (`clock_seconds`). Business-day SLAs (`sla_business_days`) count the wait in business time only (a
weekend of waiting stops no business-day clock) and add it back in business time. A case decided while it waits (a
rejection for want of an answer) closes the pause at the decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any

from .access import Principal
from .calendar import BusinessCalendar
from .errors import Conflict, Forbidden, RuleViolation
from .time import instant, iso

WAITING = "waiting_on_partner"
OPEN = {"approval": "pending", "exception": "open"}


def _midnight_after(moment: datetime) -> datetime:
    return datetime.combine(moment.date() + timedelta(days=1), time(0), tzinfo=moment.tzinfo)


def business_time(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """The part of [start, end) that falls on business days of the calendar."""
    total, moment = timedelta(0), start
    while moment < end:
        upto = min(_midnight_after(moment), end)
        if calendar.is_business_day(moment.date()):
            total += upto - moment
        moment = upto
    return total


def add_business_time(calendar: BusinessCalendar, moment: datetime, amount: timedelta) -> datetime:
    """`moment` plus `amount` of business time: days off do not count."""
    while amount > timedelta(0):
        if not calendar.is_business_day(moment.date()):
            moment = _midnight_after(moment)
            continue
        left = _midnight_after(moment) - moment
        if amount <= left:
            return moment + amount
        amount, moment = amount - left, _midnight_after(moment)
    return moment


def ask_partner(case: Mapping[str, Any], who: Principal, question: str, at: str, queue_role: str) -> dict[str, Any]:
    """A member of the item's queue asks its partner for information: the item waits on the partner from `at`."""
    kind = str(case["kind"])
    if case["status"] != OPEN[kind]:
        raise Conflict(f"{kind} {case['case_id']} is {case['status']}: only an undecided item in its queue waits on "
                       "the partner", extra={"current_status": case["status"]})  # fmt: skip
    if not case.get("partner_id"):
        raise RuleViolation(f"{kind} {case['case_id']} concerns no partner: there is no one to wait for (SOP-1.3)")
    if who.role.value != queue_role:
        raise Forbidden(f"only the {case['queue']} queue ({queue_role} role) asks the partner about this {kind}")
    if not question.strip():
        raise RuleViolation("the question to the partner is blank", extra={"field": "/question"})
    waiting = {"since": at, "asked_by": who.actor, "question": question}
    return {**case, "status": WAITING, "waiting": waiting}


def partner_replied(
    case: Mapping[str, Any], who: Principal, reply: str, at: str, calendar: BusinessCalendar | None
) -> dict[str, Any]:
    """The partner answered: the item is back in its queue, its due time and later escalation instants moved by the
    time it waited (business time for a business-day SLA: `calendar`)."""
    if case["status"] != WAITING:
        raise Conflict(f"{case['kind']} {case['case_id']} is {case['status']}: it does not wait on the partner",
                       extra={"current_status": case["status"]})  # fmt: skip
    if not reply.strip():
        raise RuleViolation("the reply is blank", extra={"field": "/reply"})
    resumed = close_pause(case, at, reply=reply, replied_by=who.actor, calendar=calendar)
    return {**resumed, "status": OPEN[str(case["kind"])]}


def close_pause(
    case: Mapping[str, Any],
    at: str,
    *,
    reply: str | None,
    replied_by: str | None,
    calendar: BusinessCalendar | None,
) -> dict[str, Any]:
    """The waiting case with its pause ended at `at`: recorded in `pauses`, its due time and the escalation instants
    after the pause began moved by the paused SLA time. The status is the caller's."""
    waiting = dict(case["waiting"])
    since, until = instant(waiting["since"]), max(instant(at), instant(waiting["since"]))
    elapsed = until - since
    counted = business_time(calendar, since, until) if calendar else elapsed

    def later(stamp: str) -> str:
        moment = instant(stamp)
        if moment < since:  # reached before the pause: it stays where it was
            return stamp
        return iso(add_business_time(calendar, moment, counted) if calendar else moment + counted)

    pause = {**waiting, "until": iso(until), "reply": reply, "replied_by": replied_by,
             "paused_seconds": int(elapsed.total_seconds()), "sla_seconds": int(counted.total_seconds())}  # fmt: skip
    moved: dict[str, Any] = {k: v for k, v in case.items() if k != "waiting"}
    moved["pauses"] = [*case.get("pauses", []), pause]
    moved["paused_seconds"] = int(case.get("paused_seconds", 0)) + pause["paused_seconds"]
    moved["due_at"] = later(str(case["due_at"]))
    if case.get("escalation"):
        marks = dict(case["escalation"])
        moved["escalation"] = {k: later(v) if k.endswith("_at") else v for k, v in marks.items()}
    return moved


def clock_seconds(case: Mapping[str, Any], until: str) -> float:
    """Seconds on the item's SLA clock from entering its queue to `until` (its decision): elapsed time less the time
    it waited on the partner (SOP-1.3 / COP-1.3). The cycle-time figures count on this clock."""
    elapsed = (instant(until) - instant(str(case["opened_at"]))).total_seconds()
    return max(0.0, elapsed - float(case.get("paused_seconds", 0)))


def moved_days(record: Mapping[str, Any], fields: tuple[str, ...], pauses: list[Mapping[str, Any]],
               calendar: BusinessCalendar) -> dict[str, Any]:  # fmt: skip
    """A record's business-day deadlines (`fields`) moved by the business time of each pause that began before
    them: the clock that counts down to them stood still while the item waited on the partner."""
    moved: dict[str, Any] = {}
    for name in fields:
        stamp = record.get(name)
        if not stamp:
            continue
        deadline = instant(str(stamp))
        for pause in pauses:
            since = instant(str(pause["since"]))
            if since < deadline:
                deadline = add_business_time(calendar, deadline, business_time(calendar, since,
                                                                                instant(str(pause["until"]))))
        moved[name] = iso(deadline)
    return moved
