"""What a line's credit marker counts against the line: the amount (and units) credited or reserved by credit notes
waiting for approval, so a line is never credited beyond what it billed; and, of it, what is only reserved (`held`,
with the holds reserving it), since a credit note above the limit is not issued until finance approves it (SOP-2.5):
until then the line still stands charged. Pure arithmetic on the stored marker."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .money import format_money


def counted(marker: Mapping[str, Any], amount: Decimal, units: int = 0) -> dict[str, Any]:
    """The marker with `amount` (and `units`, where it counts units) more counted against its line; negative amounts
    release what a rejected credit note had reserved."""
    data = {**marker, "credited": format_money(Decimal(str(marker["credited"])) + amount)}
    if "units" in data:
        data["units"] = int(data["units"]) + units
    return data


def held_of(marker: Mapping[str, Any] | None) -> Decimal:
    """What the marker counts for credit notes still waiting for their approval (not issued: SOP-2.5)."""
    return Decimal(str(marker.get("held") or "0.00")) if marker else Decimal("0.00")


def with_held(marker: Mapping[str, Any], amount: Decimal, hold_id: str) -> dict[str, Any]:
    """The marker with the hold `hold_id` reserving `amount` (positive: held now) or no more (negative: decided,
    approved or rejected); never below 0.00, so a hold reserved before the marker counted holds decides cleanly."""
    holds = [h for h in marker.get("holds") or [] if h != hold_id]
    return {
        **marker,
        "held": format_money(max(held_of(marker) + amount, Decimal("0.00"))),
        "holds": [*holds, hold_id] if amount > 0 else holds,
    }
