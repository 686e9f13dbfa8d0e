"""CPA-2.3: "A failed VAT validation suspends new orders until it is resolved." An ERP event that reports the partner
ordering (`posting.ORDER_DAYS`: what counts as an order is the same as for the onboarding hold), dated on or after the
day of a failed VAT check that is still the partner's latest recorded one (services/vat_validation.py; Revgov does not
reach VIES), is held: not billed, one exception in COP-4.1's `vat_validation_failure` (finance) citing the policy's
`rebates.vat_validation.order_hold` rule (BILL-VAT-ORDER-HOLD, CPA-2.3). A later valid check resolves it; the event
can then be replayed. Tenants whose policy has no such rule (Northwind) hold nothing here. A renewal and a quantity
increase (`subscription.changed` to more units, dated by its `effective_on`) are new orders too."""

from __future__ import annotations

from typing import Any

from ...domain.time import parse_day
from .. import vat_validation
from .exceptions import fail
from .posting import ORDER_DAYS, RENEWAL, Outcome, Posting
from .quantity_change import ordered_increase


def held_for_vat(posting: Posting, partner: dict[str, Any]) -> Outcome | None:
    """The hold for an order placed while the partner's latest VAT check failed, or None to bill it as usual (a
    renewal, `subscription.renewed`, is a new order dated by the day the ERP recorded it)."""
    increase = ordered_increase(posting)
    if posting.detail_type == RENEWAL:  # a renewal is a new order, placed the day the ERP recorded it
        field_name, ordered_on = "occurred_at", posting.occurred_at[:10]
    elif increase is not None:  # more units are a new order for the units added, from the day they take effect
        field_name, ordered_on = "effective_on", increase
    else:
        order_field = ORDER_DAYS.get(posting.detail_type)
        if order_field is None or not posting.data.get(order_field):
            return None
        field_name, ordered_on = order_field, str(posting.data[order_field])
    held = vat_validation.order_hold(posting.rt.store, posting.tenant_id, posting.tenant.policy,
                                     partner["partner_id"], parse_day(ordered_on))  # fmt: skip
    if held is None:
        return None
    why, rule = held
    problem = f"held, not billed: an order of {field_name} {ordered_on}; {why}"
    return fail(posting, vat_validation.FAILURE_CATEGORY, problem, rule)
