"""What a line's credit marker counts against the line: the amount (and units) credited or reserved by credit notes
waiting for approval, so a line is never credited beyond what it billed. Pure arithmetic on the stored marker."""

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
