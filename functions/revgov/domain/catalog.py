"""The catalog: the one place that answers "what is SKU X, at what price and cost, on day D" (PA-1.2, PA-6.1).

A SKU has one or more versions, each in force from `effective_from` (inclusive, none: since always) to
`effective_to` (exclusive, none: until further notice). Quote checks, billing and rebates ask a `Catalog` for an
item on a date; none of them reads a price list, and no caller ever supplies its own price or cost.

The first source is the price list in the tenant's policy (`billing.price_list`); a versioned store of its own
can answer through the same protocol.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any, Protocol

from .canonical import sha256_hex
from .errors import FieldError
from .money import parse_money
from .rules import Rule
from .time import parse_day


@dataclass(frozen=True)
class CatalogItem:
    """One version of one SKU: what it is, how it is billed, its List Price and Line Cost per unit."""

    sku: str
    name: str
    family: str
    billing: str  # shipment | subscription
    list_price: Decimal  # per unit, or per unit and month for a subscription
    unit_cost: Decimal  # the Distributor's standard landed cost (PA-1.2 "Line Cost"), for internal review only
    rule: Rule
    effective_from: str | None = None  # YYYY-MM-DD, inclusive
    effective_to: str | None = None  # YYYY-MM-DD, exclusive

    def in_force_on(self, day: str) -> bool:
        return (self.effective_from is None or self.effective_from <= day) and (
            self.effective_to is None or day < self.effective_to
        )

    def facts(self) -> dict[str, str]:
        """What a decision records of the item it priced, so that replay needs no catalog."""
        return {
            "sku": self.sku,
            "family": self.family,
            "list_price": f"{self.list_price:f}",
            "unit_cost": f"{self.unit_cost:f}",
            **self.rule.as_dict(),
        }


class Catalog(Protocol):
    """Effective-dated SKU versions. `version` names the catalog's content, recorded on every decision."""

    version: str

    def item(self, sku: str, on: str) -> CatalogItem | None:
        """The version of `sku` in force on day `on` (YYYY-MM-DD), or None: not on the price list that day."""
        ...


def item_from_entry(entry: Mapping[str, Any]) -> CatalogItem:
    return CatalogItem(
        sku=str(entry["sku"]),
        name=str(entry["name"]),
        family=str(entry["family"]),
        billing=str(entry["billing"]),
        list_price=Decimal(entry["list_price"]),
        unit_cost=Decimal(entry["unit_cost"]),
        rule=Rule.of(entry),
        effective_from=entry.get("effective_from"),
        effective_to=entry.get("effective_to"),
    )


class PriceListCatalog:
    """A catalog held in memory, from price-list entries: the policy's price list is its first source."""

    def __init__(self, items: Iterable[CatalogItem], version: str) -> None:
        self.version = version
        self._versions: dict[str, list[CatalogItem]] = {}
        for item in items:
            self._versions.setdefault(item.sku, []).append(item)
        for sku, versions in self._versions.items():
            versions.sort(key=lambda v: v.effective_from or "")
            for before, after in pairwise(versions):
                open_ended = before.effective_to is None or after.effective_from is None
                if open_ended or str(before.effective_to) > str(after.effective_from):
                    both = f"{before.rule.rule_id}, {after.rule.rule_id}"
                    raise ValueError(f"catalog: versions of {sku} overlap ({both})")

    def item(self, sku: str, on: str) -> CatalogItem | None:
        for version in self._versions.get(sku, ()):
            if version.in_force_on(on):
                return version
        return None

    def items(self) -> list[CatalogItem]:
        """Every version of every SKU, by SKU then effective date."""
        return [version for sku in sorted(self._versions) for version in self._versions[sku]]


def price_list_problems(policy: Mapping[str, Any]) -> list[FieldError]:
    """A price list whose versions of one SKU overlap, or end before they start, cannot answer "SKU X on day D"."""
    entries = (policy.get("billing") or {}).get("price_list") or []
    problems = [
        FieldError(f"/policy/billing/price_list/{n}/effective_to", f"{e['sku']}: effective_to is not after its start")
        for n, e in enumerate(entries)
        if e.get("effective_from") and e.get("effective_to") and e["effective_to"] <= e["effective_from"]
    ]
    if not problems:
        try:
            PriceListCatalog((item_from_entry(e) for e in entries), "cat_check")
        except ValueError as why:
            problems.append(FieldError("/policy/billing/price_list", str(why)))
    return problems


_FROM_POLICY: dict[str, PriceListCatalog] = {}
_FROM_POLICY_MAX = 64


def policy_catalog(policy: Mapping[str, Any]) -> PriceListCatalog:
    """The catalog of a policy's price list, built once per price-list content (its hash is the catalog version)."""
    entries = (policy.get("billing") or {}).get("price_list") or []
    version = "cat_" + sha256_hex(entries)[:16]
    catalog = _FROM_POLICY.get(version)
    if catalog is None:
        if len(_FROM_POLICY) >= _FROM_POLICY_MAX:
            _FROM_POLICY.pop(next(iter(_FROM_POLICY)))
        catalog = _FROM_POLICY[version] = PriceListCatalog((item_from_entry(e) for e in entries), version)
    return catalog


# --- imports: a whole price list, validated row by row -------------------------------------------------------------
COLUMNS = ("sku", "name", "family", "billing", "list_price", "unit_cost", "currency", "effective_from", "effective_to")
_SKU = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,39}$")
_FAMILY = re.compile(r"^[a-z][a-z0-9-]*$")
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def csv_rows(text: str) -> list[dict[str, Any]]:
    """The rows of a CSV price list (a header line naming the columns of `COLUMNS`); a cell beyond the header's
    columns is kept as `extra_cells` so that the row is refused, not silently shortened."""
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        extra = row.pop(None, None)
        rows.append({**row, **({"extra_cells": ",".join(extra)} if extra else {})})
    return rows


def _day(text: str) -> bool:
    try:
        return bool(_DAY.fullmatch(text)) and parse_day(text).isoformat() == text
    except ValueError:
        return False


def _row_problems(n: int, row: Mapping[str, Any], currency: str, families: frozenset[str]) -> list[FieldError]:
    at = f"/rows/{n}"
    found: list[FieldError] = []

    def bad(column: str, message: str) -> None:
        found.append(FieldError(f"{at}/{column}", f"row {n + 1}: {message}"))

    extra = sorted(set(row) - set(COLUMNS))
    if extra:
        bad(extra[0], f"unknown column(s) {', '.join(extra)}")
    for column in ("sku", "name", "family", "billing", "list_price", "unit_cost", "currency"):
        if not isinstance(row.get(column), str) or not row.get(column):
            bad(column, f"{column} is required (a string)")
    if found:
        return found
    text: dict[str, str] = {c: row.get(c) or "" for c in COLUMNS}
    if not _SKU.fullmatch(text["sku"]):
        bad("sku", f"SKU {text['sku']!r} is not uppercase letters, digits and hyphens (2-40)")
    if len(text["name"]) > 120:
        bad("name", "name is longer than 120 characters")
    if not _FAMILY.fullmatch(text["family"]) or (families and text["family"] not in families):
        bad("family", f"family {text['family']!r} is not one of the tenant's ({', '.join(sorted(families))})")
    if text["billing"] not in ("shipment", "subscription"):
        bad("billing", f"billing {text['billing']!r} is not shipment or subscription")
    for column in ("list_price", "unit_cost"):
        try:
            if parse_money(text[column]) < 0:
                bad(column, f"{column} cannot be negative")
        except ValueError as why:
            bad(column, str(why))
    if text["currency"] != currency:
        bad("currency", f"currency {text['currency']!r} is not the tenant's {currency}")
    for column in ("effective_from", "effective_to"):
        value = row.get(column)
        if value not in (None, "") and (not isinstance(value, str) or not _day(value)):
            bad(column, f"{column} {value!r} is not a date (YYYY-MM-DD)")
    start, end = text["effective_from"] or None, text["effective_to"] or None
    if not found and start and end and end <= start:
        bad("effective_to", f"effective_to {end} is not after effective_from {start}")
    return found


def product_families(policy: Mapping[str, Any]) -> frozenset[str]:
    """The tenant's product families: those its discount caps name and those of its policy's price list."""
    caps = policy.get("pricing", {}).get("discount_caps", {}).get("caps", {})
    listed = {e["family"] for e in (policy.get("billing") or {}).get("price_list") or []}
    return frozenset({f for by_family in caps.values() for f in by_family} | listed)


def catalog_entries(
    rows: Sequence[Mapping[str, Any]], *, currency: str, families: frozenset[str], clause: str
) -> tuple[list[dict[str, Any]], list[FieldError]]:
    """Price-list entries from imported rows (CSV or JSON, the columns of `COLUMNS`), or every bad row named.

    A row is one version of one SKU; the versions of a SKU may not overlap. Each entry cites `clause` (the tenant's
    price-list clause) under the rule id PRICE-<SKU>[-<effective_from>].
    """
    problems: list[FieldError] = []
    entries: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    for n, row in enumerate(rows):
        if not isinstance(row, Mapping):
            problems.append(FieldError(f"/rows/{n}", f"row {n + 1}: not an object"))
            continue
        found = _row_problems(n, row, currency, families)
        if found:
            problems.extend(found)
            continue
        start = str(row.get("effective_from") or "") or None
        end = str(row.get("effective_to") or "") or None
        key = (str(row["sku"]), start or "")
        if key in seen:
            problems.append(FieldError(f"/rows/{n}/sku", f"row {n + 1}: repeats {row['sku']} from row {seen[key] + 1}"))
            continue
        seen[key] = n
        entry = {c: row[c] for c in ("sku", "name", "family", "billing", "list_price", "unit_cost")}
        entry |= {"id": f"PRICE-{row['sku']}" + (f"-{start}" if start else ""), "clause": clause}
        entries.append(entry | ({"effective_from": start} if start else {}) | ({"effective_to": end} if end else {}))
    if not problems:
        try:
            PriceListCatalog((item_from_entry(e) for e in entries), "cat_check")
        except ValueError as why:
            problems.append(FieldError("/rows", str(why)))
    return entries, problems


def entry_key(entry: Mapping[str, Any]) -> str:
    """One SKU-version: the SKU and the day it takes effect."""
    return f"{entry['sku']}#{entry.get('effective_from') or '0000-00-00'}"


def diff(before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """What changed between two catalogs, each SKU-version (`entry_key`) -> entry: added, removed, changed fields."""
    changed = []
    for key in sorted(before.keys() & after.keys()):
        fields = sorted(f for f in set(before[key]) | set(after[key]) if before[key].get(f) != after[key].get(f))
        if fields:
            changed.append(
                {"key": key, "fields": {f: {"from": before[key].get(f), "to": after[key].get(f)} for f in fields}}
            )
    return {
        "added": [dict(after[k]) for k in sorted(after.keys() - before.keys())],
        "removed": [dict(before[k]) for k in sorted(before.keys() - after.keys())],
        "changed": changed,
    }
