"""Tiered, retroactive: the rate of the highest tier reached applies to all basis revenue of the period (PA-7.2)."""

from __future__ import annotations

import numpy as np

from .base import PartnerAmount, ProgramRating, RatingContext, RebateModel, percent_of, tier_view


class TieredRetroactive(RebateModel):
    def rate(self, ctx: RatingContext) -> ProgramRating:
        tiers = self.program.tiers
        counted = ctx.in_period()
        basis = ctx.ledger.per_partner(ctx.ledger.amount, counted)
        thresholds = np.asarray([t.threshold for t in tiers], dtype=np.int64)
        reached = np.searchsorted(thresholds, np.maximum(basis, 0), side="right") - 1
        partners = {}
        for p in ctx.active_partners(counted):
            tier = tiers[int(reached[p])]
            following = tiers[int(reached[p]) + 1] if int(reached[p]) + 1 < len(tiers) else None
            partners[p] = PartnerAmount(
                basis=int(basis[p]),
                amount=percent_of(max(int(basis[p]), 0), tier.percent),
                rule=tier.rule,
                rate=f"{tier.percent:f}%",
                reached=tier_view(tier.rule, tier.threshold, tier.percent),
                next=tier_view(following.rule, following.threshold, following.percent) if following else None,
                needed=following.threshold - int(basis[p]) if following else None,
            )
        return ProgramRating(self.program, counted, partners)


MODEL = TieredRetroactive
