"""support.logged: support hours beyond the quarter's allowance, billed when approved in writing or, where the
contract exempts it (CPA-9.2), severity 1; support on a family whose certification expired is out of scope (SOP-5.3 /
COP-5.3)."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from typing import Any

from ...domain import billing as core
from ...domain import partners as partner_rules
from ...domain.billing import LineDraft, ServicePeriod
from ...domain.calendar import BusinessCalendar
from ...domain.money import format_money, round_money
from ...domain.rules import Rule
from ...domain.time import instant, parse_day, period_of
from ...ports import DomainEvent
from .exceptions import open_exception
from .lines import post_lines
from .posting import Outcome, Posting, entitlement
from .repository import SUPPORT_HOURS, put_over
from .sales_tax_hold import held_if_billed


def support_logged(posting: Posting, partner: dict[str, Any]) -> Outcome:
    data, book = posting.data, posting.book
    performed_on = parse_day(data["performed_on"])
    if data["family"] in partner_rules.barred_families(posting.tenant.policy, partner, performed_on):
        return _out_of_scope(posting, partner)
    answer = entitlement(posting, partner["partner_id"], book.overage_entitlement, data["performed_on"])
    value = answer["value"]
    allowance = Decimal(value) if isinstance(value, int) and not isinstance(value, bool) else Decimal(0)
    quarter = core.quarter_of(performed_on)
    key = f"{partner['partner_id']}#{quarter}"
    stored = posting.get(SUPPORT_HOURS, key)
    used = Decimal(stored.data["hours_used"]) if stored else Decimal(0)
    hours = Decimal(data["hours"])
    over = core.overage_hours(used, hours, allowance)
    approved = bool(data.get("overage_approved")) or (data["severity"] == 1 and book.severity_1_without_approval)
    billed = over > 0 and approved
    held = held_if_billed(posting, partner) if billed else None
    if held is not None:  # PA-10.1: the overage line's tax cannot be calculated; nothing counted, nothing billed
        return held
    counter = {
        "partner_id": partner["partner_id"],
        "quarter": quarter,
        "hours_used": f"{used + hours:f}",
        "allowance": f"{allowance:f}",
    }
    posting.changes.puts.append(put_over(SUPPORT_HOURS, key, counter, stored))
    for percent in core.shares_crossed(used, hours, allowance, book.overage_notify_percents):
        posting.changes.events.append(_notice(book, counter, percent))
    rules: tuple[Rule, ...] = (book.overage,)
    if answer["rule_id"]:
        rules += (Rule(answer["rule_id"], answer["clause"]),)
    if over == 0:
        return Outcome("processed", f"{used + hours} of {allowance} support hours used in {quarter}")
    if not approved:
        case_id = open_exception(
            posting,
            "support_hours_overage",
            _unapproved(book, data["severity"], over, allowance, quarter),
            partner_id=partner["partner_id"],
            rules=rules + ((book.overage_approval,) if book.overage_approval else ()),
            context={"ticket_id": data["ticket_id"], "overage_hours": f"{over:f}"},
        )
        return Outcome("processed", f"overage not approved; exception {case_id}; not billed")
    line = _overage_line(book, data, over, allowance, quarter, rules)
    (posted,) = post_lines(posting, partner["partner_id"], period_of(performed_on), [line])
    if data["severity"] == 1:  # approved overage was asked for in writing; a severity-1 incident's is announced
        posting.changes.events.append(_overage_notice(posting, partner, quarter, over, posted))
    return Outcome("processed")


def _unapproved(book: core.BillingPolicy, severity: int, over: Decimal, allowance: Decimal, quarter: str) -> str:
    """Why hours beyond the allowance are not billed. PA-9.2: "Hours beyond the quarterly allowance are delivered only
    with the Partner's prior written approval" — no severity-1 exception, unlike CPA-9.2 ("except for severity 1
    incidents"); SOP-5.4's "Severity 1 incidents are always worked; hours above the allowance [...] are billed" gives
    way to the Agreement (PA-1.3: the Agreement over the SOP)."""
    rule = book.overage_approval
    if rule is not None and severity == 1:
        return (f"{over} h beyond the {allowance} h of {quarter} on a severity 1 incident without the Partner's prior "
                f"written approval: not billed ({rule.clause}, which prevails over {book.overage.clause})")
    if rule is not None and not book.severity_1_without_approval:
        return (f"{over} h beyond the {allowance} h of {quarter} without the Partner's prior written approval "
                f"({rule.clause})")
    return f"{over} h beyond the {allowance} h of {quarter} without severity 1 or written approval"


def _overage_notice(
    posting: Posting, partner: dict[str, Any], quarter: str, over: Decimal, line: dict[str, Any]
) -> DomainEvent:
    """SOP-5.4: "hours above the allowance for a severity 1 incident are billed as overage [...] and the Partner is
    notified within 1 business day" (COP-5.4: "notified to the Partner within 1 business day"): each one billed, for
    Customer Success to notify, due 1 business day after it was billed on the partner's calendar (PA-1.3 / CPA-1.3)."""
    book = posting.book
    calendar = BusinessCalendar.from_policy(posting.tenant.policy, partner.get("country"))
    due = calendar.add_business_days(instant(posting.now).astimezone(UTC), 1)
    detail = {"partner_id": partner["partner_id"], "quarter": quarter, "ticket_id": posting.data["ticket_id"],
              "severity": 1, "overage_hours": f"{over:.2f}", "hourly_rate": format_money(book.overage_rate),
              "amount": line["amount"], "invoice_id": line["invoice_id"], "line_ids": [line["line_id"]],
              "notify_by": due.strftime("%Y-%m-%dT%H:%M:%SZ"), **book.overage.as_dict()}  # fmt: skip
    return DomainEvent("revgov.billing", "support.overage_billed", detail)


def _notice(book: core.BillingPolicy, counter: dict[str, Any], percent: int) -> DomainEvent:
    """SOP-5.4 / COP-5.4: Customer Success notifies the partner when a share of the quarter's hours is used."""
    detail = {**counter, "hours_used": f"{Decimal(counter['hours_used']):.2f}", "percent": percent,
              **book.overage.as_dict()}  # fmt: skip
    return DomainEvent("revgov.billing", "support.hours_threshold_reached", detail)


def _overage_line(
    book: core.BillingPolicy, data: dict[str, Any], over: Decimal, allowance: Decimal, quarter: str,
    rules: tuple[Rule, ...],
) -> LineDraft:
    return LineDraft(
        kind="support_overage",
        description=f"Support overage, ticket {data['ticket_id']}: {over} h beyond {allowance} h in {quarter}",
        family=data["family"],
        sku=book.overage_sku,
        quantity=over,
        unit_price=book.overage_rate,
        amount=round_money(over * book.overage_rate),
        cost=None,
        service_period=ServicePeriod.day(parse_day(data["performed_on"])),
        order_ref=data["ticket_id"],
        rules=rules,
        detail={"severity": data["severity"], "overage_approved": bool(data.get("overage_approved"))},
    )


def _out_of_scope(posting: Posting, partner: dict[str, Any]) -> Outcome:
    """SOP-5.3 / COP-5.3: work "on a Product Family for which the Partner's certification has expired" is out of scope:
    an out_of_scope_service exception for customer_success; not billed, not taken from the included hours (PA-4.3 /
    CPA-4.3: delivered only as out-of-scope services)."""
    data, book = posting.data, posting.book
    lapse = posting.tenant.policy.get("onboarding", {}).get("certification_lapse")
    rules = tuple(r for r in (book.out_of_scope, Rule.of(lapse) if lapse else None) if r is not None)
    case_id = open_exception(
        posting,
        "out_of_scope_service",
        f"{data['hours']} h of support on {data['family']}, whose certification has expired with no other valid one "
        "held: out of scope, not included hours; not billed without an accepted change order",
        partner_id=partner["partner_id"],
        rules=rules,
        context={"ticket_id": data["ticket_id"], "family": data["family"], "hours": data["hours"]},
    )
    return Outcome("processed", f"out of scope; exception {case_id}; not billed")
