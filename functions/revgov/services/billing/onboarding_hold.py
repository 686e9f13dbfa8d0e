"""PA-2.2 / CPA-2.2: "Before the Partner may quote, order, register deals or accrue any incentive, the following must
be received and verified". An ERP event that reports the partner ordering, dated before its onboarding was verified
(the partner is not onboarded yet, or the order's day is before the day it was activated), is held: not billed, one
exception in SOP-4.1 / COP-4.1's `onboarding_document_missing_or_expired` (queue channel_ops, which owns partner
onboarding) citing the policy's onboarding rule (`policy.onboarding.all_partners`, PA-2.2 / CPA-2.2); the event can
be replayed once the order or the partner's record is corrected. An order of an onboarded partner may still be held
for its VAT number (CPA-2.3): services/billing/vat_hold.py.

An order that names the quote it was placed on (`quoted_on`, shipments and subscription activations) is judged by the
quote's day too: the partner quoted then (PA-2.2 "may quote, order").

What is an order: a shipment (goods ordered), a subscription's activation (a subscription ordered), a statement of
work's milestone accepted (services ordered), usage of a usage-based subscription and support hours billed beyond
the allowance (services consumed under an order). A payment, an ERP credit note, a return, a cancellation or a
quantity change of a subscription already activated correct or follow an order already checked, and are not."""

from __future__ import annotations

from typing import Any

from ...domain.partners import not_onboarded_on
from ...domain.rules import Rule
from ...domain.time import parse_day
from .exceptions import fail
from .posting import ORDER_DAYS, Outcome, Posting

CATEGORY = "onboarding_document_missing_or_expired"  # SOP-4.1 / COP-4.1: routed to channel_ops


def held_before_onboarding(posting: Posting, partner: dict[str, Any]) -> Outcome | None:
    """The hold for an order its partner could not yet place (see the module), or None to bill it as usual."""
    field_name = ORDER_DAYS.get(posting.detail_type)
    if field_name is None or not posting.data.get(field_name):
        return None
    why = not_onboarded_on(partner, parse_day(posting.data[field_name]))
    if why is None and posting.data.get("quoted_on"):
        # the quote the order was placed on (PA-1.2: its day's List Price applies) was issued, and so the partner
        # quoted, on that day: before its activation it could not (PA-2.2 "may quote, order"; red team 11). The
        # acceptance is on or after the quote (plausibility), so the quote's day is the earliest to judge.
        field_name = "quoted_on"
        why = not_onboarded_on(partner, parse_day(posting.data[field_name]))
    if why is None:
        return None
    onboarding = posting.tenant.policy.get("onboarding") or {}
    rule = Rule.of(onboarding["all_partners"]) if "all_partners" in onboarding else posting.book.plausibility
    order = f"an order of {field_name} {posting.data[field_name]}"
    problem = f"held, not billed: {order}; {why} ({rule.rule_id}, {rule.clause})"
    return fail(posting, CATEGORY, problem, rule)

