"""Human review of an automated decision on the partner's request (PA-14.2 / CPA-14.2). Pure: the service reads the
decision, the clock and the tenant's policy.

PA-14.2: "A Partner may request human review of any automated decision within 30 days of being notified of it; the
review is completed within 10 business days." CPA-14.2: "A Partner may request human review of an automated decision
within 30 days of notification; Contoso completes it within 15 business days."

Notified: a stored decision is answered to its caller in the same response that makes it (`POST /v1/pricing/check`
returns the decision with its outcome; `quote.checked` is published in the same commit), so the partner is notified
at the decision's `created_at`. The 30 days are calendar days (UTC) counted from that day: a request on the 30th day
after it is in time, one on the 31st is not. The review's 10 / 15 business days are its case's SLA
(`exception_routing.categories.<category>.sla_business_days`, on the partner's calendar).

The other automated decisions PA-14.2 lists, where the product makes them (`KINDS`), and when their partner is
notified of each (the window counts from it, as for a quote check):
- `rebate_statement`, a rebate calculation: the partner's statement of an issued settlement run; notified when the
  run is issued (its `settled_at`, the approval that releases the statements; the rebate dispute window counts from
  the same instant).
- `invoice_line`, an invoice validation: a line of an issued invoice, billed by the rules it cites; notified when the
  invoice is issued (its `finalized_at`). A draft invoice is not issued: nothing has been notified yet.
- `entitlement_check`, an entitlement check: the answer for one entitlement at an instant. The check is answered on
  request and not stored; its answer is the same whenever it is asked (the partner's record and the policy decide
  it), so the partner is notified of how an entitlement stood at an instant no earlier than that instant, and the 30
  days count from it: a check of the future has notified nothing yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from .errors import Conflict, RuleViolation
from .rules import Rule
from .time import iso

OPEN, CONFIRMED, CHANGED = "open", "confirmed", "changed"
REBATE_STATEMENT, INVOICE_LINE, ENTITLEMENT_CHECK = "rebate_statement", "invoice_line", "entitlement_check"
KINDS = (REBATE_STATEMENT, INVOICE_LINE, ENTITLEMENT_CHECK)  # the automated decisions beside the stored quote checks
# An approval of the review case: `approved` confirms the automated outcome, `rejected` does not (it is changed).
RESULTS = {"approved": CONFIRMED, "rejected": CHANGED}
# What a reviewer who does not confirm an automated allow decides instead. A deny is never changed (`deny_rules`).
CHANGED_TO = {"allow": ("deny", "rejected")}


@dataclass(frozen=True)
class ReviewPolicy:
    """`human_review`: the rule, the days after notification a request may be made, the case category it opens, and
    the category of each kind whose review another queue owns (`categories`; the SOP routing matrix)."""

    rule: Rule
    request_within_days: int
    category: str
    categories: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, policy: Mapping[str, Any]) -> ReviewPolicy | None:
        raw = policy.get("human_review")
        if raw is None:
            return None
        return cls(Rule(str(raw["id"]), str(raw["clause"])), int(raw["request_within_days"]), str(raw["category"]),
                   {str(k): str(v) for k, v in (raw.get("categories") or {}).items()})  # fmt: skip

    def category_of(self, kind: str) -> str:
        """The case category reviewing a decision of `kind`: its own where the policy names one, else `category`."""
        return self.categories.get(kind, self.category)


def reviewable(decision: Mapping[str, Any], rule: Rule) -> None:
    """A Conflict while a review of it is open; a RuleViolation when the decision is not automated: a person decided it
    (its approvals, or a review already concluded: PA-14.2 "made or confirmed by an authorised person"), or it waits
    for a person (`pending_approval`: its approvals decide it)."""
    review = decision.get("human_review") or {}
    not_reviewed(f"decision {decision['decision_id']}", review, rule)
    if decision.get("approvals") or decision["status"] != "final":
        how = "waits for its approvals" if decision["status"] == "pending_approval" else "was decided by its approvers"
        raise RuleViolation(
            f"decision {decision['decision_id']} {how}: human review is of an automated decision ({rule.clause})",
            extra={"rule_id": rule.rule_id, "clause": rule.clause, "current_status": decision["status"]},
        )


def not_reviewed(name: str, review: Mapping[str, Any], rule: Rule, **more: str) -> None:
    """A Conflict while a review of the decision `name` is open; a RuleViolation once one concluded: a person has then
    confirmed or changed it (PA-14.2 "made or confirmed by an authorised person"), and it is automated no more. `more`
    (the review's id) is added to either problem."""
    if review.get("status") == OPEN:
        raise Conflict(
            f"a human review of {name} is already open ({review['approval_id']})",
            extra={"approval_id": review["approval_id"], "rule_id": rule.rule_id, "clause": rule.clause, **more},
        )
    if review:
        raise RuleViolation(
            f"{name} was reviewed by a person: human review is of an automated decision ({rule.clause})",
            extra={"rule_id": rule.rule_id, "clause": rule.clause, "current_status": review.get("status"), **more},
        )


def window(policy: ReviewPolicy, notified_at: datetime, now: datetime) -> str:
    """When the request window closes: the start (UTC) of the day after the `request_within_days`th day after the
    notification, so a request any time on day 30 is in time and one on day 31 is not. A RuleViolation once closed."""
    last_day = notified_at.astimezone(UTC).date() + timedelta(days=policy.request_within_days)
    closes = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=UTC)
    if now >= closes:
        raise RuleViolation(
            f"human review may be requested within {policy.request_within_days} days of being notified of the "
            f"decision: the window closed at {iso(closes)} ({policy.rule.rule_id}, {policy.rule.clause})",
            extra={"rule_id": policy.rule.rule_id, "clause": policy.rule.clause, "window_closed_at": iso(closes)},
        )
    return iso(closes)


def deny_rules(decision: Mapping[str, Any]) -> list[dict[str, str]]:
    """The rules (id and clause) of every finding that denied the quote or one of its lines, once each."""
    result = decision.get("result") or {}
    findings = [*(result.get("findings") or []), *(f for line in result.get("lines") or []
                                                    for f in line.get("findings") or [])]  # fmt: skip
    seen = dict.fromkeys((str(f.get("rule_id")), str(f.get("clause"))) for f in findings if f.get("outcome") == "deny")
    return [{"rule_id": rule_id, "clause": clause} for rule_id, clause in seen]


def concluded(decision: Mapping[str, Any], case_status: str, rule: Rule) -> tuple[str, str, str]:
    """The review's result and the decision's outcome and status after it: confirmed, both unchanged; changed, an
    allow becomes a deny (status rejected).

    A deny is never changed into an allow: a quote check denies only what its contract lets no one approve (PA-6.4 /
    CPA-6.4 "cannot be approved under this Agreement", PA-6.3 / CPA-6.3 "A line priced below Line Cost cannot be
    approved", PA-6.5 / CPA-6.5 rejected combinations, PA-2.8 / CPA-2.8 "until Legal resolves it", a suspension under
    PA-13.2 / CPA-13.2, PA-4.3(b) "may not quote"); what a person may approve is `approval_required`, decided by the
    queues PA-6.6 / CPA-6.6 name. PA-14.2 gives the partner a review by a person, not an approval the Agreement
    withholds from every person: such a review is confirmed with its reason, and where the facts the check read were
    wrong, they are corrected and the quote is checked again. A RuleViolation naming the deny's rules otherwise."""
    result = RESULTS[case_status]
    if result == CONFIRMED:
        return result, str(decision["outcome"]), str(decision["status"])
    changed = CHANGED_TO.get(str(decision["outcome"]))
    if changed is None:
        denied = deny_rules(decision)
        named = ", ".join(f"{r['rule_id']} ({r['clause']})" for r in denied) or "its rules"
        raise RuleViolation(
            f"decision {decision['decision_id']} is a deny under {named}: the Agreement lets no one approve what they "
            f"refuse, so a review does not make it an allow ({rule.clause}); confirm it (`approved`) with the reason, "
            "and where the facts it read were wrong, correct them and check the quote again",
            extra={"rule_id": rule.rule_id, "clause": rule.clause, "deny_rules": denied,
                   "current_outcome": decision["outcome"]},
        )
    outcome, status = changed
    return result, outcome, status
