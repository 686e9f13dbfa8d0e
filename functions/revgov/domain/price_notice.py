"""Notice of price changes: a catalog import may not change a List Price in force before the notice runs out. Pure.

PA-6.1 (northwind): "The Distributor may change the price list with 30 days' notice in the Partner Portal; price
increases do not apply to quotes issued and accepted before the effective date." CPA-6.1 (contoso): "Contoso gives 30
days' notice of price changes in the Partner Portal."

Read here as: an import is the notice (its versions are readable from that moment); a List Price change, up or down,
takes effect no sooner than `days` days after the import's day, so the price in force on every day before that day
(past days included: a price already quoted from is never rewritten) stays what it was. Neither clause makes an
exception for decreases, so a decrease needs the same notice. A SKU added to the list, a SKU leaving it, and a change
of Line Cost (internal, PA-1.2) change no price a Partner was given and need none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from .errors import FieldError

_NEVER = "9999-12-31"


def notice_problems(before: Iterable[Mapping[str, Any]], after: Sequence[Mapping[str, Any]], *, today: date,
                    days: int, clause: str) -> list[FieldError]:
    """Every row of `after` (indexed as imported) whose List Price differs from the one `before` has in force on some
    day before `today + days`, named with the SKU, both prices, the first such day and the first day allowed."""
    allowed = (today + timedelta(days=days)).isoformat()
    old: dict[str, list[Mapping[str, Any]]] = {}
    for entry in before:
        old.setdefault(str(entry["sku"]), []).append(entry)
    found: list[FieldError] = []
    for n, entry in enumerate(after):
        start = str(entry.get("effective_from") or "")
        end = min(str(entry.get("effective_to") or _NEVER), allowed)
        for was in sorted(old.get(str(entry["sku"]), []), key=lambda e: str(e.get("effective_from") or "")):
            first = max(start, str(was.get("effective_from") or ""))
            last = min(end, str(was.get("effective_to") or _NEVER))
            if first >= last or Decimal(str(was["list_price"])) == Decimal(str(entry["list_price"])):
                continue
            direction = "increase" if Decimal(str(entry["list_price"])) > Decimal(str(was["list_price"])) else \
                "decrease"
            on = first or "its first day"
            found.append(FieldError(f"/rows/{n}/list_price",
                                    f"row {n + 1}: {entry['sku']} price {direction} from {was['list_price']} to "
                                    f"{entry['list_price']} in force from {on}, before {allowed}: {clause} requires "
                                    f"{days} days' notice of a price change"))
            break
    return found
