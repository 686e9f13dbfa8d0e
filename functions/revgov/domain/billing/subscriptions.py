"""Subscriptions: proration, cancellation credits, charges in advance per Billing Month, quantity changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ..catalog import CatalogItem
from ..money import format_money, round_money, share_of
from ..rules import Rule
from ..subscription_renewals import unbilled_from, unit_price_on
from ..time import next_period, parse_day, period_bounds, period_of
from .invoices import LineDraft, sale_marks
from .periods import ZERO, ServicePeriod, days_in_month
from .policy import BillingPolicy
from .sales_tax import located


# --- subscriptions -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DailyCharge:
    """A charge (or credit) for whole days of one month: monthly price x days / days in the month, rounded once."""

    amount: Decimal
    days: int
    divisor: int
    period: ServicePeriod


def prorate(monthly_price: Decimal, activated_on: date) -> DailyCharge:
    """Activation day and every following day to the month end, both included (PA-10.3, SOP-2.3, COP-2.3)."""
    divisor = days_in_month(activated_on)
    days = divisor - activated_on.day + 1
    end = activated_on.replace(day=divisor)
    return DailyCharge(share_of(monthly_price, days, divisor), days, divisor, ServicePeriod(activated_on, end))


def cancellation_credit(monthly_price: Decimal, effective_on: date, billed: ServicePeriod) -> DailyCharge | None:
    """Credit the full days after the effective day that were billed; the effective day itself is not credited.

    None when nothing billed is left to credit (e.g. effective on the last day of the month: PA-10.4, SOP-2.4).
    """
    start = max(effective_on + timedelta(days=1), billed.start)
    if start > billed.end:
        return None
    divisor = days_in_month(billed.start)
    days = (billed.end - start).days + 1
    return DailyCharge(share_of(monthly_price, days, divisor), days, divisor, ServicePeriod(start, billed.end))


# --- recurring subscription charges (the billing run) ----------------------------------------------------------
def month_charge(monthly_price: Decimal, activated_on: date, period: str) -> DailyCharge | None:
    """What a subscription is charged in advance for a Billing Month (PA-10.2, CPA-10.2): the whole month, or from
    the activation day to the month end when activated during it (PA-10.3, SOP-2.3); None before its activation."""
    first, last = period_bounds(period)
    if activated_on > last:
        return None
    if activated_on > first:
        return prorate(monthly_price, activated_on)
    divisor = days_in_month(first)
    return DailyCharge(round_money(monthly_price), divisor, divisor, ServicePeriod(first, last))


def months_between(first: str, last: str) -> list[str]:
    """Billing months from `first` to `last`, both included (empty when `last` is before `first`)."""
    months, period = [], first
    while period <= last:
        months.append(period)
        period = next_period(period)
    return months


def months_due(subscription: dict[str, Any], through: str) -> list[str]:
    """The months a subscription still has to be charged for, up to `through`: every month from its activation on
    that no charge covers yet, and none starting after its cancellation took effect (billed in advance: a month in
    which it is cancelled is charged, then credited for the unused days, PA-10.4)."""
    if subscription.get("status") not in ("active", "cancelled"):
        return []
    activated = parse_day(subscription["activated_on"])
    last = through
    if subscription.get("cancelled_on"):
        last = min(last, period_of(parse_day(subscription["cancelled_on"])))
    held = unbilled_from(subscription)  # a renewed term waiting for its approval, or refused: not charged
    if held is not None:
        last = min(last, period_of(held - timedelta(days=1)))
    billed = {charged_month(entry) for entry in subscription.get("billed", [])}
    return [m for m in months_between(period_of(activated), last) if m not in billed]


def charged_month(entry: dict[str, Any]) -> str:
    """The Billing Month a charge entry of a subscription record covers."""
    return str(entry.get("month") or entry["service_period"]["start"][:7])


def quantity_change(
    unit_price: Decimal, before: int, after: int, effective_on: date, billed: ServicePeriod
) -> DailyCharge | None:
    """What a quantity change does to a period already charged: an increase is charged from the day it takes effect,
    that day included (PA-10.3: "Quantity increases during a period are prorated in the same way from the date the
    increase takes effect"); a reduction is credited for the full days after its effective day (PA-10.4, SOP-2.4:
    "A cancellation or quantity reduction requested on a given day takes effect at the end of that day"). The amount
    is signed (negative: a credit), rounded once; None when no day of the period is affected."""
    delta = after - before
    start = max(effective_on if delta > 0 else effective_on + timedelta(days=1), billed.start)
    if delta == 0 or start > billed.end:
        return None
    divisor = days_in_month(billed.start)
    days = (billed.end - start).days + 1
    return DailyCharge(
        round_money(unit_price * delta * days / divisor), days, divisor, ServicePeriod(start, billed.end)
    )


def quantity_change_draft(
    subscription: dict[str, Any],
    item: CatalogItem | None,
    unit_cost: Decimal,
    before: int,
    after: int,
    prorated: DailyCharge,
    book: BillingPolicy,
    references_line: str,
) -> LineDraft:
    """The line of a quantity change in a charged month: a charge for an increase, a credit for a reduction."""
    name = item.name if item else subscription["sku"]
    rules = (item.rule,) if item else ()
    increase = after > before
    return LineDraft(
        kind="subscription" if increase else "credit",
        description=f"{name}: quantity {before} -> {after} from {prorated.period.start}, "
        f"{prorated.days}/{prorated.divisor} days",
        family=item.family if item else subscription.get("family", "unknown"),
        sku=subscription["sku"],
        quantity=Decimal(abs(after - before)),
        unit_price=unit_price_in_force(subscription, prorated.period.start),
        amount=prorated.amount,
        cost=round_money(unit_cost * (after - before) * prorated.days / prorated.divisor),
        service_period=prorated.period,
        order_ref=subscription.get("order_ref"),
        rules=(*rules, book.proration if increase else book.cancellation),
        references_line=references_line,
        detail={
            "subscription_id": subscription["subscription_id"],
            "quantity_change": {"from": before, "to": after},
            "days": prorated.days,
            "days_in_month": prorated.divisor,
            **located(subscription),
        },
        channel=subscription.get("channel") or "resale",
    )


def _in_force(change: dict[str, Any], day: date) -> bool:
    """An increase counts from its effective day, a reduction from the day after it (it takes effect at its end)."""
    effective = parse_day(change["effective_on"])
    return effective <= day if change["to_quantity"] > change["from_quantity"] else effective < day


def quantity_on(subscription: dict[str, Any], day: date) -> int:
    """The quantity of a subscription in force on a day, from its recorded changes (in effective order)."""
    changes = subscription.get("changes") or []
    quantity = int(changes[0]["from_quantity"]) if changes else int(subscription["quantity"])
    for change in changes:
        if _in_force(change, day):
            quantity = int(change["to_quantity"])
    return quantity


def unit_price_of(subscription: dict[str, Any]) -> Decimal:
    """The unit price the subscription was activated at (a renewal's is `unit_price_in_force`)."""
    if subscription.get("unit_price"):
        return Decimal(subscription["unit_price"])
    return Decimal(subscription["monthly_price"]) / Decimal(subscription["quantity"])


def unit_price_in_force(subscription: dict[str, Any], day: date) -> Decimal:
    """The unit price on a day: the latest approved renewal begun by then (subscription_renewals.py), else the
    activation's."""
    return unit_price_on(subscription, day, unit_price_of(subscription))


def monthly_price_in_force(subscription: dict[str, Any], day: date) -> Decimal:
    """The monthly price a cancellation credits on a day: the record's, or the approved renewal's in force."""
    unit = unit_price_in_force(subscription, day)
    if unit == unit_price_of(subscription):
        return Decimal(subscription["monthly_price"])
    return unit * Decimal(subscription["quantity"])


def charge_in_advance(subscription: dict[str, Any], period: str) -> tuple[DailyCharge, int] | None:
    """The month's charge in advance at the quantity in force on its first charged day, and that quantity."""
    activated = parse_day(subscription["activated_on"])
    start = max(activated, period_bounds(period)[0])
    quantity = quantity_on(subscription, start)
    charge = month_charge(unit_price_in_force(subscription, start) * quantity, activated, period)
    return None if charge is None else (charge, quantity)


def changes_within(subscription: dict[str, Any], charged: ServicePeriod) -> list[tuple[dict[str, Any], DailyCharge]]:
    """The quantity changes that take effect inside a charged period after its first day, each with its proration."""
    found = []
    for change in subscription.get("changes") or []:
        if _in_force(change, charged.start):
            continue
        prorated = quantity_change(
            unit_price_in_force(subscription, charged.start),
            int(change["from_quantity"]),
            int(change["to_quantity"]),
            parse_day(change["effective_on"]),
            charged,
        )
        if prorated is not None:
            found.append((change, prorated))
    return found


def expected_net(subscription: dict[str, Any], period: str) -> Decimal:
    """What the subscription records say a month should carry net (SOP-2.2): the charge in advance for the month at
    the quantity in force on its first day, the quantity changes within it prorated both ways, less the cancellation
    credit of the full days after the effective day (PA-10.3, PA-10.4, SOP-2.4), each line rounded once."""
    if subscription.get("status") not in ("active", "cancelled"):
        return ZERO
    cancelled_on = subscription.get("cancelled_on")
    if cancelled_on and parse_day(cancelled_on) < period_bounds(period)[0]:
        return ZERO
    charged = charge_in_advance(subscription, period)
    if charged is None:
        return ZERO
    charge, _ = charged
    net = charge.amount + sum((p.amount for _, p in changes_within(subscription, charge.period)), ZERO)
    if cancelled_on:
        monthly = monthly_price_in_force(subscription, charge.period.start)
        credit = cancellation_credit(monthly, parse_day(cancelled_on), charge.period)
        net -= credit.amount if credit else ZERO
    return net


def held_credits(subscription: dict[str, Any] | None, period: str, status: str) -> Decimal:
    """The credits of a month held for approval above the credit note limit (SOP-2.5) that are in `status`
    (`pending_approval`, `posted`, `rejected`), summed (negative: credits)."""
    held = (subscription or {}).get("held") or []
    return sum((Decimal(h["amount"]) for h in held if h["month"] == period and h["status"] == status), ZERO)


def pending_credits(subscriptions: Sequence[dict[str, Any]], period: str) -> list[dict[str, Any]]:
    """The credits of a month's subscriptions still waiting for their approval (SOP-2.5): the month's invoice does
    not yet carry them, so it cannot be validated against the records (SOP-2.2) as if they had posted."""
    return [
        {**h, "subscription_id": s["subscription_id"], "partner_id": s["partner_id"]}
        for s in subscriptions
        for h in s.get("held") or []
        if h["month"] == period and h["status"] == "pending_approval"
    ]


# --- what subscription records keep -------------------------------------------------------------------------------
def charge_entry(line: dict[str, Any], month: str) -> dict[str, Any]:
    """What a subscription record keeps of a month charged in advance: the line, its invoice and amount."""
    return {
        "month": month,
        "line_id": line["line_id"],
        "invoice_id": line["invoice_id"],
        "amount": line["amount"],
        "service_period": line["service_period"],
    }


def posted_against_entry(line: dict[str, Any]) -> dict[str, Any]:
    """What a subscription record keeps of a line posted against a month already charged (a cancellation credit, a
    quantity change): the line, its invoice and amount, and the charge it references."""
    return {
        "month": line["service_period"]["start"][:7],
        "line_id": line["line_id"],
        "invoice_id": line["invoice_id"],
        "amount": line["amount"],
        "service_period": line["service_period"],
        "references_line": line["references_line"],
    }


def activation_draft(item: CatalogItem, data: dict[str, Any], book: BillingPolicy) -> LineDraft:
    """The activation month's charge: the monthly price (list price x quantity) prorated from the activation day to
    the month end, both included (PA-10.3, SOP-2.3, COP-2.3)."""
    quantity = Decimal(data["quantity"])
    monthly = item.list_price * quantity
    charge = prorate(monthly, parse_day(data["activated_on"]))
    quoted = book.quoted_price if data.get("priced_on") else None  # priced from its quote's list (PA-6.1 / CPA-6.1)
    return LineDraft(
        kind="subscription",
        description=f"{item.name} x {data['quantity']}, {charge.days}/{charge.divisor} days",
        family=item.family,
        sku=item.sku,
        quantity=quantity,
        unit_price=item.list_price,
        amount=charge.amount,
        cost=round_money(item.unit_cost * quantity * charge.days / charge.divisor),
        service_period=charge.period,
        order_ref=data["order_ref"],
        rules=(item.rule, book.proration, *(r for r in (quoted,) if r is not None)),
        detail={
            "subscription_id": data["subscription_id"],
            "monthly_price": format_money(monthly),
            "days": charge.days,
            "days_in_month": charge.divisor,
            **({"priced_on": data["priced_on"]} if data.get("priced_on") else {}),
            **sale_marks(data),
        },
        channel=data.get("channel") or "resale",
    )


def activated_subscription(
    item: CatalogItem, data: dict[str, Any], line: dict[str, Any], *, parked: list[str], event_id: str
) -> dict[str, Any]:
    """The record of a subscription just activated, its activation month charged by `line`; the events parked for it
    stay listed until they are re-applied."""
    quantity = Decimal(data["quantity"])
    return {
        "subscription_id": data["subscription_id"],
        "partner_id": line["partner_id"],
        "sku": item.sku,
        "quantity": data["quantity"],
        "family": item.family,
        "unit_price": f"{item.list_price:f}",
        "unit_cost": f"{item.unit_cost:f}",
        "monthly_price": format_money(item.list_price * quantity),
        "monthly_cost": format_money(item.unit_cost * quantity),
        "changes": [],
        "activated_on": data["activated_on"],
        **({"priced_on": data["priced_on"]} if data.get("priced_on") else {}),
        "order_ref": data["order_ref"],
        "channel": line["channel"],
        **sale_marks(data),
        **located(data),
        "status": "active",
        "billed": [charge_entry(line, line["service_period"]["start"][:7])],
        "parked": parked,
        "activation_event_id": event_id,
    }


def cancellation_draft(
    subscription: dict[str, Any],
    credit: DailyCharge,
    *,
    name: str,
    family: str,
    effective_on: str,
    unit_price: Decimal,
    rules: tuple[Rule, ...],
    order_ref: str | None,
    references_line: str,
    detail: dict[str, Any],
) -> LineDraft:
    """The credit of a charged month for the full days after a cancellation's effective day (PA-10.4, SOP-2.4),
    referencing the month's charge; its cost is the monthly cost for those days. It keeps the service location the
    activation reported, like the charge it credits (PA-10.1: a cancellation event reports none), so it takes back the
    sales tax that charge added."""
    return LineDraft(
        kind="credit",
        description=f"Credit: {name} after {effective_on}, {credit.days}/{credit.divisor} days",
        family=family,
        sku=subscription["sku"],
        quantity=Decimal(subscription["quantity"]),
        unit_price=unit_price,
        amount=-credit.amount,
        cost=-round_money(Decimal(subscription["monthly_cost"]) * credit.days / credit.divisor),
        service_period=credit.period,
        order_ref=order_ref,
        rules=rules,
        references_line=references_line,
        detail={**detail, **located(subscription)},
        channel=subscription.get("channel") or "resale",
    )


def unit_cost_of(subscription: dict[str, Any]) -> Decimal:
    if subscription.get("unit_cost"):
        return Decimal(subscription["unit_cost"])
    return Decimal(subscription["monthly_cost"]) / Decimal(subscription["quantity"])


def priced_as(
    subscription: dict[str, Any], item: CatalogItem | None, book: BillingPolicy
) -> tuple[str, str, tuple[Rule, ...]]:
    """Name, family and rules of a subscription's lines: from its price-list item, or from the record if the price
    list no longer has it."""
    if item is None:
        return subscription["sku"], subscription.get("family", "unknown"), (book.invoicing,)
    return item.name, item.family, (item.rule, book.invoicing)


def advance_charge_draft(
    subscription: dict[str, Any],
    item: CatalogItem | None,
    month: str,
    charged: tuple[DailyCharge, int],
    book: BillingPolicy,
) -> LineDraft:
    """A Billing Month charged in advance by the billing run (PA-10.2): at the quantity in force on its first charged
    day, prorated (citing the proration rule) when the subscription was activated during the month."""
    charge, in_force = charged
    name, family, rules = priced_as(subscription, item, book)
    quantity = Decimal(in_force)
    unit = unit_price_in_force(subscription, charge.period.start)
    return LineDraft(
        kind="subscription",
        description=f"{name} x {in_force}, {month} in advance ({charge.days}/{charge.divisor} days)",
        family=family,
        sku=subscription["sku"],
        quantity=quantity,
        unit_price=unit,
        amount=charge.amount,
        cost=round_money(unit_cost_of(subscription) * quantity * charge.days / charge.divisor),
        service_period=charge.period,
        order_ref=subscription.get("order_ref"),
        rules=(*rules, book.proration) if charge.days != charge.divisor else rules,
        detail={
            "subscription_id": subscription["subscription_id"],
            "monthly_price": subscription["monthly_price"] if unit == unit_price_of(subscription)
            else format_money(unit * quantity),
            "days": charge.days,
            "days_in_month": charge.divisor,
            "billing_month": month,
            **sale_marks(subscription),
            **located(subscription),
        },
        channel=subscription.get("channel") or "resale",
    )
