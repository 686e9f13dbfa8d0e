"""Tier changes recorded from a tier review, and the tier a partner holds on a day. Pure.

PA-3.6: "Upgrades take effect on the first day of the Billing Month following approval." PA-3.7: "The Distributor
gives 30 days' written notice and the downgrade takes effect on the first day of the next Quarter after the notice
period ends." CPA-3.5: "upgraded from the first day of the following Billing Month"; CPA-3.6: "after 45 days' written
notice, from the first day of the next Quarter after the notice period." Channel Operations reviews (PA-3.6, CPA-3.5)
and owns tier changes (SOP-1.2 / COP-1.2 queues): a change is recorded by a staff action, never by itself.

A recorded change is kept on the partner (`tier_changes`: from, to, the day it takes effect, the notice) so that the
tier of any day is known: before the change takes effect the partner holds the tier it had, from that day the new
one (`assigned_on`). `tier` on the record is the tier in force when it was last written; the partner-lifecycle sweep
moves it on the effective day (`due`), so readers of `tier` alone (lists, KPI segments) follow too."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from ..errors import Conflict, RuleViolation
from ..time import add_months

CHANGES = "tier_changes"
WATCHES = "tier_watches"


def _changes(partner: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return sorted(partner.get(CHANGES) or [], key=lambda c: str(c["effective_on"]))


def in_effect(partner: Mapping[str, Any], day: date) -> Mapping[str, Any] | None:
    """The last recorded change in effect on `day`, if any."""
    taken = [c for c in _changes(partner) if date.fromisoformat(str(c["effective_on"])) <= day]
    return taken[-1] if taken else None


def assigned_on(partner: Mapping[str, Any], day: date) -> str | None:
    """The tier assigned to the partner on `day`: the last recorded change in effect by then, the tier before the
    first change before it, or (no change recorded) the tier on the record."""
    changes = _changes(partner)
    if not changes:
        return partner.get("tier")
    taken = in_effect(partner, day)
    return str(taken["tier"]) if taken else str(changes[0]["from_tier"])


def pending(partner: Mapping[str, Any], day: date) -> Mapping[str, Any] | None:
    """The change recorded and not yet in effect on `day`, if any."""
    return next((c for c in _changes(partner) if date.fromisoformat(str(c["effective_on"])) > day), None)


def due(partner: Mapping[str, Any], day: date) -> str | None:
    """The tier the record's `tier` should move to on `day` (a change took effect), or None."""
    assigned = assigned_on(partner, day)
    return assigned if assigned is not None and assigned != partner.get("tier") else None


def downgrade_effective(notice_given: date, notice_days: int) -> tuple[date, date]:
    """(the last day of the notice period, the first day of the next Quarter after it)."""
    ends = notice_given + timedelta(days=notice_days)
    next_quarter = add_months(date(ends.year, 3 * ((ends.month - 1) // 3) + 1, 1), 3)
    return ends, next_quarter


def scheduled(policy: Mapping[str, Any], partner: Mapping[str, Any], found: Mapping[str, Any], recorded_on: date,
              recorded_by: str) -> dict[str, Any]:
    """The change a review's findings (`tier_review.findings`) lead to when Channel Operations records it on
    `recorded_on`: an upgrade from the first day of the Billing Month following that approval; a downgrade after the
    written notice, given that day, from the first day of the next Quarter after the notice period. Nothing to
    record (unchanged, watch) is a 422; a change already pending a 409."""
    outcome = found["outcome"]
    if outcome not in ("upgrade", "downgrade"):
        reasons = list(found.get("reasons") or [])
        why = "".join(f"{'; ' if i else ': '}{r['message']} ({r['rule_id']}, {r['clause']})"
                      for i, r in enumerate(reasons))  # fmt: skip
        raise RuleViolation(f"the review finds no tier change ({outcome}): nothing to record{why}",
                            extra={"reasons": reasons})
    waiting = pending(partner, recorded_on)
    if waiting is not None:
        raise Conflict(f"a change to {waiting['tier']} from {waiting['effective_on']} is already recorded")
    rules = policy["tier_review"]
    if outcome == "upgrade":
        rule, notice_ends = rules["upgrade"], None
        effective = add_months(recorded_on.replace(day=1), 1)
    else:
        rule = rules["downgrade"]
        ends, effective = downgrade_effective(recorded_on, int(rule["notice_days"]))
        notice_ends = ends.isoformat()
    return {
        "outcome": outcome, "from_tier": assigned_on(partner, recorded_on), "tier": found["qualified_tier"],
        "effective_on": effective.isoformat(), "notice_given_on": recorded_on.isoformat() if notice_ends else None,
        "notice_ends": notice_ends, "review": found["review"], "review_day": found["review_day"],
        "revenue": found["revenue"], "rule_id": str(rule["id"]), "clause": str(rule["clause"]),
        "recorded_on": recorded_on.isoformat(), "recorded_by": recorded_by,
        # PA-3.6: an upgrade on a written commitment keeps it (tier, signed_on, program_year, annual_commitment), so
        # the next Program Year knows a missed one (PA-3.7: no second commitment-based upgrade)
        **({"written_commitment": dict(found["written_commitment"])} if found.get("written_commitment") else {}),
    }  # fmt: skip


def with_change(partner: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    """The partner with the change recorded (its `tier` unchanged until the change takes effect)."""
    return {**partner, CHANGES: [*(partner.get(CHANGES) or []), dict(change)]}


def watch_placed(partner: Mapping[str, Any], found: Mapping[str, Any], recorded_on: date,
                 recorded_by: str) -> dict[str, Any]:
    """PA-3.6: "A mid-year review is performed in July; a Partner whose Annual Revenue to date is below 40% of its
    tier's annual commitment is placed on watch and notified." The watch a July review's findings (`outcome` watch)
    place the partner on when Channel Operations records it: the review, the revenue to date against the floor, the
    rule. Once per Program Year (a second: 409). It changes no tier."""
    year = date.fromisoformat(str(found["review_day"])).year
    placed = next((w for w in partner.get(WATCHES) or [] if int(w["program_year"]) == year), None)
    if placed is not None:
        raise Conflict(f"the partner was already placed on watch for Program Year {year} on {placed['recorded_on']}")
    return {
        "program_year": year, "review_day": found["review_day"], "tier": found["tier"], "revenue": found["revenue"],
        "watch_floor": found["watch_floor"], "basis": dict(found["basis"]), "rule_id": str(found["rule_id"]),
        "clause": str(found["clause"]), "recorded_on": recorded_on.isoformat(), "recorded_by": recorded_by,
    }  # fmt: skip


def with_watch(partner: Mapping[str, Any], watch: Mapping[str, Any]) -> dict[str, Any]:
    """The partner placed on watch (its tier unchanged)."""
    return {**partner, WATCHES: [*(partner.get(WATCHES) or []), dict(watch)]}
