"""Per unit (SPIFF): an amount per net unit of the eligible items in the period, up to a unit cap (PA-7.5, CPA-7.5).

A credit note takes its units back when it comes within the return window of the credited line's service date;
a later credit reduces revenue but not the units that earned (units "not returned within 30 days").
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from ..money import round_money
from .base import HUNDRED, PartnerAmount, ProgramRating, RatingContext, RebateModel, shown


class PerUnit(RebateModel):
    def rate(self, ctx: RatingContext) -> ProgramRating:
        program, ledger = self.program, ctx.ledger
        counted = ctx.in_period()
        if program.return_window_days is not None:
            late = (ledger.units < 0) & (
                (ledger.credited_day < 0) | (ledger.day - ledger.credited_day > program.return_window_days)
            )
            counted = counted & ~late
        units = ledger.per_partner(ledger.units, counted) // 1000
        partners = {}
        cap = program.unit_cap
        for p in ctx.active_partners(counted):
            earned = max(int(units[p]), 0)
            capped = min(earned, cap) if cap is not None else earned
            rule = program.unit_cap_rule if cap is not None and earned > cap and program.unit_cap_rule else program.rule
            partners[p] = PartnerAmount(
                basis=int(units[p]) * 1000,
                amount=round_money(Decimal(capped * program.amount_per_unit) / HUNDRED),
                rule=rule,
                rate=f"{shown(program.amount_per_unit)}/unit",
                reached=None,
                next=(
                    {**program.unit_cap_rule.as_dict(), "units": cap}
                    if cap is not None and program.unit_cap_rule and earned < cap
                    else None
                ),
                needed=(cap - earned) * 1000 if cap is not None and earned < cap else None,
                detail={"units": earned, "units_paid": capped, "unit_cap": cap},
            )
        return ProgramRating(program, np.asarray(counted), partners)


MODEL = PerUnit
