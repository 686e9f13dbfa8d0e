"""PA-2.8: "no quote, order or incentive may be processed for the Partner while the match is unresolved"; CPA-2.8: "no
quote, order, payment or incentive is processed for the Partner until Legal resolves it"; PA-13.2: "Orders already
accepted are fulfilled unless the reason is (b)" (an unresolved screening match). An ERP event that reports the partner
ordering or being served (`posting.ORDER_DAYS`), received while the partner's latest screening is a potential or
confirmed match, is held whatever its order day (an order accepted before the match is not fulfilled either): not
billed, so no invoice, payment or incentive follows from it, and one exception in the screening category (Legal,
SOP-4.1 / COP-4.1) citing the screening rule. Once Legal files a clear screening the event can be replayed.

A subscription's renewal (`subscription.renewed`) is an order too, for the new term (billed from its first day): it
is held the same way, even when its quote was allowed before the match (red team 6), and so is a quantity increase
(`subscription.changed` to more units: an order for the added units; red team 7). A reduction is no order."""

from __future__ import annotations

from typing import Any

from ...domain.partners import screening
from ...domain.rules import Rule
from .exceptions import fail
from .posting import ORDER_DAYS, RENEWAL, Outcome, Posting
from .quantity_change import ordered_increase


def held_for_screening(posting: Posting, partner: dict[str, Any]) -> Outcome | None:
    """The hold for an order event of a partner held by a screening match, or None to bill it as usual."""
    if posting.detail_type not in ORDER_DAYS and posting.detail_type != RENEWAL and ordered_increase(posting) is None:
        return None
    policy = posting.tenant.policy
    hold = screening.held_by(policy, partner)
    rule = screening.rule(policy)
    if hold is None or rule is None:
        return None
    problem = (f"held, not billed: the partner's compliance screening of {hold['screened_on']} is a "
               f"{hold['outcome']}; no order is processed until Legal resolves it ({hold['clause']})")
    return fail(posting, rule["category"], problem, Rule.of(rule))
