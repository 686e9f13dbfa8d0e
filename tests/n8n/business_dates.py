"""Every business date of the n8n run, from ONE "today": the local stack's clock (Revgov's Clock port, which is
what the API itself judges periods by), never the calendar the suite happens to run on.

From it: the quarter the close flow settles (the one before today's, as the flow's own default computes it, and
passed to the flow explicitly through `REVGOV_REBATE_AS_OF`), the days of the shipments the ERP exports, and when the
run's partner earned the certification its tier needs. That partner must hold its tier on the settled quarter's last
day: rebate programs take "its effective tier on the period's last day" (`facts_of_partner`), and the tier needs a
certification valid that day (PA-4.3). The demo partner the stack seeds was certified 60 days before the stack started,
so it held its tier on the previous quarter's last day only in the first 60 days of a quarter: on 2026-12-06 it was a
`registered` partner on 2026-09-30, earned nothing, and the close flow had no statement to fetch (issue #22).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_name(year: int, quarter: int) -> str:
    return f"{year}-Q{quarter}"


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    first = date(year, 3 * quarter - 2, 1)
    after = date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    return first, after - timedelta(days=1)


def previous_quarter(day: date) -> tuple[int, int]:
    year, quarter = quarter_of(day)
    return (year, quarter - 1) if quarter > 1 else (year - 1, 4)


def month_before(day: date) -> date:
    """The first day of the month before `day`'s."""
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


@dataclass(frozen=True)
class BusinessDates:
    now: datetime  # UTC, from the stack's clock

    @classmethod
    def from_clock(cls, now_iso: str) -> BusinessDates:
        return cls(datetime.fromisoformat(now_iso.replace("Z", "+00:00")).astimezone(UTC))

    @property
    def today(self) -> date:
        return self.now.date()

    @property
    def settled_quarter(self) -> str:
        return quarter_name(*previous_quarter(self.today))

    @property
    def settled_bounds(self) -> tuple[date, date]:
        return quarter_bounds(*previous_quarter(self.today))

    @property
    def shipments(self) -> tuple[datetime, datetime, datetime]:
        """Two shipments of last month (billable now that it has ended) and one of the settled quarter's last month;
        all posted late, so each also opens an invoice SLA exception for finance."""
        last_month = month_before(self.today)
        in_quarter = self.settled_bounds[1].replace(day=10)
        return (
            datetime.combine(last_month.replace(day=4), datetime.min.time(), UTC).replace(hour=10),
            datetime.combine(last_month.replace(day=5), datetime.min.time(), UTC).replace(hour=10),
            datetime.combine(in_quarter, datetime.min.time(), UTC).replace(hour=9),
        )

    @property
    def certified_on(self) -> date:
        """A month before the settled quarter began: the partner holds its tier through the whole quarter."""
        return self.settled_bounds[0] - timedelta(days=30)

    @property
    def documents_expire_on(self) -> date:
        return self.today + timedelta(days=330)
