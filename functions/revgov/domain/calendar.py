"""Business days: the tenant's working calendar (weekend days and public holidays from its policy), pure.

The contracts define a business day as "Monday to Friday excluding public holidays published in the Partner Portal"
(PA-1.3: "for the Program Year"; CPA-1.3: "for the Partner's country of establishment"). An SLA of N business days
runs N whole business days of elapsed time: time stops on weekends and holidays. Opened on a business day at 10:00,
it is due at 10:00 on the Nth business day after; opened on a day off, the clock starts at 00:00 UTC of the next
business day.
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

    country: str | None = None  # whose public holidays these are; None: the program-wide list

    @classmethod
    def from_policy(cls, policy: dict[str, Any], country: str | None = None) -> BusinessCalendar:
        """The policy's `calendar`; without one, Monday to Friday with no holidays.

        Where the contract counts business days on the holidays of "the Partner's country of establishment"
        (CPA-1.3), the calendar lists them by country (`holidays_by_country`, ISO 3166-1 alpha-2): a partner's
        business days skip its country's list. The program-wide `holidays` apply where the contract publishes one
        list for the Program Year (PA-1.3), and to items with no partner or a partner whose country is not listed."""
        spec = policy.get("calendar") or {}
        weekend = spec.get("weekend", DEFAULT_WEEKEND)
        by_country = spec.get("holidays_by_country") or {}
        listed = country if country in by_country else None
        days = by_country[listed] if listed else spec.get("holidays", [])
        return cls(
            weekend=frozenset(WEEKDAYS.index(day) for day in weekend),
            holidays=frozenset(date.fromisoformat(day) for day in days),
            rule_id=spec.get("id"),
            clause=spec.get("clause"),
            country=listed,
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
