"""Renewal probability, the second half of the seed's "Partner health | Threshold attainment and renewal probability",
pure: the term rule, the partners and the day are handed in.

PA-13.1: the Agreement "renews automatically for successive Program Years unless either party gives notice of
non-renewal at least 60 days before the end of the current Program Year" (CPA-13.1: 90 days). So for the Program Year
end Y of the period asked (31 December of the period's last year):

- Y has passed: what happened (`source: observed`): agreements renewed at Y / (renewed at Y + ended at Y).
- Y is to come (`source: forecast`): each running agreement whose year runs to Y renews with probability 0 when a
  notice of non-renewal for Y is on file, else with the tenant's observed renewal rate: every Program Year end passed
  by any of its partners, renewed / (renewed + ended by a notice). The figure is the mean over those agreements.
  Without any year end passed there is nothing to estimate from: `null` (unless every agreement has a notice).

No partner-level model is claimed: the rate is the tenant's base rate, and a notice is the only partner signal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from .renewals import RUNNING, TermRule, as_of, term_of
from .time import parse_day


@dataclass(frozen=True)
class Agreement:
    """One approved partner's agreement as of the day: the year ends it renewed at, the year end it runs to, and the
    year end a notice of non-renewal is on file for (None: no notice)."""

    partner_id: str
    running: bool
    renewed_at: tuple[str, ...]
    year_end: str
    notice_for: str | None

    def ended_at(self, today: date) -> str | None:
        """The year end the agreement ended at by a notice (passed), else None."""
        if self.notice_for == self.year_end and parse_day(self.year_end) < today:
            return self.year_end
        return None


def agreements(rule: TermRule, partners: Iterable[Mapping[str, Any]], today: date) -> list[Agreement]:
    """The agreement of every approved partner, with the Program Years that renewed automatically by `today`."""
    found = []
    for partner in partners:
        if not partner.get("activated_at"):
            continue  # never approved: no agreement
        term = term_of(as_of(rule, partner, today))
        notice = term.get("non_renewal") or {}
        found.append(Agreement(str(partner["partner_id"]), partner.get("status") in RUNNING,
                               tuple(term.get("renewals") or ()), str(term["year_end"]), notice.get("effective_at")))
    return found


@dataclass(frozen=True)
class History:
    """The tenant's Program Year ends passed by `today`, over every agreement: renewed, and ended by a notice (the
    base rate's counts). `last_year_end`: the last year end passed (31 December before `today`); the counts change
    only when it does, or when a partner record is written otherwise than by the daily term sweep's steps."""

    last_year_end: str
    renewed: int
    ended: int


def last_year_end_passed(today: date) -> str:
    return date(today.year - 1, 12, 31).isoformat()


def history(every: Iterable[Agreement], today: date) -> History:
    agreed = list(every)
    renewed = sum(len(a.renewed_at) for a in agreed)
    return History(last_year_end_passed(today), renewed, sum(1 for a in agreed if a.ended_at(today)))


def _percent(numerator: Decimal, denominator: int) -> str | None:
    if denominator == 0:
        return None
    return f"{(numerator * 100 / denominator).quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN):f}"


def outlook(rule: TermRule, every: list[Agreement], scope: set[str] | None, year_end: date,
            today: date, kept: History | None = None) -> dict[str, Any]:
    """The renewal figure of `year_end` for the agreements in `scope` (partner ids; None: all); the base rate is the
    tenant's, over every agreement: counted over `every`, or `kept` (counted as of the same last year end passed, by
    the term sweep) where `every` holds only the agreements in scope."""
    wanted = year_end.isoformat()
    counted = kept if kept is not None else history(every, today)
    renewed_all, ended_all = counted.renewed, counted.ended
    rate = _percent(Decimal(renewed_all), renewed_all + ended_all)
    mine = [a for a in every if scope is None or a.partner_id in scope]
    answer: dict[str, Any] = {
        "year_end": wanted, "rule_id": rule.rule_id, "clause": rule.clause,
        "history": {"year_ends": renewed_all + ended_all, "renewed": renewed_all, "ended": ended_all},
        "renewal_rate_percent": rate,
    }
    if year_end < today:
        renewed = sum(1 for a in mine if wanted in a.renewed_at)
        ended = sum(1 for a in mine if a.ended_at(today) == wanted)
        return {**answer, "source": "observed", "agreements": renewed + ended, "notice_given": ended,
                "renewed": renewed, "ended": ended,
                "renewal_probability_percent": _percent(Decimal(renewed), renewed + ended)}
    running = [a for a in mine if a.running and a.year_end == wanted]
    noticed = sum(1 for a in running if a.notice_for == wanted)
    unknown = len(running) - noticed
    base = Decimal(renewed_all) / (renewed_all + ended_all) if renewed_all + ended_all else None
    expected = (base or Decimal(0)) * unknown if base is not None or not unknown else None
    return {**answer, "source": "forecast", "agreements": len(running), "notice_given": noticed,
            "renewal_probability_percent": None if expected is None else _percent(expected, len(running))}
