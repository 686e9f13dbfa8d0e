"""How an upheld rebate dispute is paid (PA-7.9, SOP-6.3): by adjustment in the next settlement, or by a separate
credit note when that settlement is more than the policy's days away. Pure: the service says which runs are approved.

PA-7.9: "An upheld dispute is paid by adjustment in the next settlement, or by separate credit note if the next
settlement is more than 30 days away." SOP-6.3: "An upheld rebate dispute is paid as an adjustment in the next
settlement or by separate credit note under PA-7.9." CPA-7.9 has no credit note ("Upheld amounts are paid in the next
settlement"): a policy without `rebates.disputes.separate_credit_note` always pays in the next settlement.

The next settlement is the run of the latest ended period of the disputed statement's kind whose run 1 is not approved
yet, else of the period in progress. It is dated by the day its statements are due (SOP-7.2 / COP-7.2 "by Q + 45 days,
settlement statements and credit notes are issued", `rebates.settlement_approval.issue_within_days`): the contract
promises the partner no earlier day. A month's run, which has no deadline, is dated the day after its month ends.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ..rules import Rule
from .policy import MONTH, Period

NEXT_SETTLEMENT, CREDIT_NOTE = "next_settlement", "credit_note"


@dataclass(frozen=True)
class SeparateCreditNote:
    """`rebates.disputes.separate_credit_note` compiled: the rule, the days beyond which the next settlement is too far
    away, and the approvals category (finance) that approves the credit note."""

    rule: Rule
    after_days: int
    category: str

    @classmethod
    def of(cls, disputes: Mapping[str, Any]) -> SeparateCreditNote | None:
        node = disputes.get("separate_credit_note")
        if not node:
            return None
        return cls(Rule.of(node), int(node["next_settlement_after_days"]), str(node["category"]))


def next_settlement(
    kind: str, today: date, approved: Callable[[str], bool], issue_within_days: int | None
) -> tuple[Period, date]:
    """The period whose run is the next settlement after `today`, and the day its statements are due."""
    current = Period.containing(today.year * 12 + today.month - 1, kind)
    previous = current.shifted(-1 if kind == MONTH else -3)
    pending = current if approved(previous.name) else previous
    days = issue_within_days if issue_within_days is not None and kind != MONTH else 1
    return pending, pending.end + timedelta(days=days)


def payment(rule: SeparateCreditNote | None, today: date, period: Period, due: date) -> dict[str, Any]:
    """How the upheld amount is paid, decided on `today`: the method, the next settlement it was measured against and
    the rule that chose it."""
    away = (due - today).days
    by_note = rule is not None and away > rule.after_days
    chosen: dict[str, Any] = {
        "method": CREDIT_NOTE if by_note else NEXT_SETTLEMENT,
        "next_settlement": {"period": period.name, "due_by": due.isoformat(), "days_away": away},
    }
    if rule is not None:
        chosen.update(rule.rule.as_dict(), after_days=rule.after_days)
    return chosen


def credit_note(
    note_id: str, adjustment: Mapping[str, Any], chosen: Mapping[str, Any], by: str, at: str, currency: str
) -> dict[str, Any]:
    """The separate credit note of an upheld dispute, prepared by the finance member who decided it; a second member
    of the finance queue approves it before it is issued (SOP-7.2's four eyes on what settlement issues)."""
    kept = ("dispute_id", "settlement_id", "partner_id", "program_id", "period", "amount")
    return {
        "credit_note_id": note_id,
        **{k: adjustment[k] for k in kept},
        "currency": currency,
        "status": "pending_approval",
        "prepared_by": by,
        "prepared_at": at,
        "next_settlement": chosen["next_settlement"],
        "rule_id": chosen["rule_id"],
        "clause": chosen["clause"],
        "decision": None,
    }
