"""Money: Decimal end to end, parsed strictly from strings, rounded half-even to cents once per line.

The one money module pricing, billing and rebates share. The contracts' convention (PA-1.3, CPA-1.3): exact decimal
arithmetic, percentages applied to the unrounded base, the result rounded once, at line level, half to even.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal(0)
_MONEY = re.compile(r"^-?[0-9]{1,15}(\.[0-9]{1,2})?$")


def parse_money(text: object) -> Decimal:
    """A decimal string such as "1234.50" as Decimal; floats and ints are refused on purpose."""
    if not isinstance(text, str) or not _MONEY.fullmatch(text):
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


def less_percent(base: Decimal, percent: Decimal | None) -> Decimal:
    """`base` less `percent` percent of it, exact (never rounded): a Net Price before the line is rounded."""
    return base if not percent else base * (HUNDRED - percent) / HUNDRED


def percent_of(base: Decimal, percent: Decimal) -> Decimal:
    """`percent` percent of the unrounded `base`, rounded once."""
    return round_money(base * percent / HUNDRED)


def share_of(amount: Decimal, part: int, whole: int) -> Decimal:
    """`amount` × part / whole (a prorated month: days used of days in month), exact, rounded once."""
    return round_money(amount * part / whole)


def line_amount(unit_price: Decimal, quantity: Decimal, discount_percent: Decimal | None = None) -> Decimal:
    """A line's amount: unit price × quantity less the discount, applied to the unrounded base, rounded once.

    1250.00 × 2 at 14.99% off is 2125.25 (2500.00 × 0.8501 = 2125.25), not 2 × round(1062.625) = 2125.24.
    """
    return round_money(less_percent(unit_price * quantity, discount_percent))


def format_unit_price(amount: Decimal) -> str:
    """An exact per-unit price for display: at least 2 places, never rounded (the line amount is rounded, once)."""
    if amount == amount.quantize(CENT):
        return format_money(amount)
    return f"{amount.normalize():f}"
