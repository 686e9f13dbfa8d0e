"""A customer subscription's renewal, governed like a quote: its annual value against the tenant's approval threshold,
the price it renews at against the term it follows, and what billing reads of it. Pure.

The seed whitepaper: "Use human-in-the-loop checkpoints for nonstandard discounts, disputed rebates, contract
deviations, and high-value renewals"; every transaction "measurable from quote to cash to renewal". No clause of either
tenant names a renewal threshold, so the number is a policy setting (`policy.pricing.renewal_approval_threshold`,
`annual_value`), documented as such; its rule cites the routing clause whose default queue takes an item no category
names (SOP-4.1 / COP-4.1: "An item that matches no category goes to channel_ops for triage").

A renewal quote is a pricing check with one subscription line (`renewal` on POST /v1/pricing/check): its discount is
checked against today's tier caps and margin floor by the quote check itself (PA-6.2 / PA-6.3 / PA-6.6; CPA-6.2 /
CPA-6.5 / CPA-6.6); its List Price is the price list's on the quote date (PA-6.1 / CPA-6.1), whose 30 days' notice of a
change is enforced when a price list is imported (`price_notice.py`), not again here. Its annual value is the monthly
net of the line x 12 (subscriptions are priced per month: PA-10.2 / CPA-10.1); at or above the threshold the quote needs
an approval like any other (`approval_required`, category `high_value_renewal`).

Billing (`subscription.renewed` from the ERP) records the renewal on the subscription: from its first day the months
are charged at the renewal's net unit price once the renewal quote is approved; while it waits for its approval, or
after it was refused (a lost renewal), the months of the renewed term are not charged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from .money import format_money, round_money
from .rules import Rule
from .time import add_months, parse_day

CATEGORY = "high_value_renewal"  # no category of the routing matrix: it falls to triage (SOP-4.1 / COP-4.1)
MONTHS_PER_YEAR = 12
PENDING, APPROVED, REJECTED = "pending_approval", "approved", "rejected"
PCT = Decimal("0.01")


@dataclass(frozen=True)
class Threshold:
    """`policy.pricing.renewal_approval_threshold`: a renewal whose annual value is at or above it needs approval."""

    rule: Rule
    annual_value: Decimal


def threshold_of(policy: Mapping[str, Any]) -> Threshold | None:
    """The tenant's renewal threshold, or None where the policy sets none (no renewal needs approval for its size)."""
    node = policy.get("pricing", {}).get("renewal_approval_threshold")
    if not node:
        return None
    return Threshold(Rule.of(node), Decimal(str(node["annual_value"])))


def term_end(renewed_from: date, term_months: int) -> date:
    """The last day of a term of `term_months` Billing Months starting on `renewed_from`."""
    return add_months(renewed_from, term_months) - timedelta(days=1)


def annual_value(monthly_net: Decimal) -> Decimal:
    """What the renewal is worth a year: the monthly net x 12, rounded once."""
    return round_money(monthly_net * MONTHS_PER_YEAR)


def uplift_percent(previous_unit_price: Decimal, unit_price: Decimal) -> Decimal | None:
    """The change of the unit price against the term renewed, percent of the previous (None: no previous price)."""
    if previous_unit_price <= 0:
        return None
    return ((unit_price - previous_unit_price) / previous_unit_price * 100).quantize(PCT)


def assess(
    policy: Mapping[str, Any], renewal: Mapping[str, Any], line: Mapping[str, Any]
) -> tuple[dict[str, Any], tuple[Rule, str] | None]:
    """The renewal's summary (term, previous and new unit price, uplift, annual value, threshold) and, when its annual
    value is at or above the tenant's threshold, the rule and message of the approval it needs."""
    renewed_from = parse_day(str(renewal["renewed_from"]))
    previous = Decimal(str(renewal["previous_unit_price"]))
    unit = Decimal(str(line["net_unit_price"]))
    value = annual_value(Decimal(str(line["net_total"])))
    limit = threshold_of(policy)
    uplift = uplift_percent(previous, unit)
    summary = {
        "subscription_id": renewal["subscription_id"],
        "renewed_from": renewed_from.isoformat(),
        "term_months": int(renewal["term_months"]),
        "term_end": term_end(renewed_from, int(renewal["term_months"])).isoformat(),
        "previous_unit_price": str(renewal["previous_unit_price"]),
        "unit_price": str(line["net_unit_price"]),
        "uplift_percent": f"{uplift:f}" if uplift is not None else None,
        "annual_value": format_money(value),
        "approval_threshold": format_money(limit.annual_value) if limit else None,
    }
    if limit is None or value < limit.annual_value:
        return summary, None
    message = (f"renewal of {renewal['subscription_id']}: annual value {format_money(value)} (monthly net "
               f"{line['net_total']} x 12) is at or above the {format_money(limit.annual_value)} renewal approval "
               f"threshold")
    return summary, (limit.rule, message)


# --- what billing reads of the renewals recorded on a subscription ---------------------------------------------------
def unit_price_on(subscription: Mapping[str, Any], day: date, base: Decimal) -> Decimal:
    """The unit price in force on `day`: the latest approved renewal begun by then, else `base` (the activation's)."""
    price = base
    for renewal in sorted(renewals_of(subscription), key=lambda r: str(r["renewed_from"])):
        if renewal["status"] == APPROVED and parse_day(renewal["renewed_from"]) <= day:
            price = Decimal(renewal["unit_price"])
    return price


def committed_on(subscription: Mapping[str, Any], day: date) -> Mapping[str, Any] | None:
    """The approved renewal whose term (`renewed_from` through the last day of its `term_months`) holds `day`: the
    subscription has a committed term then (PA-10.4 / CPA-10.3: credited "only as permitted in the order"). None: a
    monthly month. A renewal not approved commits nothing: its term is never charged."""
    for renewal in renewals_of(subscription):
        start = parse_day(renewal["renewed_from"])
        if renewal["status"] == APPROVED and start <= day <= term_end(start, int(renewal["term_months"])):
            return renewal
    return None


def renewals_of(subscription: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    return subscription.get("renewals") or ()


def unbilled_from(subscription: Mapping[str, Any]) -> date | None:
    """The first day of the earliest renewed term not approved (waiting for its approval, or refused): no month from
    it on is charged. None: every renewal recorded is approved (or there is none)."""
    days = [parse_day(r["renewed_from"]) for r in renewals_of(subscription) if r["status"] != APPROVED]
    return min(days) if days else None


def recorded(subscription: Mapping[str, Any], entry: Mapping[str, Any]) -> dict[str, Any]:
    """The subscription with the renewal `entry` recorded: one not approved for the same first day is replaced (a new
    renewal quote after a refused one), an approved one is kept (`approved_from` lets the caller refuse the second);
    the list stays ordered by first day."""
    kept = [r for r in renewals_of(subscription)
            if r["renewed_from"] != entry["renewed_from"] or r["status"] == APPROVED]
    ordered = sorted([*kept, dict(entry)], key=lambda r: str(r["renewed_from"]))
    return {**subscription, "renewals": ordered}


def approved_from(subscription: Mapping[str, Any], renewed_from: str) -> Mapping[str, Any] | None:
    """The approved renewal of the subscription whose term starts on `renewed_from`, or None."""
    found = [r for r in renewals_of(subscription) if r["renewed_from"] == renewed_from and r["status"] == APPROVED]
    return found[0] if found else None


def settled(subscription: Mapping[str, Any], decision_id: str, status: str, at: str) -> dict[str, Any] | None:
    """The subscription with the renewal waiting on decision `decision_id` settled as `status` (approved or rejected),
    or None when no renewal of it waits on that decision."""
    found = False
    entries = []
    for renewal in renewals_of(subscription):
        if renewal["decision_id"] == decision_id and renewal["status"] == PENDING:
            renewal, found = {**renewal, "status": status, "decided_at": at}, True
        entries.append(dict(renewal))
    return {**subscription, "renewals": entries} if found else None


def counts(entries: Sequence[Mapping[str, Any]], first: date, last: date) -> dict[str, int]:
    """Renewals whose term starts between `first` and `last`: approved (won), refused (lost), still pending."""
    found = {APPROVED: 0, REJECTED: 0, PENDING: 0}
    for renewal in entries:
        if first <= parse_day(renewal["renewed_from"]) <= last:
            found[renewal["status"]] += 1
    return {"approved": found[APPROVED], "lost": found[REJECTED], "pending": found[PENDING]}
