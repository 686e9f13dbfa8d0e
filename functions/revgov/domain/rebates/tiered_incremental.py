"""Tiered, incremental (marginal): each tier's rate applies only to the basis revenue that falls inside that tier."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from ..money import round_money
from .base import HUNDRED, PartnerAmount, ProgramRating, RatingContext, RebateModel, shown, tier_view


class TieredIncremental(RebateModel):
    def rate(self, ctx: RatingContext) -> ProgramRating:
        tiers = self.program.tiers
        counted = ctx.in_period()
        basis = ctx.ledger.per_partner(ctx.ledger.amount, counted)
        thresholds = np.asarray([t.threshold for t in tiers], dtype=np.int64)
        reached = np.searchsorted(thresholds, np.maximum(basis, 0), side="right") - 1
        partners = {}
        for p in ctx.active_partners(counted):
            revenue = max(int(basis[p]), 0)
            bands, exact = [], Decimal(0)
            for i, tier in enumerate(tiers):
                upper = tiers[i + 1].threshold if i + 1 < len(tiers) else None
                inside = max(0, (revenue if upper is None else min(revenue, upper)) - tier.threshold)
                if inside:
                    part = Decimal(inside) * tier.percent / (HUNDRED * HUNDRED)
                    exact += part
                    bands.append({**tier.rule.as_dict(), "revenue": shown(inside), "percent": f"{tier.percent:f}"})
            top = int(reached[p])
            following = tiers[top + 1] if top + 1 < len(tiers) else None
            partners[p] = PartnerAmount(
                basis=int(basis[p]),
                amount=round_money(exact),
                rule=tiers[top].rule,
                rate="marginal",
                reached=tier_view(tiers[top].rule, tiers[top].threshold, tiers[top].percent),
                next=tier_view(following.rule, following.threshold, following.percent) if following else None,
                needed=following.threshold - int(basis[p]) if following else None,
                detail={"bands": bands},
            )
        return ProgramRating(self.program, counted, partners)


MODEL = TieredIncremental
