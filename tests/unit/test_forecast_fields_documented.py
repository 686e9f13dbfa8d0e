"""`elapsed_percent` and `history_months` of a forecast mean what docs/kpis.md and the OpenAPI descriptions say.

docs/kpis.md "Forecasts": `elapsed_percent` is the share of the period's calendar days from its first day through the
as-of day (UTC, inclusive), in percent to one decimal (0 before the period starts, 100 after it ends);
`history_months` is the number of calendar months before the period's first month that the projection reads, from
the partner's first month with invoiced revenue (at most 36 back; a month with nothing invoiced in between counts as a
month of 0), 0 without any. Computed here by hand for one case.
"""

from __future__ import annotations

from datetime import date

from revgov.domain import forecast
from revgov.edge.openapi import document


def _answer(history, as_of, to_date=60_000.0):
    projection = forecast.project(history, "2026-Q4", as_of, to_date)
    return forecast.describe(projection, [])


def test_elapsed_percent_and_history_months_by_hand():
    # 2026-Q4 has 31 + 30 + 31 = 92 days; standing on 2026-11-14: 31 October days + 14 November days = 45 (inclusive);
    # 45 / 92 = 48.913...% -> 48.9. History March-September 2026 (September is the month before the Quarter): 7 months,
    # one of them 0.00; a month inside the Quarter is not history.
    history = {f"2026-{m:02d}": 20_000.0 for m in range(3, 10)} | {"2026-05": 0.0}
    answer = _answer({**history, "2026-10": 30_000.0}, date(2026, 11, 14))
    assert (answer["elapsed_percent"], answer["history_months"]) == (48.9, 7)


def test_elapsed_percent_is_0_before_the_period_and_100_after_it():
    history = {"2026-09": 20_000.0}
    assert _answer(history, date(2026, 9, 20), 0.0)["elapsed_percent"] == 0.0
    assert _answer(history, date(2027, 1, 3))["elapsed_percent"] == 100.0
    # The first day counts: 1 / 92 = 1.087% -> 1.1.
    assert _answer(history, date(2026, 10, 1))["elapsed_percent"] == 1.1


def test_no_history_is_0_months():
    assert _answer({}, date(2026, 11, 14))["history_months"] == 0


def test_the_openapi_schemas_describe_both_fields():
    schemas = document()["components"]["schemas"]
    fc = schemas["api_responses_forecast"]["properties"]
    assert "as-of day" in fc["elapsed_percent"]["description"]
    assert "before the period" in fc["history_months"]["description"]
    items = schemas["api_responses_at_risk_partners"]["properties"]["items"]["items"]["properties"]
    assert "before the period" in items["history_months"]["description"]
