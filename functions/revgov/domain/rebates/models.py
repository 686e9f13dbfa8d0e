"""The program models by name: what `program.model` (the schema's enum) rates with. A new model is a module of this
package subclassing `base.RebateModel`, a line in MODELS, and a name in the schema's enum."""

from __future__ import annotations

from .base import RebateModel
from .commission import Commission
from .growth import Growth
from .per_unit import PerUnit
from .programs import Program
from .tiered_incremental import TieredIncremental
from .tiered_retroactive import TieredRetroactive

MODELS: dict[str, type[RebateModel]] = {
    "tiered_retroactive": TieredRetroactive,
    "tiered_incremental": TieredIncremental,
    "growth": Growth,
    "per_unit": PerUnit,
    "commission": Commission,
}


def model_for(program: Program) -> RebateModel:
    """The model that rates `program` (its policy was validated against the schema's enum of these names)."""
    if program.model not in MODELS:
        raise LookupError(f"no rebate model named {program.model!r}")
    return MODELS[program.model](program)
