"""Per unit (SPIFF): an amount per net unit of the eligible items in the period, up to a unit cap (PA-7.5, CPA-7.5).

A credit note takes its units back when it comes within the return window; a later credit reduces revenue but not
the units that earned. The window starts where the program's `return_window_from` says: at shipment, the credited
line's service date (PA-7.5 "not returned within 30 days of shipment"), or at delivery, the delivery day the ERP
reported (CPA-7.5 "not returned within 14 days of delivery"). Counted from delivery, units whose delivery is not known
yet have not earned: whether they are "not returned within 14 days of delivery" cannot be known before they are
delivered, so they are neither paid nor taken back by a return (a return of them is one of units not counted).
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from ..money import format_money, round_money
from .base import HUNDRED, PartnerAmount, ProgramRating, RatingContext, RebateModel, shown


class PerUnit(RebateModel):
    def rate(self, ctx: RatingContext) -> ProgramRating:
        program, ledger = self.program, ctx.ledger
        counted = ctx.in_period()
        awaiting = np.zeros(len(ledger), dtype=np.bool_)
        if program.return_window_days is not None and program.return_window_from == "delivery":
            awaiting = ledger.delivered_day < 0  # sold or returned, the units' delivery is not known: not counted
            late = (ledger.units < 0) & (ledger.day - ledger.delivered_day > program.return_window_days)
            counted = counted & ~late & ~awaiting
        elif program.return_window_days is not None:
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
                detail={
                    "units": earned,
                    "units_paid": capped,
                    "unit_cap": cap,
                    "uncapped_amount": format_money(round_money(Decimal(earned * program.amount_per_unit) / HUNDRED)),
                    **self._window(ctx, awaiting, p),
                },
            )
        return ProgramRating(program, np.asarray(counted), partners)

    def _window(self, ctx: RatingContext, awaiting: np.ndarray, partner: int) -> dict[str, object]:
        """The return window applied, citing its clause, and (counted from delivery) the units of the period held
        because their delivery is not known yet."""
        program = self.program
        if program.return_window_days is None or program.return_window_rule is None:
            return {}
        window: dict[str, object] = {
            "return_window": {
                "days": program.return_window_days,
                "from": program.return_window_from,
                **program.return_window_rule.as_dict(),
            }
        }
        if program.return_window_from == "delivery":
            held = ctx.in_period() & awaiting & (ctx.ledger.units > 0) & (ctx.ledger.partner == partner)
            window["units_awaiting_delivery"] = int(ctx.ledger.units[held].sum()) // 1000
        return window
