"""Billing periods: days of a month, quarters, when a month has ended, when an SLA falls due, service periods."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ..cases import due_at
from ..time import parse_day, period_bounds

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


def sla_due(occurred_at: str, hours: int) -> str:
    """When a billable event's invoice line is due: hours after it occurred in the source system."""
    return due_at(occurred_at, hours)


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
