"""Billing core: the tenant's billing policy, proration, cancellation credits, usage rating and monthly invoices.

Pure and exact: amounts are computed in Decimal and rounded once, half-even, at line level (`money.round_money`).
A usage charge model is one small function behind one signature (`CHARGE_MODELS`), so a new model is one entry.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from itertools import pairwise
from typing import Any

from .cases import due_at
from .catalog import Catalog, CatalogItem, policy_catalog
from .errors import Conflict, RuleViolation
from .money import format_money, less_percent, line_amount, percent_of, round_money, share_of
from .rules import Rule
from .time import instant, next_period, parse_day, period_bounds, period_of

HUNDRED = Decimal(100)
ZERO = Decimal(0)
# ERP detail-types that must be posted as an invoice line within the invoice SLA (PA-10.7, SOP-2.1, COP-2.1)
SLA_TRACKED = frozenset({"shipment.confirmed", "subscription.activated", "service.completed"})


# --- periods -----------------------------------------------------------------------------------------------
def days_in_month(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def quarter_of(day: date) -> str:
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


def period_ended(period: str, at: datetime) -> bool:
    """A billing month has ended once its last day (UTC) is over."""
    return at.date() > period_bounds(period)[1]


def sla_due(occurred_at: str, hours: int) -> str:
    """When a billable event's invoice line is due: hours after it occurred in the source system."""
    return due_at(occurred_at, hours)


@dataclass(frozen=True)
class ServicePeriod:
    start: date
    end: date

    @classmethod
    def day(cls, day: date) -> ServicePeriod:
        return cls(day, day)

    @classmethod
    def month(cls, period: str) -> ServicePeriod:
        return cls(*period_bounds(period))

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> ServicePeriod:
        return cls(parse_day(data["start"]), parse_day(data["end"]))

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


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


# --- usage rating -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Band:
    up_to: Decimal | None  # inclusive upper bound of the band; None for the last, open band
    rate: Decimal


@dataclass(frozen=True)
class BandCharge:
    first: Decimal  # units above this bound fall in the band
    last: Decimal | None
    units: Decimal
    rate: Decimal
    amount: Decimal  # exact, not rounded

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": _quantity(self.first),
            "to": None if self.last is None else _quantity(self.last),
            "units": _quantity(self.units),
            "rate": f"{self.rate:f}",
            "amount": f"{self.amount:f}",
        }


def _graduated(bands: Sequence[Band], units: Decimal) -> list[BandCharge]:
    """Each band's units at that band's rate; higher rates never apply to lower bands."""
    charges, lower = [], ZERO
    for band in bands:
        upper = units if band.up_to is None else min(units, band.up_to)
        in_band = max(ZERO, upper - lower)
        if in_band:
            charges.append(BandCharge(lower, band.up_to, in_band, band.rate, in_band * band.rate))
        if band.up_to is None or units <= band.up_to:
            break
        lower = band.up_to
    return charges


def _volume(bands: Sequence[Band], units: Decimal) -> list[BandCharge]:
    """Every unit at the rate of the band the whole quantity falls in."""
    lower = ZERO
    for band in bands:
        if band.up_to is None or units <= band.up_to:
            return [BandCharge(lower, band.up_to, units, band.rate, units * band.rate)] if units else []
        lower = band.up_to
    raise ValueError("a rate table ends with an open band")  # pragma: no cover - checked when the table is read


ChargeModel = Callable[[Sequence[Band], Decimal], list[BandCharge]]
CHARGE_MODELS: dict[str, ChargeModel] = {"graduated": _graduated, "volume": _volume}


@dataclass(frozen=True)
class RateTable:
    metric: str
    unit: str
    sku: str
    family: str
    model: str
    round_up_to_whole_unit: bool
    bands: tuple[Band, ...]
    unit_cost: Decimal | None
    rule: Rule

    @classmethod
    def from_policy(cls, node: dict[str, Any]) -> RateTable:
        bands = tuple(
            Band(None if b.get("up_to") is None else Decimal(b["up_to"]), Decimal(b["rate"])) for b in node["bands"]
        )
        bounds = [b.up_to for b in bands[:-1] if b.up_to is not None]
        if not bands or bands[-1].up_to is not None or len(bounds) != len(bands) - 1:
            raise ValueError(f"rate table {node['id']}: only the last band is open-ended")
        if any(a >= b for a, b in pairwise(bounds)):
            raise ValueError(f"rate table {node['id']}: band bounds must increase")
        if node["model"] not in CHARGE_MODELS:
            raise ValueError(f"rate table {node['id']}: unknown charge model {node['model']}")
        return cls(
            metric=node["metric"],
            unit=node["unit"],
            sku=node["sku"],
            family=node["family"],
            model=node["model"],
            round_up_to_whole_unit=node.get("quantity_rounding", "up_to_whole_unit") == "up_to_whole_unit",
            bands=bands,
            unit_cost=None if node.get("unit_cost") is None else Decimal(node["unit_cost"]),
            rule=Rule.of(node),
        )


@dataclass(frozen=True)
class Rating:
    quantity: Decimal  # as metered
    units: Decimal  # as rated (rounded up to a whole unit when the table says so)
    amount: Decimal  # rounded once
    bands: tuple[BandCharge, ...]


def rated_units(table: RateTable, quantity: Decimal) -> Decimal:
    return quantity.to_integral_value(rounding=ROUND_CEILING) if table.round_up_to_whole_unit else quantity


def rate_usage(table: RateTable, quantity: Decimal) -> Rating:
    """A month's metered quantity priced with the table's charge model; band amounts summed, then rounded once."""
    if quantity < 0:
        raise ValueError("a usage quantity cannot be negative")
    units = rated_units(table, quantity)
    charges = CHARGE_MODELS[table.model](table.bands, units)
    return Rating(quantity, units, round_money(sum((c.amount for c in charges), ZERO)), tuple(charges))


# --- services and support -------------------------------------------------------------------------------------
def milestone_amount(contract_value: Decimal, percent: Decimal) -> Decimal:
    return percent_of(contract_value, percent)


def overage_hours(used_before: Decimal, hours: Decimal, allowance: Decimal) -> Decimal:
    """The part of `hours` that falls beyond the quarter's allowance."""
    return max(ZERO, used_before + hours - max(used_before, allowance))


# --- the tenant's billing policy -------------------------------------------------------------------------------
@dataclass(frozen=True)
class MilestoneService:
    service: str
    name: str
    entitlement: str | None  # the partner entitlement that puts the service in contracted scope
    rule: Rule


DEFAULT_PLAUSIBILITY = Rule("BILL-PLAUSIBILITY", "PA-2.2")
DEFAULT_RECONCILIATION = Rule("BILL-SUBSCRIPTION-RECONCILIATION", "SOP-2.2")
DEFAULT_CREDIT_NOTES = Rule("BILL-CREDIT-NOTES", "SOP-2.5")
DEFAULT_INVOICE_DISPUTES = Rule("BILL-INVOICE-DISPUTES", "SOP-6.1")
DEFAULT_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class BillingPolicy:
    sla_hours: int
    sla: Rule
    invoicing: Rule
    finalization: Rule
    late_events: Rule
    proration: Rule
    cancellation: Rule
    catalog: Catalog  # prices and costs: the one place that answers "SKU X on day D"
    usage: dict[str, RateTable]
    milestones: dict[str, Decimal]
    milestone_rule: Rule
    services: dict[str, MilestoneService]
    overage_rate: Decimal
    overage_entitlement: str
    overage_sku: str
    overage: Rule
    # What holds an implausible event, what a reconciliation mismatch and a milestone beyond its SOW open
    # (defaults when a tenant's policy predates them).
    plausibility: Rule = DEFAULT_PLAUSIBILITY
    future_tolerance: timedelta = DEFAULT_TOLERANCE
    implausible_category: str = "implausible_event"
    reconciliation: Rule = DEFAULT_RECONCILIATION
    mismatch_category: str = "subscription_mismatch"
    sow_category: str = "milestone_beyond_sow"
    # Corrections of issued invoices and the partner's invoice-line disputes (SOP-2.5, SOP-6.1).
    credit_notes: Rule = DEFAULT_CREDIT_NOTES
    disputes: Rule = DEFAULT_INVOICE_DISPUTES
    dispute_window_days: int = 30
    dispute_category: str = "invoice_dispute"
    # SOP-2.5 / COP-2.4: a credit note above this amount (tenant currency) posts only once a finance queue member
    # other than its preparer approved it, through an approval of `credit_note_approval_category`. None: no limit.
    credit_note_approval_above: Decimal | None = None
    credit_note_approval_category: str = "credit_note_approval"

    def price(self, sku: str, on: date) -> CatalogItem | None:
        """The price-list item in force on `on`, or None: not on the price list that day."""
        return self.catalog.item(sku, on.isoformat())

    @classmethod
    def from_policy(cls, policy: dict[str, Any]) -> BillingPolicy:
        billing = policy.get("billing")
        if not billing:
            raise ValueError("the tenant policy has no billing section")
        schedule = billing["milestones"]
        percents = {name: Decimal(pct) for name, pct in schedule["schedule"].items()}
        if sum(percents.values(), ZERO) != HUNDRED:
            raise ValueError(f"milestones {schedule['id']} must total 100%")
        support = billing["support_overage"]
        if not billing.get("price_list"):
            raise ValueError("the billing policy has no price list")
        plausible = billing.get("plausibility") or {}
        reconciled = billing.get("subscription_reconciliation") or {}
        credit_notes = billing.get("credit_notes") or {}
        disputes = billing.get("invoice_disputes") or {}
        return cls(
            sla_hours=int(billing["invoice_sla"]["hours"]),
            sla=Rule.of(billing["invoice_sla"]),
            invoicing=Rule.of(billing["invoicing"]),
            finalization=Rule.of(billing["finalization"]),
            late_events=Rule.of(billing["late_events"]),
            proration=Rule.of(billing["proration"]),
            cancellation=Rule.of(billing["cancellation_credit"]),
            catalog=policy_catalog(policy),
            usage={t["metric"]: RateTable.from_policy(t) for t in billing["usage_rates"]},
            milestones=percents,
            milestone_rule=Rule.of(schedule),
            services={
                s["service"]: MilestoneService(s["service"], s["name"], s.get("entitlement"), Rule.of(s))
                for s in billing["services"]
            },
            overage_rate=Decimal(support["hourly_rate"]),
            overage_entitlement=support["entitlement"],
            overage_sku=support["sku"],
            overage=Rule.of(support),
            plausibility=Rule.of(plausible) if plausible else cls.plausibility,
            future_tolerance=timedelta(seconds=int(plausible.get("future_tolerance_seconds", 300))),
            implausible_category=plausible.get("category", cls.implausible_category),
            reconciliation=Rule.of(reconciled) if reconciled else cls.reconciliation,
            mismatch_category=reconciled.get("category", cls.mismatch_category),
            credit_notes=Rule.of(credit_notes) if credit_notes else cls.credit_notes,
            disputes=Rule.of(disputes) if disputes else cls.disputes,
            dispute_window_days=int(disputes.get("window_days", cls.dispute_window_days)),
            dispute_category=disputes.get("category", cls.dispute_category),
            credit_note_approval_above=(
                Decimal(credit_notes["approval_above"]) if credit_notes.get("approval_above") is not None else None
            ),
            credit_note_approval_category=credit_notes.get("approval_category", cls.credit_note_approval_category),
        )


# --- invoices ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LineDraft:
    """What one billable fact puts on an invoice, before it has a number."""

    kind: str  # shipment | subscription | credit | credit_note | usage | usage_adjustment | milestone | support_overage
    description: str
    family: str
    sku: str | None
    quantity: Decimal
    unit_price: Decimal | None
    amount: Decimal  # already rounded at line level; negative for a credit
    cost: Decimal | None
    service_period: ServicePeriod
    order_ref: str | None
    rules: tuple[Rule, ...]
    references_line: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    # How it was sold, as the ERP says: what rebate and commission programs select lines by (PA-6.5, PA-8.x).
    channel: str = "resale"
    promotions: tuple[str, ...] = ()
    discount_percent: Decimal | None = None


def draft_as_dict(draft: LineDraft) -> dict[str, Any]:
    """A line not posted yet, as a record can keep it (a credit held for approval, SOP-2.5); `draft_from_dict` reads
    it back unchanged."""
    return {
        "kind": draft.kind,
        "description": draft.description,
        "family": draft.family,
        "sku": draft.sku,
        "quantity": f"{draft.quantity:f}",
        "unit_price": None if draft.unit_price is None else f"{draft.unit_price:f}",
        "amount": format_money(draft.amount),
        "cost": None if draft.cost is None else format_money(draft.cost),
        "service_period": draft.service_period.as_dict(),
        "order_ref": draft.order_ref,
        "rules": [r.as_dict() for r in draft.rules],
        "references_line": draft.references_line,
        "detail": draft.detail,
        "channel": draft.channel,
        "promotions": list(draft.promotions),
        "discount_percent": None if draft.discount_percent is None else f"{draft.discount_percent:f}",
    }


def draft_from_dict(data: dict[str, Any]) -> LineDraft:
    def number(text: str | None) -> Decimal | None:
        return None if text is None else Decimal(text)

    return LineDraft(
        **{
            **data,
            "quantity": Decimal(data["quantity"]),
            "unit_price": number(data["unit_price"]),
            "amount": Decimal(data["amount"]),
            "cost": number(data["cost"]),
            "service_period": ServicePeriod.from_dict(data["service_period"]),
            "rules": tuple(Rule(r["rule_id"], r["clause"]) for r in data["rules"]),
            "detail": dict(data["detail"]),
            "promotions": tuple(data["promotions"]),
            "discount_percent": number(data["discount_percent"]),
        }
    )


def _quantity(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "0E0") else text


def new_invoice(*, invoice_id: str, partner_id: str, period: str, currency: str, opened_at: str) -> dict[str, Any]:
    return {
        "invoice_id": invoice_id,
        "partner_id": partner_id,
        "period": period,
        "currency": currency,
        "status": "draft",
        "line_count": 0,
        "total": "0.00",
        "opened_at": opened_at,
        "finalized_at": None,
        "finalized_by": None,
        "paid_on": None,  # set by the ERP's invoice.paid
    }


def shipment_drafts(book: BillingPolicy, data: dict[str, Any]) -> list[LineDraft]:
    """Shipped goods at list price less the line's discount, one line per shipped SKU, for the day they shipped
    (SKUs already checked); the channel, promotions and discount travel with the line for rebates."""
    shipped_on = parse_day(data["shipped_on"])
    # The delivery day (proof of delivery), when the ERP knows it: where CPA-7.5's return window starts.
    detail = {"delivered_on": data["delivered_on"]} if data.get("delivered_on") else {}
    drafts = []
    for entry in data["lines"]:
        item, quantity = book.price(entry["sku"], shipped_on), Decimal(entry["quantity"])
        if item is None:
            raise RuleViolation(f"SKU {entry['sku']} is not on the price list on {shipped_on}")
        discount = Decimal(entry["discount_percent"]) if entry.get("discount_percent") else None
        unit_price = less_percent(item.list_price, discount)
        drafts.append(
            LineDraft(
                kind="shipment",
                description=f"{item.name}, order {data['order_ref']}",
                family=item.family,
                sku=item.sku,
                quantity=quantity,
                unit_price=unit_price,
                amount=line_amount(item.list_price, quantity, discount),
                cost=round_money(item.unit_cost * quantity),
                service_period=ServicePeriod.day(shipped_on),
                order_ref=data["order_ref"],
                rules=(item.rule, book.invoicing),
                channel=data.get("channel") or "resale",
                promotions=tuple(entry.get("promotions") or ()),
                discount_percent=discount,
                detail=dict(detail),
            )
        )
    return drafts


def line_record(
    invoice: dict[str, Any], number: int, draft: LineDraft, *, event_id: str, erp_event_id: str, posted_at: str
) -> dict[str, Any]:
    return {
        "line_id": f"{invoice['invoice_id']}.{number}",
        "invoice_id": invoice["invoice_id"],
        "number": number,
        "partner_id": invoice["partner_id"],
        "kind": draft.kind,
        "description": draft.description,
        "family": draft.family,
        "sku": draft.sku,
        "quantity": _quantity(draft.quantity),
        "unit_price": None if draft.unit_price is None else f"{draft.unit_price:f}",
        "amount": format_money(draft.amount),
        "cost": None if draft.cost is None else format_money(draft.cost),
        "service_period": draft.service_period.as_dict(),
        "order_ref": draft.order_ref,
        "references_line": draft.references_line,
        "event_ids": [event_id],
        "erp_event_ids": [erp_event_id],
        "rule_ids": [r.rule_id for r in draft.rules],
        "clauses": [r.clause for r in draft.rules],
        "detail": draft.detail,
        "channel": draft.channel,
        "promotions": list(draft.promotions),
        "discount_percent": None if draft.discount_percent is None else f"{draft.discount_percent:f}",
        "posted_at": posted_at,
        "updated_at": posted_at,
    }


def add_lines(
    invoice: dict[str, Any], drafts: Sequence[LineDraft], *, event_id: str, erp_event_id: str, posted_at: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The draft invoice with the lines appended (numbered on from the last) and its total moved by their amounts."""
    if invoice["status"] != "draft":
        raise Conflict(f"invoice {invoice['invoice_id']} is {invoice['status']}; lines go on a draft invoice")
    first = int(invoice["line_count"]) + 1
    lines = [
        line_record(invoice, first + i, d, event_id=event_id, erp_event_id=erp_event_id, posted_at=posted_at)
        for i, d in enumerate(drafts)
    ]
    total = Decimal(invoice["total"]) + sum((d.amount for d in drafts), ZERO)
    return {**invoice, "line_count": first - 1 + len(drafts), "total": format_money(total)}, lines


def rerate_line(
    invoice: dict[str, Any],
    line: dict[str, Any],
    draft: LineDraft,
    *,
    event_id: str,
    erp_event_id: str,
    at: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A usage line re-rated with more of the month's usage: the line takes the new amount, the total the delta."""
    if invoice["status"] != "draft":
        raise Conflict(f"invoice {invoice['invoice_id']} is {invoice['status']}; its lines cannot change")
    delta = draft.amount - Decimal(line["amount"])
    updated = {
        **line_record(invoice, int(line["number"]), draft, event_id=event_id, erp_event_id=erp_event_id, posted_at=at),
        "event_ids": [*line["event_ids"], event_id],
        "erp_event_ids": [*line["erp_event_ids"], erp_event_id],
        "posted_at": line["posted_at"],
    }
    return {**invoice, "total": format_money(Decimal(invoice["total"]) + delta)}, updated


def finalize(invoice: dict[str, Any], *, actor: str, at: str, rule: Rule) -> dict[str, Any]:
    """Issue a draft invoice: only after its month has ended, never with nothing to pay; immutable afterwards."""
    if invoice["status"] != "draft":
        raise Conflict(
            f"invoice {invoice['invoice_id']} is already {invoice['status']}",
            extra={"current_status": invoice["status"], "allowed_next": []},
        )
    if not period_ended(invoice["period"], instant(at)):
        raise RuleViolation(
            f"the billing month {invoice['period']} has not ended; its invoice is finalized after month end "
            f"({rule.rule_id}, {rule.clause})"
        )
    if Decimal(invoice["total"]) == 0:
        raise RuleViolation(f"an invoice with a total of 0.00 is not issued ({rule.rule_id}, {rule.clause})")
    return {**invoice, "status": "finalized", "finalized_at": at, "finalized_by": actor}


def mark_paid(invoice: dict[str, Any], *, paid_on: str, payment_ref: str | None, rule: Rule) -> dict[str, Any]:
    """An issued invoice paid in full on `paid_on`; a draft is not issued yet and cannot be paid."""
    if invoice["status"] != "finalized":
        raise RuleViolation(
            f"invoice {invoice['invoice_id']} is {invoice['status']}; only an issued (finalized) invoice can be paid "
            f"({rule.rule_id}, {rule.clause})"
        )
    return {**invoice, "paid_on": paid_on, "payment_ref": payment_ref}


def sales_fact(line: dict[str, Any], invoice: dict[str, Any], *, event_id: str) -> dict[str, Any]:
    """What rebates and KPIs read about a billed transaction: who, what, how much, at what cost, when, and how it
    was sold (channel, promotions, discount). Whether it is paid is on the invoice (`paid_on`), read with it."""
    return {
        "line_id": line["line_id"],
        "invoice_id": invoice["invoice_id"],
        "partner_id": invoice["partner_id"],
        "period": invoice["period"],
        "service_period": line["service_period"],
        "kind": line["kind"],
        "family": line["family"],
        "sku": line["sku"],
        "quantity": line["quantity"],
        "net_amount": line["amount"],
        "cost": line["cost"],
        "currency": invoice["currency"],
        "event_id": event_id,
        "event_ids": line["event_ids"],
        "channel": line.get("channel") or "resale",
        "promotions": list(line.get("promotions") or []),
        "discount_percent": line.get("discount_percent"),
        # Only when known, so the facts of lines without one keep their shape (and hash).
        **({"delivered_on": delivered} if (delivered := (line.get("detail") or {}).get("delivered_on")) else {}),
    }


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
        unit_price=unit_price_of(subscription),
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
    if subscription.get("unit_price"):
        return Decimal(subscription["unit_price"])
    return Decimal(subscription["monthly_price"]) / Decimal(subscription["quantity"])


def charge_in_advance(subscription: dict[str, Any], period: str) -> tuple[DailyCharge, int] | None:
    """The month's charge in advance at the quantity in force on its first charged day, and that quantity."""
    activated = parse_day(subscription["activated_on"])
    start = max(activated, period_bounds(period)[0])
    quantity = quantity_on(subscription, start)
    charge = month_charge(unit_price_of(subscription) * quantity, activated, period)
    return None if charge is None else (charge, quantity)


def changes_within(subscription: dict[str, Any], charged: ServicePeriod) -> list[tuple[dict[str, Any], DailyCharge]]:
    """The quantity changes that take effect inside a charged period after its first day, each with its proration."""
    found = []
    for change in subscription.get("changes") or []:
        if _in_force(change, charged.start):
            continue
        prorated = quantity_change(
            unit_price_of(subscription),
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
        credit = cancellation_credit(Decimal(subscription["monthly_price"]), parse_day(cancelled_on), charge.period)
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


@dataclass(frozen=True)
class Mismatch:
    """A subscription whose invoiced net for a month differs from what its record says (SOP-2.2)."""

    subscription_id: str
    partner_id: str
    period: str
    expected: Decimal
    invoiced: Decimal
    pending: Decimal = ZERO  # credits held for approval (SOP-2.5): owed by the record, not invoiced yet

    def as_dict(self) -> dict[str, str]:
        found = {
            "subscription_id": self.subscription_id,
            "partner_id": self.partner_id,
            "period": self.period,
            "expected": format_money(self.expected),
            "invoiced": format_money(self.invoiced),
            "difference": format_money(self.invoiced + self.pending - self.expected),
        }
        return {**found, "pending_approval": format_money(self.pending)} if self.pending else found


def reconcile(subscriptions: Sequence[dict[str, Any]], lines: Sequence[dict[str, Any]], period: str) -> list[Mismatch]:
    """Subscription lines of a month's invoices (charges and their credits, wherever posted, whose service period
    lies in the month) against the subscription records: every difference, to the cent, is a mismatch. A line of a
    subscription no record knows is a mismatch too (expected 0.00).

    A credit held for approval above the credit note limit (SOP-2.5) is owed but not invoiced: while it waits it is
    counted as pending, not as a difference; rejected, it is released and the month no longer expects it."""
    invoiced: dict[str, Decimal] = {}
    owner: dict[str, str] = {}
    for line in lines:
        sub_id = (line.get("detail") or {}).get("subscription_id")
        if sub_id and line["service_period"]["start"][:7] == period:
            invoiced[sub_id] = invoiced.get(sub_id, ZERO) + Decimal(line["amount"])
            owner[sub_id] = line["partner_id"]
    found = []
    records = {s["subscription_id"]: s for s in subscriptions}
    for sub_id in sorted(set(records) | set(invoiced)):
        record = records.get(sub_id)
        expected = expected_net(record, period) - held_credits(record, period, "rejected") if record else ZERO
        got, pending = invoiced.get(sub_id, ZERO), held_credits(record, period, "pending_approval")
        if expected != got + pending:
            partner = record["partner_id"] if record else owner[sub_id]
            found.append(Mismatch(sub_id, partner, period, expected, got, pending))
    return found


# --- statements of work -----------------------------------------------------------------------------------------
def beyond_statement_of_work(
    sow: dict[str, Any] | None, milestone: str, percent: Decimal, value: Decimal
) -> str | None:
    """Why a milestone cannot be billed on its statement of work, or None: each milestone is billed once, whatever
    ERP id it arrives under, and the milestones billed never total more than 100% of the SOW's value (PA-10.6,
    CPA-10.5: "Milestone percentages in a statement of work must total 100%")."""
    if sow is None:
        return None if percent <= HUNDRED else f"{percent}% is more than the whole statement of work"
    billed = sow["milestones"].get(milestone)
    if billed is not None:
        return (
            f"milestone {milestone} of {sow['sow_ref']} was already billed ({billed['line_id']}, ERP event "
            f"{billed['erp_event_id']}); billing it again would take the statement of work beyond 100%"
        )
    if Decimal(sow["sow_value"]) != value:
        return (
            f"{sow['sow_ref']} was billed at a value of {sow['sow_value']}; this milestone says {format_money(value)}"
        )
    total = Decimal(sow["billed_percent"]) + percent
    if total > HUNDRED:
        return f"{sow['sow_ref']} would reach {total}% with {milestone}; milestones total 100%"
    return None


def with_milestone(
    sow: dict[str, Any] | None,
    *,
    partner_id: str,
    sow_ref: str,
    milestone: str,
    percent: Decimal,
    value: Decimal,
    line_id: str,
    erp_event_id: str,
) -> dict[str, Any]:
    """The statement of work record with one more milestone billed."""
    base = sow or {
        "partner_id": partner_id,
        "sow_ref": sow_ref,
        "sow_value": format_money(value),
        "billed_percent": "0",
        "milestones": {},
    }
    return {
        **base,
        "billed_percent": f"{Decimal(base['billed_percent']) + percent:f}",
        "milestones": {
            **base["milestones"],
            milestone: {"percent": f"{percent:f}", "line_id": line_id, "erp_event_id": erp_event_id},
        },
    }


# --- plausibility ----------------------------------------------------------------------------------------------
# The day each ERP event says its fact happened. A cancellation's effective day may lie ahead (SOP-2.4: "unless the
# Partner specifies a later date"), so it is not here.
FACT_DAYS = {
    "shipment.confirmed": "shipped_on",
    "subscription.activated": "activated_on",
    "service.completed": "accepted_on",
    "usage.reported": "usage_date",
    "support.logged": "performed_on",
    "invoice.paid": "paid_on",
    "credit_note.issued": "issued_on",
    "return.received": "returned_on",
}
# PA-2.2 / CPA-2.2: no order before onboarding is verified; an approved partner stays billable when suspended
# (PA-13.2: orders already accepted are fulfilled) or terminated (PA-13.3: subscriptions run to their term).
BILLABLE_PARTNER_STATUSES = frozenset({"active", "suspended", "terminated"})


def implausible(
    detail_type: str,
    occurred_at: str,
    data: dict[str, Any],
    partner_status: str,
    *,
    now: datetime,
    tolerance: timedelta,
) -> str | None:
    """Why an ERP event cannot be true as sent, or None: it occurred in the future (beyond the clock tolerance),
    the fact it reports is dated after today or after the event itself, or its partner is not onboarded yet."""
    if partner_status not in BILLABLE_PARTNER_STATUSES:
        return (
            f"partner {data.get('partner_id')} is {partner_status}: a partner may not order before onboarding is "
            "verified"
        )
    occurred = instant(occurred_at)
    if occurred > now + tolerance:
        return f"it occurred at {occurred_at}, later than now ({now.isoformat()}) beyond the clock tolerance"
    if detail_type == "shipment.confirmed" and data.get("delivered_on"):
        delivered = parse_day(data["delivered_on"])
        if delivered < parse_day(data["shipped_on"]):
            return f"delivered_on {delivered} is before shipped_on {data['shipped_on']}"
        if delivered > occurred.date():
            return f"delivered_on {delivered} is after the event itself occurred ({occurred_at})"
    field_name = FACT_DAYS.get(detail_type)
    if field_name and data.get(field_name):
        day = parse_day(data[field_name])
        if day > (now + tolerance).date():
            return f"{field_name} {day} is in the future"
        if day > occurred.date():
            return f"{field_name} {day} is after the event itself occurred ({occurred_at})"
    return None


# --- invoice-line disputes (SOP-6.1 / COP-6.1) and their credit notes (SOP-2.5 / COP-2.4) ------------------------
CREDIT_NOTE_REASONS = ("billing_error", "return", "cancellation", "dispute_outcome", "rebate_settlement", "goodwill")


def dispute_window_closes(invoice: dict[str, Any], window_days: int) -> date:
    """The last day a line of an issued invoice may be disputed: `window_days` after the invoice date (the day it
    was finalized and issued)."""
    return instant(invoice["finalized_at"]).date() + timedelta(days=window_days)


def disputable_amount(line: dict[str, Any], credited: Decimal) -> Decimal:
    """What of a charged line may still be disputed: its amount less what credit notes already gave back."""
    return Decimal(line["amount"]) - credited


def check_dispute(
    invoice: dict[str, Any],
    line: dict[str, Any],
    amount: Decimal,
    credited: Decimal,
    *,
    today: date,
    book: BillingPolicy,
) -> None:
    """A partner may dispute a charged line of its issued invoice within the window, for at most what it was charged
    less what was already credited; raises RuleViolation naming the rule otherwise."""
    rule = book.disputes
    cite = f"({rule.rule_id}, {rule.clause})"
    if invoice["status"] != "finalized":
        raise RuleViolation(
            f"invoice {invoice['invoice_id']} is a draft: only an issued invoice's lines are disputed {cite}"
        )
    closes = dispute_window_closes(invoice, book.dispute_window_days)
    if today > closes:
        raise RuleViolation(
            f"disputes on invoice {invoice['invoice_id']} closed on {closes.isoformat()}, {book.dispute_window_days} "
            f"days after the invoice date {cite}"
        )
    if Decimal(line["amount"]) <= 0:
        raise RuleViolation(f"line {line['number']} is a credit, not a charge: nothing to dispute {cite}")
    if amount <= 0:
        raise RuleViolation("the disputed amount must be more than 0.00")
    left = disputable_amount(line, credited)
    if amount > left:
        raise RuleViolation(f"at most {format_money(left)} of line {line['number']} can be disputed {cite}")


def credit_note_draft(
    line: dict[str, Any],
    amount: Decimal,
    *,
    reason: str,
    rules: tuple[Rule, ...],
    detail: dict[str, Any],
    units: int = 0,
    returned_on: date | None = None,
) -> LineDraft:
    """A credit note for `amount` of an issued line: negative, referencing the line, with the line's service period,
    family, SKU and order (SOP-2.5: "a credit note referencing the original invoice and lines ... states its reason
    code"). Rebates count it where the credited line was (PA-1.2 net of credit notes).

    `units` are the units it takes back (a return, units billed in error): a per-unit program (SPIFF) loses them
    when the credit is dated within its return window of the credited line. A return is dated the day the goods
    came back (`returned_on`), so "not returned within 30 days of shipment" (PA-7.5) can be told; any other credit
    note keeps the credited line's service period."""
    if reason not in CREDIT_NOTE_REASONS:
        raise ValueError(f"unknown credit note reason {reason!r}")
    return LineDraft(
        kind="credit_note",
        description=f"Credit note ({reason.replace('_', ' ')}) for line {line['number']} of {line['invoice_id']}",
        family=line["family"],
        sku=line["sku"],
        quantity=Decimal(units),
        unit_price=None,
        amount=-round_money(amount),
        cost=None if not units or line.get("cost") is None else -credited_cost(line, units),
        service_period=(
            ServicePeriod.day(returned_on) if returned_on else ServicePeriod.from_dict(line["service_period"])
        ),
        order_ref=line["order_ref"],
        rules=rules,
        references_line=line["line_id"],
        detail={"reason": reason, "credited_invoice_id": line["invoice_id"], **detail},
        channel=line.get("channel") or "resale",
    )


def credit_note_needs_approval(amount: Decimal, book: BillingPolicy) -> bool:
    """SOP-2.5: "Credit notes above USD 10,000.00 require approval by a member of the finance queue other than the
    preparer" (COP-2.4: above EUR 5,000.00). Strictly above: a credit note of exactly the limit posts at once."""
    limit = book.credit_note_approval_above
    return limit is not None and abs(amount) > limit


# --- credit notes the ERP issues and returns it records (SOP-2.5 / COP-2.4, PA-7.5 / CPA-7.5) ---------------------
@dataclass(frozen=True)
class Credited:
    """What credit notes (the ERP's, returns, upheld disputes) have already taken back of one charged line."""

    amount: Decimal = ZERO
    units: int = 0


def line_units(line: dict[str, Any]) -> int:
    return int(Decimal(line["quantity"]))


def credited_cost(line: dict[str, Any], units: int) -> Decimal:
    """The cost of `units` of a line (unit cost x units, rounded once), taken back with them."""
    return round_money(Decimal(line["cost"]) * units / Decimal(line_units(line)))


def return_amount(line: dict[str, Any], units: int, credited: Credited) -> Decimal:
    """The credit for `units` returned of a shipped line: its net unit price x units, rounded once half-even; the
    last units of the line take whatever of it is left, so a line returned in full nets to 0.00."""
    if credited.units + units >= line_units(line):
        return Decimal(line["amount"]) - credited.amount
    return round_money(Decimal(line["unit_price"]) * units)


def check_erp_credit(
    line: dict[str, Any],
    amount: Decimal,
    units: int,
    credited: Credited,
    *,
    reason: str,
    returned_on: date | None,
    rule: Rule,
) -> None:
    """A credit note credits a charged line, for at most what is left of it (amount and units); a return takes back
    shipped goods, on or after the day they shipped. RuleViolation naming the rule otherwise."""
    cite = f"({rule.rule_id}, {rule.clause})"
    what = f"line {line['number']} of invoice {line['invoice_id']}"
    if Decimal(line["amount"]) <= 0:
        raise RuleViolation(f"{what} is a credit, not a charge: a credit note credits a charge {cite}")
    if reason == "return":
        if line["kind"] != "shipment":
            raise RuleViolation(f"{what} is a {line['kind']} line: only shipped goods are returned {cite}")
        if units <= 0:
            raise RuleViolation(f"a return names the units returned of {what} {cite}")
        shipped = parse_day(line["service_period"]["start"])
        if returned_on is None or returned_on < shipped:
            raise RuleViolation(f"{what} shipped on {shipped}; goods cannot come back before they left {cite}")
    if amount <= 0:
        raise RuleViolation(f"a credit note for {what} must be more than 0.00 {cite}")
    left = Decimal(line["amount"]) - credited.amount
    if amount > left:
        raise RuleViolation(
            f"at most {format_money(left)} of {what} is left to credit ({format_money(credited.amount)} already "
            f"credited) {cite}"
        )
    units_left = line_units(line) - credited.units
    if units > units_left:
        raise RuleViolation(f"at most {units_left} unit(s) of {what} are left to credit {cite}")
