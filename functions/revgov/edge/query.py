"""Query parameters a route cannot do without, refused the same way everywhere (400 naming `/query/<name>`)."""

from __future__ import annotations

from ..domain.errors import FieldError, MalformedRequest
from .http import Call


def required_period(call: Call) -> str:
    """`?period=` (a month or a quarter; its pattern is the route's PERIOD_PATTERN), which this route requires."""
    period = call.query.get("period")
    if not period:
        raise MalformedRequest("period is required", errors=[FieldError("/query/period", "e.g. 2026-11 or 2026-Q4")])
    return period
