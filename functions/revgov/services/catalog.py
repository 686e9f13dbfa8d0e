"""The tenant's catalog: the one place use cases ask "price, cost and family of SKU X on day D"."""

from __future__ import annotations

from typing import Any

from ..domain.catalog import Catalog, CatalogItem, policy_catalog
from ..domain.errors import FieldError, RuleViolation


def tenant_catalog(policy: dict[str, Any]) -> Catalog:
    """The catalog in force for a tenant. Its first source is the price list of the tenant's policy."""
    return policy_catalog(policy)


def price_lines(catalog: Catalog, lines: list[dict[str, Any]], on: str) -> dict[str, CatalogItem]:
    """The catalog item of every line's SKU on day `on`, by SKU; every line whose SKU is not on the price list that
    day is named in one 422 (PA-6.1: products are quoted from the price list in force on the quote date)."""
    found: dict[str, CatalogItem] = {}
    missing: list[FieldError] = []
    for number, line in enumerate(lines):
        sku = str(line["sku"])
        item = found.get(sku) or catalog.item(sku, on)
        if item is None:
            said = f"line {line['line_id']}: SKU {sku} is not on the price list on {on}"
            missing.append(FieldError(f"/lines/{number}/sku", said))
        else:
            found[sku] = item
    if missing:
        shown = ", ".join(e.message.split(":")[0].removeprefix("line ") for e in missing[:10])
        raise RuleViolation(
            f"{len(missing)} quote line(s) name a SKU that is not on the price list on {on} (lines {shown})",
            errors=missing[:50],
            extra={"catalog_version": catalog.version},
        )
    return found
