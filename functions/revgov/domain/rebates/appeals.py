"""Appeals of a rebate dispute decision (SOP-6.3 / COP-6.3). Pure: the service reads the dispute and the calendar.

SOP-6.3: "The Partner may appeal once, within 10 business days of the decision; the appeal is decided jointly by the
head of Finance and Legal." COP-6.3: "A Partner may appeal a dispute decision once, within 10 business days, through
the Partner Portal. The appeal is decided by the head of Finance together with Legal within 15 business days."

`rebates.disputes.appeal` compiled: the window in business days of the partner's calendar (CPA-1.3), the days the
deciders have (None: northwind's SOP-6.3 names none) and one approval category per deciding role (a finance and a
legal queue): the appeal is upheld when every one approves it, and rejected by the first that rejects it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..calendar import BusinessCalendar
from ..errors import Conflict, RuleViolation
from ..money import format_money
from ..rules import Rule
from ..time import iso

OPEN, UPHELD, REJECTED = "open", "upheld", "rejected"
DECIDED = ("accepted", "rejected")  # a dispute's decided statuses (domain.rebates.disputes.resolution)


@dataclass(frozen=True)
class AppealPolicy:
    """`rebates.disputes.appeal`: rule, window, the deciders' days and the approval categories (one per role)."""

    rule: Rule
    within_business_days: int
    decide_within_business_days: int | None
    categories: tuple[str, ...]

    @classmethod
    def of(cls, disputes: Mapping[str, Any]) -> AppealPolicy | None:
        raw = disputes.get("appeal")
        if raw is None:
            return None
        decide = raw.get("decide_within_business_days")
        return cls(Rule(str(raw["id"]), str(raw["clause"])), int(raw["within_business_days"]),
                   None if decide is None else int(decide), tuple(raw["categories"]))  # fmt: skip


def appealable(dispute: Mapping[str, Any]) -> Decimal:
    """The amount an appeal can win: the disputed amount the decision did not accept. A Conflict when the dispute was
    appealed before ("may appeal once"), is not decided, or was upheld in full (nothing to appeal) or in part (its
    accepted part is paid by the dispute's one adjustment: appealing the rest is not built)."""
    if dispute.get("appeal"):
        raise Conflict(
            f"dispute {dispute['dispute_id']} was appealed once already (SOP-6.3 / COP-6.3: once)",
            extra={"current_status": dispute["status"], "appeal_status": dispute["appeal"]["status"]},
        )
    if dispute["status"] not in DECIDED or not dispute.get("resolution"):
        raise Conflict(f"dispute {dispute['dispute_id']} is {dispute['status']}: only a decision can be appealed",
                       extra={"current_status": dispute["status"]})  # fmt: skip
    accepted = Decimal(dispute["resolution"].get("amount") or "0")
    remaining = Decimal(dispute["amount"]) - accepted
    if remaining <= 0:
        raise Conflict(f"dispute {dispute['dispute_id']} was upheld in full: there is nothing to appeal",
                       extra={"current_status": dispute["status"]})  # fmt: skip
    if accepted > 0:  # its accepted part is already on its way (one adjustment per dispute): not built
        raise Conflict(f"dispute {dispute['dispute_id']} was upheld in part ({format_money(accepted)}); an appeal of a "
                       "partly upheld decision is not supported yet: ask finance", extra={"current_status":
                       dispute["status"], "accepted": format_money(accepted)})  # fmt: skip
    return remaining


def window(policy: AppealPolicy, calendar: BusinessCalendar, decided_at: datetime, now: datetime) -> dict[str, Any]:
    """When the appeal window closes and (where the SOP says) when the appeal is to be decided, counted from now; a
    RuleViolation once the window closed."""
    closes = calendar.add_business_days(decided_at, policy.within_business_days)
    if now > closes:
        raise RuleViolation(
            f"the appeal window closed at {iso(closes)}: {policy.within_business_days} business days after the "
            f"decision ({policy.rule.rule_id}, {policy.rule.clause})",
            extra={"rule_id": policy.rule.rule_id, "clause": policy.rule.clause, "window_closed_at": iso(closes)},
        )
    days = policy.decide_within_business_days
    return {
        "window_closes_at": iso(closes),
        "decide_by": None if days is None else iso(calendar.add_business_days(now, days)),
        "rule_id": policy.rule.rule_id,
        "clause": policy.rule.clause,
        "calendar": {"rule_id": calendar.rule_id, "clause": calendar.clause, "country": calendar.country},
    }


def outcome(categories: Sequence[str], decisions: Sequence[Mapping[str, Any]]) -> str:
    """Open until every deciding category approved (upheld: "decided jointly"); rejected by the first rejection."""
    if any(d["outcome"] == "rejected" for d in decisions):
        return REJECTED
    approved = {d["category"] for d in decisions if d["outcome"] == "approved"}
    return UPHELD if approved >= set(categories) else OPEN


def upheld_resolution(appeal: Mapping[str, Any], decisions: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The dispute's resolution when its appeal is upheld: the amount the appeal could win is accepted, as of the last
    approval, with the deciders' reasons (SOP-6.3 "Every decision states the reason")."""
    last = decisions[-1]
    return {
        "outcome": "accepted",
        "amount": appeal["amount"],
        "reason": "; ".join(f"{d['category']}: {d['note']}" for d in decisions),
        "by": " and ".join(d["by"] for d in decisions),
        "at": last["at"],
        "approval_id": last["approval_id"],
        "appeal": True,
    }
