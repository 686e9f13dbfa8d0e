"""service.completed: an accepted milestone of a statement of work, billed once, never beyond 100% (PA-10.6)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ...domain import billing as core
from ...domain.billing import MilestoneService
from ...domain.partners import below_deployment_floor, certified_families
from ...domain.rules import Rule
from ...domain.time import parse_day, period_of
from .exceptions import fail, open_exception
from .lines import post_lines
from .posting import Outcome, Posting, entitlement
from .repository import STATEMENTS_OF_WORK, put_over


def service_completed(posting: Posting, partner: dict[str, Any]) -> Outcome:
    data, book = posting.data, posting.book
    partner_id = partner["partner_id"]
    service = book.services.get(data["service"])
    if service is None:
        problem = f"service {data['service']} is not a milestone service of the policy"
        return fail(posting, "unknown_partner_or_sku", problem, book.milestone_rule)
    percent = book.milestones.get(data["milestone"])
    if percent is None:
        problem = f"milestone {data['milestone']} is not in the schedule ({', '.join(book.milestones)})"
        return fail(posting, "rating_failure", problem, book.milestone_rule)
    if (uncertified := _uncertified(posting, partner)) is not None:
        return uncertified
    rules, included, out_of_scope = _in_scope(posting, partner_id, service)
    if out_of_scope is not None:
        return out_of_scope
    value = Decimal(data["sow_value"])
    sow_key = core.statement_of_work_key(partner_id, data["sow_ref"])
    sow = posting.get(STATEMENTS_OF_WORK, sow_key)
    as_sent = f"{partner_id}#{data['sow_ref']}"
    if sow is None and as_sent != sow_key:  # recorded before 1.57.2 under the ref as sent: found and kept there
        old = posting.get(STATEMENTS_OF_WORK, as_sent)
        sow_key, sow = (as_sent, old) if old is not None else (sow_key, None)
    beyond = core.beyond_statement_of_work(sow.data if sow else None, data["milestone"], percent, value)
    if beyond is not None:
        case_id = open_exception(
            posting,
            book.sow_category,
            f"not billed: {beyond}",
            partner_id=partner_id,
            rules=(book.milestone_rule,),
            context={"sow_ref": data["sow_ref"], "milestone": data["milestone"]},
        )
        return Outcome("processed", f"not billed: {beyond}; exception {case_id}", settles_sla=True)
    draft = core.milestone_draft(service.name, data, percent, rules, included)
    (line,) = post_lines(posting, partner_id, period_of(draft.service_period.start), [draft])
    billed = core.with_milestone(
        sow.data if sow else None,
        partner_id=partner_id,
        sow_ref=data["sow_ref"],
        milestone=data["milestone"],
        percent=percent,
        value=value,
        line_id=line["line_id"],
        erp_event_id=posting.erp_event_id,
    )
    posting.changes.puts.append(put_over(STATEMENTS_OF_WORK, sow_key, billed, sow))
    return Outcome("processed", posted=True)


def _in_scope(
    posting: Posting, partner_id: str, service: MilestoneService
) -> tuple[tuple[Rule, ...], Rule | None, Outcome | None]:
    """The rules the milestone's line cites (the partner's entitlement among them when the service needs one), the
    entitlement rule under which it is an included service (or None: billed at list price), or the out-of-scope
    exception when the partner is not entitled and no change order was accepted.

    PA-9.3: premium onboarding "may not be sold to them as an included service; it may be purchased as a Service at
    list price" (CPA-9.3 "Authorized Partners may buy onboarding as a Service"): entitled on the acceptance day, the
    service is included, never invoiced at list price; not entitled, it is billed at list price under an accepted
    change order (SOP-5.3 / COP-5.3), otherwise not billed at all."""
    data, book = posting.data, posting.book
    rules: tuple[Rule, ...] = (service.rule, book.milestone_rule)
    if not service.entitlement:
        return rules, None, None
    answer = below_deployment_floor(entitlement(posting, partner_id, service.entitlement, data["accepted_on"]),
                                    data.get("deployment_list_value"), data.get("new_deployment"))
    held = Rule(answer["rule_id"], answer["clause"]) if answer["rule_id"] else None
    if held is not None:
        rules += (held,)
    if answer["entitled"]:
        return rules, held, None
    # PA-9.4 / CPA-9.4: managed support continues to the end of the Billing Month in which the entitlement ended
    # (still included, under the service's own clause: the answer's rule is then the certification lapse)
    if data["accepted_on"] <= answer.get("service_until", ""):
        return rules, service.rule, None
    if data.get("change_order_ref"):
        return rules, None, None
    case_id = open_exception(
        posting,
        "out_of_scope_service",
        f"{service.name} is outside the partner's contracted scope ({answer['reason']}) and has no accepted "
        "change order: not billed",
        partner_id=partner_id,
        rules=rules,
        context={"service": data["service"], "sow_ref": data["sow_ref"], "milestone": data["milestone"]},
    )
    return rules, None, Outcome("processed", f"out of contracted scope; exception {case_id}; not billed",
                                settles_sla=True)


UNCERTIFIED = "uncertified_statement_of_work"  # no category of SOP-4.1 / COP-4.1: channel ops triage


def _uncertified(posting: Posting, partner: dict[str, Any]) -> Outcome | None:
    """PA-2.5 / CPA-2.7: "An Implementation Partner may not be named on a statement of work for a Product Family in
    which it does not hold a valid certification". The statement of work of the milestone (`family`) names the
    partner; one of the types the policy binds that holds no valid certification of that family on the acceptance day
    (PA-4.x / CPA-4.x validity, as recorded) is not billed on it: an exception naming `/data/family`, which SOP-4.1 /
    COP-4.1 route to channel ops for triage (no category of the matrix), the line posted when the ERP sends the
    milestone again under a new id once a certified partner is named or the certification is recorded."""
    data, book = posting.data, posting.book
    rule = book.sow_certification
    if rule is None or partner.get("partner_type") not in book.sow_certified_types:
        return None
    family, day = str(data["family"]), parse_day(data["accepted_on"])
    if family in certified_families(posting.tenant.policy, partner, day):
        return None
    problem = (f"/data/family: implementation partner {partner['partner_id']} is named on statement of work "
               f"{data['sow_ref']} for {family} without a valid {family} certification on {day.isoformat()} "
               f"({rule.clause}): not billed")
    case_id = open_exception(
        posting,
        UNCERTIFIED,
        problem,
        partner_id=partner["partner_id"],
        rules=(rule,),
        context={"sow_ref": data["sow_ref"], "milestone": data["milestone"], "family": family,
                 "field": "/data/family"},
    )
    return Outcome("processed", f"{problem}; exception {case_id}", settles_sla=True)
