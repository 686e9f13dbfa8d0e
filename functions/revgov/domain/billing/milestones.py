"""Professional services and support: milestone amounts, statements of work (PA-10.6), support overage hours."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..money import format_money, percent_of
from ..rules import Rule
from ..time import parse_day
from .invoices import LineDraft, erp_reference
from .periods import HUNDRED, ZERO, ServicePeriod


# --- services and support -------------------------------------------------------------------------------------
def milestone_amount(contract_value: Decimal, percent: Decimal) -> Decimal:
    return percent_of(contract_value, percent)


def overage_hours(used_before: Decimal, hours: Decimal, allowance: Decimal) -> Decimal:
    """The part of `hours` that falls beyond the quarter's allowance."""
    return max(ZERO, used_before + hours - max(used_before, allowance))


def shares_crossed(used_before: Decimal, hours: Decimal, allowance: Decimal, percents: tuple[int, ...]) -> list[int]:
    """The shares of the allowance (percent) that `hours` reach for the first time: used before < share <= used
    after (SOP-5.4: "When a Partner has used 80% of its quarterly support hours ... notifies")."""
    if allowance <= 0:
        return []
    after = used_before + hours
    return [p for p in percents if used_before < allowance * p / HUNDRED <= after]


# --- statements of work -----------------------------------------------------------------------------------------
def statement_of_work_key(partner_id: str, sow_ref: object) -> str:
    """`partner#sow_ref`, the statement of work as billing knows it (`erp_reference`: `SOW-1` and `sow-1` are one, so
    a milestone is billed on it once, PA-10.6 / CPA-10.5). Records made before 1.57.2 are keyed by the ref as sent."""
    return f"{partner_id}#{erp_reference(sow_ref) or sow_ref}"


def beyond_statement_of_work(
    sow: dict[str, Any] | None, milestone: str, percent: Decimal, value: Decimal
) -> str | None:
    """Why a milestone cannot be billed on its statement of work, or None: each milestone is billed once, whatever
    ERP id it arrives under, and the milestones billed never total more than 100% of the SOW's value (PA-10.6,
    CPA-10.5: "Milestone percentages in a statement of work must total 100%")."""
    if sow is None:
        return None if percent <= HUNDRED else f"{percent}% is more than the whole statement of work"
    billed = sow["milestones"].get(milestone)
    if billed is not None:
        return (
            f"milestone {milestone} of {sow['sow_ref']} was already billed ({billed['line_id']}, ERP event "
            f"{billed['erp_event_id']}); billing it again would take the statement of work beyond 100%"
        )
    if Decimal(sow["sow_value"]) != value:
        return (
            f"{sow['sow_ref']} was billed at a value of {sow['sow_value']}; this milestone says {format_money(value)}"
        )
    total = Decimal(sow["billed_percent"]) + percent
    if total > HUNDRED:
        return f"{sow['sow_ref']} would reach {total}% with {milestone}; milestones total 100%"
    return None


def with_milestone(
    sow: dict[str, Any] | None,
    *,
    partner_id: str,
    sow_ref: str,
    milestone: str,
    percent: Decimal,
    value: Decimal,
    line_id: str,
    erp_event_id: str,
) -> dict[str, Any]:
    """The statement of work record with one more milestone billed."""
    base = sow or {
        "partner_id": partner_id,
        "sow_ref": sow_ref,
        "sow_value": format_money(value),
        "billed_percent": "0",
        "milestones": {},
    }
    return {
        **base,
        "billed_percent": f"{Decimal(base['billed_percent']) + percent:f}",
        "milestones": {
            **base["milestones"],
            milestone: {"percent": f"{percent:f}", "line_id": line_id, "erp_event_id": erp_event_id},
        },
    }


def milestone_draft(
    service_name: str, data: dict[str, Any], percent: Decimal, rules: tuple[Rule, ...], included: Rule | None = None
) -> LineDraft:
    """The line of an accepted milestone (`service.completed` data): its percentage of the statement of work's value,
    dated the day it was accepted. `included`: the entitlement rule under which the partner receives the service as
    an included service (PA-9.3 / PA-9.4, CPA-9.3 / CPA-9.4): never invoiced at list price, the line states the list
    amount and credits it in full (a 0.00 line citing the entitlement), so the invoice shows the service delivered
    and why it was not charged."""
    value = Decimal(data["sow_value"])
    at_list = milestone_amount(value, percent)
    description = f"{service_name}: {data['milestone']} ({percent}% of {data['sow_ref']})"
    detail: dict[str, Any] = {
        "milestone": data["milestone"],
        "percent": f"{percent:f}",
        "sow_value": format_money(value),
        "change_order_ref": data.get("change_order_ref"),
    }
    if included is not None:
        description += (f", included under {included.clause} ({included.rule_id}): list {format_money(at_list)} "
                        "less 100% entitlement credit")
        detail |= {
            "list_amount": format_money(at_list),
            "entitlement_credit": format_money(at_list),
            "included_under": {"rule_id": included.rule_id, "clause": included.clause},
        }
    return LineDraft(
        kind="milestone",
        description=description,
        family=data["family"],
        sku=None,
        quantity=Decimal(1),
        unit_price=None,
        amount=Decimal("0.00") if included is not None else at_list,
        cost=None,
        service_period=ServicePeriod.day(parse_day(data["accepted_on"])),
        order_ref=data["sow_ref"],
        rules=rules,
        detail=detail,
    )
