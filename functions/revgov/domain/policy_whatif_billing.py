"""What-if for invoices: the stored lines of a period's invoices replayed under a policy draft's billing rules beside
the policy in force's. Pure: each line is replayed from what it records with the function of domain.billing that
billed it (no second implementation):
- a shipment line: `shipment_drafts` (the price list in force on its day, or on the day its quote priced it
  (`detail.priced_on`, PA-1.2 / PA-6.1 / CPA-6.1), less its discount: PA-10.2);
- a subscription's activation month: `activation_draft` (the price list's monthly price prorated from the activation
  day, both days included: PA-10.3 / SOP-2.3 / CPA-10.2 / COP-2.3);
- a cancellation credit: `cancellation_credit` (the full days after the effective day: PA-10.4 / SOP-2.4 / CPA-10.3);
- a milestone: `milestone_draft` at the schedule's percentage, never beyond its statement of work
  (`beyond_statement_of_work`, `with_milestone`: PA-10.6 / CPA-10.5);
- every credit (cancellation and quantity-reduction credits, the ERP's credit notes and returns, credit notes held for
  approval): `credit_note_needs_approval` (SOP-2.5 / COP-2.4: a credit note above the limit waits for finance).
Other lines (usage, charges in advance, quantity changes, support overage) are kept as invoiced on both sides: no
billing rule but the usage rate tables (`usage-whatif`) prices them again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from .billing import (
    HELD_COMMITTED_TERM,
    BillingPolicy,
    LineDraft,
    ServicePeriod,
    activated_subscription,
    activation_draft,
    advance_charge_draft,
    beyond_statement_of_work,
    cancellation_credit,
    cancellation_draft,
    charge_in_advance,
    credit_note_needs_approval,
    milestone_draft,
    shipment_drafts,
    statement_of_work_key,
    with_milestone,
)
from .money import format_money
from .time import parse_day

REPLAYED = ("shipment", "activation", "advance_charge", "cancellation", "milestone", "credit", "held_credit")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Side:
    """What a line comes to under one policy: the amount on the invoice (0.00 when not billed or awaiting approval),
    its cost, whether it is `billed`, `awaiting_approval` (a credit above the limit) or `not_billed`, and why not."""

    amount: Decimal
    cost: Decimal | None
    status: str = "billed"
    reason: str | None = None
    rule_ids: tuple[str, ...] = ()
    pending: Decimal = ZERO  # a credit awaiting approval: its amount

    def as_dict(self) -> dict[str, Any]:
        return {"amount": format_money(self.amount), "status": self.status, "reason": self.reason,
                "rule_ids": list(self.rule_ids)}


def _billed(draft: LineDraft) -> Side:
    return Side(draft.amount, draft.cost, rule_ids=tuple(r.rule_id for r in draft.rules))


def _not_billed(reason: str) -> Side:
    return Side(ZERO, None, "not_billed", reason)


def _money(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def as_invoiced(line: Mapping[str, Any]) -> Side:
    return Side(Decimal(line["amount"]), _money(line.get("cost")), rule_ids=tuple(line.get("rule_ids") or ()))


def line_kind(line: Mapping[str, Any], book: BillingPolicy) -> str:
    """Which billing function made the line (a kind of REPLAYED), or `kept`: priced by no rule a replay applies."""
    kind, detail = str(line["kind"]), line.get("detail") or {}
    if kind in ("held_credit", "shipment", "milestone"):
        return kind
    if kind == "subscription" and detail.get("subscription_id") and "quantity_change" not in detail:
        return "advance_charge" if "billing_month" in detail else "activation"
    if kind == "credit" and "quantity_change" not in detail and book.cancellation.rule_id in line["rule_ids"]:
        return "cancellation"
    if kind in ("credit", "credit_note"):
        return "credit"
    return "kept"


# --- one line under one policy --------------------------------------------------------------------------------------
def _shipment(line: Mapping[str, Any], book: BillingPolicy) -> Side:
    day = line["service_period"]["start"]
    # a line priced from its quote's list (PA-1.2 / PA-6.1 / CPA-6.1) replays from the day it was priced on, where
    # the policy prices from the quote too
    priced_on = (line.get("detail") or {}).get("priced_on")
    quote = {"quoted_on": priced_on, "order_accepted_on": priced_on} if priced_on else {}
    data = {"shipped_on": day, "order_ref": line["order_ref"], "channel": line.get("channel"), **quote}
    on, _ = book.price_day(data, line["sku"], parse_day(day))
    item = book.price(line["sku"], on)
    if item is None or item.billing != "shipment":
        return _not_billed(f"SKU {line['sku']} is not a shipment item of the price list on {on.isoformat()}")
    entry = {"sku": line["sku"], "quantity": line["quantity"], "discount_percent": line.get("discount_percent"),
             "promotions": line.get("promotions") or []}
    (draft,) = shipment_drafts(book, {**data, "lines": [entry]})
    return _billed(draft)


def _activation(line: Mapping[str, Any], book: BillingPolicy, window: Window) -> Side:
    """The activation month prorated; the subscription is kept as billing records it, priced as this policy prices
    it, for its later charges and credits in the window."""
    day = line["service_period"]["start"]
    # priced from its quote's list (`detail.priced_on`, PA-1.2 / PA-6.1 / CPA-6.1) where this policy prices so too
    priced_on = line["detail"].get("priced_on")
    quote = {"quoted_on": priced_on, "order_accepted_on": priced_on} if priced_on else {}
    on, quoted = book.price_day(quote, line["sku"], parse_day(day))
    item = book.price(line["sku"], on)
    if item is None or item.billing != "subscription":
        return _not_billed(f"SKU {line['sku']} is not a subscription of the price list on {on.isoformat()}")
    data = {"quantity": line["quantity"], "activated_on": day, "order_ref": line["order_ref"],
            "subscription_id": line["detail"]["subscription_id"], "channel": line.get("channel"),
            **({"priced_on": on.isoformat()} if quoted else {})}
    draft = activation_draft(item, data, book)
    if data["subscription_id"] in window.tracked:
        charged = {"partner_id": line["partner_id"], "channel": draft.channel, "line_id": line["line_id"],
                   "invoice_id": line["invoice_id"], "amount": format_money(draft.amount),
                   "service_period": draft.service_period.as_dict()}
        window.subscriptions[data["subscription_id"]] = activated_subscription(item, data, charged, parked=[],
                                                                               event_id="")
    return _billed(draft)


def _advance_charge(line: Mapping[str, Any], book: BillingPolicy, window: Window) -> Side:
    """A month charged in advance (PA-10.2) of a subscription activated in the window, at this policy's price; one
    activated before keeps its recorded price, so its charge is as invoiced."""
    sub = window.subscriptions.get(line["detail"]["subscription_id"])
    month = line["detail"]["billing_month"]
    charged = None if sub is None else charge_in_advance(sub, month)
    if sub is None or charged is None:
        return as_invoiced(line)
    item = book.subscription_item(sub)
    return _billed(advance_charge_draft(sub, item, month, charged, book))


def _cancellation(line: Mapping[str, Any], book: BillingPolicy, window: Window) -> Side:
    """The full days after the effective day (the day before the credit's service period starts) to the end of the
    month charged, at the subscription's monthly price: this policy's for one activated in the window, else the
    recorded one (with the recorded cost)."""
    period = ServicePeriod.from_dict(line["service_period"])
    effective_on = period.start - timedelta(days=1)
    sub = window.subscriptions.get(line["detail"]["subscription_id"])
    monthly = Decimal(sub["monthly_price"] if sub else line["detail"]["monthly_price"])
    credit = cancellation_credit(monthly, effective_on, period)
    if credit is None:
        return _not_billed("nothing billed after the effective day")
    item = None if sub is None else book.subscription_item(sub)
    if sub is None or item is None:
        return Side(-credit.amount, _money(line.get("cost")), rule_ids=(book.cancellation.rule_id,))
    draft = cancellation_draft(sub, credit, name=item.name, family=item.family, effective_on=effective_on.isoformat(),
                               unit_price=item.list_price, rules=(item.rule, book.cancellation),
                               order_ref=line["order_ref"], references_line=line["references_line"], detail={})
    return _billed(draft)


@dataclass
class Window:
    """What one policy's replay of the window carries from line to line: the statements of work the window's
    milestones go on (each as billed before the window, then milestone by milestone) and the subscriptions activated
    in the window (`tracked`: those no quantity change of the window touches), as billing would record them."""

    sows: dict[str, dict[str, Any] | None]
    tracked: frozenset[str]
    subscriptions: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, seeds: Mapping[str, dict[str, Any] | None], tracked: frozenset[str]) -> Window:
        return cls(dict(seeds), tracked, {})


def sow_key(line: Mapping[str, Any]) -> str:
    """The statement of work a milestone line was billed on, keyed as billing keys it (`statement_of_work_key`)."""
    return statement_of_work_key(line["partner_id"], line["order_ref"])


def _milestone(line: Mapping[str, Any], book: BillingPolicy, service: str | None, window: Window) -> Side:
    detail, key = line["detail"], sow_key(line)
    found = book.services.get(service or "")
    if found is None:
        return _not_billed(f"service {service} is not a milestone service of the policy")
    percent = book.milestones.get(detail["milestone"])
    if percent is None:
        return _not_billed(f"milestone {detail['milestone']} is not in the schedule ({', '.join(book.milestones)})")
    value = Decimal(detail["sow_value"])
    beyond = beyond_statement_of_work(window.sows.get(key), detail["milestone"], percent, value)
    if beyond is not None:
        return _not_billed(beyond)
    data = {"sow_value": detail["sow_value"], "milestone": detail["milestone"], "sow_ref": line["order_ref"],
            "family": line["family"], "accepted_on": line["service_period"]["start"],
            "change_order_ref": detail.get("change_order_ref")}
    kept_rules = tuple(r for r in line["rule_ids"] if r not in (found.rule.rule_id,))
    window.sows[key] = with_milestone(window.sows.get(key), partner_id=line["partner_id"], sow_ref=line["order_ref"],
                                     milestone=detail["milestone"], percent=percent, value=value,
                                     line_id=line["line_id"], erp_event_id=(line.get("erp_event_ids") or [""])[-1])
    side = _billed(milestone_draft(found.name, data, percent, (found.rule, book.milestone_rule)))
    return replace(side, rule_ids=tuple(dict.fromkeys((*side.rule_ids, *kept_rules))))


def replay_line(line: Mapping[str, Any], kind: str, book: BillingPolicy, *, service: str | None,
                window: Window) -> Side:
    """The line under `book` with the function that billed it; a line of a kind no replay prices is as invoiced."""
    if kind == "shipment":
        return _shipment(line, book)
    if kind == "activation":
        return _activation(line, book, window)
    if kind == "advance_charge":
        return _advance_charge(line, book, window)
    if kind == "cancellation":
        return _cancellation(line, book, window)
    if kind == "milestone":
        return _milestone(line, book, service, window)
    return as_invoiced(line)


def with_limit(side: Side, invoiced: Side, *, posted: bool, active: BillingPolicy, book: BillingPolicy,
               committed: bool = False) -> Side:
    """A credit under a policy's credit-note limit (SOP-2.5 / COP-2.4): above it, it waits for finance, unless it is
    the very credit that was posted after finance approved it (above the limit in force, same amount: the approval
    given stands). A credit held for approval (pending or rejected) posts at once under a policy that does not hold
    it. `committed`: a credit held in a committed term (PA-10.4 / CPA-10.3), which waits whatever its amount under a
    policy with `committed_term_credit`."""
    if side.status != "billed" or side.amount >= 0:
        return side
    rule = book.committed_term_credit
    if committed and rule is not None:
        return Side(ZERO, None, "awaiting_approval", f"in a committed term, credited only as the order allows: waits "
                    f"for finance ({rule.rule_id}, {rule.clause})", side.rule_ids, side.amount)
    if not credit_note_needs_approval(side.amount, book):
        return side
    if posted and side.amount == invoiced.amount and credit_note_needs_approval(invoiced.amount, active):
        return side
    limit = format_money(book.credit_note_approval_above or ZERO)
    return Side(ZERO, None, "awaiting_approval", f"above the credit-note limit of {limit}: waits for finance "
                f"({book.credit_notes.rule_id}, {book.credit_notes.clause})", side.rule_ids, side.amount)


# --- a period's lines under both policies ---------------------------------------------------------------------------
def held_line(hold: Mapping[str, Any]) -> dict[str, Any]:
    """A credit note held for approval (pending or rejected) as a line of the invoice it would have gone on."""
    return {"line_id": None, "invoice_id": hold["invoice_id"], "partner_id": hold["partner_id"], "kind": "held_credit",
            "amount": format_money(-Decimal(hold["amount"])), "cost": None, "rule_ids": [], "detail": {},
            "hold_id": hold["hold_id"], "status": hold["status"], "event_ids": [], "erp_event_ids": [],
            "held_for": hold.get("held_for")}


def service_of(line: Mapping[str, Any], book: BillingPolicy) -> str | None:
    """The milestone service a milestone line was billed for: the service whose rule it cites under `book`."""
    return next((s.service for s in book.services.values() if s.rule.rule_id in line["rule_ids"]), None)


def replay(lines: Sequence[Mapping[str, Any]], active: BillingPolicy, draft: BillingPolicy,
           seeds: Mapping[str, dict[str, Any] | None], segments: Mapping[str, str]) -> list[dict[str, Any]]:
    """Every line of the period (in the order billed; held credits last) under the policy in force and the draft:
    one row each with what was invoiced, `before` and `after`."""
    changed = {str((x.get("detail") or {}).get("subscription_id")) for x in lines
               if "quantity_change" in (x.get("detail") or {})}
    activated = {str(x["detail"]["subscription_id"]) for x in lines if line_kind(x, active) == "activation"}
    tracked = frozenset(activated - changed)
    sides = (Window.of(seeds, tracked), Window.of(seeds, tracked))
    rows = []
    for line in lines:
        kind = line_kind(line, active)
        service = service_of(line, active) if kind == "milestone" else None
        posted = kind != "held_credit"
        invoiced = as_invoiced(line) if posted else Side(ZERO, None, "awaiting_approval", line.get("status"),
                                                         pending=Decimal(line["amount"]))
        before, after = (
            with_limit(replay_line(line, kind, book, service=service, window=window), invoiced, posted=posted,
                       active=active, book=book, committed=line.get("held_for") == HELD_COMMITTED_TERM)
            for book, window in ((active, sides[0]), (draft, sides[1])))
        rows.append({"line": line, "kind": kind, "segment": segments.get(line["partner_id"], "none"),
                     "partner_id": line["partner_id"], "invoiced": invoiced, "before": before, "after": after})
    return rows


def row_view(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as the what-if answers it, with the ids and paths of the original records."""
    line = row["line"]
    return {"kind": row["kind"], "partner_id": row["partner_id"], "segment": row["segment"],
            "line_id": line["line_id"], "invoice_id": line["invoice_id"],
            "invoice": f"/v1/invoices/{line['invoice_id']}", "hold_id": line.get("hold_id"),
            "event_ids": list(line.get("event_ids") or [])[-5:],
            "erp_event_ids": list(line.get("erp_event_ids") or [])[-5:],
            "invoiced": format_money(row["invoiced"].amount),
            "before": row["before"].as_dict(), "after": row["after"].as_dict()}


def _count(rows: Iterable[Mapping[str, Any]], side: str) -> dict[str, Any]:
    held = [r[side].pending for r in rows if r[side].status == "awaiting_approval"]
    return {"count": len(held), "amount": format_money(sum(held, ZERO))}


def credit_limits(rows: Sequence[Mapping[str, Any]], active: BillingPolicy, draft: BillingPolicy) -> dict[str, Any]:
    """The credit-note limit under each policy and the credits waiting for approval under each."""
    def limit(book: BillingPolicy) -> str | None:
        return None if book.credit_note_approval_above is None else format_money(book.credit_note_approval_above)

    return {"limit_before": limit(active), "limit_after": limit(draft),
            "awaiting_before": _count(rows, "before"), "awaiting_after": _count(rows, "after")}


def by_kind(rows: Sequence[Mapping[str, Any]], examples: int) -> dict[str, Any]:
    """Per kind of line: how many, how many change, the amounts before and after, and up to `examples` changed rows."""
    out: dict[str, Any] = {}
    for kind in (*REPLAYED, "kept"):
        mine = [r for r in rows if r["kind"] == kind]
        changed = [r for r in mine if changes(r)]
        before = sum((r["before"].amount for r in mine), ZERO)
        after = sum((r["after"].amount for r in mine), ZERO)
        out[kind] = {"lines": len(mine), "changed": len(changed), "before": format_money(before),
                     "after": format_money(after), "change": format_money(after - before),
                     "examples": [row_view(r) for r in changed[:examples]]}
    return out


def changes(row: Mapping[str, Any]) -> bool:
    """The draft bills the line otherwise: another amount or another status (held, not billed)."""
    before, after = row["before"], row["after"]
    return bool(before.amount != after.amount or before.status != after.status)


def not_as_invoiced(rows: Sequence[Mapping[str, Any]], examples: int) -> dict[str, Any]:
    """Lines the policy in force would not bill as they were billed (billed under an earlier version, or a price
    list item changed since): the replay's own check against the records."""
    differ = [r for r in rows if r["line"]["line_id"] and r["before"].amount != r["invoiced"].amount]
    return {"count": len(differ), "examples": [row_view(r) for r in differ[:examples]]}
