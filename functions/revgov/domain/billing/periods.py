"""Billing periods: days of a month, quarters, when a month has ended, when an SLA falls due, service periods."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from ..cases import due_at
from ..errors import FieldError, MalformedRequest
from ..time import instant, iso, parse_day, period_bounds
from .plausibility import FACT_DAYS

HUNDRED = Decimal(100)
ZERO = Decimal(0)
# ERP detail-types that must be posted as an invoice line within the invoice SLA (PA-10.7, SOP-2.1, COP-2.1)
SLA_TRACKED = frozenset({"shipment.confirmed", "subscription.activated", "service.completed"})


# --- periods -----------------------------------------------------------------------------------------------
def days_in_month(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def quarter_of(day: date) -> str:
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


def period_ended(period: str, at: datetime) -> bool:
    """A billing month has ended once its last day (UTC) is over."""
    return at.date() > period_bounds(period)[1]


def sla_clock_start(occurred_at: str, data: dict[str, Any] | None = None, detail_type: str = "") -> str:
    """When a billable event's invoice SLA clock starts (SOP-2.1, COP-2.1: "within 48 hours of the time the event
    occurred, as recorded by the source system, not the time it was received"): its `occurred_at`, but no later than
    the end of the day its fact is dated (`shipped_on`, or the `delivered_on` a delivery reports; `activated_on`;
    `accepted_on`), since the event cannot have occurred after that: a shipment the ERP stamps days after it shipped
    is still late (PA-10.7, CPA-10.6)."""
    return iso(_clock_start(occurred_at, data or {}, detail_type)[0])


def _clock_start(occurred_at: str, values: dict[str, Any], detail_type: str) -> tuple[datetime, str]:
    """The SLA clock's start and the field (a JSON pointer into the ERP event) that set it."""
    start, pointer = instant(occurred_at), "/occurred_at"
    field = FACT_DAYS[detail_type] if detail_type in SLA_TRACKED else None
    named = field and ("delivered_on" if values.get("delivered_on") else field)
    day = named and values.get(named)
    if not day:
        return start, pointer
    try:
        day_ends = datetime.combine(parse_day(day) + timedelta(days=1), time(), UTC)
    except OverflowError as exc:
        raise _off_calendar(f"/data/{named}", day) from exc
    return (day_ends, f"/data/{named}") if day_ends < start else (start, pointer)


def sla_due(occurred_at: str, hours: int, data: dict[str, Any] | None = None, detail_type: str = "") -> str:
    """When a billable event's invoice line is due: `hours` after its SLA clock started (`sla_clock_start`). An event
    dated at the calendar's end (9999-12-31: its next day, or `hours` after the clock starts, is year 10000) is a
    MalformedRequest naming the field that dates it (RFC 9457), never an OverflowError."""
    start, pointer = _clock_start(occurred_at, data or {}, detail_type)
    try:
        return due_at(iso(start), hours)
    except OverflowError as exc:
        raise _off_calendar(pointer, iso(start)) from exc


def _off_calendar(pointer: str, value: str) -> MalformedRequest:
    return MalformedRequest(f"{value} is too late a date to bill: its invoice SLA would fall due after 9999-12-31",
                            errors=[FieldError(pointer, "a date before 9999-12-29")])


@dataclass(frozen=True)
class ServicePeriod:
    start: date
    end: date

    @classmethod
    def day(cls, day: date) -> ServicePeriod:
        return cls(day, day)

    @classmethod
    def month(cls, period: str) -> ServicePeriod:
        return cls(*period_bounds(period))

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> ServicePeriod:
        return cls(parse_day(data["start"]), parse_day(data["end"]))

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}
