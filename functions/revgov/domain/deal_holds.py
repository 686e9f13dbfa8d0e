"""PA-4.3(d) / CPA-4.3(d): what the scheduled sweep does for one deal registration held for a lapsed certification
(the hold itself is `deals.certification_hold`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from .deals import APPROVED, LAPSED, is_live
from .rules import Rule
from .time import instant

HOLD_OPEN, HOLD_REFRESH, HOLD_LAPSED, HOLD_LIFTED, HOLD_ENDED, HOLD_NONE = (
    "open", "refresh", "lapsed", "lifted", "ended", "none",
)


def hold_step(deal: dict[str, Any], hold: dict[str, Any] | None, marker: dict[str, Any] | None, now: str) -> str:
    """What the sweep does for one registration, from its hold now and what it recorded last (`marker`: the
    exception opened for the hold, its `state` and the hold's `certification_expired_at`; None: nothing recorded).

    - open: a suspended registration with no exception for this spell (none yet, or the last one was for an earlier
      spell, or closed and the certification expired again);
    - refresh: the registration's exception is still open and it is still suspended;
    - lapsed: the watched registration lapsed (no valid certification recorded within the days of PA-4.3(d));
    - lifted: the watched registration is no longer held (a valid certification was recorded in time);
    - ended: the watched registration no longer holds the opportunity (its exclusivity ended, or it was withdrawn);
    - none: nothing to do."""
    watching = marker is not None and marker.get("state") == HOLD_OPEN
    if deal["status"] != APPROVED or not is_live(deal, now):
        return HOLD_ENDED if watching else HOLD_NONE
    if hold is None:
        return HOLD_LIFTED if watching else HOLD_NONE
    same_spell = marker is not None and marker.get("certification_expired_at") == hold["certification_expired_at"]
    if hold["status"] == LAPSED:
        return HOLD_LAPSED if watching else HOLD_NONE
    if watching:
        return HOLD_REFRESH  # the same registration finding, brought up to date (even across a new spell)
    if same_spell:
        return HOLD_NONE  # this spell's exception was already closed or annotated: one exception per finding
    return HOLD_OPEN


def uncertified_when(
    policy: dict[str, Any], hold: dict[str, Any] | None, gaps: list[tuple[date, str]], at: str
) -> dict[str, Any] | None:
    """PA-4.3 / CPA-4.3: "From the moment a certification expires, and until a valid certification of the same id is
    recorded: [...] (b) where the Partner holds no other valid certification in the same Product Family, the Partner may
    not quote, order or register deals for Products of that Product Family [...] Orders accepted before the expiry are
    fulfilled." The spell without a certification in the registration's family that instant `at` falls in, with the
    rule: the one going on now (`hold`, `deals.certification_hold`) or a past one (`gaps`, last valid day and when
    validity was recorded again: `family_expiry_gaps`); None when the partner held one then."""
    rule = policy["deal_registration"].get("certification_lapse")
    if rule is None:
        return None
    moment = instant(at)
    spells: list[tuple[datetime, datetime | None]] = [
        (datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC), instant(again)) for last, again in gaps]
    if hold is not None:
        spells.append((instant(hold["certification_expired_at"]), None))
    for start, end in spells:
        if start <= moment and (end is None or moment < end):
            return {"rule_id": rule["id"], "clause": rule["clause"], "since": start.isoformat().replace("+00:00", "Z"),
                    "until": end.isoformat().replace("+00:00", "Z") if end is not None else None}
    return None


def withheld(facts: dict[str, Any], held: dict[str, Any]) -> dict[str, Any]:
    """A quoting partner's own registration that would give the registration discount but is held (PA-4.3(d) /
    CPA-4.3(d): "suspended", then lapsed), as a quote's inputs record it: its facts and the hold's status, rule,
    clause and words. Only ever the quoting partner's own (PA-5.5: a rival learns "not the identity")."""
    return {**facts, **{k: held[k] for k in ("status", "rule_id", "clause", "message")}}


def withheld_reason(held: Mapping[str, Any], given: Rule) -> dict[str, Any]:
    """Why a line of the family has no registration discount (`given`: PA-5.6 / CPA-5.5's rule, which gives it to the
    holder of an approved registration, not a held one): the hold's rule and clause, naming the registration."""
    status = held["status"]
    return {
        "rule": Rule(held["rule_id"], held["clause"]),
        "message": f"deal registration {held['registration_id']} is {status} ({held['clause']}): {held['message']}; "
        f"no registration discount ({given.rule_id}, {given.clause}) while it is {status}",
    }
