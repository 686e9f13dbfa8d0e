"""Query parameters a route cannot do without, or got more than once, refused the same way everywhere (400 naming
`/query/<name>`)."""

from __future__ import annotations

from typing import Any

from ..domain.errors import FieldError, MalformedRequest
from .http import Call


def repeated_parameters(query_params: Any) -> tuple[str, ...]:
    """The names given more than once in the query string (Chalice's MultiDict keeps them all; a plain dict keeps
    the last): the route answers 400 naming each, never silently using the last value."""
    if query_params is None or not hasattr(query_params, "getlist"):
        return ()
    return tuple(name for name in query_params if len(query_params.getlist(name)) > 1)


def required_period(call: Call) -> str:
    """`?period=` (a month or a quarter; its pattern is the route's PERIOD_PATTERN), which this route requires."""
    period = call.query.get("period")
    if not period:
        raise MalformedRequest("period is required", errors=[FieldError("/query/period", "e.g. 2026-11 or 2026-Q4")])
    return period
