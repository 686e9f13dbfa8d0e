"""Invoices: line drafts, the draft invoice and its numbered lines, finalizing, payment, and the sales fact per line.

Amounts are computed in Decimal and rounded once, half-even, at line level (`money.round_money`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..canonical import sha256_hex
from ..errors import Conflict, RuleViolation
from ..money import format_money, format_unit_price, less_percent, line_amount, round_money
from ..rules import Rule
from ..time import instant, parse_day
from .periods import ZERO, ServicePeriod, period_ended
from .policy import BillingPolicy
from .rating import _quantity

# A line re-rated by every usage report of its month names the latest events only (the audit record of each posting
# names its event): what is rewritten per event stays the same size however many events the month holds (#17).
LINE_EVENT_IDS = 50


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


def sale_marks(source: Mapping[str, Any]) -> dict[str, Any]:
    """What the signed ERP event says of a sale that only rebates read, kept in the line's `detail` and on its sales
    fact only when stated (so other lines keep their shape and hash): `mdf_funded` (PA-7.1 / CPA-7.1: no rebate on
    "MDF-funded purchases") and the referred `customer_id` (PA-8.1 / CPA-8.1: commission for 12 months from the
    customer's first invoice)."""
    marks: dict[str, Any] = {}
    if source.get("mdf_funded") is True:
        marks["mdf_funded"] = True
    if source.get("customer_id"):
        marks["customer_id"] = str(source["customer_id"])
    if source.get("event_at"):  # the time the ERP recorded the order (PA-7.1: placed while suspended?)
        marks["event_at"] = str(source["event_at"])
    # PA-8.1 / CPA-8.1: the day the referral was accepted, and the first contact with the customer's decision maker
    for day in ("referral_accepted_on", "decision_maker_contacted_on"):
        if source.get(day):
            marks[day] = str(source[day])
    return marks


def new_invoice(
    *, invoice_id: str, partner_id: str, period: str, currency: str, opened_at: str, customer_id: str | None = None,
    direct: bool = False,
) -> dict[str, Any]:
    """A draft invoice of the partner for the month; `direct`: the Distributor's own invoice to the Customer the
    partner referred (PA-8.1 / CPA-8.1: the Distributor "invoices the Customer directly"), kept under the referring
    partner only as the base of its commission (`billed_to: customer`, the customer's `customer_id`)."""
    billed = {"billed_to": "customer", "customer_id": customer_id} if direct else {}
    return {
        **billed,
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


def shipment_identity(data: Mapping[str, Any]) -> str:
    """What makes two ERP events the same shipment of an order (hashed): the ERP's `shipment_ref` (its shipment or
    delivery note number) when it names one; otherwise the day it shipped and what shipped, SKU by SKU and quantity.
    PA-10.1 / CPA-10.1: each invoice line identifies "the billable event (shipment, ...)", its service period and "the
    order reference"; a shipment is billed once, whatever ERP id it is sent under (the id only deduplicates deliveries
    of one event). A split shipment differs in its reference, its day or its quantities; its delivery report (the same
    shipment sent again with `delivered_on`, docs/billing.md) has the same identity: `delivered_on`, discounts and
    promotions (what it is billed at, not what shipped) are no part of it."""
    ref = shipment_ref(data)
    if ref is not None:
        return sha256_hex({"shipment_ref": ref})
    return shipment_content(data)


def shipment_ref(data: Mapping[str, Any]) -> str | None:
    """The ERP's `shipment_ref` as a shipment is known by it (None: none, or a blank one). A delivery note number names
    one shipment however it is spelled: `DN-7`, `dn-7` and ` DN-7 ` are one (PA-10.1 / CPA-10.1 "the billable event",
    billed once); its case and surrounding whitespace are no part of it, every other character is. Shipments recorded
    before this (under the ref exactly as sent) are still found by a ref spelled as then (`shipment_ref_as_sent`)."""
    return erp_reference(data.get("shipment_ref"))


def shipment_order(data: Mapping[str, Any]) -> str:
    """The ERP's `order_ref` as a shipment's order is known by it, by the rule of `shipment_ref`: `SO-1`, `so-1` and
    ` So-1 ` are one order (PA-10.1 / CPA-10.1: each line identifies "the order reference"; one billable event is
    billed once). Shipments recorded before this under the order exactly as sent are still found by the order spelled
    as then (`shipment_order_as_sent`)."""
    return erp_reference(data["order_ref"]) or str(data["order_ref"])


def shipment_order_as_sent(data: Mapping[str, Any]) -> str | None:
    """The order a shipment recorded before orders were compared without regard to case was keyed by, where it
    differs from `shipment_order` (an order sent in lower case or with whitespace around it), else None."""
    sent = str(data["order_ref"])
    return sent if sent != shipment_order(data) else None


def erp_reference(value: object) -> str | None:
    """An ERP reference as a billable event is known by it: its case and surrounding whitespace are no part of it,
    every other character is (None: none, or a blank one). The one rule every lookup by a reference uses: a shipment's
    `shipment_ref` and `order_ref` (PA-10.1 billed once), a credit note's or a return's reference (recorded once per
    line), an order line's order (PA-7.7(d) earned once)."""
    return str(value or "").strip().upper() or None


def shipment_ref_as_sent(data: Mapping[str, Any]) -> str | None:
    """The identity a shipment recorded before refs were compared without regard to case was keyed by, where it
    differs from `shipment_identity` (a ref sent in lower case or with whitespace around it), else None."""
    ref = data.get("shipment_ref")
    if not ref or str(ref) == shipment_ref(data):
        return None
    return sha256_hex({"shipment_ref": ref})


def shipment_content(data: Mapping[str, Any]) -> str:
    """What shipped (hashed): the day and the quantity of each SKU, summed over the lines naming it (`lines` is "one
    entry per SKU": 1 + 1 units of a SKU on two lines shipped what 2 on one line did). Two events whose content is
    the same are one shipment unless each names its own, different `shipment_ref` (a part of a split shipment)."""
    shipped: dict[str, int] = {}
    for x in data["lines"]:
        shipped[str(x["sku"])] = shipped.get(str(x["sku"]), 0) + int(x["quantity"])
    lines = [[sku, str(quantity)] for sku, quantity in sorted(shipped.items())]
    return sha256_hex({"shipped_on": data["shipped_on"], "lines": lines})


def shipment_drafts(book: BillingPolicy, data: dict[str, Any]) -> list[LineDraft]:
    """Shipped goods at list price less the line's discount (the List Price of the quote day where the ERP names the
    order's quote: `BillingPolicy.price_day`), one line per shipped SKU, for the day they shipped, or
    the day they were delivered where the policy bills their family on delivery and the ERP reports it (CPA-10.2)
    (SKUs already checked); the channel, promotions and discount travel with the line for rebates."""
    shipped_on = parse_day(data["shipped_on"])
    # The delivery day (proof of delivery), when the ERP knows it: where CPA-7.5's return window starts.
    detail = {"delivered_on": data["delivered_on"]} if data.get("delivered_on") else {}
    delivered_on = parse_day(data["delivered_on"]) if data.get("delivered_on") else None
    drafts = []
    for entry in data["lines"]:
        # PA-1.2 / PA-6.1 / CPA-6.1: the List Price of the quote the order was placed on, when the ERP names its day
        priced_on, quoted = book.price_day(data, entry["sku"], shipped_on)
        item, quantity = book.price(entry["sku"], priced_on), Decimal(entry["quantity"])
        if item is None:
            raise RuleViolation(f"SKU {entry['sku']} is not on the price list on {priced_on}")
        discount = Decimal(entry["discount_percent"]) if entry.get("discount_percent") else None
        unit_price = less_percent(item.list_price, discount)
        on_delivery = book.delivery_billing if delivered_on and item.family in book.delivery_families else None
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
                service_period=ServicePeriod.day(delivered_on if on_delivery and delivered_on else shipped_on),
                order_ref=data["order_ref"],
                rules=(item.rule, book.invoicing, *(r for r in (on_delivery, quoted) if r is not None)),
                channel=data.get("channel") or "resale",
                promotions=tuple(entry.get("promotions") or ()),
                discount_percent=discount,
                detail={**detail, **({"priced_on": priced_on.isoformat()} if quoted else {}),
                        **sale_marks({**data, "mdf_funded": entry.get("mdf_funded")})},
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
        "unit_price": None if draft.unit_price is None else format_unit_price(draft.unit_price),  # exact (PA-1.3)
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
    invoice: dict[str, Any], line: dict[str, Any], draft: LineDraft, *, event_id: str, erp_event_id: str, at: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A usage line re-rated with more of the month's usage: the line takes the new amount, the total the delta."""
    if invoice["status"] != "draft":
        raise Conflict(f"invoice {invoice['invoice_id']} is {invoice['status']}; its lines cannot change")
    delta = draft.amount - Decimal(line["amount"])
    updated = {
        **line_record(invoice, int(line["number"]), draft, event_id=event_id, erp_event_id=erp_event_id, posted_at=at),
        "event_ids": [*line["event_ids"], event_id][-LINE_EVENT_IDS:],
        "erp_event_ids": [*line["erp_event_ids"], erp_event_id][-LINE_EVENT_IDS:],
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


# The channels whose sales the Distributor invoices to the Customer itself: a referral (PA-8.1 / CPA-8.1 "invoices the
# Customer directly") and a sales agent's listed account (PA-8.2: "the Distributor's Invoiced Revenue [...] from the
# listed accounts", paid when "the Customer paid the invoice"); the partner earns a commission, never resells.
DIRECT_CHANNELS = frozenset({"referral", "sales_agent"})


def customer_of(invoice: Mapping[str, Any], partner: Mapping[str, Any] | None) -> dict[str, Any]:
    """Who an issued invoice is addressed to, as on the issue day (EU VAT Directive Art. 226(5) "the full name and
    address ... of the customer"; (4) the customer's VAT number under which it receives a reverse-charge supply: the
    number of the VIES check the invoice's treatment rests on). A direct invoice's customer is the referred End
    Customer, known by its id only; a partner's, the partner's recorded legal name and country."""
    rests_on = (invoice.get("tax") or {}).get("rests_on") or {}
    vat = {"vat_id": rests_on["vat_number"]} if rests_on.get("vat_number") else {}
    if billed_to_customer(invoice):
        return {"customer_id": invoice.get("customer_id"), **vat}
    known = {k: partner[k] for k in ("legal_name", "country") if partner and partner.get(k)}
    return {"partner_id": invoice["partner_id"], **known, **vat}


def billed_to_customer(record: Mapping[str, Any]) -> bool:
    """An invoice, or a sales fact of one, that the Distributor issued to a referred Customer (PA-8.1 / CPA-8.1
    "invoices the Customer directly"): not the partner's Invoiced Revenue (PA-1.2 / CPA-1.2 "amounts invoiced by the
    Distributor to the Partner"), only the base of its referral commission."""
    return record.get("billed_to") == "customer"


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
        # Only on the Distributor's direct invoice to a referred Customer (PA-8.1): no revenue of the partner's.
        **({"billed_to": "customer"} if invoice.get("billed_to") == "customer" else {}),
        "promotions": list(line.get("promotions") or []),
        "discount_percent": line.get("discount_percent"),
        # Only when known, so the facts of lines without one keep their shape (and hash).
        **({"delivered_on": delivered} if (delivered := (line.get("detail") or {}).get("delivered_on")) else {}),
        **sale_marks(line.get("detail") or {}),
    }
