"""Growth: a rate on the period's basis revenue above a baseline, once growth reaches a minimum (PA-7.3, CPA-7.3).

The baseline is the same period of the previous year; a partner not approved for the whole of that period is
measured against the greater of its first full period's revenue and a minimum, and earns nothing up to and
including that first full period (PA-7.4, CPA-7.4).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_CEILING, Decimal

from .base import HUNDRED, PartnerAmount, ProgramRating, RatingContext, RebateModel, percent_of, shown
from .policy import first_full_period, is_new_partner


class Growth(RebateModel):
    def rate(self, ctx: RatingContext) -> ProgramRating:
        program = self.program
        assert program.percent is not None and program.min_growth_percent is not None
        counted = ctx.in_period()
        current = ctx.basis()
        last_year = ctx.period.year_before
        baseline_last_year = ctx.basis(last_year)
        partners = {}
        for p in ctx.active_partners(counted):
            facts = ctx.facts(p)
            revenue = int(current[p])
            rule = program.rule
            if is_new_partner(program, facts, ctx.period):
                assert program.new_partner_rule is not None and facts.activated_on is not None
                first = first_full_period(date.fromordinal(facts.activated_on), ctx.period.kind)
                rule = program.new_partner_rule
                if ctx.period.first <= first.first:
                    partners[p] = PartnerAmount(
                        basis=revenue,
                        amount=Decimal("0.00"),
                        rule=rule,
                        rate=f"{program.percent:f}%",
                        detail={
                            "first_full_period": first.name,
                            "reason": f"no growth rebate up to and including the first full period ({first.name})",
                        },
                    )
                    continue
                baseline = max(int(ctx.basis(first)[p]), program.new_partner_minimum)
                source = f"greater of {first.name} and the new-partner minimum"
            else:
                baseline = int(baseline_last_year[p])
                source = last_year.name
            factor = 1 + program.min_growth_percent / HUNDRED
            threshold = int((Decimal(baseline) * factor).to_integral_value(rounding=ROUND_CEILING))
            reached = revenue > 0 and revenue >= threshold
            target = {**rule.as_dict(), "from": shown(threshold), "percent": f"{program.percent:f}"}
            partners[p] = PartnerAmount(
                basis=revenue,
                amount=percent_of(revenue - baseline, program.percent) if reached else Decimal("0.00"),
                rule=rule,
                rate=f"{program.percent:f}%",
                reached=target if reached else None,
                next=None if reached else target,
                needed=None if reached else max(threshold - revenue, 0),
                detail={
                    "baseline": shown(baseline),
                    "baseline_period": source,
                    "incremental": shown(revenue - baseline),
                    "min_growth_percent": f"{program.min_growth_percent:f}",
                },
            )
        return ProgramRating(program, counted, partners)
