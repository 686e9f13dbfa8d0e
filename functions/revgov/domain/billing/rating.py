"""Usage rating (PA-10.5, SOP-3.x): a month's metered quantity priced with its rate table's charge model.

A usage charge model is one small function behind one signature (`CHARGE_MODELS`), so a new model is one entry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Context, Decimal
from itertools import pairwise
from typing import Any

from ..errors import FieldError
from ..money import round_money
from ..rules import Rule
from ..time import period_bounds
from .periods import ZERO


# --- usage rating -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Band:
    up_to: Decimal | None  # inclusive upper bound of the band; None for the last, open band
    rate: Decimal


@dataclass(frozen=True)
class BandCharge:
    first: Decimal  # units above this bound fall in the band
    last: Decimal | None
    units: Decimal
    rate: Decimal
    amount: Decimal  # exact, not rounded

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": _quantity(self.first),
            "to": None if self.last is None else _quantity(self.last),
            "units": _quantity(self.units),
            "rate": f"{self.rate:f}",
            "amount": f"{self.amount:f}",
        }


def _graduated(bands: Sequence[Band], units: Decimal) -> list[BandCharge]:
    """Each band's units at that band's rate; higher rates never apply to lower bands."""
    charges, lower = [], ZERO
    for band in bands:
        upper = units if band.up_to is None else min(units, band.up_to)
        in_band = max(ZERO, upper - lower)
        if in_band:
            charges.append(BandCharge(lower, band.up_to, in_band, band.rate, in_band * band.rate))
        if band.up_to is None or units <= band.up_to:
            break
        lower = band.up_to
    return charges


def _volume(bands: Sequence[Band], units: Decimal) -> list[BandCharge]:
    """Every unit at the rate of the band the whole quantity falls in."""
    lower = ZERO
    for band in bands:
        if band.up_to is None or units <= band.up_to:
            return [BandCharge(lower, band.up_to, units, band.rate, units * band.rate)] if units else []
        lower = band.up_to
    raise ValueError("a rate table ends with an open band")  # pragma: no cover - checked when the table is read


ChargeModel = Callable[[Sequence[Band], Decimal], list[BandCharge]]
CHARGE_MODELS: dict[str, ChargeModel] = {"graduated": _graduated, "volume": _volume}
COUNTINGS = ("sum", "distinct_units", "average_daily")


@dataclass(frozen=True)
class RateTable:
    metric: str
    unit: str
    sku: str
    family: str
    model: str
    round_up_to_whole_unit: bool
    bands: tuple[Band, ...]
    unit_cost: Decimal | None
    rule: Rule
    # SOP-3.1: "an endpoint counts once in a Billing Month if it reported to the monitoring service on any day of that
    # month": `distinct_units` counts each unit id a record names once per month; `sum` adds the records' quantities.
    # COP-3.1: GB-month is "the average stored volume over the month" from records sent "daily": `average_daily` adds
    # the records' daily volumes and rates their sum divided by the days in the month (`month_quantity`)
    counting: str = "sum"

    @classmethod
    def from_policy(cls, node: dict[str, Any]) -> RateTable:
        bands = tuple(
            Band(None if b.get("up_to") is None else Decimal(b["up_to"]), Decimal(b["rate"])) for b in node["bands"]
        )
        bounds = [b.up_to for b in bands[:-1] if b.up_to is not None]
        if not bands or bands[-1].up_to is not None or len(bounds) != len(bands) - 1:
            raise ValueError(f"rate table {node['id']}: only the last band is open-ended")
        if any(a >= b for a, b in pairwise(bounds)):
            raise ValueError(f"rate table {node['id']}: band bounds must increase")
        if node["model"] not in CHARGE_MODELS:
            raise ValueError(f"rate table {node['id']}: unknown charge model {node['model']}")
        if node.get("counting", "sum") not in COUNTINGS:
            raise ValueError(f"rate table {node['id']}: unknown counting {node['counting']}")
        return cls(
            metric=node["metric"],
            unit=node["unit"],
            sku=node["sku"],
            family=node["family"],
            model=node["model"],
            round_up_to_whole_unit=node.get("quantity_rounding", "up_to_whole_unit") == "up_to_whole_unit",
            bands=bands,
            unit_cost=None if node.get("unit_cost") is None else Decimal(node["unit_cost"]),
            rule=Rule.of(node),
            counting=node.get("counting", "sum"),
        )

    def as_policy(self) -> dict[str, Any]:
        """The table as the policy states it (`from_policy` reads it back): kept with a month's usage, so the month is
        always rated with the table in force for it (SOP-3.4: rate changes "never re-rate closed months")."""
        return {
            "id": self.rule.rule_id,
            "clause": self.rule.clause,
            "metric": self.metric,
            "unit": self.unit,
            "sku": self.sku,
            "family": self.family,
            "model": self.model,
            "quantity_rounding": "up_to_whole_unit" if self.round_up_to_whole_unit else "none",
            "unit_cost": None if self.unit_cost is None else f"{self.unit_cost:f}",
            "bands": [
                {"up_to": None if b.up_to is None else f"{b.up_to:f}", "rate": f"{b.rate:f}"} for b in self.bands
            ],
            **({"counting": self.counting} if self.counting != "sum" else {}),
        }


@dataclass(frozen=True)
class Rating:
    quantity: Decimal  # as metered
    units: Decimal  # as rated (rounded up to a whole unit when the table says so)
    amount: Decimal  # rounded once
    bands: tuple[BandCharge, ...]


def rated_units(table: RateTable, quantity: Decimal) -> Decimal:
    return quantity.to_integral_value(rounding=ROUND_CEILING) if table.round_up_to_whole_unit else quantity


def days_averaged(table: RateTable, period: str) -> int | None:
    """The days a month's metered quantity is divided by: every day of the month for an `average_daily` table (COP-3.1:
    "the average stored volume over the month"; a day without a record stored nothing), none for other countings."""
    if table.counting != "average_daily":
        return None
    first, last = period_bounds(period)
    return (last - first).days + 1


def month_quantity(table: RateTable, metered: Decimal, period: str) -> Decimal:
    """The quantity a month is rated on: its metered quantity, or for an `average_daily` table the sum of the daily
    volumes over the days in the month (COP-3.1 GB-month: 30 daily records of 1,000 GB in November are 1,000, not
    30,000). A quotient that does not terminate is cut upwards at 28 digits, so rounding up to a whole unit never
    loses a fraction."""
    days = days_averaged(table, period)
    return metered if days is None else Context(prec=28, rounding=ROUND_CEILING).divide(metered, Decimal(days))


def rate_usage(table: RateTable, quantity: Decimal) -> Rating:
    """A month's metered quantity priced with the table's charge model; band amounts summed, then rounded once."""
    if quantity < 0:
        raise ValueError("a usage quantity cannot be negative")
    units = rated_units(table, quantity)
    charges = CHARGE_MODELS[table.model](table.bands, units)
    return Rating(quantity, units, round_money(sum((c.amount for c in charges), ZERO)), tuple(charges))


def _quantity(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "0E0") else text


def rate_table_problems(policy: dict[str, Any]) -> list[FieldError]:
    """A usage rate table that billing could not rate by (bands not increasing, an open band before the last, an
    unknown charge model) is a policy problem, found when the policy is written, not when the month is rated."""
    tables = (policy.get("billing") or {}).get("usage_rates") or []
    found: list[FieldError] = []
    for index, node in enumerate(tables):
        try:
            RateTable.from_policy(node)
        except (ValueError, KeyError, ArithmeticError) as error:
            found.append(FieldError(f"/policy/billing/usage_rates/{index}", str(error)))
    return found

