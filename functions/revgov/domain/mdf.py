"""Market development funds (PA-9.5 / CPA-9.5): the pure arithmetic of a partner's MDF ledger.

PA-9.5: "Silver, Gold and Platinum Partners are eligible for market development funds (MDF). MDF accrues each Quarter
at a percentage of the Partner's Qualifying Revenue in the previous Quarter: Silver 2%, Gold 3% and Platinum 4%.
Activities must be pre-approved by Channel Operations before they take place. Claims must be submitted within 90 days
after the activity ends, with proof of execution and third-party invoices. Accrued MDF not claimed by the end of the
Quarter following the Quarter of accrual expires. Registered Partners are not eligible for MDF."
CPA-9.5: "Advanced and Elite Partners accrue market development funds each Quarter at 2% (Advanced) or 5% (Elite) of
the previous Quarter's Qualifying Revenue. Activities are pre-approved by Channel Operations; claims are made within
60 days after the activity with proof of execution and supplier invoices. Unclaimed funds expire at the end of the
second Quarter after accrual."

Readings (docs/mdf.md):
- The accrual of Quarter Q is `round(QR(Q-1) x percent / 100)` (half-even, 2 places, once). The percent is the one of
  the tier held in Q ("MDF accrues each Quarter at [the tier's] percentage"): the tier on Q's first day, the day the
  previous Quarter's revenue is complete and the accrual arises. A tier not eligible then accrues 0.00.
- Expiry: the accrual of Q expires after the last day of Q + `expires_after_quarters` (1 Northwind, 2 Contoso).
- A claim draws on the oldest unexpired accrual first (the one expiring soonest) and is REFUSED, never capped, when
  it exceeds what is available: neither clause pays part of a claim, and a capped claim would pay an amount nobody
  claimed; the partner may claim again for what is available.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from .errors import FieldError, RuleViolation
from .money import format_money, parse_money, round_money
from .rebates.policy import Period, month_index
from .rules import Rule

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
MAX_AMOUNT = Decimal("10000000.00")  # no single activity or claim above 10 million: a typo, not a plan
MAX_AHEAD_DAYS = 730  # an activity may be planned at most two years ahead


@dataclass(frozen=True)
class MdfPolicy:
    """`policy.mdf`: the clause, the rebate program whose basis is Qualifying Revenue, the claim window, expiry."""

    rule: Rule
    revenue_program: str
    claim_window_days: int
    expires_after_quarters: int


def mdf_policy(policy: Mapping[str, Any]) -> MdfPolicy:
    node = policy.get("mdf")
    if not node:
        raise RuleViolation("this tenant's policy has no market development funds (policy.mdf)")
    return MdfPolicy(
        Rule.of(node), str(node["revenue_program"]), int(node["claim_window_days"]),
        int(node["expires_after_quarters"]),
    )


@dataclass(frozen=True)
class Accrual:
    """One Quarter's accrual: from the previous Quarter's Qualifying Revenue at the tier's percent in the Quarter."""

    quarter: str
    revenue_quarter: str
    qualifying_revenue: Decimal
    tier: str | None
    percent: Decimal
    amount: Decimal
    expires_on: date  # the last day it can be claimed against


def quarter_of(day: date) -> Period:
    return Period.containing(month_index(day), "quarter")


def expires_on(rules: MdfPolicy, quarter: Period) -> date:
    """PA-9.5 "not claimed by the end of the Quarter following the Quarter of accrual expires" (CPA-9.5 "the end of
    the second Quarter after accrual")."""
    return quarter.shifted(3 * rules.expires_after_quarters).end


def accrual(rules: MdfPolicy, quarter: Period, qualifying_revenue: Decimal, tier: str | None, percent: Decimal,
            eligible: bool) -> Accrual:
    """The accrual of `quarter`; an ineligible tier (Registered / Authorized, or withheld) accrues 0.00."""
    rate = percent if eligible else Decimal(0)
    amount = round_money(qualifying_revenue * rate / HUNDRED) if qualifying_revenue > 0 else ZERO
    return Accrual(quarter.name, quarter.shifted(-3).name, qualifying_revenue, tier, rate, amount,
                   expires_on(rules, quarter))


def claim_deadline(rules: MdfPolicy, activity_ends: date) -> date:
    """PA-9.5 "within 90 days after the activity ends" (CPA-9.5: 60 days): the last day a claim may be submitted."""
    return activity_ends + timedelta(days=rules.claim_window_days)


def available(accruals: Sequence[Accrual], drawn: Mapping[str, Decimal], on: date) -> dict[str, Decimal]:
    """Per accrual Quarter, what is left to claim on `on`: accrued in a Quarter begun, not expired, less drawn."""
    left: dict[str, Decimal] = {}
    for a in accruals:
        if Period.parse(a.quarter).start <= on <= a.expires_on:
            left[a.quarter] = max(a.amount - drawn.get(a.quarter, ZERO), ZERO)
    return left


def allocate(accruals: Sequence[Accrual], drawn: Mapping[str, Decimal], amount: Decimal, on: date) -> dict[str, str]:
    """The accrual Quarters a claim of `amount` draws on, oldest (soonest expiring) first; refused beyond them."""
    left = available(accruals, drawn, on)
    total = sum(left.values(), ZERO)
    if amount > total:
        raise RuleViolation(
            f"the claim of {format_money(amount)} exceeds the MDF available on {on.isoformat()} "
            f"({format_money(total)}): claims beyond the accrued funds are refused, not capped",
            [FieldError("/amount", f"at most {format_money(total)}")],
            extra={"available": format_money(total)},
        )
    taken: dict[str, str] = {}
    rest = amount
    for quarter in sorted(left, key=lambda q: (Period.parse(q).first, q)):
        if rest <= 0:
            break
        part = min(left[quarter], rest)
        if part > 0:
            taken[quarter] = format_money(part)
            rest -= part
    return taken


def ledger_rows(accruals: Sequence[Accrual], drawn: Mapping[str, Decimal], paid: Mapping[str, Decimal],
                on: date) -> list[dict[str, Any]]:
    """Per accrual Quarter: accrued, reserved by open claims, paid, expired and available on `on`."""
    rows = []
    for a in accruals:
        used = drawn.get(a.quarter, ZERO)
        done = paid.get(a.quarter, ZERO)
        expired = max(a.amount - used, ZERO) if on > a.expires_on else ZERO
        open_left = available([a], drawn, on).get(a.quarter, ZERO)
        rows.append({
            "quarter": a.quarter, "revenue_quarter": a.revenue_quarter,
            "qualifying_revenue": format_money(a.qualifying_revenue), "tier": a.tier, "percent": f"{a.percent:f}",
            "accrued": format_money(a.amount), "reserved": format_money(used - done), "paid": format_money(done),
            "expired": format_money(expired), "available": format_money(open_left),
            "expires_on": a.expires_on.isoformat(),
        })
    return rows


def parse_amount(body: Mapping[str, Any], name: str) -> Decimal:
    """A positive money string of at most 2 places and at most MAX_AMOUNT, or a 400 naming the field."""
    try:
        amount = parse_money(body.get(name))
    except ValueError as exc:
        raise _bad(name, str(exc)) from exc
    if not ZERO < amount <= MAX_AMOUNT:
        raise _bad(name, f"must be above 0.00 and at most {format_money(MAX_AMOUNT)}")
    return amount


def parse_dates(body: Mapping[str, Any], today: date) -> tuple[date, date]:
    """An activity's `starts_on` / `ends_on`: real days, in order, starting after `today` (pre-approval comes BEFORE
    the activity takes place) and not more than MAX_AHEAD_DAYS ahead."""
    days = {}
    for name in ("starts_on", "ends_on"):
        try:
            days[name] = date.fromisoformat(str(body.get(name)))
        except ValueError as exc:
            raise _bad(name, "must be a day YYYY-MM-DD") from exc
    starts, ends = days["starts_on"], days["ends_on"]
    if ends < starts:
        raise _bad("ends_on", "must not be before starts_on")
    if starts <= today:
        raise _bad("starts_on", "must be after today: activities are pre-approved before they take place (PA-9.5)")
    if ends > today + timedelta(days=MAX_AHEAD_DAYS):
        raise _bad("ends_on", f"must be within {MAX_AHEAD_DAYS} days from today")
    return starts, ends


def require_reason(body: Mapping[str, Any], approve: bool) -> None:
    """A rejection says why (the partner reads it); an approval may."""
    if not approve and not str(body.get("reason") or "").strip():
        raise _bad("reason", "a rejection needs a reason")


def _bad(name: str, message: str) -> RuleViolation:
    return RuleViolation(f"{name}: {message}", [FieldError(f"/{name}", message)])
