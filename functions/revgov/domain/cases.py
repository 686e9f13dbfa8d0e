"""Human-in-the-loop cases: approvals and exceptions share queues, SLAs, risk and segregation of duties.

An approval blocks something until a person of the right queue decides; an exception reports something
that went wrong and is resolved or dismissed. Both route by category through the tenant's policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NotRequired, TypedDict, cast

from .access import Principal, Role
from .calendar import BusinessCalendar
from .errors import Conflict, FieldError, Forbidden, RuleViolation
from .escalation import current as escalation_step
from .sla_pause import OPEN as OPEN  # re-exported: the open status of each kind of case
from .sla_pause import WAITING, close_pause

QUEUE_ROLES = {
    "finance": Role.FINANCE,
    "channel_ops": Role.CHANNEL_OPS,
    "legal": Role.LEGAL,
    "customer_success": Role.CUSTOMER_SUCCESS,
}
OUTCOMES = {"approval": ("approved", "rejected"), "exception": ("resolved", "dismissed")}
# what deciding each kind is called, for refusals that name what the caller tried
DECIDING = {"approval": "approve or reject", "exception": "resolve or dismiss"}


class Subject(TypedDict):
    """What a case decides or reports: a quote decision, a deal, a partner, an ERP event…"""

    kind: str
    id: str


class RuleRef(TypedDict):
    rule_id: str
    clause: str | None


class CaseDecision(TypedDict):
    """Who decided, in which role, the outcome, the note and when; when a rule settled the case otherwise than the
    reviewer asked, what was asked and that rule."""

    outcome: str
    by: str
    role: str
    note: str | None
    at: str
    requested_outcome: NotRequired[str]
    resolved_by_rule: NotRequired[RuleRef]


class Case(TypedDict):
    """An approval or an exception as stored: the fields of `schemas/api/responses/case.schema.json` (an answer adds
    `approval_id` / `exception_id`: `view`)."""

    case_id: str
    kind: str
    category: str
    queue: str
    status: str
    sla_hours: int | None
    sla_business_days: NotRequired[int | None]
    opened_at: str
    due_at: str
    risk_score: int
    subject: Subject
    partner_id: str | None
    reasons: list[dict[str, Any]]
    requested_by: str | None
    requested_by_key: str | None
    effect: str | None
    context: dict[str, Any]
    policy_version: str | None
    decision: CaseDecision | None
    seen_count: NotRequired[int]  # how many times a watcher found the same thing again
    last_seen_at: NotRequired[str]
    escalation: NotRequired[dict[str, str]]  # when the queue, its lead, the head are told (escalation.py)
    waiting: NotRequired[dict[str, Any]]  # while `waiting_on_partner`: since, asked_by, question (sla_pause.py)
    pauses: NotRequired[list[dict[str, Any]]]  # each wait on the partner, ended (SOP-1.3 / COP-1.3)
    paused_seconds: NotRequired[int]  # elapsed time spent waiting on the partner, off the SLA clock
    entered_at: NotRequired[str]  # a rerouted exception: when it first entered a queue (case_reroute.py)
    reroutes: NotRequired[list[dict[str, Any]]]  # each move to another queue, with the clock it left
    assignee: NotRequired[dict[str, Any]]  # the member of the queue working it (case_assignment.py)
    assignments: NotRequired[list[dict[str, Any]]]  # each assignment within the queue; the clock is kept


@dataclass(frozen=True)
class Route:
    """A category's queue and SLA: elapsed hours (`sla_hours`) or business days on the tenant's calendar."""

    rule_id: str
    queue: str
    sla_hours: int | None
    clause: str
    category: str
    sla_business_days: int | None = None
    calendar: BusinessCalendar | None = None

    def due(self, opened_at: str) -> str:
        if self.sla_business_days is not None:
            calendar = self.calendar or BusinessCalendar.from_policy({})
            moment = calendar.add_business_days(_parse(opened_at), self.sla_business_days)
            return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return due_at(opened_at, int(self.sla_hours or 0))


def route_for(policy: dict[str, Any], category: str, country: str | None = None) -> Route:
    """The queue and SLA for a category; an unknown category goes to triage, as the SOP says. Business days run on
    the calendar of the partner's country of establishment where the policy lists holidays by country (CPA-1.3)."""
    routing = policy["exception_routing"]
    rule = routing["categories"].get(category) or routing["triage"]
    days = rule.get("sla_business_days")
    return Route(
        rule["id"],
        rule["queue"],
        int(rule["sla_hours"]) if rule.get("sla_hours") is not None else None,
        rule["clause"],
        category,
        sla_business_days=int(days) if days is not None else None,
        calendar=BusinessCalendar.from_policy(policy, country) if days is not None else None,
    )


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def due_at(opened_at: str, sla_hours: int) -> str:
    due = _parse(opened_at) + timedelta(hours=sla_hours)
    return due.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_case(
    *,
    case_id: str,
    kind: str,
    route: Route,
    subject_kind: str,
    subject_id: str,
    reasons: list[dict[str, Any]],
    requested_by: Principal | str,
    opened_at: str,
    risk_score: int,
    partner_id: str | None = None,
    effect: str | None = None,
    context: dict[str, Any] | None = None,
    policy_version: str | None = None,
) -> Case:
    if kind not in OPEN:
        raise ValueError(f"unknown case kind {kind}")
    requester_key = requested_by.key_id if isinstance(requested_by, Principal) else None
    requester = requested_by.actor if isinstance(requested_by, Principal) else requested_by
    return {
        "case_id": case_id,
        "kind": kind,
        "category": route.category,
        "queue": route.queue,
        "status": OPEN[kind],
        "sla_hours": route.sla_hours,
        "sla_business_days": route.sla_business_days,
        "opened_at": opened_at,
        "due_at": route.due(opened_at),
        "risk_score": max(0, min(100, risk_score)),
        "subject": {"kind": subject_kind, "id": subject_id},
        "partner_id": partner_id,
        "reasons": [
            {"rule_id": route.rule_id, "clause": route.clause, "message": f"routed to {route.queue}"},
            *reasons,
        ],
        "requested_by": requester,
        "requested_by_key": requester_key,
        "effect": effect,
        "context": context or {},
        "policy_version": policy_version,
        "decision": None,
    }


SELF_APPROVAL, WRONG_QUEUE, ALREADY_DECIDED = "self_approval", "wrong_queue", "already_decided"
PARTNER_DECISION = "partner_decision"  # SOP-4.3 / COP-4.3: partner users "may request but never approve"
SAME_PERSON = "same_person"  # a second approval of one request by whoever gave another (SOP-4.3)


def decide(
    case: Case,
    who: Principal,
    outcome: str,
    note: str | None,
    at: str,
    *,
    segregation: dict[str, Any] | None = None,
    holders: frozenset[str] = frozenset(),
) -> Case:
    """A person of the case's queue decides. Never the requester; never a partner; a refusal needs a reason. An
    item waiting on the partner may be decided too (e.g. rejected for want of an answer): its pause ends there.

    A refused governance action (decided twice, wrong queue, self-approval) raises with `extra.refusal` naming it
    and the rule and clause that refuse it, so the caller can record the attempt on the audit chain."""
    kind = case["kind"]
    route_rule = {"rule_id": case["reasons"][0]["rule_id"], "clause": case["reasons"][0]["clause"]}
    if case["status"] not in (OPEN[kind], WAITING):
        raise Conflict(
            f"{kind} {case['case_id']} is already {case['status']}",
            extra={"current_status": case["status"], "allowed_next": [], "refusal": ALREADY_DECIDED, **route_rule},
        )
    if outcome not in OUTCOMES[kind]:
        raise RuleViolation(f"an {kind} is decided as one of {', '.join(OUTCOMES[kind])}",
                            errors=[FieldError("/outcome", f"one of {', '.join(OUTCOMES[kind])}")])
    if who.role is Role.PARTNER:  # a partner key reaches here for its own case only (services.cases); recorded
        rule = {"rule_id": segregation["id"], "clause": segregation["clause"]} if segregation else route_rule
        raise Forbidden(
            # the refusal names what the caller tried: an approval is approved or rejected, an exception resolved
            # or dismissed (SOP-4.3's "never approve an exception" covers both)
            f"partner users may request but never {DECIDING[kind]} an {kind} ({rule['clause']})",
            extra={"refusal": PARTNER_DECISION, **rule},
        )
    queue_role = QUEUE_ROLES[case["queue"]]
    if who.role is not queue_role:
        raise Forbidden(
            f"only the {case['queue']} queue ({queue_role.value} role) decides this {kind}",
            extra={"refusal": WRONG_QUEUE, **route_rule},
        )
    # `holders`: the keys whose holder also holds the deciding key (minted for the purpose: services/key_lineage.py)
    if case.get("requested_by_key") and case["requested_by_key"] in {who.key_id, *holders}:
        rule = {"rule_id": segregation["id"], "clause": segregation["clause"]} if segregation else route_rule
        raise Forbidden(
            f"segregation of duties: a requester can never decide their own request ({rule['clause']})",
            extra={"refusal": SELF_APPROVAL, **rule},
        )
    if outcome in ("rejected", "dismissed") and not (note and note.strip()):
        raise RuleViolation(f"a {outcome} {kind} needs a reason in `note`",
                            errors=[FieldError("/note", f"a reason is required to decide it {outcome}")])
    decision = CaseDecision(outcome=outcome, by=who.actor, role=who.role.value, note=note, at=at)
    if case["status"] == WAITING:  # the clock stood still until the decision (SOP-1.3)
        ended = cast(Case, close_pause(case, at, reply=None, replied_by=None, calendar=None))
        return {**ended, "status": outcome, "decision": decision}
    return {**case, "status": outcome, "decision": decision}


def resolved_otherwise(case: Mapping[str, Any], outcome: str, reason: Mapping[str, Any]) -> Case:
    """A decided case whose effect could not be applied as asked and settled another way, by a rule: e.g. approving
    a registration that lost to one approved first rejects it (PA-5.5 / CPA-5.4). The reviewer's request, the rule
    and the reason stay on the decision."""
    if outcome not in OUTCOMES[case["kind"]]:
        raise ValueError(f"an {case['kind']} is decided as one of {', '.join(OUTCOMES[case['kind']])}")
    asked = case["decision"]
    decision = CaseDecision(
        outcome=outcome,
        by=asked["by"],
        role=asked["role"],
        note=reason["message"],
        at=asked["at"],
        requested_outcome=asked["outcome"],
        resolved_by_rule=RuleRef(rule_id=reason["rule_id"], clause=reason["clause"]),
    )
    return cast(Case, {**case, "status": outcome, "decision": decision})  # the effect's case is untyped (Effect)


def id_field(kind: str) -> str:
    """The name of a case's id in answers, paths and events: `approval_id` or `exception_id` (#20: one name)."""
    return f"{kind}_id"


def queue_view(case: Mapping[str, Any], now: str) -> dict[str, Any]:
    """A case as a desk reads it in its queue (`GET /v1/approvals`, `/v1/exceptions`, one item): `view`, with the
    escalation step it is at `now` and when the next is due (`escalation.current`; SOP-4.2 / COP-4.2), null once
    decided."""
    return {**view(case), "escalation_step": escalation_step(case, now)}


def view(case: Mapping[str, Any]) -> dict[str, Any]:
    """A case as answers show it: its id under `approval_id` / `exception_id`, the name its paths use. `case_id`, the
    stored name, stays in the answer with the same value until contract 2.0 (docs/api-changelog.md, 1.4.0)."""
    return {id_field(case["kind"]): case["case_id"], **case}
