"""The rules of a rebate dispute (PA-7.9, SOP-6.2): what may be disputed and until when, what its approval asks
finance, and what a decision pays. Pure: services.rebates.disputes reads, calls these and commits."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from ..calendar import BusinessCalendar
from ..errors import RuleViolation
from ..money import format_money
from ..time import iso
from .policy import Period, RebateBook


def disputed_lines(
    book: RebateBook, statement: Mapping[str, Any], program_id: str, amount: Decimal, period: str
) -> list[dict[str, Any]]:
    """The statement's lines of the disputed program; a RuleViolation when the amount is not positive, or when the
    statement has no line for it and it is no program of the statement's period. PA-7.9: a dispute "identifies the
    Quarter and program" (CPA-7.9 the same): a partner claiming a program its statement paid nothing under (a SPIFF
    unit not counted, a growth rebate not rated) disputes that program with no line of it, its settled amount 0.00."""
    rule = book.dispute_rule
    if amount <= 0:
        raise RuleViolation("the disputed amount must be more than 0.00")
    lines = [ln for ln in statement["lines"] if ln["program_id"] == program_id]
    if not lines and program_id not in {p.program_id for p in book.programs_for(Period.parse(period).kind)}:
        raise RuleViolation(
            f"the statement has no line for {program_id}, and it is no program of {period} ({rule.rule_id}, "
            f"{rule.clause})"
        )
    return lines


def window_closes(book: RebateBook, settled_at: str, today: date) -> date:
    """The last day a statement settled at `settled_at` may be disputed; a RuleViolation once it has passed."""
    rule, days = book.dispute_rule, book.dispute_window_days
    closes = date.fromisoformat(settled_at[:10]) + timedelta(days=days)
    if today > closes:
        raise RuleViolation(
            f"disputes on this statement closed on {closes.isoformat()}, {days} days after it "
            f"({rule.rule_id}, {rule.clause})"
        )
    return closes


def settled_amount(lines: list[dict[str, Any]]) -> str:
    return format_money(sum((Decimal(ln["amount"]) for ln in lines), Decimal(0)))


def approval_fields(book: RebateBook, dispute: Mapping[str, Any]) -> dict[str, Any]:
    """What the dispute's approval is opened with: the policy's dispute category, the rule, a risk score rising
    with the amount, and the figures finance decides on."""
    partner_id, program_id, amount = dispute["partner_id"], dispute["program_id"], dispute["amount"]
    return {
        "category": book.dispute_category,
        "reasons": [{**book.dispute_rule.as_dict(), "message": f"{partner_id} disputes {amount} of {program_id}"}],
        "risk_score": min(100, 30 + int(Decimal(amount)) // 1000),
        "partner_id": partner_id,
        "context": {"settlement_id": dispute["settlement_id"], "program_id": program_id, "amount": amount},
    }


def resolution(
    dispute: Mapping[str, Any], case: Mapping[str, Any], by: str, payload: Mapping[str, Any]
) -> dict[str, Any]:
    """The decided approval's outcome for the dispute: accepted (the amount the payload names, else the disputed
    one) or rejected, with the reason (the payload's, else the approval's note). A decision without a reason is a
    RuleViolation: finance decides "giving reasons and clause references" (PA-7.9; SOP-6.3 "Every decision states
    the reason"), and the approvals queue asks a note of a rejection only."""
    decision, accepted = case["decision"], case["status"] == "approved"
    reason = payload.get("reason") or decision.get("note")
    if not (isinstance(reason, str) and reason.strip()):
        raise RuleViolation(
            f"a decision on a rebate dispute states its reason: send a `note` ({dispute['rule_id']}, "
            f"{dispute['clause']}; SOP-6.3)"
        )
    return {
        "outcome": "accepted" if accepted else "rejected",
        "amount": (payload.get("amount") or dispute["amount"]) if accepted else None,
        "reason": reason,
        "by": by,
        "at": decision["at"],
        "approval_id": case["case_id"],
    }


def adjustment(dispute: Mapping[str, Any], resolved: Mapping[str, Any]) -> dict[str, Any]:
    """An accepted dispute's amount, pending until the next settlement run pays it (PA-7.9)."""
    kept = {k: dispute[k] for k in ("dispute_id", "settlement_id", "partner_id", "program_id", "period")}
    return {**kept, "amount": resolved["amount"], "status": "pending", "accepted_at": resolved["at"]}


def deadlines(
    disputes: Mapping[str, Any], calendar: BusinessCalendar, filed_at: datetime, acknowledged_at: datetime | None
) -> dict[str, Any] | None:
    """When finance acknowledges and decides a dispute, in business days of the tenant's calendar (the partner's
    country's where the contract counts them so, CPA-1.3): PA-7.9 "Finance acknowledges a dispute within 2 business
    days and decides it within 15 business days"; CPA-7.9 / COP-6.2 ("decides within 20 business days"): both
    periods from the dispute, `filing`. Where a policy's `decide_from` is `acknowledgement` the decision is due that
    many business days after the acknowledgement (before it: after the day it is due); northwind's SOP-6.2 "(5)
    decide within 15 business days of acknowledgement" would read so, but PA-1.3 puts PA-7.9 over the SOP (clause
    audit, eleventh round). None when the policy states no such days."""
    acknowledge, decide = disputes.get("acknowledge_within_business_days"), disputes.get("decide_within_business_days")
    if acknowledge is None or decide is None:
        return None
    acknowledge_by = calendar.add_business_days(filed_at, int(acknowledge))
    start = (acknowledged_at or acknowledge_by) if disputes.get("decide_from") == "acknowledgement" else filed_at
    decide_by = calendar.add_business_days(start, int(decide))
    return {
        "acknowledge_by": iso(acknowledge_by),
        "decide_by": iso(decide_by),
        "decide_from": disputes.get("decide_from", "filing"),
        "rule_id": str(disputes["id"]),
        "clause": str(disputes["clause"]),
        "calendar": {"rule_id": calendar.rule_id, "clause": calendar.clause, "country": calendar.country},
    }
