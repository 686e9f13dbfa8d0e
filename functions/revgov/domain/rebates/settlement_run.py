"""A settlement run's review: prepared (figures computed and frozen), then approved by a second member of the finance
queue, which issues the statements, or rejected with a reason. Pure.

SOP-7.2 (northwind): "by Q + 30 days, Finance completes review of the rebate run, approved by a second member of the
finance queue; by Q + 45 days, settlement statements and credit notes are issued under PA-7.8". COP-7.2 (contoso):
"rebate run approved by a second finance queue member by Q + 30 days; settlement statements and credit notes issued
by Q + 45 days". SOP-4.3 / COP-4.3: "A requester can never approve their own request"; the run's preparer (or whoever
holds a key the preparer minted after preparing it, services/key_lineage.py) neither approves nor rejects it.

The policy states the review as `rebates.settlement_approval` (`{id, clause, approve_within_days,
issue_within_days}`); a policy without it still has every run approved by a second finance member, citing the
settlement rule, with no deadlines. The deadlines count from the last day of a Quarter.

A monthly run (commissions) has the deadlines of `rebates.commission_deadlines` where the policy states them: SOP-7.1
"by the 3rd business day, commissions for month M are calculated under PA-8.2" (COP-7.1 "referral fees for M
calculated by the 3rd business day"), the run prepared by that business day after the month's last day on the
tenant's calendar (`calculate_by`); PA-8.2 "paid within 30 days after the end of the month in which the Customer paid
the invoice" (CPA-8.2), the run approved, which issues its statements, by the month's last day plus 30 days
(`issue_by`). Without it a monthly run has none.
A run's figures are frozen by `figures_hash`: the approval issues exactly what was prepared, or nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ..calendar import BusinessCalendar
from ..canonical import canonical_json, sha256_text
from ..errors import Conflict, Forbidden
from ..rules import Rule
from .policy import QUARTER, Period
from .settlement import Built

PREPARED, SETTLED, REJECTED, REPLACED = "prepared", "settled", "rejected", "replaced"
STATUSES = (PREPARED, SETTLED, REJECTED, REPLACED)
SELF_REVIEW = "self_approval"  # the refusal's name, as the approvals queue names it
FIGURES_CHANGED = "figures_changed"
# header fields only staff read: who prepared and reviewed the run, the frozen figures' hash, the review's deadlines
STAFF_ONLY = ("prepared_by", "prepared_by_key", "approved_by", "figures_hash", "review", "as_of", "replaced_by")


@dataclass(frozen=True)
class CommissionDeadlines:
    """`rebates.commission_deadlines` compiled: the business days after a month's end by which its commissions are
    calculated (the run prepared) and the days after it by which they are paid (the run approved and issued)."""

    calculate_rule: Rule
    calculate_within_business_days: int
    pay_rule: Rule
    pay_within_days: int
    calendar: BusinessCalendar

    @classmethod
    def of(cls, policy: Mapping[str, Any]) -> CommissionDeadlines | None:
        node = (policy.get("rebates") or {}).get("commission_deadlines")
        if not node:
            return None
        calculate, pay = node["calculate"], node["pay"]
        return cls(
            Rule.of(calculate),
            int(calculate["within_business_days"]),
            Rule.of(pay),
            int(pay["within_days"]),
            BusinessCalendar.from_policy(dict(policy)),
        )

    def calculate_by(self, period: Period) -> date:
        """The Nth business day after the month's last day (SOP-7.1 / COP-7.1 "by the 3rd business day")."""
        day = period.end
        for _ in range(self.calculate_within_business_days):
            day = self.calendar.next_business_day(day)
        return day

    def pay_by(self, period: Period) -> date:
        """PA-8.2 / CPA-8.2 "within 30 days after the end of the month": its last day plus the days."""
        return period.end + timedelta(days=self.pay_within_days)


@dataclass(frozen=True)
class Review:
    """`rebates.settlement_approval` compiled: the rule cited, and the days after a Quarter's end by which its run is
    approved and its statements issued (None: no deadline)."""

    rule: Rule
    approve_within_days: int | None = None
    issue_within_days: int | None = None
    monthly: CommissionDeadlines | None = None

    @classmethod
    def of(cls, policy: Mapping[str, Any], fallback: Rule) -> Review:
        node = (policy.get("rebates") or {}).get("settlement_approval")
        monthly = CommissionDeadlines.of(policy)
        if not node:
            return cls(fallback, monthly=monthly)
        approve, issue = node.get("approve_within_days"), node.get("issue_within_days")
        return cls(
            Rule.of(node), None if approve is None else int(approve), None if issue is None else int(issue), monthly
        )


def deadlines(review: Review, period: Period) -> dict[str, Any]:
    """The run's review as stored: the rule, and a Quarter's approve-by and issue-by days; a month's run its
    calculate-by and issue-by (pay-by) days under `rebates.commission_deadlines`, citing PA-8.2 / CPA-8.2 and
    SOP-7.1 / COP-7.1 (without them: none)."""
    if period.kind != QUARTER:
        monthly = review.monthly
        if monthly is None:
            return {**review.rule.as_dict(), "approve_by": None, "issue_by": None, "calculate_by": None, "overdue": []}
        return {
            **monthly.pay_rule.as_dict(),
            "approve_by": None,
            "issue_by": monthly.pay_by(period).isoformat(),
            "calculate_by": monthly.calculate_by(period).isoformat(),
            "calculation": monthly.calculate_rule.as_dict(),
            "overdue": [],
        }
    approve_by = _after(period.end, review.approve_within_days)
    issue_by = _after(period.end, review.issue_within_days)
    return {
        **review.rule.as_dict(),
        "approve_by": approve_by.isoformat() if approve_by else None,
        "issue_by": issue_by.isoformat() if issue_by else None,
        "calculate_by": None,
        "overdue": [],
    }


def with_overdue(header: Mapping[str, Any], today: date) -> dict[str, Any]:
    """The run's review with what is overdue: `approval` once its approve-by day has passed unapproved (or it was
    approved after it), `issue` likewise for the issue-by day (statements are issued on approval), `calculation` once
    a monthly run's calculate-by day passed before it was prepared (SOP-7.1 / COP-7.1: the figures are the
    calculation). A rejected or replaced run is nobody's deadline: the run that replaces it carries them."""
    stored = header["review"]
    done = header.get("approved_at")
    on = date.fromisoformat(str(done)[:10]) if done else today
    prepared = header.get("prepared_at")
    calculated = date.fromisoformat(str(prepared)[:10]) if prepared else today
    live = header["status"] in (PREPARED, SETTLED)
    late = [
        name
        for name, by, when in (
            ("calculation", stored.get("calculate_by"), calculated),
            ("approval", stored.get("approve_by"), on),
            ("issue", stored.get("issue_by"), on),
        )
        if by is not None and when > date.fromisoformat(by) and live
    ]
    return {**stored, "overdue": late, "as_of": on.isoformat()}


def _after(end: date, days: int | None) -> date | None:
    return None if days is None else end + timedelta(days=days)


def figures_hash(built: Built, settlement_id: str) -> str:
    """The hash of everything a run pays and states, leaving out only which run it is (`settlement_id`), when it
    is issued (the statement date and the instants the run stamps on what it settles) and who approves it: equal
    hashes, equal figures."""
    statements = [{k: v for k, v in s.items() if k not in ("statement_date", "approved_by")} for s in built.statements]
    states = {name: state["settled"] for name, state in built.period_states.items()}
    undated = [
        [{k: v for k, v in one.items() if k not in ("settled_at", "withheld_at", "released_at")} for one in docs]
        for docs in (built.adjustments, built.withheld, built.released)
    ]
    text = canonical_json(
        {
            "statements": statements,
            "trace_pages": built.trace_pages,
            "claims": built.claims,
            "period_states": states,
            "totals": built.totals,
            "findings": [f.as_dict() for f in built.findings],
            "adjustments": undated[0],
            "withheld": undated[1],
            "released": undated[2],
        }
    )
    return sha256_text(text.replace(settlement_id, "set_THIS_RUN"))


def refuse_reviewer(header: Mapping[str, Any], holders: frozenset[str], segregation: Rule, approving: bool) -> None:
    """Only a prepared run is reviewed, and never by its preparer: `holders` are the reviewing key and the keys
    that minted it after the run was prepared (services/key_lineage.py)."""
    act = "approve" if approving else "reject"
    if header["status"] != PREPARED:
        raise Conflict(
            f"settlement {header['settlement_id']} is {header['status']}; only a prepared run is approved or rejected",
            extra={"current_status": header["status"], "allowed_next": []},
        )
    if header.get("prepared_by_key") in holders:
        raise Forbidden(
            f"segregation of duties: the run's preparer (or a key minted by its holder) may not {act} it; a second "
            f"member of the finance queue does ({segregation.clause})",
            extra={"refusal": SELF_REVIEW, **segregation.as_dict()},
        )


def prepared(
    header: Mapping[str, Any], key_id: str, as_of: date, digest: str, review: dict[str, Any]
) -> dict[str, Any]:
    """A freshly built header as a prepared run: nothing settled, issued or visible to a partner yet."""
    return {
        **header,
        "status": PREPARED,
        "settled_at": None,
        "prepared_at": header["settled_at"],
        "prepared_by": header["settled_by"],
        "prepared_by_key": key_id,
        "approved_at": None,
        "approved_by": None,
        "as_of": as_of.isoformat(),
        "figures_hash": digest,
        "review": review,
    }


def approved(
    header: Mapping[str, Any], was: Mapping[str, Any], by: str, note: str | None, review: dict[str, Any]
) -> dict[str, Any]:
    """The header rebuilt at approval (`settled_at` the approval instant, the statements' date) as the issued run."""
    keep = ("prepared_at", "prepared_by", "prepared_by_key", "as_of", "figures_hash")
    decision = {"outcome": "approved", "by": by, "at": header["settled_at"], "reason": note}
    return {
        **header,
        **{k: was[k] for k in keep},
        "status": SETTLED,
        "approved_at": header["settled_at"],
        "approved_by": by,
        "review": {**review, "decision": decision},
    }


def rejected(header: Mapping[str, Any], by: str, at: str, reason: str) -> dict[str, Any]:
    """Sent back with its reason (SOP-6.3 style: every decision states its reason); a new preparation follows."""
    decision = {"outcome": "rejected", "by": by, "at": at, "reason": reason}
    return {**header, "status": REJECTED, "review": {**header["review"], "decision": decision}}


def replaced(header: Mapping[str, Any], by_settlement: str) -> dict[str, Any]:
    """An unapproved run a new preparation of the same period and run replaces: it can no longer be approved."""
    return {**header, "status": REPLACED, "replaced_by": by_settlement}
