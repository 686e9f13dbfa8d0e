"""The tier review: what a review on a given day finds for one partner, from the revenue measured over the review's
basis and the certifications valid on the review day. Pure: the caller measures the revenue.

The reviews (PA-3.6 / CPA-3.5): once a year by 31 January on the previous Program Year's revenue (both tenants); in
July on the trailing four Quarters (CPA-3.5) or, for PA-3.6, a watch below 40% of the tier's commitment on the year
to date; a partner's own upgrade request between reviews. Upgrades from the first day of the following Billing Month;
a partner missing its tier's commitment at a review is moved to the highest tier it meets after written notice (PA-3.7:
30 days, CPA-3.6: 45), from the first day of the next Quarter after the notice period. The clause texts are quoted in
tests/unit/test_auditor5_tier_review.py."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ..errors import FieldError, RuleViolation
from ..money import format_money, parse_money
from ..time import add_months, instant
from .assessment import tier_unmet
from .rules import tier, tiers_by_rank
from .tier_changes import assigned_on, downgrade_effective

__all__ = ["Basis", "Commitment", "basis", "commitment_of", "downgrade_effective", "findings", "partner_basis",
           "previous_commitment"]

_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Basis:
    """The review held on a day: which one (`annual`, `mid_year` or the partner's `request`), its rule, and the days
    its revenue is measured over (first and last, inclusive)."""

    kind: str
    rule: dict[str, Any]
    first: date
    last: date


def basis(policy: Mapping[str, Any], day: date, *, requested: bool = False, field: str = "/query/on") -> Basis:
    """The review a day holds: January's annual review on the previous Program Year; July's on the trailing four
    Quarters (CPA-3.5) or the Program Year to date (PA-3.6: its Billing Months before July). Other months hold none
    (422 naming `on`). `requested`: the partner's request for an upgrade between reviews, any day, on the `request`
    rule's basis (CPA-3.5: "on a trailing four-Quarter basis"; PA-3.6: "already reached the annual commitment in the
    current Program Year")."""
    reviews = policy.get("tier_review")
    if not isinstance(reviews, dict):
        raise RuleViolation("this tenant's policy holds no tier review")
    if not date.min.year < day.year < date.max.year:  # its basis or its effective day would leave the calendar
        raise RuleViolation(f"a tier review is held on a day of the years {date.min.year + 1} to {date.max.year - 1}",
                            errors=[FieldError(field, "outside the calendar the review can count in")])
    if requested:
        return _measured("request", reviews["request"], day)
    found = next(((kind, rule) for kind, rule in reviews.items()
                  if isinstance(rule, dict) and rule.get("month") == day.month), None)
    if found is None:
        months = ", ".join(sorted(str(r["month"]) for r in reviews.values() if isinstance(r, dict) and "month" in r))
        raise RuleViolation(f"tiers are reviewed only in months {months} of the Program Year",
                            errors=[FieldError(field, "not a day of a tier review")])
    return _measured(*found, day)


def partner_basis(policy: Mapping[str, Any], partner: Mapping[str, Any], day: date, *, requested: bool = False,
                  field: str = "/query/on") -> Basis:
    """`basis` for this partner: a day before its activation is refused (422 naming `field`). PA-3.6 / CPA-3.5 review
    a Partner's tier in its Program Year, and PA-13.1 / CPA-13.1 "This Agreement starts on the date the Partner is
    approved": before then the partner held no tier, so a review on that day has no period of the partner's."""
    found = basis(policy, day, requested=requested, field=field)
    activated = partner.get("activated_at")
    since = instant(str(activated)).date() if activated else None
    if since is not None and day < since:
        raise RuleViolation(f"partner {partner.get('partner_id')} was activated on {since}: a tier review on {day} "
                            f"has no period of the partner's to review ({found.rule['clause']})",
                            errors=[FieldError(field, f"before the partner's activation on {since}")])  # fmt: skip
    return found


def _measured(kind: str, rule: dict[str, Any], day: date) -> Basis:
    if rule["basis"] == "previous_year":
        return Basis(kind, rule, date(day.year - 1, 1, 1), date(day.year - 1, 12, 31))
    if rule["basis"] == "trailing_four_quarters":
        quarter_start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return Basis(kind, rule, add_months(quarter_start, -12), quarter_start - timedelta(days=1))
    # year_to_date: the Billing Months of the Program Year before the day's (its month is not yet invoiced)
    return Basis(kind, rule, date(day.year, 1, 1), day.replace(day=1) - timedelta(days=1))


def _qualified(policy: Mapping[str, Any], partner: Mapping[str, Any], day: date, revenue: Decimal) -> dict[str, Any]:
    """The highest tier whose annual commitment the revenue meets and whose certifications are valid on `day`."""
    met = [t for t in tiers_by_rank(policy) if not tier_unmet(t, partner, day, revenue)]
    if not met:
        raise RuleViolation("no tier of the policy is open to this partner (the lowest tier has requirements)")
    return met[-1]


def _watch(rule: Mapping[str, Any], held: Mapping[str, Any], revenue: Decimal) -> dict[str, Any]:
    """PA-3.6's July review changes no tier: below `watch_below_percent` of the tier's commitment, the partner is
    placed on watch and notified."""
    commitment = parse_money(held["requirements"]["annual_commitment"])
    floor = commitment * Decimal(str(rule["watch_below_percent"])) / _HUNDRED
    watched = commitment > 0 and revenue < floor
    return {"outcome": "watch" if watched else "unchanged", "watch_floor": format_money(floor),
            "reasons": [{"rule_id": rule["id"], "clause": rule["clause"], "message": (
                f"revenue to date {format_money(revenue)} is {'below' if watched else 'at or above'} "
                f"{rule['watch_below_percent']}% of the {held['name']} tier's annual commitment "
                f"{format_money(commitment)} ({format_money(floor)})")}]}


def _cited(rule: Mapping[str, Any], message: str) -> dict[str, str]:
    return {"rule_id": str(rule["id"]), "clause": str(rule["clause"]), "message": message}


def _commitment_kept(policy: Mapping[str, Any], held: Mapping[str, Any], revenue: Decimal) -> bool:
    """Whether the review leaves the tier alone although a tier requirement is unmet: the policy downgrades only for a
    missed commitment (`downgrade.when: commitment_missed`, CPA-3.6 "A Partner that does not meet its tier's annual
    commitment at a review is moved") and the revenue met the held tier's commitment."""
    rule = policy["tier_review"]["downgrade"]
    kept = revenue >= parse_money(held["requirements"]["annual_commitment"])
    return rule.get("when", "requirements_unmet") == "commitment_missed" and kept


def _lapse_path(policy: Mapping[str, Any]) -> list[dict[str, str]]:
    """The rule that does downgrade for a lapsed certification (`tier_downgrade`), when the policy has one."""
    rule = policy.get("tier_downgrade")
    if not rule:
        return []
    return [_cited(rule, f"the annual commitment was met, so the review moves no tier; a required certification "
                         f"lacking for more than {rule['certification_lapse_days']} consecutive days downgrades the "
                         "partner from the first day of the following Billing Month")]


def _outcome(policy: Mapping[str, Any], partner: Mapping[str, Any], held: Mapping[str, Any], day: date,
             revenue: Decimal) -> dict[str, Any]:
    """Upgrade, downgrade or unchanged: the highest tier met against the tier held."""
    qualified = _qualified(policy, partner, day, revenue)
    step = int(qualified["rank"]) - int(held["rank"])
    found: dict[str, Any] = {"qualified_tier": qualified["tier"], "outcome": "unchanged", "effective_on": None,
                             "notice_ends": None, "reasons": []}
    if step > 0:
        rule, effective = policy["tier_review"]["upgrade"], add_months(day.replace(day=1), 1)
        message = (f"meets the {qualified['name']} tier's annual commitment and certifications on {day.isoformat()}; "
                   f"upgraded from {effective.isoformat()}")
        found.update(outcome="upgrade", effective_on=effective.isoformat(), reasons=[_cited(rule, message)])
    elif step < 0 and _commitment_kept(policy, held, revenue):
        found.update(reasons=[*tier_unmet(held, partner, day, None), *_lapse_path(policy)])
    elif step < 0:
        rule = policy["tier_review"]["downgrade"]
        ends, effective = downgrade_effective(day, int(rule["notice_days"]))
        message = (f"{rule['notice_days']} days' written notice from {day.isoformat()}, ending {ends.isoformat()}; "
                   f"moved to {qualified['name']} from {effective.isoformat()}")
        found.update(outcome="downgrade", effective_on=effective.isoformat(), notice_ends=ends.isoformat(),
                     reasons=[_cited(rule, message), *tier_unmet(held, partner, day, revenue)])
    return found


@dataclass(frozen=True)
class Commitment:
    """A partner's written commitment to reach a higher tier's annual commitment in the current Program Year (PA-3.6:
    "A Partner may also request an upgrade at any time during the Program Year by demonstrating that it meets the
    certification requirements of the higher tier and either has already reached the annual commitment in the current
    Program Year or signs a written commitment to reach it"): the tier committed to and the day it was signed."""

    tier: str
    signed_on: date


def commitment_of(policy: Mapping[str, Any], body: Mapping[str, Any], day: date, *,
                  field: str = "/written_commitment") -> Commitment:
    """The written commitment a request states (`{"tier", "signed_on"}`), checked against the policy: the policy must
    grant upgrades on a written commitment (`tier_review.written_commitment`; contoso's CPA-3.5 grants an upgrade
    between reviews only on "reaching the higher annual commitment on a trailing four-Quarter basis"), the tier must be
    one of the policy's, and the commitment signed in the request day's Program Year, on or before that day (PA-3.6
    "in the current Program Year"). Each refusal a 422 naming the field."""
    rule = policy.get("tier_review", {}).get("written_commitment")
    if not rule:
        request = policy.get("tier_review", {}).get("request") or {}
        raise RuleViolation(
            f"this agreement grants no upgrade on a written commitment: a request upgrades only on the annual "
            f"commitment reached ({request.get('id')}, {request.get('clause')})",
            errors=[FieldError(field, "not granted by this agreement")])
    name, signed = body.get("tier"), body.get("signed_on")
    if tier(policy, name if isinstance(name, str) else None) is None:
        raise RuleViolation(f"{name!r} is no tier of the policy",
                            errors=[FieldError(f"{field}/tier", "a tier of the policy")])  # fmt: skip
    try:
        signed_on = date.fromisoformat(signed) if isinstance(signed, str) and len(signed) == 10 else None
    except ValueError:
        signed_on = None
    if signed_on is None or signed_on > day or signed_on.year != day.year:
        raise RuleViolation(
            f"the written commitment is signed in the Program Year of the request, on or before {day.isoformat()} "
            f"({rule['id']}, {rule['clause']}: \"signs a written commitment to reach it\" in the current Program Year)",
            errors=[FieldError(f"{field}/signed_on", f"a day from {day.year}-01-01 to {day.isoformat()}")])
    return Commitment(str(name), signed_on)


def previous_commitment(partner: Mapping[str, Any], day: date) -> dict[str, Any] | None:
    """The commitment-based upgrade of the Program Year before `day`'s, if the partner had one (PA-3.7: "A Partner that
    was upgraded on a written commitment and misses that commitment [...] does not receive a second commitment-based
    upgrade in the following Program Year"): whether it was missed is the caller's measure of that year's revenue."""
    made = [c["written_commitment"] for c in partner.get("tier_changes") or []
            if c.get("written_commitment") and int(c["written_commitment"]["program_year"]) == day.year - 1]
    return dict(made[-1]) if made else None


def _on_commitment(policy: Mapping[str, Any], partner: Mapping[str, Any], held: Mapping[str, Any], day: date,
                   found: dict[str, Any], commitment: Commitment, missed: Mapping[str, Any] | None) -> dict[str, Any]:
    """A request with a written commitment: upgraded to the committed tier when its certifications are valid on `day`
    (the revenue need not have reached its commitment yet), from the first day of the following Billing Month; unless
    the revenue alone already reaches that tier (then no commitment is needed), or the partner missed a commitment it
    was upgraded on in the previous Program Year (PA-3.7: no second commitment-based upgrade)."""
    rules = policy["tier_review"]
    rule = rules["written_commitment"]
    target = tier(policy, commitment.tier) or {}
    if int(target["rank"]) <= int(held["rank"]):
        raise RuleViolation(f"{commitment.tier} is not above the {held['name']} tier the partner holds on {day}",
                            errors=[FieldError("/written_commitment/tier", f"a tier above {held['tier']}")])
    reached = tier(policy, found["qualified_tier"]) or {}
    if found["outcome"] == "upgrade" and int(reached["rank"]) >= int(target["rank"]):
        return found  # the revenue reached it: an upgrade on revenue, not on a commitment
    unchanged = {**found, "outcome": "unchanged", "effective_on": None, "notice_ends": None}
    if missed is not None:
        second = rules["written_commitment_missed"]
        return {**unchanged, "reasons": [_cited(second, (
            f"upgraded on a written commitment to {missed['tier']} for Program Year {missed['program_year']} and "
            f"missed it (Annual Revenue {missed['revenue']} below {missed['annual_commitment']}): no second "
            f"commitment-based upgrade in Program Year {day.year}"))]}
    lacking = tier_unmet(target, partner, day, None)
    if lacking:
        return {**unchanged, "reasons": lacking}
    effective = add_months(day.replace(day=1), 1)
    amount = target["requirements"]["annual_commitment"]
    written = {"tier": target["tier"], "signed_on": commitment.signed_on.isoformat(), "program_year": day.year,
               "annual_commitment": format_money(parse_money(amount)), "rule_id": str(rule["id"]),
               "clause": str(rule["clause"])}  # fmt: skip
    message = (f"meets the {target['name']} tier's certifications on {day.isoformat()} and signed on "
               f"{commitment.signed_on.isoformat()} a written commitment to reach its annual commitment "
               f"{written['annual_commitment']} in Program Year {day.year}; upgraded from {effective.isoformat()}")
    return {**found, "qualified_tier": target["tier"], "outcome": "upgrade", "effective_on": effective.isoformat(),
            "notice_ends": None, "reasons": [_cited(rule, message)], "written_commitment": written}


def findings(policy: Mapping[str, Any], partner: Mapping[str, Any], day: date, revenue: Decimal, *,
             requested: bool = False, commitment: Commitment | None = None,
             missed: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What the review held on `day` finds, given the revenue measured over its basis: upgraded from the first day of
    the following Billing Month; downgraded to the highest tier met, after the notice, from the first day of the next
    Quarter after it; unchanged; or (PA-3.6 in July) placed on watch. A partner's request (`requested`) only ever
    upgrades: what it does not meet leaves the tier unchanged. A request may carry a written `commitment` (PA-3.6;
    `missed`: the previous Program Year's commitment-based upgrade, when its commitment was missed, PA-3.7)."""
    review = basis(policy, day, requested=requested)
    held = tier(policy, assigned_on(partner, day))  # the tier of the review day (a change recorded earlier counts)
    if held is None:
        raise RuleViolation(f"partner {partner.get('partner_id')} holds no tier of the policy")
    measured = {"from": review.first.isoformat(), "to": review.last.isoformat()}
    shown = {"review": review.kind, "review_day": day.isoformat(), "rule_id": review.rule["id"],
             "clause": review.rule["clause"], "basis": measured,
             "revenue": format_money(revenue), "tier": held["tier"], "watch_floor": None, "written_commitment": None}
    if "watch_below_percent" in review.rule:
        return {**shown, "qualified_tier": None, "effective_on": None, "notice_ends": None,
                **_watch(review.rule, held, revenue)}
    found = _outcome(policy, partner, held, day, revenue)
    if requested and found["outcome"] == "downgrade":
        found = {**found, "outcome": "unchanged", "effective_on": None, "notice_ends": None,
                 "reasons": found["reasons"][1:]}
    if requested and commitment is not None:
        found = _on_commitment(policy, partner, held, day, found, commitment, missed)
    return {**shown, **found}
