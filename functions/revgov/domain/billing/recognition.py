"""Revenue recognition (IFRS 15 / ASC 606): when each invoice line's amount is earned, month by month, and what is
billed but not yet earned (a contract liability, deferred revenue) or earned but not yet billed (a contract asset).

The principle (IFRS 15.31, ASC 606-10-25-23): revenue is recognised "when (or as) the entity satisfies a performance
obligation by transferring a promised good or service ... to a customer". How each line kind satisfies its obligation:

- `shipment`: at a point in time (IFRS 15.38), the day control transfers. The line's service period is that day: the
  day shipped, or the day delivered where the contract bills the family on delivery and the ERP reported it (CPA-10.2
  "devices are billed on delivery"; PA-10.2 "billed on shipment or delivery").
- `milestone`: at the milestone's acceptance, the output method "milestones reached" (IFRS 15.B15) that PA-10.6 /
  CPA-10.5 bill by; `support_overage`: on the day the hours were worked (SOP-5.2 / COP-5.2) -- a completed service.
- `subscription`, `credit`: over time, ratably by day over the service period (IFRS 15.35(a): the customer
  "simultaneously receives and consumes the benefits"; B15 time elapsed) -- PA-10.2 / CPA-10.2 bill a subscription
  for the Billing Month as its service period, a credit gives back the unused full days of it (PA-10.4 / CPA-10.3).
- `usage`, `usage_adjustment`: as consumed, in the usage period the line carries (PA-10.5 / CPA-10.4 rate usage per
  Billing Month; the adjustment keeps "their original service period", SOP-3.1), spread by day if it spans months.
- `credit_note`: a reversal of the credited line over the service period billing gives it (the credited line's,
  docs/billing.md; a return's is its return day). A credit changes the transaction price: IFRS 15.88 (ASC
  606-10-32-44) recognises the part for obligations already satisfied "as a reduction of revenue, in the period in
  which the transaction price changes" -- so a credit (a negative line with `references_line`: `credit`,
  `credit_note`) never moves a month before the month of the invoice it is on: what its schedule puts there is taken
  in that month (a catch-up), the rest follows the schedule. A quantity increase referencing the month's charge is
  no price change but more service delivered: earned in its service period, whenever billed.

Rounding: cents are allocated by the largest remainder method (Hamilton): each month takes the floor of its exact
share (amount x days in the month / days of the period), then the cents left over go one each to the months with the
largest remainders, the earlier month first on a tie. The months always sum exactly to the line; a negative line is
allocated on its absolute value, so a credit of a whole line mirrors its schedule cent for cent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ..money import format_money
from ..time import parse_day, period_of
from .periods import ZERO, ServicePeriod

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Method:
    """How a line kind's obligation is satisfied, with the paragraph of the standard that says so."""

    name: str  # point_in_time | over_time | as_consumed | reversal
    standard: str
    over_days: bool  # spread by day over the service period, else all on its last day


POINT_IN_TIME = Method("point_in_time", "IFRS 15.38 / ASC 606-10-25-30 (control transfers at a point in time)", False)
MILESTONE = Method("point_in_time", "IFRS 15.B15 / ASC 606-10-55-17 (output method: milestones reached)", False)
OVER_TIME = Method("over_time", "IFRS 15.35(a), B15 / ASC 606-10-25-27(a) (ratably by day, time elapsed)", True)
AS_CONSUMED = Method("as_consumed", "IFRS 15.B16 / ASC 606-10-55-18 (usage as consumed, in its usage period)", True)
REVERSAL = Method("reversal", "IFRS 15.87-88 / ASC 606-10-32-42 to 44 (a change of the transaction price)", True)
METHODS: Mapping[str, Method] = {
    "shipment": POINT_IN_TIME,
    "milestone": MILESTONE,
    "support_overage": POINT_IN_TIME,
    "subscription": OVER_TIME,
    "credit": OVER_TIME,
    "usage": AS_CONSUMED,
    "usage_adjustment": AS_CONSUMED,
    "credit_note": REVERSAL,
}


@dataclass(frozen=True)
class RecognitionLine:
    """What recognition needs of an invoice line: its net amount, service period, kind and the month it is billed in
    (its invoice's Billing Month); a credit names the line it credits."""

    line_id: str
    partner_id: str
    kind: str
    amount: Decimal
    service_period: ServicePeriod
    billed_in: str
    references_line: str | None = None

    @classmethod
    def of(cls, line: Mapping[str, Any], billed_in: str) -> RecognitionLine:
        return cls(
            line_id=str(line["line_id"]),
            partner_id=str(line["partner_id"]),
            kind=str(line["kind"]),
            amount=Decimal(str(line["amount"])),
            service_period=ServicePeriod.from_dict(line["service_period"]),
            billed_in=billed_in,
            references_line=line.get("references_line"),
        )

    @property
    def method(self) -> Method:
        # A kind billing does not know yet is read by its service period: ratably by day (a one-day period is that day)
        return METHODS.get(self.kind, OVER_TIME)

    @property
    def position(self) -> str:
        """The contract position a line belongs to (IFRS 15.105 presents each net): a credit's is the credited line."""
        return self.references_line or self.line_id


def days_by_month(period: ServicePeriod) -> list[tuple[str, int]]:
    """The calendar months a service period covers and how many of its days fall in each, in order."""
    if period.end < period.start:
        raise ValueError(f"a service period ends on or after it starts, not {period.start} to {period.end}")
    months: list[tuple[str, int]] = []
    day = period.start
    while day <= period.end:
        following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        last = min(period.end, following - timedelta(days=1))
        months.append((period_of(day), (last - day).days + 1))
        day = following
    return months


def allocate(amount: Decimal, weights: list[tuple[str, int]]) -> list[tuple[str, Decimal]]:
    """`amount` split over the weighted months to the cent by the largest remainder; the parts sum to `amount`."""
    cents = int((abs(amount) / CENT).to_integral_value())
    if Decimal(cents) * CENT != abs(amount):
        raise ValueError(f"an invoice line's amount is in whole cents, not {amount}")
    whole = sum(weight for _, weight in weights)
    floors = [(cents * weight) // whole for _, weight in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-((cents * weights[i][1]) % whole), i))
    for i in remainders[: cents - sum(floors)]:
        floors[i] += 1
    sign = -1 if amount < 0 else 1
    return [(month, Decimal(sign * part) * CENT) for (month, _), part in zip(weights, floors, strict=True)]


def schedule(line: RecognitionLine) -> list[tuple[str, Decimal]]:
    """What the line recognises per calendar month, in order; the months sum exactly to the line's amount."""
    period = line.service_period
    weights = days_by_month(period) if line.method.over_days else [(period_of(period.end), 1)]
    parts = allocate(line.amount, weights)
    if line.references_line is None or line.amount >= 0:
        return parts  # an increase of quantity (PA-10.3) is earned as served, like a late event (PA-10.7)
    # IFRS 15.88: a credit is taken in the month the price changes, never in a month before it (no month restated)
    caught_up = sum((part for month, part in parts if month <= line.billed_in), ZERO)
    later = [(month, part) for month, part in parts if month > line.billed_in]
    return [(line.billed_in, caught_up), *later] if caught_up or not later else later


def recognised_through(line: RecognitionLine, month: str) -> Decimal:
    """What the line has recognised by the end of `month`."""
    return sum((part for m, part in schedule(line) if m <= month), ZERO)


def billed_through(line: RecognitionLine, month: str) -> Decimal:
    """What was billed of the line by the end of `month`: all of it from its invoice's Billing Month on."""
    return line.amount if line.billed_in <= month else ZERO


def balance_at(line: RecognitionLine, month: str) -> Decimal:
    """Billed less recognised at the end of `month`: above zero deferred revenue, below zero unbilled revenue."""
    return billed_through(line, month) - recognised_through(line, month)


@dataclass(frozen=True)
class Balances:
    """Contract liabilities (billed, not yet earned) and contract assets (earned, not yet billed) at a month's end,
    each contract position (a line and the credits against it) netted first (IFRS 15.105)."""

    deferred: Decimal
    unbilled: Decimal

    def as_dict(self) -> dict[str, str]:
        return {"deferred": _money(self.deferred), "unbilled": _money(self.unbilled)}


def balances_at(lines: Iterable[RecognitionLine], month: str) -> Balances:
    by_position: dict[str, Decimal] = {}
    for line in lines:
        by_position[line.position] = by_position.get(line.position, ZERO) + balance_at(line, month)
    return Balances(
        deferred=sum((b for b in by_position.values() if b > 0), ZERO),
        unbilled=-sum((b for b in by_position.values() if b < 0), ZERO),
    )


def _money(amount: Decimal) -> str:
    """The wire form, never "-0.00" (a credit that nets a month to nothing)."""
    return format_money(amount + ZERO)


def month_before(month: str) -> str:
    return period_of(parse_day(f"{month}-01") - timedelta(days=1))


def line_schedule(line: RecognitionLine) -> list[dict[str, str]]:
    """The line's full schedule as the API answers it: each month's recognised amount and the line's balance at its
    end (billed less recognised: deferred above zero, unbilled below)."""
    return [
        {"month": month, "recognised": _money(part), "balance": _money(balance_at(line, month))}
        for month, part in schedule(line)
    ]


def line_in_period(line: RecognitionLine, months: tuple[str, ...]) -> dict[str, Any] | None:
    """The line's share of a period: recognised in each of its months and its balance at the period's start and end;
    None when the line neither recognises, is billed, nor carries a balance in it."""
    opening, closing = balance_at(line, month_before(months[0])), balance_at(line, months[-1])
    parts = [(month, part) for month, part in schedule(line) if month in months]
    billed = line.amount if line.billed_in in months else ZERO
    if not parts and not billed and not opening and not closing:
        return None
    return {
        "recognised": _money(sum((part for _, part in parts), ZERO)),
        "by_month": [{"month": month, "recognised": _money(part)} for month, part in parts],
        "billed": _money(billed),
        "balance": {"opening": _money(opening), "closing": _money(closing)},
    }


def period_totals(lines: list[RecognitionLine], months: tuple[str, ...]) -> dict[str, Any]:
    """The period's figures over every line: recognised per month and in all, billed, and the contract balances at
    its opening (the end of the month before) and closing."""
    per_month = {month: ZERO for month in months}
    for line in lines:
        for month, part in schedule(line):
            if month in per_month:
                per_month[month] += part
    billed = sum((line.amount for line in lines if line.billed_in in months), ZERO)
    return {
        "recognised": _money(sum(per_month.values(), ZERO)),
        "recognised_by_month": [{"month": m, "recognised": _money(v)} for m, v in per_month.items()],
        "billed": _money(billed),
        "opening": balances_at(lines, month_before(months[0])).as_dict(),
        "closing": balances_at(lines, months[-1]).as_dict(),
    }


def method_of(line: RecognitionLine) -> dict[str, str]:
    return {"name": line.method.name, "standard": line.method.standard}
