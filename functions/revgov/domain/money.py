"""Money: Decimal end to end, parsed strictly from strings, rounded half-even to cents once."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

CENT = Decimal("0.01")
_MONEY = re.compile(r"^-?\d{1,15}(\.\d{1,2})?$")


def parse_money(text: object) -> Decimal:
    """A decimal string such as "1234.50" as Decimal; floats and ints are refused on purpose."""
    if not isinstance(text, str) or not _MONEY.match(text):
        raise ValueError(f"money must be a decimal string with at most 2 places, got {text!r}")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
        raise ValueError(f"not a decimal: {text!r}") from exc


def round_money(amount: Decimal) -> Decimal:
    """Round half-even to 2 places: the one rounding step, applied at line level."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def format_money(amount: Decimal) -> str:
    """The wire form: a plain decimal string with exactly 2 places."""
    return f"{round_money(amount):f}"
