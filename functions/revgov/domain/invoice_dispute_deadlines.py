"""An invoice dispute's days in business days, and what of it can be appealed (SOP-6.1 / COP-6.1, SOP-6.3 / COP-6.3).

SOP-6.1: "(1) the dispute is logged as an invoice_dispute exception and acknowledged within 1 business day; ... (3)
Finance decides within 10 business days". COP-6.1: "Finance logs an invoice_dispute exception and acknowledges within
1 business day, ... and decides within 10 business days." Counted from the filing on the partner's business-day
calendar (`domain.calendar`: PA-1.3 the program's holidays, CPA-1.3 the partner's country's).

SOP-6.3 ("A dispute is decided as upheld, partially upheld or rejected ... The Partner may appeal once, within 10
business days of the decision; the appeal is decided jointly by the head of Finance and Legal") and COP-6.3 ("A
Partner may appeal a dispute decision once") speak of every dispute of section 6, invoice disputes included. The
window and the joint decision are the rebate appeal's (`domain.rebates.appeals`: `AppealPolicy`, `window`,
`outcome`), reused as they are. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from .calendar import BusinessCalendar
from .errors import Conflict
from .money import format_money
from .time import iso

APPEALABLE = "rejected"  # an upheld dispute credited what it asked; only a rejection leaves something to win


def deadlines(disputes: Mapping[str, Any], calendar: BusinessCalendar, filed_at: datetime) -> dict[str, str | None]:
    """`acknowledge_by` and `decide_by`: the policy's business days (`billing.invoice_disputes`) after the filing;
    None where the policy states none."""

    def after(key: str) -> str | None:
        days = disputes.get(key)
        return None if days is None else iso(calendar.add_business_days(filed_at, int(days)))

    return {
        "acknowledge_by": after("acknowledge_within_business_days"),
        "decide_by": after("decide_within_business_days"),
    }


def appealable(dispute: Mapping[str, Any]) -> Decimal:
    """What an appeal of the dispute's decision can win: the disputed amount of a rejected dispute. A Conflict when it
    was appealed before ("may appeal once"), is not decided yet, or was upheld (credited: nothing to appeal)."""
    if dispute.get("appeal"):
        raise Conflict(
            f"invoice dispute {dispute['dispute_id']} was appealed once already (SOP-6.3 / COP-6.3: once)",
            extra={"current_status": dispute["status"], "appeal_status": dispute["appeal"]["status"]},
        )
    if dispute["status"] != APPEALABLE or not dispute.get("resolution"):
        why = "only a decision can be appealed" if dispute["status"] == "open" else "there is nothing to appeal"
        raise Conflict(f"invoice dispute {dispute['dispute_id']} is {dispute['status']}: {why}",
                       extra={"current_status": dispute["status"]})  # fmt: skip
    return Decimal(dispute["amount"])


def upheld_resolution(appeal: Mapping[str, Any], decisions: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The dispute's resolution when its appeal is upheld: upheld as of the last approval (`by` its decider: one actor,
    which a partner reads as its team; every decider is in `appeal.decisions`), with every decider's reason (SOP-6.3
    "Every decision states the reason"); `credited` is filled by the credit-note path."""
    last = decisions[-1]
    return {
        "outcome": "upheld",
        "reason": "; ".join(f"{d['category']}: {d['note']}" for d in decisions),
        "by": last["by"],
        "at": last["at"],
        "approval_id": last["approval_id"],
        "credit_note_line_id": None,
        "credited": format_money(Decimal(0)),
        "appeal": True,
    }
