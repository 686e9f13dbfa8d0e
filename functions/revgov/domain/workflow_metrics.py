"""Workflow metrics of a period, figured from the durable case records (approvals and exceptions), so that each
has the value of a baseline period beside it (the period before the tenant went live, or a configured one), as the
KPIs do. Pure: cases in, figures out (docs/observability.md, "Workflow metrics and their baselines").

A case is counted in the period by the instant its figure is about: opened (opened counts), decided (decisions,
approval rate, hours to decision), due (SLA breaches: due in the period and not decided by then; a case waiting on
the partner is breached only if its due time passed before it began to wait: its clock stands still).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from .kpis import Period
from .sla_pause import clock_seconds
from .time import instant

# name -> (unit, description): one definition each, served with the figures
DEFINITIONS: dict[str, tuple[str, str]] = {
    "approvals_opened": ("count", "approvals opened in the period, by queue"),
    "approvals_decided": ("count", "approvals decided in the period, by outcome"),
    "approval_rate_percent": ("percent", "approvals decided in the period that were approved"),
    "approval_hours_to_decision": ("hours", "hours from opened to decided of the approvals decided in the period, "
                                            "less the time they waited on the partner (SOP-1.3 / COP-1.3; p50 and "
                                            "p90, nearest rank)"),
    "approval_sla_breaches": ("count", "approvals due in the period that were not decided by their due time"),
    "exceptions_opened": ("count", "exceptions opened in the period, by category"),
    "exceptions_closed": ("count", "exceptions resolved or dismissed in the period"),
    "exception_sla_breaches": ("count", "exceptions due in the period that were not closed by their due time, or "
                                        "rerouted after an earlier queue's due time in the period (SOP-1.3)"),
}


def _instant(text: str | None) -> datetime | None:
    return instant(text) if text else None


def _in(period: Period, at: str | None) -> bool:
    return bool(at) and str(at)[:7] in period.months


def _rank(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)], 2)


def _count(into: dict[str, int], key: str) -> None:
    into[key] = into.get(key, 0) + 1


def _left_late(case: Mapping[str, Any], period: Period) -> bool:
    """An exception rerouted after an earlier queue's due time (in the period) had passed: that queue breached its
    clock (SOP-1.3 / COP-1.3: the new queue's new clock does not undo it)."""
    return any(_in(period, move.get("previous_due_at"))
               and instant(str(move["at"])) > instant(str(move["previous_due_at"]))
               for move in case.get("reroutes") or [])  # fmt: skip


def figures(cases: Iterable[Mapping[str, Any]], period: Period, as_of: str) -> dict[str, dict[str, Any]]:
    """Each metric's value for `period`, with its breakdown where it has one. `as_of` is now: a case due in the
    period but after `as_of` is not (yet) a breach."""
    opened_by_queue: dict[str, int] = {}
    decided_by_outcome: dict[str, int] = {}
    exceptions_by_category: dict[str, int] = {}
    hours: list[float] = []
    approval_breaches = exception_breaches = exceptions_closed = 0
    now = _instant(as_of)
    for case in cases:
        decision = case.get("decision") or {}
        decided_at = decision.get("at")
        due = _instant(case.get("due_at"))
        # waiting on the partner, the clock stands still at the instant it began (SOP-1.3 / COP-1.3)
        end = _instant(decided_at) or _instant((case.get("waiting") or {}).get("since")) or now
        closed_late = due is not None and end is not None and end > due
        breached = _in(period, case.get("due_at")) and closed_late and due is not None and now is not None and due < now
        if case.get("kind") == "approval":
            if _in(period, case.get("opened_at")):
                _count(opened_by_queue, str(case.get("queue")))
            if decided_at and _in(period, decided_at):
                _count(decided_by_outcome, str(case.get("status")))
                if case.get("opened_at"):  # on the SLA clock: time waiting on the partner is off it (SOP-1.3)
                    hours.append(clock_seconds(case, decided_at) / 3600)
            approval_breaches += breached
        elif case.get("kind") == "exception":
            if _in(period, case.get("opened_at")):
                _count(exceptions_by_category, str(case.get("category")))
            if decided_at and _in(period, decided_at):
                exceptions_closed += 1
            exception_breaches += breached or _left_late(case, period)
    decided = sum(decided_by_outcome.values())
    approved = decided_by_outcome.get("approved", 0)
    return {
        "approvals_opened": {"value": sum(opened_by_queue.values()), "by_queue": opened_by_queue},
        "approvals_decided": {"value": decided, "by_outcome": decided_by_outcome},
        "approval_rate_percent": {"value": round(approved * 100 / decided, 2) if decided else None},
        "approval_hours_to_decision": {"value": _rank(hours, 0.5), "p50": _rank(hours, 0.5),
                                       "p90": _rank(hours, 0.9)},
        "approval_sla_breaches": {"value": approval_breaches},
        "exceptions_opened": {"value": sum(exceptions_by_category.values()), "by_category": exceptions_by_category},
        "exceptions_closed": {"value": exceptions_closed},
        "exception_sla_breaches": {"value": exception_breaches},
    }


def with_baseline(current: Mapping[str, dict[str, Any]], baseline: Mapping[str, dict[str, Any]], period: Period,
                  base: Period, source: str, went_live: str) -> dict[str, Any]:
    """Each metric's figures for the period with the same figures of the baseline period beside them."""
    return {
        "period": period.name,
        "months": list(period.months),
        "baseline": {"period": base.name, "months": list(base.months), "source": source, "went_live_on": went_live},
        "metrics": {
            name: {**current[name], "unit": unit, "description": text, "baseline": baseline[name]}
            for name, (unit, text) in DEFINITIONS.items()
        },
    }
