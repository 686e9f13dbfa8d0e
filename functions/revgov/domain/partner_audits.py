"""Audits of a partner's records (PA-12.1 / CPA-12.1): notice, once per Program Year, findings, repayment. Pure.

PA-12.1: "On 30 days' written notice, and no more than once per Program Year unless a previous audit found a
discrepancy, the Distributor or an independent auditor may audit those records during business hours to verify
rebate, SPIFF, commission and MDF claims [...]. Where an audit finds that incentives were overpaid by more than 5% for
any Quarter, the Partner repays the overpayment and bears the reasonable cost of the audit."
CPA-12.1: "Contoso may audit them on 20 business days' notice, once per Program Year unless a discrepancy was found,
to verify incentive claims [...]. Where incentives were overpaid by more than 3% in a Quarter, the Partner repays them
and bears the audit cost."

The policy's `partner_audits` rule carries the notice (`notice_days`, calendar days, or `notice_business_days` on the
tenant's business calendar), the percentage (`overpaid_above_percent`) and the approval category of a repayment.
Readings kept (docs/partner-audits.md): the notice is given when the audit is scheduled (the clock's day); the audit
may start on the day the notice period ends, a business day ("during business hours"). The Program Year is the
calendar year of the audit's first day (PA-1.1 "'Program Year' means a calendar year"). "Overpaid by more than 5%" is
the overpayment (paid less verified, all four incentives of the Quarter together) above 5% of what the audit verified
as due: exactly 5.00 % is not "more than". A discrepancy is any incentive whose paid amount differs from the verified.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from .calendar import BusinessCalendar
from .errors import FieldError, MalformedRequest, RuleViolation
from .money import HUNDRED, ZERO, format_money, parse_money
from .rules import Rule

INCENTIVES = ("rebate", "spiff", "commission", "mdf")  # what PA-12.1 names: "rebate, SPIFF, commission and MDF claims"
MODEL_INCENTIVE = {"per_unit": "spiff", "commission": "commission"}  # any other program model pays a rebate
SCHEDULED, CLOSED = "scheduled", "closed"
MAX_TEXT = 500
STAFF_ONLY = ("scheduled_by", "closed_by")  # who on the distributor's staff acted: not the partner's record


@dataclass(frozen=True)
class AuditRule:
    """`partner_audits` compiled."""

    rule: Rule
    notice_days: int | None  # calendar days of written notice (PA-12.1: 30)
    notice_business_days: int | None  # business days of notice (CPA-12.1: 20)
    overpaid_above_percent: Decimal  # PA-12.1: 5; CPA-12.1: 3 ("more than")
    repayment_category: str  # the approval a repayment waits for (four-eyes, the finance queue)

    @classmethod
    def of(cls, policy: Mapping[str, Any]) -> AuditRule | None:
        node = policy.get("partner_audits")
        if not node:
            return None
        return cls(
            rule=Rule.of(node),
            notice_days=node.get("notice_days"),
            notice_business_days=node.get("notice_business_days"),
            overpaid_above_percent=Decimal(str(node["overpaid_above_percent"])),
            repayment_category=str(node["repayment_category"]),
        )

    def notice(self) -> str:
        if self.notice_business_days is not None:
            return f"{self.notice_business_days} business days' notice"
        return f"{self.notice_days} days' written notice"

    def earliest_start(self, notice_at: datetime, calendar: BusinessCalendar) -> date:
        """The first day the audit may start: the day the notice period ends (a business day)."""
        if self.notice_business_days is not None:
            return calendar.add_business_days(notice_at, self.notice_business_days).date()
        day = notice_at.date() + timedelta(days=int(self.notice_days or 0))
        return day if calendar.is_business_day(day) else calendar.next_business_day(day)


def _text(body: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT or not value.isprintable():
        problem = f"printable text, 1 to {MAX_TEXT} characters"
        raise MalformedRequest(f"{name} is {problem}", errors=[FieldError(f"/{name}", problem)])
    return value.strip()


def _day(body: Mapping[str, Any], name: str) -> date:
    value = body.get(name)
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError as exc:
        raise MalformedRequest(f"{name} is a day, YYYY-MM-DD",
                               errors=[FieldError(f"/{name}", "a day, YYYY-MM-DD")]) from exc  # fmt: skip


def _money(value: object, path: str) -> Decimal:
    try:
        amount = parse_money(value)
    except ValueError as exc:
        raise MalformedRequest(f"{path[1:]} is an amount, a decimal string with at most 2 places",
                               errors=[FieldError(path, "a decimal string such as \"1250.00\"")]) from exc  # fmt: skip
    if amount < 0:
        raise MalformedRequest(f"{path[1:]} cannot be negative", errors=[FieldError(path, "0.00 or more")])
    return amount


def _once_per_year(
    rule: AuditRule, partner_id: str, year: int, earlier: Sequence[Mapping[str, Any]], cited: str
) -> str | None:
    """No more than once per Program Year unless a previous audit found a discrepancy: refused (422 on /starts_on)
    when the year already has an audit and none found one; else the audit whose discrepancy allows a second, if any."""
    same_year = [a for a in earlier if a["program_year"] == year]
    found = [a["audit_id"] for a in earlier if a.get("discrepancy_found")]
    if same_year and not found:
        raise RuleViolation(
            f"partner {partner_id} was already audited in Program Year {year} ({same_year[0]['audit_id']}) and no "
            f"previous audit found a discrepancy: once per Program Year {cited}",
            errors=[FieldError("/starts_on", f"not in Program Year {year}")],
            extra={"audited_in_year": same_year[0]["audit_id"], **rule.rule.as_dict()},
        )
    return found[-1] if same_year else None


def schedule(
    rule: AuditRule,
    calendar: BusinessCalendar,
    body: Mapping[str, Any],
    *,
    audit_id: str,
    partner_id: str,
    now: datetime,
    by: str,
    earlier: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """A new audit of the partner from the caller's body (`starts_on`, optional `auditor`, `scope`), with the notice
    given now. Refused (422 on /starts_on) before the notice period ends, on a day that is not a business day, and in
    a Program Year that already has an audit of the partner unless an earlier audit found a discrepancy."""
    starts_on = _day(body, "starts_on")
    auditor = _text(body, "auditor", required=False)
    scope = _text(body, "scope", required=False)
    earliest = rule.earliest_start(now, calendar)
    cited = f"({rule.rule.rule_id}, {rule.rule.clause})"
    if starts_on < earliest:
        raise RuleViolation(
            f"an audit needs {rule.notice()}: given on {now.date().isoformat()}, it may start on "
            f"{earliest.isoformat()} at the earliest {cited}",
            errors=[FieldError("/starts_on", f"on or after {earliest.isoformat()}")],
            extra={"earliest_start": earliest.isoformat(), **rule.rule.as_dict()},
        )
    if not calendar.is_business_day(starts_on):
        raise RuleViolation(
            f"{starts_on.isoformat()} is not a business day: the records are audited during business hours {cited}",
            errors=[FieldError("/starts_on", "a business day")],
        )
    year = starts_on.year
    allowed_by = _once_per_year(rule, partner_id, year, earlier, cited)
    return {
        "audit_id": audit_id,
        "partner_id": partner_id,
        "status": SCHEDULED,
        "auditor": auditor,
        "scope": scope,
        "starts_on": starts_on.isoformat(),
        "program_year": year,
        "notice": {
            "given_at": _iso(now),
            "period": rule.notice(),
            "earliest_start": earliest.isoformat(),
        },
        # an extra audit in the year is allowed by an earlier audit's discrepancy: which one
        "allowed_by_discrepancy_of": allowed_by,
        "scheduled_by": by,
        "findings": [],
        "discrepancy_found": False,
        "overpaid_above_percent": f"{rule.overpaid_above_percent:f}",
        "audit_cost": None,
        "repayment": None,
        "closed_at": None,
        "closed_by": None,
        **rule.rule.as_dict(),
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def verified_of(body: Mapping[str, Any]) -> dict[str, Decimal]:
    """The incentives the audit verified as due for the Quarter: each of the four, a non-negative amount."""
    verified = body.get("verified")
    if not isinstance(verified, dict):
        raise MalformedRequest("verified is an object with rebate, spiff, commission and mdf amounts",
                               errors=[FieldError("/verified", "an object")])  # fmt: skip
    unknown = sorted(set(verified) - set(INCENTIVES))
    if unknown:
        raise MalformedRequest(f"verified has no {unknown[0]!r}",
                               errors=[FieldError(f"/verified/{unknown[0]}", "not an incentive")])  # fmt: skip
    missing = [k for k in INCENTIVES if k not in verified]
    if missing:
        raise MalformedRequest(f"verified needs {missing[0]}",
                               errors=[FieldError(f"/verified/{missing[0]}", "required")])  # fmt: skip
    return {k: _money(verified[k], f"/verified/{k}") for k in INCENTIVES}


def quarter_of(body: Mapping[str, Any]) -> tuple[str, date, date]:
    """The Quarter a finding is about (2026-Q3) with its first and last day."""
    name = body.get("quarter")
    try:
        if not isinstance(name, str) or len(name) != 7 or name[4:6] != "-Q" or name[6] not in "1234":
            raise ValueError(name)
        year, q = int(name[:4]), int(name[6])
        first = date(year, 3 * q - 2, 1)  # year 0 is no calendar's: a ValueError, the same 400
    except ValueError as exc:
        raise MalformedRequest("quarter is named like 2026-Q3",
                               errors=[FieldError("/quarter", "a Quarter, e.g. 2026-Q3")]) from exc  # fmt: skip
    # the Quarter's last day without the next one (9999-Q4 ends on 9999-12-31, the calendar's last day)
    last = date(year, 12, 31) if q == 4 else date(year, 3 * q + 1, 1) - timedelta(days=1)
    return name, first, last


def finding(
    rule: AuditRule, quarter: str, paid: Mapping[str, Decimal], verified: Mapping[str, Decimal], *, at: str, by: str
) -> dict[str, Any]:
    """A Quarter's finding: paid (as Revgov settled it) against verified, each incentive and in total; whether the
    overpayment is more than the clause's percentage of what was due (then the partner repays it)."""
    paid_total = sum((paid[k] for k in INCENTIVES), ZERO)
    verified_total = sum((verified[k] for k in INCENTIVES), ZERO)
    overpaid = paid_total - verified_total
    # exact: overpaid / verified > p / 100, never a rounded percentage
    repayable = overpaid > 0 and overpaid * HUNDRED > rule.overpaid_above_percent * verified_total
    percent = (overpaid * HUNDRED / verified_total) if verified_total > 0 else None
    return {
        "quarter": quarter,
        "paid": {k: format_money(paid[k]) for k in INCENTIVES},
        "verified": {k: format_money(verified[k]) for k in INCENTIVES},
        "paid_total": format_money(paid_total),
        "verified_total": format_money(verified_total),
        "overpaid": format_money(overpaid),
        "overpaid_percent": format_money(percent) if percent is not None else None,
        "discrepancy": any(paid[k] != verified[k] for k in INCENTIVES),
        "repayable": repayable,
        "repayment": format_money(overpaid) if repayable else "0.00",
        "recorded_at": at,
        "recorded_by": by,
    }


def with_finding(audit: Mapping[str, Any], found: dict[str, Any], today: date) -> dict[str, Any]:
    """The audit with one more Quarter's finding: only once it has started, while open, once per Quarter, and only
    for a Quarter that has ended."""
    if audit["status"] != SCHEDULED:
        raise RuleViolation(f"audit {audit['audit_id']} is {audit['status']}")
    if today < date.fromisoformat(audit["starts_on"]):
        raise RuleViolation(f"audit {audit['audit_id']} starts on {audit['starts_on']}: nothing is found before",
                            errors=[FieldError("/quarter", f"recorded from {audit['starts_on']}")])  # fmt: skip
    _, _, last = quarter_of(found)
    if last >= today:
        raise RuleViolation(f"{found['quarter']} has not ended: its incentives are not settled yet",
                            errors=[FieldError("/quarter", "a Quarter that has ended")])  # fmt: skip
    if any(f["quarter"] == found["quarter"] for f in audit["findings"]):
        raise RuleViolation(f"audit {audit['audit_id']} already has a finding for {found['quarter']}",
                            errors=[FieldError("/quarter", "one finding per Quarter")])  # fmt: skip
    findings = sorted([*audit["findings"], found], key=lambda f: f["quarter"])
    return {**audit, "findings": findings, "discrepancy_found": any(f["discrepancy"] for f in findings)}


def closed(rule: AuditRule, audit: Mapping[str, Any], body: Mapping[str, Any], *, at: str, by: str) -> dict[str, Any]:
    """The audit closed with its cost: what the partner repays (the overpayment of each Quarter above the percentage)
    and, when it repays anything, the audit's cost, which it bears; otherwise the distributor bears it."""
    if audit["status"] != SCHEDULED:
        raise RuleViolation(f"audit {audit['audit_id']} is {audit['status']}")
    if not audit["findings"]:
        raise RuleViolation(f"audit {audit['audit_id']} has no finding: record each Quarter's finding first",
                            errors=[FieldError("/audit_cost", "close after the findings")])  # fmt: skip
    cost = _money(body.get("audit_cost"), "/audit_cost")
    overpayment = sum((Decimal(f["repayment"]) for f in audit["findings"]), ZERO)
    repays = overpayment > 0
    repayment = None
    if repays:
        repayment = {
            "overpayment": format_money(overpayment),
            "audit_cost": format_money(cost),
            "total": format_money(overpayment + cost),
            "quarters": [f["quarter"] for f in audit["findings"] if f["repayable"]],
        }
    return {
        **audit,
        "status": CLOSED,
        "audit_cost": format_money(cost),
        "cost_borne_by": "partner" if repays else "distributor",
        "repayment": repayment,
        "closed_at": at,
        "closed_by": by,
    }


def partner_view(audit: Mapping[str, Any]) -> dict[str, Any]:
    """What the partner reads of its own audit: all but who on the staff acted."""
    shown = {k: v for k, v in audit.items() if k not in STAFF_ONLY}
    shown["findings"] = [{k: v for k, v in f.items() if k != "recorded_by"} for f in audit["findings"]]
    return shown


def incentive_of(model: str) -> str:
    """Which of PA-12.1's incentives a program of this model pays."""
    return MODEL_INCENTIVE.get(model, "rebate")
