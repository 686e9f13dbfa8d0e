"""A renewal quote's facts: the subscription it renews, as the pricing check records them for its decision (and replay).

A pricing check with `renewal` (POST /v1/pricing/check) prices the subscription's SKU like any quote line; this module
checks that the quote is one the subscription can be renewed by and records what the renewal is measured against: the
unit price in force the day before the renewed term starts (domain/subscription_renewals.py). Bad input is a 4xx that
records nothing: another partner's subscription is one that does not exist (404).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from ..domain import billing as core
from ..domain import subscription_renewals as renewals
from ..domain.errors import Conflict, FieldError, NotFound, RuleViolation
from ..domain.time import parse_day
from ..runtime import Runtime
from .billing.repository import SUBSCRIPTIONS


def renewal_facts(rt: Runtime, tenant_id: str, quote: dict[str, Any]) -> dict[str, Any] | None:
    """What the decision records of the subscription a renewal quote renews, or None for a quote that renews nothing."""
    asked = quote.get("renewal")
    if asked is None:
        return None
    stored = rt.store.get(tenant_id, SUBSCRIPTIONS, asked["subscription_id"])
    theirs = stored is not None and stored.data["partner_id"] == quote["partner_id"]
    if stored is None or not theirs or stored.data["status"] == "pending_activation":
        raise NotFound(f"no subscription {asked['subscription_id']}",
                       errors=[FieldError("/renewal/subscription_id", "not a subscription of this partner")])
    sub = stored.data
    if sub["status"] != "active":
        raise Conflict(f"subscription {sub['subscription_id']} is {sub['status']}: it cannot be renewed",
                       extra={"current_status": sub["status"]})
    renewed_from = parse_day(asked["renewed_from"])
    _check(quote, sub, renewed_from)
    base = core.unit_price_of(sub)
    previous = renewals.unit_price_on(sub, renewed_from - timedelta(days=1), base)
    return {
        "subscription_id": sub["subscription_id"],
        "renewed_from": renewed_from.isoformat(),
        "term_months": int(asked["term_months"]),
        "previous_unit_price": f"{previous:f}",
        # the Customer the ERP named for the subscription (absent: none, so no registration can be shown its, PA-5.6)
        **({"customer_id": sub["customer_id"]} if sub.get("customer_id") else {}),
    }


def _check(quote: dict[str, Any], sub: dict[str, Any], renewed_from: date) -> None:
    """The subscription's customer (when the ERP named it; when it did not, no registration, whose discount is for the
    registered Customer only, PA-5.6), one line, the subscription's SKU at the quantity in force when the term starts,
    a term starting on the first day of a Billing Month after the activation (subscriptions are charged per Billing
    Month: PA-10.2 / CPA-10.1)."""
    problems = []
    customer = sub.get("customer_id")  # PA-5.6 / PA-5.3: registrations are looked up by the quote's customer
    if customer and quote["customer"]["id"] != customer:
        problems.append(FieldError("/customer/id", f"the subscription's customer is {customer}"))
    if not customer and quote.get("deal_registration_id"):  # PA-5.6: "on quote lines for the registered Customer"
        problems.append(FieldError("/deal_registration_id", "the ERP named no customer for this subscription: no "
                                                            "registration can be shown to be the subscription's"))
    if len(quote["lines"]) != 1:
        problems.append(FieldError("/lines", "a renewal quote has exactly one line: the subscription's SKU"))
    else:
        line = quote["lines"][0]
        if line["sku"] != sub["sku"]:
            problems.append(FieldError("/lines/0/sku", f"the subscription's SKU is {sub['sku']}"))
        in_force = core.quantity_on(sub, renewed_from)
        if int(line["quantity"]) != in_force:
            problems.append(FieldError("/lines/0/quantity", f"the quantity in force on {renewed_from} is {in_force}; "
                                                            "a change of quantity is a subscription.changed"))
    if renewed_from.day != 1 or renewed_from <= parse_day(sub["activated_on"]):
        problems.append(FieldError("/renewal/renewed_from", "the first day of a Billing Month after the activation"))
    try:  # a term must end on a day a date names (years up to 9999: RFC 3339 full-date)
        renewals.term_end(renewed_from, int(quote["renewal"]["term_months"]))
    except ValueError:
        problems.append(FieldError("/renewal/renewed_from", "a term that ends by 9999-12-31"))
    approved = renewals.approved_from(sub, renewed_from.isoformat())
    if approved:
        problems.append(FieldError("/renewal/renewed_from", f"already renewed from {renewed_from} by "
                                                            f"{approved['decision_id']}"))
    if problems:
        raise RuleViolation("this quote cannot renew the subscription", errors=problems)
