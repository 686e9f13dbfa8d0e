"""Red-team probes of query strings: limits, cursors, periods and days as a careless or hostile caller sends them.

API.md: "400 malformed"; "Lists: `?limit=` (max 200) and `?cursor=`". The OpenAPI (3.1, JSON Schema 2020-12) states
each parameter's pattern as an ECMA-262 regular expression, where `\\d` is `[0-9]`: a client that validates with the
OpenAPI refuses `20２６-Q3` (full-width digits), so the server must not answer it as another period.
"""

from __future__ import annotations

import pytest

from support import assert_problem

pytestmark = pytest.mark.stack


def test_bad_limits_cursors_and_days_are_400s(northwind) -> None:
    for params in ({"limit": "0"}, {"limit": "201"}, {"limit": "-1"}, {"limit": "１０"}, {"limit": "1e2"},
                   {"cursor": "e30"}, {"cursor": "!!!"}, {"period": "2026-13"}):  # fmt: skip
        assert_problem(northwind.get("/v1/invoices", **params), 400)
    for params in ({"period": "0000-Q1"}, {"period": "9999-12"}, {"period": "2026-Q5"}):
        assert_problem(northwind.get("/v1/rebates/accruals", **params), 400)
    for days in ("٣٠", "0", "366", "-7", "30.0"):
        assert_problem(northwind.get("/v1/equity", window_days=days), 400)
    for on in ("２０２６-11-01", "2026-13-45", "2026-02-30"):
        assert_problem(northwind.get("/v1/catalog/skus/NW-SW-24P", on=on), 400)


@pytest.mark.parametrize("path", ["/v1/kpis", "/v1/rebates/accruals", "/v1/metrics/workflow"])
def test_a_period_in_non_ascii_digits_is_a_400_not_an_empty_answer(northwind, path: str) -> None:
    """`GET /v1/kpis?period=20２６-Q3` answered 200 with `"months": ["20２６-07", ...]` and every KPI empty: a
    silently wrong figure for what reads as 2026-Q3. It is malformed (400) under the pattern the OpenAPI states."""
    assert_problem(northwind.get(path, period="20２６-Q3"), 400)
