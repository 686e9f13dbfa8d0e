"""Business days: the tenant's working calendar (weekend days and public holidays from its policy), pure.

The contracts define a business day as "Monday to Friday excluding public holidays published in the Partner Portal"
(PA-1.3 / CPA-1.3). An SLA of N business days runs N whole business days of elapsed time: time stops on weekends and
holidays. Opened on a business day at 10:00, it is due at 10:00 on the Nth business day after; opened on a day off,
the clock starts at 00:00 UTC of the next business day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_WEEKEND = ("saturday", "sunday")


@dataclass(frozen=True)
class BusinessCalendar:
    weekend: frozenset[int]  # date.weekday() numbers: Monday 0 … Sunday 6
    holidays: frozenset[date]
    rule_id: str | None = None
    clause: str | None = None

    @classmethod
    def from_policy(cls, policy: dict[str, Any]) -> BusinessCalendar:
        """The policy's `calendar`; without one, Monday to Friday with no holidays."""
        spec = policy.get("calendar") or {}
        weekend = spec.get("weekend", DEFAULT_WEEKEND)
        return cls(
            weekend=frozenset(WEEKDAYS.index(day) for day in weekend),
            holidays=frozenset(date.fromisoformat(day) for day in spec.get("holidays", [])),
            rule_id=spec.get("id"),
            clause=spec.get("clause"),
        )

    def is_business_day(self, day: date) -> bool:
        return day.weekday() not in self.weekend and day not in self.holidays

    def next_business_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day

    def add_business_days(self, moment: datetime, days: int) -> datetime:
        """`moment` plus `days` whole business days of elapsed time (see the module docstring)."""
        if days < 0:
            raise ValueError("days must not be negative")
        if not self.is_business_day(moment.date()):
            moment = datetime.combine(self.next_business_day(moment.date()), time(0), tzinfo=moment.tzinfo)
        day = moment.date()
        for _ in range(days):
            day = self.next_business_day(day)
        return datetime.combine(day, moment.timetz())
