"""Credit notes: invoice-line disputes (SOP-6.1), their approval limit (SOP-2.5), the ERP's credit notes and returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ..credit_reservations import held_of
from ..errors import RuleViolation
from ..money import format_money, round_money
from ..rules import Rule
from ..time import instant, parse_day
from .invoices import LineDraft
from .periods import ZERO, ServicePeriod
from .policy import BillingPolicy

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


# Why a credit note waits for finance (`held_for` of a hold): above the limit (SOP-2.5 / COP-2.4), or a subscription
# credit in a committed term, whatever its amount (PA-10.4 / CPA-10.3).
HELD_ABOVE_LIMIT, HELD_COMMITTED_TERM = "above_limit", "committed_term"


def credit_note_needs_approval(amount: Decimal, book: BillingPolicy) -> bool:
    """SOP-2.5: "Credit notes above USD 10,000.00 require approval by a member of the finance queue other than the
    preparer" (COP-2.4: above EUR 5,000.00). Strictly above: a credit note of exactly the limit posts at once."""
    limit = book.credit_note_approval_above
    return limit is not None and abs(amount) > limit


# --- credit notes the ERP issues and returns it records (SOP-2.5 / COP-2.4, PA-7.5 / CPA-7.5) ---------------------
@dataclass(frozen=True)
class Credited:
    """What credit notes (the ERP's, returns, upheld disputes) have already taken back of one charged line."""

    amount: Decimal = ZERO  # credited, or reserved by credit notes waiting for approval: what is left to credit
    units: int = 0
    held: Decimal = ZERO  # of `amount`, what credit notes waiting for approval reserve (not issued yet, SOP-2.5)
    holds: tuple[str, ...] = ()  # those credit notes' holds

    @property
    def issued(self) -> Decimal:
        """What issued credit notes took back of the line: a held one is no credit yet (SOP-2.5, approved "before it
        is issued"), so the line still stands charged for it."""
        return self.amount - self.held


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


def credited_of(erp_credits: dict[str, Any] | None, disputed: dict[str, Any] | None) -> Credited:
    """What a line's records say was credited of it: the ERP's credit notes and returns (amount and units) plus what
    upheld disputes credited (amount); of it, what credit notes waiting for approval hold."""
    amount = Decimal(erp_credits["credited"]) if erp_credits else Decimal("0.00")
    amount += Decimal(disputed["credited"]) if disputed else Decimal("0.00")
    held = held_of(erp_credits) + held_of(disputed)
    holds = tuple([*(erp_credits or {}).get("holds", []), *(disputed or {}).get("holds", [])])
    return Credited(amount, int(erp_credits["units"]) if erp_credits else 0, held, holds)


def new_line_credits(invoice_id: str, number: int) -> dict[str, Any]:
    """The record of what the ERP's credit notes and returns credited of a line, before the first of them."""
    return {"invoice_id": invoice_id, "line_no": number, "credited": "0.00", "units": 0, "refs": []}


def with_line_credit(record: dict[str, Any], amount: Decimal, units: int, ref: str) -> dict[str, Any]:
    """The record with one more credit note or return: its amount and units added, its reference kept (the last
    200, which is what answers a redelivered credit note as already recorded)."""
    return {
        **record,
        "credited": format_money(Decimal(record["credited"]) + amount),
        "units": int(record["units"]) + units,
        "refs": [*record["refs"], ref][-200:],
    }
