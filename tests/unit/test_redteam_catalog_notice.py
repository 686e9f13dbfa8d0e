"""Red team: a price change without notice by dropping a SKU in one catalog import and bringing it back in the next.

PA-6.1 (northwind): "The Distributor may change the price list with 30 days' notice in the Partner Portal"; CPA-6.1
(contoso): "Contoso gives 30 days' notice of price changes in the Partner Portal." domain/price_notice.py reads an
import as the notice and lets a SKU leave the list without notice (no price a Partner was given changes). Before the
fix, the SKU's price was judged against the catalog just before the import only: an import that dropped NW-SW-24P,
then one that listed it again at a new price (even from a day in the past), changed its List Price at once — the two
imports a minute apart, or a careless import that left a row out and the next that put it back "corrected".
A SKU removed longer ago than the notice period may come back at any price (partners were told it left).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import RuleViolation
from revgov.domain.time import parse_day
from revgov.services import catalog

NOW = "2026-11-10T10:00:00.000Z"
FINANCE = Principal("northwind", Role.FINANCE, "key_01JX00000000000000000FINA")
SKU = "NW-SW-24P"  # List Price 1250.00 on northwind's price list


def _rows(rt: Any, *, without: str | None = None, price: str | None = None, **dated: str) -> list[dict[str, Any]]:
    policy = rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]
    rows = []
    for entry in policy["billing"]["price_list"]:
        if entry["sku"] == without:
            continue
        row = {k: entry[k] for k in ("sku", "name", "family", "billing", "list_price", "unit_cost")}
        if entry["sku"] == SKU and price is not None:
            row |= {"list_price": price, **dated}
        rows.append({**row, "currency": "USD"})
    return rows


def test_dropping_a_sku_and_listing_it_again_at_a_new_price_needs_the_notice() -> None:
    rt, clock = memory_runtime(NOW)
    catalog.import_catalog(rt, FINANCE, _rows(rt, without=SKU), source="dropped.csv")
    clock.advance(minutes=1)
    for dated in ({}, {"effective_from": "2026-01-01"}, {"effective_from": "2026-11-20"}):
        with pytest.raises(RuleViolation) as refused:
            catalog.import_catalog(rt, FINANCE, _rows(rt, price="1500.00", **dated), source="back.csv")
        assert refused.value.extra["clause"] == "PA-6.1", refused.value.detail
        assert [e.path for e in refused.value.errors] == [f"/rows/{_index(rt)}/list_price"]
    # the same price back, or the new one from the day the notice runs out, is no price change without notice
    catalog.import_catalog(rt, FINANCE, _rows(rt), source="restored.csv")
    allowed = (parse_day(NOW[:10]) + timedelta(days=30)).isoformat()
    old = _rows(rt)[_index(rt)]
    scheduled = [*_rows(rt, without=SKU), {**old, "effective_to": allowed},
                 {**old, "list_price": "1500.00", "effective_from": allowed}]  # fmt: skip
    assert catalog.import_catalog(rt, FINANCE, scheduled, source="scheduled.csv")["added"] == 1


def test_ending_a_version_early_at_the_same_price_and_adding_a_new_one_after_it_needs_the_notice() -> None:
    """The same with dates: end the SKU's version tomorrow (the same price: no notice needed for that import), then
    add a version from tomorrow at another price (against the list just before it, a day nobody had a price for)."""
    rt, clock = memory_runtime(NOW)
    tomorrow = (parse_day(NOW[:10]) + timedelta(days=1)).isoformat()
    old = _rows(rt)[_index(rt)]
    ended = [*_rows(rt, without=SKU), {**old, "effective_to": tomorrow}]
    catalog.import_catalog(rt, FINANCE, ended, source="ended.csv")
    clock.advance(minutes=1)
    with pytest.raises(RuleViolation) as refused:
        catalog.import_catalog(rt, FINANCE, [*ended, {**old, "list_price": "1500.00", "effective_from": tomorrow}],
                               source="new-version.csv")  # fmt: skip
    assert refused.value.extra["clause"] == "PA-6.1"


def test_a_sku_dropped_longer_ago_than_the_notice_may_come_back_at_any_price() -> None:
    rt, clock = memory_runtime(NOW)
    catalog.import_catalog(rt, FINANCE, _rows(rt, without=SKU), source="dropped.csv")
    clock.advance(days=31)
    summary = catalog.import_catalog(rt, FINANCE, _rows(rt, price="1500.00"), source="relisted.csv")
    assert summary["added"] == 1


def _index(rt: Any) -> int:
    return [r["sku"] for r in _rows(rt)].index(SKU)
