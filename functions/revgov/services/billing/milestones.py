"""service.completed: an accepted milestone of a statement of work, billed once, never beyond 100% (PA-10.6)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ...domain import billing as core
from ...domain.billing import LineDraft, ServicePeriod
from ...domain.money import format_money
from ...domain.rules import Rule
from ...domain.time import parse_day, period_of
from .exceptions import fail, open_exception
from .lines import post_lines
from .posting import Outcome, Posting, entitlement
from .repository import STATEMENTS_OF_WORK, put_over


def service_completed(posting: Posting, partner: dict[str, Any]) -> Outcome:
    data, book = posting.data, posting.book
    service = book.services.get(data["service"])
    if service is None:
        return fail(
            posting,
            "unknown_partner_or_sku",
            f"service {data['service']} is not a milestone service of the policy",
            partner_id=partner["partner_id"],
            rules=(book.milestone_rule,),
        )
    percent = book.milestones.get(data["milestone"])
    if percent is None:
        return fail(
            posting,
            "rating_failure",
            f"milestone {data['milestone']} is not in the schedule ({', '.join(book.milestones)})",
            partner_id=partner["partner_id"],
            rules=(book.milestone_rule,),
        )
    rules: tuple[Rule, ...] = (service.rule, book.milestone_rule)
    if service.entitlement:
        answer = entitlement(posting, partner["partner_id"], service.entitlement, data["accepted_on"])
        if answer["rule_id"]:
            rules += (Rule(answer["rule_id"], answer["clause"]),)
        if not answer["entitled"] and not data.get("change_order_ref"):
            case_id = open_exception(
                posting,
                "out_of_scope_service",
                f"{service.name} is outside the partner's contracted scope ({answer['reason']}) and has no accepted "
                "change order: not billed",
                partner_id=partner["partner_id"],
                rules=rules,
                context={"service": data["service"], "sow_ref": data["sow_ref"], "milestone": data["milestone"]},
            )
            return Outcome("processed", f"out of contracted scope; exception {case_id}; not billed", settles_sla=True)
    accepted_on = parse_day(data["accepted_on"])
    value = Decimal(data["sow_value"])
    sow_key = f"{partner['partner_id']}#{data['sow_ref']}"
    sow = posting.get(STATEMENTS_OF_WORK, sow_key)
    beyond = core.beyond_statement_of_work(sow.data if sow else None, data["milestone"], percent, value)
    if beyond is not None:
        case_id = open_exception(
            posting,
            book.sow_category,
            f"not billed: {beyond}",
            partner_id=partner["partner_id"],
            rules=(book.milestone_rule,),
            context={"sow_ref": data["sow_ref"], "milestone": data["milestone"]},
        )
        return Outcome("processed", f"not billed: {beyond}; exception {case_id}", settles_sla=True)
    draft = LineDraft(
        kind="milestone",
        description=f"{service.name}: {data['milestone']} ({percent}% of {data['sow_ref']})",
        family=data["family"],
        sku=None,
        quantity=Decimal(1),
        unit_price=None,
        amount=core.milestone_amount(value, percent),
        cost=None,
        service_period=ServicePeriod.day(accepted_on),
        order_ref=data["sow_ref"],
        rules=rules,
        detail={
            "milestone": data["milestone"],
            "percent": f"{percent:f}",
            "sow_value": format_money(value),
            "change_order_ref": data.get("change_order_ref"),
        },
    )
    (line,) = post_lines(posting, partner["partner_id"], period_of(accepted_on), [draft])
    billed = core.with_milestone(
        sow.data if sow else None,
        partner_id=partner["partner_id"],
        sow_ref=data["sow_ref"],
        milestone=data["milestone"],
        percent=percent,
        value=value,
        line_id=line["line_id"],
        erp_event_id=posting.erp_event_id,
    )
    posting.changes.puts.append(put_over(STATEMENTS_OF_WORK, sow_key, billed, sow))
    return Outcome("processed", posted=True)
