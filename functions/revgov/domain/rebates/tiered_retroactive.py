"""Tiered, retroactive: the rate of the highest tier reached applies to all basis revenue of the period (PA-7.2)."""

from __future__ import annotations

from .base import PartnerAmount, ProgramRating, RatingContext, RebateModel, percent_of, tier_standings


class TieredRetroactive(RebateModel):
    def rate(self, ctx: RatingContext) -> ProgramRating:
        counted, standings = tier_standings(self.program, ctx)
        partners = {
            p: PartnerAmount(
                basis=s.basis,
                amount=percent_of(max(s.basis, 0), s.reached.percent),
                rule=s.reached.rule,
                rate=f"{s.reached.percent:f}%",
                **s.views,
            )
            for p, s in standings.items()
        }
        return ProgramRating(self.program, counted, partners)
