"""Milestones at risk, the pure part: a statement of work whose next milestone is later than the tenant's own pace.

A statement of work is billed by milestone (PA-10.6 / CPA-10.5: 30/40/30 kickoff, deployment, acceptance at
northwind; 20/50/30 kickoff, go-live, acceptance at contoso). Its record (billing's `SOW`) holds the milestones
billed so far; each billed milestone's line is dated the day it was accepted. The product records no planned dates,
so the expected pace is the tenant's own: for each step of the schedule (kickoff → deployment, deployment →
acceptance) the days between the two acceptances on every other statement of work that completed that step.

The test. An open statement of work has waited `elapsed` days since its last accepted milestone. Under "this step is
like the others", the chance that a step lasts at least that long is estimated by rank: p = (1 + #{reference steps
that lasted ≥ elapsed}) / (1 + n) (an exact permutation p-value: with n reference steps the confidence 1 − p can
never exceed n / (n + 1), so a short history cannot reach the bar to act: it is escalated). A step is only at risk
once it has run past MIN_LATE_FACTOR × the median step; its expected completion (the median) has then passed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from statistics import median
from typing import Any

from .money import percent_of
from .time import parse_day

MIN_LATE_FACTOR = 1.5  # at least this many median steps since the last acceptance before a step is "late"
MIN_REFERENCE = 5  # reference steps below which the tenant's pace is not known: nothing is said


@dataclass(frozen=True)
class StatementOfWork:
    partner_id: str
    sow_ref: str
    value: Decimal
    accepted: Mapping[str, date]  # milestone -> the day it was accepted (billed)


@dataclass(frozen=True)
class MilestoneRisk:
    last_milestone: str
    last_accepted: date
    next_milestone: str
    elapsed_days: int
    median_days: float
    expected_by: date  # last accepted + the median step: the expected completion, passed
    reference_steps: int
    confidence: float  # 1 − the rank p-value
    next_amount: Decimal  # the next milestone's billing
    at_risk: Decimal  # every milestone not yet billed: the billing the schedule still holds


def _progress(sow: StatementOfWork, schedule: Sequence[str]) -> tuple[int, int] | None:
    """(index of the last accepted milestone, index of the next one) in schedule order; None when every milestone
    is billed or none is."""
    done = [i for i, name in enumerate(schedule) if name in sow.accepted]
    if not done:
        return None
    last = done[-1]
    following = [i for i in range(last + 1, len(schedule)) if schedule[i] not in sow.accepted]
    return (last, following[0]) if following else None


def step_durations(sows: Sequence[StatementOfWork], schedule: Sequence[str]) -> dict[tuple[str, str, str], int]:
    """Days each statement of work took for each completed step, keyed (partner#sow_ref, from, to)."""
    found = {}
    for sow in sows:
        for start, end in pairwise(schedule):
            if start in sow.accepted and end in sow.accepted:
                found[(f"{sow.partner_id}#{sow.sow_ref}", start, end)] = (sow.accepted[end] - sow.accepted[start]).days
    return found


def milestone_risk(
    sow: StatementOfWork,
    schedule: Mapping[str, Decimal],
    durations: Mapping[tuple[str, str, str], int],
    today: date,
) -> MilestoneRisk | None:
    """The risk on `sow`'s next milestone, judged against the other statements of work's steps; None when it is
    complete, on pace (within MIN_LATE_FACTOR × the median step), or the pace is unknown (< MIN_REFERENCE steps)."""
    names = list(schedule)
    progress = _progress(sow, names)
    if progress is None:
        return None
    last, following = names[progress[0]], names[progress[1]]
    own = f"{sow.partner_id}#{sow.sow_ref}"
    reference = [days for (key, start, end), days in durations.items()
                 if start == last and end == following and key != own]
    if len(reference) < MIN_REFERENCE:
        return None
    accepted = sow.accepted[last]
    elapsed, typical = (today - accepted).days, median(reference)
    if elapsed <= MIN_LATE_FACTOR * typical:
        return None
    p = (1 + sum(1 for days in reference if days >= elapsed)) / (1 + len(reference))
    unbilled = [name for name in names if name not in sow.accepted]
    return MilestoneRisk(
        last,
        accepted,
        following,
        elapsed,
        float(typical),
        accepted + timedelta(days=round(typical)),
        len(reference),
        1 - p,
        percent_of(sow.value, schedule[following]),
        sum((percent_of(sow.value, schedule[name]) for name in unbilled), Decimal(0)),
    )


def statement_of_work(record: Mapping[str, Any]) -> StatementOfWork | None:
    """Billing's SOW record as the agent reads it (each billed milestone with `accepted_on`); None when a billed
    milestone's date cannot be read (its line is not found): the record is left out rather than misjudged."""
    accepted = {}
    for name, billed in record["milestones"].items():
        if not billed.get("accepted_on"):
            return None
        accepted[name] = parse_day(billed["accepted_on"])
    return StatementOfWork(record["partner_id"], record["sow_ref"], Decimal(record["sow_value"]), accepted)


def milestone_schedule(node: Mapping[str, Any]) -> dict[str, Decimal]:
    """The policy's milestone schedule (`billing.milestones.schedule`, PA-10.6 / CPA-10.5) in order: name -> percent."""
    return {name: Decimal(str(percent)) for name, percent in node["schedule"].items()}
