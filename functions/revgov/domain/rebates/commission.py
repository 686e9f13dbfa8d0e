"""Commission: a rate on the period's basis revenue, by the partner's tier where the policy says (PA-8.1, PA-8.2).

Credit notes net the basis of the period of the invoice they credit, so a commission on credited revenue is
clawed back by the retroactive adjustment of the next run.
"""

from __future__ import annotations

from .base import PartnerAmount, ProgramRating, RatingContext, RebateModel, percent_of


class Commission(RebateModel):
    def rate(self, ctx: RatingContext) -> ProgramRating:
        program = self.program
        counted = ctx.in_period()
        basis = ctx.basis()
        partners = {}
        for p in ctx.active_partners(counted):
            tier = ctx.facts(p).tier
            rule, percent = program.percent_by_tier.get(tier or "", (program.rule, program.percent))
            if percent is None:
                continue  # no rate for this tier: the partner earns no commission in the program
            partners[p] = PartnerAmount(
                basis=int(basis[p]),
                amount=percent_of(max(int(basis[p]), 0), percent),
                rule=rule,
                rate=f"{percent:f}%",
                detail={"tier": tier},
            )
        return ProgramRating(program, counted, partners)
