"""A query parameter given twice is a 400 naming it, not the last value silently winning.

API.md / docs/routes.md: every declared query parameter takes one value (`period` is "a billing month or a quarter",
`limit` "1..200"). `?period=2026-Q2&period=2026-Q3` asks two questions of an operation that answers one; reading the
last one (what a plain dict of the query string does) answers a question the caller may not have meant. RFC 9457: the
problem names the offending input, as every other bad query parameter's does (`/query/<name>`)."""

from __future__ import annotations

from typing import Any

import pytest

from support import assert_problem

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def finance(stack: Any, api: Any) -> Any:
    return api.as_key(stack.info["tenants"]["northwind"]["keys"]["finance"])


@pytest.mark.parametrize(("path", "params"), [
    ("/v1/kpis", {"period": ["2026-Q2", "2026-Q3"]}),
    ("/v1/kpis", {"period": ["2026-Q3", "2026-Q3"]}),  # the same value twice is still two values
    ("/v1/invoices", {"period": "2026-11", "limit": ["5", "10"]}),
    ("/v1/invoices", {"period": ["2026-10", "2026-11"], "limit": "5"}),
])
def test_a_repeated_query_parameter_is_refused_naming_it(finance: Any, path: str, params: dict[str, Any]) -> None:
    repeated = sorted(name for name, value in params.items() if isinstance(value, list))
    problem = assert_problem(finance.get(path, **params), 400)
    assert [e["path"] for e in problem["errors"]] == [f"/query/{name}" for name in repeated], problem


def test_one_value_is_still_answered(finance: Any) -> None:
    assert finance.get("/v1/kpis", period="2026-Q3").status_code == 200
    assert finance.get("/v1/invoices", period="2026-11", limit="5").status_code == 200


def test_authentication_is_checked_before_the_query(api: Any) -> None:
    """No key: 401, whatever the query holds (nothing about the route is told to an anonymous caller)."""
    assert_problem(api.get("/v1/kpis", period=["2026-Q2", "2026-Q3"]), 401)
