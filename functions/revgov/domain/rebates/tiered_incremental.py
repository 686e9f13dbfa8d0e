"""Tiered, incremental (marginal): each tier's rate applies only to the basis revenue that falls inside that tier."""

from __future__ import annotations

from decimal import Decimal

from ..money import round_money
from .base import HUNDRED, PartnerAmount, ProgramRating, RatingContext, RebateModel, shown, tier_standings


class TieredIncremental(RebateModel):
    def rate(self, ctx: RatingContext) -> ProgramRating:
        tiers = self.program.tiers
        counted, standings = tier_standings(self.program, ctx)
        partners = {}
        for p, standing in standings.items():
            revenue = max(standing.basis, 0)
            bands, exact = [], Decimal(0)
            for i, tier in enumerate(tiers):
                upper = tiers[i + 1].threshold if i + 1 < len(tiers) else None
                inside = max(0, (revenue if upper is None else min(revenue, upper)) - tier.threshold)
                if inside:
                    part = Decimal(inside) * tier.percent / (HUNDRED * HUNDRED)
                    exact += part
                    bands.append({**tier.rule.as_dict(), "revenue": shown(inside), "percent": f"{tier.percent:f}"})
            partners[p] = PartnerAmount(
                basis=standing.basis,
                amount=round_money(exact),
                rule=standing.reached.rule,
                rate="marginal",
                detail={"bands": bands},
                **standing.views,
            )
        return ProgramRating(self.program, counted, partners)
