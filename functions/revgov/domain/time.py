"""Time in the domain: instants (UTC, ISO-8601), days, billing months. One definition of each; the clock itself is a
port (`ports.Clock`), so nothing here reads the wall clock."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

from .errors import FieldError, MalformedRequest, RevgovError


def instant(text: str) -> datetime:
    """An instant the product wrote itself (stored documents, events, the clock's `now_iso`): ISO-8601, Z or offset."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def unix_seconds(text: str) -> int:
    """Whole seconds since the Unix epoch of a stored instant (ISO-8601, Z or offset) or day (its 00:00:00 UTC)."""
    moment = instant(text) if "T" in text else datetime.combine(date.fromisoformat(text), datetime.min.time())
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def parse_instant(
    text: object, *, field_path: str = "/at", problem: type[RevgovError] = MalformedRequest
) -> datetime:
    """An instant a caller sent: a UTC ISO-8601 time ending in Z (e.g. 2027-03-10T00:00:00Z), else `problem` naming
    `field_path`."""
    if not isinstance(text, str) or not text.endswith("Z"):
        raise problem(f"{text!r} is not a UTC time", errors=[FieldError(field_path, "use ISO-8601 with Z")])
    try:
        return datetime.fromisoformat(text[:-1] + "+00:00").astimezone(UTC)
    except ValueError as exc:
        raise problem(f"{text!r} is not a UTC time", errors=[FieldError(field_path, str(exc))]) from exc


def iso(moment: datetime) -> str:
    """An instant as the product writes it: UTC, milliseconds, Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_day(text: str) -> date:
    return date.fromisoformat(text)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def period_of(day: date) -> str:
    """The billing month a day falls in, named like 2026-10."""
    return f"{day.year:04d}-{day.month:02d}"


def period_bounds(period: str) -> tuple[date, date]:
    """The first and last day of a billing month named like 2026-10."""
    year, month = (int(part) for part in period.split("-"))
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def next_period(period: str) -> str:
    return period_of(period_bounds(period)[1] + timedelta(days=1))
