"""Approvals and exceptions that wait on the partner: the queue asks, the partner answers, the SLA clock stands still
in between (SOP-1.3 / COP-1.3; the arithmetic is `domain.sla_pause`).

The queue's question and the partner's reply are audited (`{kind}.waiting_on_partner`, `{kind}.partner_replied`,
citing the routing rule and the policy's `exception_routing.sla_clock` rule) and published (`{kind}.waiting_on_partner`
for n8n to tell the partner's contact, `{kind}.resumed` with the new due time). A partner key answers its own item
only: another partner's item, or one that concerns no partner, is one that does not exist (404).

An exception rerouted to another queue gets a new clock there and keeps its original entry time (SOP-1.3 / COP-1.3;
`domain.case_reroute`), audited as `exception.rerouted` and published as `exception.rerouted`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from ..domain import case_reroute, sla_pause
from ..domain import cases as case_rules
from ..domain.access import Principal, Role
from ..domain.audit import AuditEntry
from ..domain.calendar import BusinessCalendar
from ..domain.cases import Case
from ..domain.errors import FieldError, Forbidden, MalformedRequest, NotFound, RuleViolation
from ..domain.policy import cited_clause
from ..ports import Changes, DomainEvent
from ..runtime import Runtime
from . import case_repository, partner_repository
from .tenants import load_tenant

PARTNER_FIELDS = ("kind", "status", "subject", "due_at", "opened_at")


def ask_partner(rt: Runtime, who: Principal, kind: str, case_id: str, question: str) -> Case:
    """A member of the item's queue asks the partner for information: the item is `waiting_on_partner`."""
    case, version = case_repository.load(rt.store, who.tenant_id, kind, case_id)
    tenant, _ = load_tenant(rt, who.tenant_id)
    queue_role = case_rules.QUEUE_ROLES[case["queue"]].value
    waiting = cast(Case, sla_pause.ask_partner(case, who, question, rt.clock.now_iso(), queue_role))
    detail = {case_rules.id_field(kind): case_id, "partner_id": case["partner_id"], "queue": case["queue"],
              "subject": case["subject"], "question": question, "since": waiting["waiting"]["since"]}  # fmt: skip
    changes = Changes(
        puts=[case_repository.put(waiting, version=version), case_repository.waiting_pointer(waiting)],
        audit=[step_audit(who, tenant.policy, "waiting_on_partner", waiting, {"question": question})],
        events=[DomainEvent(f"revgov.{kind}s", f"{kind}.waiting_on_partner", detail)],
    )
    rt.commit(who.tenant_id, changes)
    return waiting


def partner_reply(rt: Runtime, who: Principal, kind: str, case_id: str, reply: str) -> dict[str, Any]:
    """The partner answers its own item: it is back in its queue with its due time moved by the wait."""
    if who.role is not Role.PARTNER:
        policy = load_tenant(rt, who.tenant_id)[0].policy
        clause = cited_clause(policy, "exception_routing", "sla_clock", default="SOP-1.3")
        raise Forbidden(f"the Partner answers what its item waits for ({clause}: the clock resumes when the Partner "
                        "replies)")
    stored = case_repository.read(rt.store, who.tenant_id, case_id)
    if stored is None or stored.data["kind"] != kind or not stored.data.get("partner_id") \
            or not who.sees_partner(stored.data["partner_id"]):  # fmt: skip
        raise NotFound(f"no {kind} {case_id}")
    case = case_repository.entity(stored.data)
    tenant, _ = load_tenant(rt, who.tenant_id)
    calendar = _calendar(rt, who.tenant_id, tenant.policy, case)
    resumed = cast(Case, sla_pause.partner_replied(case, who, reply, rt.clock.now_iso(), calendar))
    pause = resumed["pauses"][-1]
    detail = {case_rules.id_field(kind): case_id, "partner_id": case["partner_id"], "queue": case["queue"],
              "subject": case["subject"], "due_at": resumed["due_at"], "paused_seconds": pause["paused_seconds"]}
    inputs = {"reply": reply, "since": pause["since"], "until": pause["until"], "due_at_before": case["due_at"],
              "due_at": resumed["due_at"], "sla_seconds_paused": pause["sla_seconds"]}  # fmt: skip
    changes = Changes(
        puts=[case_repository.put(resumed, version=stored.version)],
        deletes=[case_repository.drop_waiting_pointer(resumed)],
        audit=[step_audit(who, tenant.policy, "partner_replied", resumed, inputs)],
        events=[DomainEvent(f"revgov.{kind}s", f"{kind}.resumed", detail)],
    )
    rt.commit(who.tenant_id, changes)
    return partner_view(resumed)


def waiting_on(
    rt: Runtime, who: Principal, partner_id: str | None, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the approvals and exceptions waiting on a partner (SOP-1.3 / COP-1.3), as that partner reads them:
    a partner key's own (a rival's is a 404); staff name the partner (`partner_id`, required; unknown: 404)."""
    wanted = partner_id or (who.partner_id if who.role is Role.PARTNER else None)
    if wanted is None:  # a cursor belongs to one partner's list: with none named it is of no list either
        unread = [FieldError("/query/cursor", "not a cursor of this list")] if cursor else []
        raise MalformedRequest("name the partner: ?partner_id=",
                               errors=[FieldError("/query/partner_id", "required"), *unread])  # fmt: skip
    if not who.sees_partner(wanted) or partner_repository.record(rt.store, who.tenant_id, wanted) is None:
        raise NotFound(f"no partner {wanted}")
    cases, next_cursor = case_repository.page_waiting(rt.store, who.tenant_id, wanted, limit=limit, cursor=cursor)
    return [waiting_view(case) for case in cases], next_cursor


def waiting_view(case: Mapping[str, Any]) -> dict[str, Any]:
    """What the partner reads of an item waiting on it: which item, its category and subject, the question, when it
    was asked and the route to answer by. Never who on the staff asked, the requester's key, the reasons or the
    context (margins, other partners' ids)."""
    kind = str(case["kind"])
    return {
        "kind": kind,
        case_rules.id_field(kind): case["case_id"],
        "category": case["category"],
        "status": case["status"],
        "subject": case["subject"],
        "question": case["waiting"]["question"],
        "asked_at": case["waiting"]["since"],
        "reply": {"method": "POST", "path": f"/v1/{kind}s/{case['case_id']}/partner-reply"},
        "desk": desk(case),
    }


def desk(case: Mapping[str, Any]) -> dict[str, Any]:
    """Who has the partner's own item, as the partner reads it: the desk (its queue) and whether a member of it is
    assigned (`case_assignment`), never which member: a partner reads the team, not the Distributor's key or its
    label (PA-11.1 / CPA-11.1; `audience.actors_as_roles`)."""
    return {"queue": case["queue"], "assigned": bool(case.get("assignee"))}


def reroute_exception(rt: Runtime, who: Principal, case_id: str, category: str, note: str) -> Case:
    """A member of the exception's queue moves it to the queue the policy routes `category` to: a new clock there."""
    case, version = case_repository.load(rt.store, who.tenant_id, "exception", case_id)
    tenant, _ = load_tenant(rt, who.tenant_id)
    routing = tenant.policy["exception_routing"]
    if category not in routing["categories"]:
        raise RuleViolation(f"no exception category {category} in this tenant's routing",
                            errors=[FieldError("/category", "not a category of the policy's exception routing")])
    country = _country(rt, who.tenant_id, case) if routing["categories"][category].get("sla_business_days") else None
    route = case_rules.route_for(tenant.policy, category, country)
    queue_role = case_rules.QUEUE_ROLES[case["queue"]].value
    moved = cast(Case, case_reroute.reroute(case, who, route, queue_role, note, rt.clock.now_iso(),
                                            routing.get("escalation")))  # fmt: skip
    last = moved["reroutes"][-1]
    changes = Changes(
        puts=[case_repository.put(moved, version=version)],
        audit=[step_audit(who, tenant.policy, "rerouted", moved, dict(last))],
        events=[DomainEvent("revgov.exceptions", "exception.rerouted",
                            {"exception_id": case_id, "case_id": case_id, "from_queue": last["from_queue"],
                             "queue": moved["queue"], "category": moved["category"], "due_at": moved["due_at"],
                             "entered_at": moved["entered_at"]})],
    )  # fmt: skip
    rt.commit(who.tenant_id, changes)
    return moved


def partner_view(case: Mapping[str, Any]) -> dict[str, Any]:
    """What the partner reads of its item: its id, status, subject, due time, the open question and the earlier
    questions with its replies; never who on the staff asked, the reasons, context or requester."""
    waiting = case.get("waiting")
    return {
        case_rules.id_field(str(case["kind"])): case["case_id"],
        **{k: case[k] for k in PARTNER_FIELDS},
        "waiting": {"since": waiting["since"], "question": waiting["question"]} if waiting else None,
        "pauses": [{k: p[k] for k in ("since", "until", "question", "reply")} for p in case.get("pauses", [])],
        "desk": desk(case),
    }


def _calendar(rt: Runtime, tenant_id: str, policy: dict[str, Any], case: Case) -> BusinessCalendar | None:
    """The partner's business-day calendar for a business-day SLA (CPA-1.3); None: an elapsed-hours SLA."""
    if case.get("sla_business_days") is None:
        return None
    return BusinessCalendar.from_policy(policy, _country(rt, tenant_id, case))


def _country(rt: Runtime, tenant_id: str, case: Case) -> str | None:
    """The country of establishment of the case's partner, whose holidays its business days skip (CPA-1.3)."""
    if not case.get("partner_id"):
        return None
    country: str | None = (partner_repository.record(rt.store, tenant_id, str(case["partner_id"])) or {}).get("country")
    return country


def step_audit(who: Principal, policy: dict[str, Any], step: str, case: Case, inputs: dict[str, Any]) -> AuditEntry:
    """The step's record, citing the item's routing rule and the SLA-clock rule (SOP-1.3 / COP-1.3)."""
    rules = [case["reasons"][0], *(
        [{"rule_id": r["id"], "clause": r["clause"]}] if (r := policy["exception_routing"].get("sla_clock")) else [])]
    return AuditEntry.by(who, f"{case['kind']}.{step}", case["case_id"], case["status"], inputs=inputs,
                         policy_version=case.get("policy_version"), rule_ids=[x["rule_id"] for x in rules],
                         clauses=[x["clause"] for x in rules], partner_id=case.get("partner_id"))  # fmt: skip
