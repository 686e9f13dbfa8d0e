"""The catalog: the one place that answers "what is SKU X, at what price and cost, on day D" (PA-1.2, PA-6.1).

A SKU has one or more versions, each in force from `effective_from` (inclusive, none: since always) to
`effective_to` (exclusive, none: until further notice). Quote checks, billing and rebates ask a `Catalog` for an
item on a date; none of them reads a price list, and no caller ever supplies its own price or cost.

The first source is the price list in the tenant's policy (`billing.price_list`); a versioned store of its own
can answer through the same protocol.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any, Protocol

from .canonical import sha256_hex
from .errors import FieldError
from .rules import Rule


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
