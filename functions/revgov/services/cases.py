"""Approvals and exceptions: open them inside another use case's commit, list them by queue, decide them.

Deciding an approval applies its effect (activate a partner, allow a quote…) in the same commit as the decision.
The case names its effect; the composition root maps the name to the function (`runtime.Registry.effects`: one line
per kind of request that waits for a person).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from .. import observe
from ..domain import cases, escalation
from ..domain.access import Principal
from ..domain.audit import AuditEntry
from ..domain.cases import Case, CaseDecision, RuleRef
from ..domain.errors import Conflict, Forbidden, NotFound, RevgovError
from ..domain.sla_pause import OPEN, WAITING, close_pause
from ..domain.time import instant
from ..ports import Changes, DomainEvent, Page, Put, Stored
from ..runtime import Effect, Runtime
from . import case_repository, key_lineage
from .tenants import load_tenant


@dataclass
class Resolved:
    """What an effect returns when a rule settles the case another way than the reviewer asked (e.g. approving a
    registration that lost to one approved first rejects it): its changes and the case as finally decided."""

    changes: Changes
    case: Case


def open_case(
    rt: Runtime,
    policy: dict[str, Any],
    *,
    kind: str,
    category: str,
    subject_kind: str,
    subject_id: str,
    requested_by: Principal | str,
    reasons: list[dict[str, Any]] | None = None,
    risk_score: int = 50,
    partner_id: str | None = None,
    effect: str | None = None,
    context: dict[str, Any] | None = None,
    policy_version: str | None = None,
    country: str | None = None,
) -> tuple[Case, Changes]:
    """A new approval or exception, as changes for the caller to commit with the state change that caused it.
    `country`: the partner's country of establishment, whose holidays a business-day SLA skips (CPA-1.3)."""
    route = cases.route_for(policy, category, country)
    case = cases.new_case(
        case_id=rt.ids.new("apr" if kind == "approval" else "exc"),
        kind=kind,
        route=route,
        subject_kind=subject_kind,
        subject_id=subject_id,
        reasons=reasons or [],
        requested_by=requested_by,
        opened_at=rt.clock.now_iso(),
        risk_score=risk_score,
        partner_id=partner_id,
        effect=effect,
        context=context,
        policy_version=policy_version,
    )
    ladder = policy.get("exception_routing", {}).get("escalation")
    if ladder:  # SOP-4.2 / COP-4.2: when the queue, its lead and the head are told (an approval's too: PA-5.2)
        case["escalation"] = escalation.marks(ladder, case["opened_at"], case["due_at"])
    return case, _opened(case, category, route.queue, requested_by)


def _opened(case: Case, category: str, queue: str, requested_by: Principal | str) -> Changes:
    """The new case as changes: the case, its audit record (citing the rules it was opened under), its event."""
    kind = case["kind"]
    actor = requested_by.actor if isinstance(requested_by, Principal) else requested_by
    audit = AuditEntry(
        actor=actor,
        action=f"{kind}.opened",
        subject=case["case_id"],
        outcome=case["status"],
        inputs={"category": category, "queue": queue, "subject": case["subject"], "risk_score": case["risk_score"]},
        policy_version=case.get("policy_version"),
        rule_ids=tuple(r["rule_id"] for r in case["reasons"] if r.get("rule_id")),
        clauses=tuple(r["clause"] for r in case["reasons"] if r.get("clause")),
        partner_id=case.get("partner_id"),
    )
    detail = {
        cases.id_field(kind): case["case_id"],
        "case_id": case["case_id"],
        "category": category,
        "queue": queue,
        "due_at": case["due_at"],
        "subject": case["subject"],
    }
    listed = [case_repository.undecided_pointer(case)] if case.get("partner_id") else []
    return Changes(
        puts=[case_repository.put(case, version=None), *listed],
        audit=[audit],
        events=[DomainEvent(f"revgov.{kind}s", f"{kind}.opened", detail)],
    )


def undecided(case: Mapping[str, Any]) -> bool:
    """Still its queue's to decide: open (pending) in the queue, or waiting on the partner with its SLA clock paused
    (SOP-1.3 / COP-1.3). A watcher that finds the same thing again refreshes such a case: it never opens a second one
    and never takes a waiting one for closed."""
    return case["status"] in (OPEN[case["kind"]], WAITING)


def refresh_case(case: Mapping[str, Any], version: int, *, context: dict[str, Any], at: str) -> Put:
    """An undecided case (as read) brought up to date by a watcher that found the same thing again: its context
    replaced and the number of times it was seen counted, instead of a second case for one finding. Its status, its
    pause (waiting on the partner) and its due time stay as they are."""
    known = case_repository.entity(case)
    seen = int(known.get("seen_count", 1)) + 1
    return case_repository.put({**known, "context": context, "seen_count": seen, "last_seen_at": at}, version=version)


def closed_by_watcher(
    case: Mapping[str, Any], version: int, *, actor: str, note: str, rule: dict[str, Any], at: str
) -> Put:
    """An undecided exception (as read) a scheduled watcher closes because what it reported no longer holds (e.g. the
    certification was recorded in time): resolved by the watcher, with the rule and the reason on the decision. One
    waiting on the partner has its pause ended at the decision (SOP-1.3 / COP-1.3)."""
    decision = CaseDecision(outcome="resolved", by=actor, role="system", note=note, at=at,
                            resolved_by_rule=RuleRef(rule_id=rule["rule_id"], clause=rule["clause"]))
    known = case_repository.entity(case)
    if known["status"] == WAITING:
        known = cast(Case, close_pause(known, at, reply=None, replied_by=None, calendar=None))
    closed: Case = {**known, "status": "resolved", "decision": decision}
    return case_repository.put(closed, version=version)


def find(rt: Runtime, tenant_id: str, case_id: str) -> Stored | None:
    """A case of any kind as stored, or None."""
    return case_repository.read(rt.store, tenant_id, case_id)


def get_case(rt: Runtime, tenant_id: str, kind: str, case_id: str) -> tuple[Case, int]:
    """The case of that kind and its version; NotFound if there is none."""
    return case_repository.load(rt.store, tenant_id, kind, case_id)


def list_cases(
    rt: Runtime,
    tenant_id: str,
    kind: str,
    *,
    status: str,
    queue: str | None,
    limit: int,
    cursor: str | None,
    due_before: datetime | None = None,
    assignee: str | None = None,
) -> Page:
    """A page of cases by queue and due time; with `due_before`, only those due before that instant (what an
    escalation flow polls: PA-5.2 "A registration that is not decided within that time is escalated"); with
    `assignee`, only those assigned to that key (a desk's own items, `case_assignment`)."""
    if due_before is None and assignee is None:
        return case_repository.page_by_status(rt.store, tenant_id, kind, status, queue=queue, limit=limit,
                                              cursor=cursor)
    items: list[Stored] = []
    while True:  # up to `limit` matches and the cursor to go on from; a queue's cases come by due time
        page = case_repository.page_by_status(rt.store, tenant_id, kind, status, queue=queue,
                                              limit=limit - len(items), cursor=cursor)
        for item in page.items:
            if due_before is not None and instant(item.data["due_at"]) >= due_before:
                if queue is not None:  # none after this one in the queue is due earlier
                    return Page(items, None)
                continue
            if assignee is None or (item.data.get("assignee") or {}).get("key_id") == assignee:
                items.append(item)
        cursor = page.next_cursor
        if len(items) >= limit or not cursor:
            return Page(items, cursor)


def decide_case(
    rt: Runtime,
    who: Principal,
    kind: str,
    case_id: str,
    outcome: str,
    note: str | None,
    payload: dict[str, Any] | None = None,
) -> Case:
    """Decide a case and apply its effect in one commit. When the commit loses a race on something the effect read
    (another registration for the same customer and family approved in the same moment), the decision is made
    again on the fresh state, so the reviewer gets a decision (here: the rejection PA-5.5 prescribes), not a 409.
    `payload`: what the use case deciding it hands its effect (as `case["payload"]`; not stored on the case)."""
    for attempt in range(3):
        try:
            return _decide_once(rt, who, kind, case_id, outcome, note, payload)
        except Conflict as lost:
            if "refusal" in lost.extra or attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _decide_once(
    rt: Runtime, who: Principal, kind: str, case_id: str, outcome: str, note: str | None, payload: dict[str, Any] | None
) -> Case:
    case, version = get_case(rt, who.tenant_id, kind, case_id)
    if not who.sees_partner(case.get("partner_id")):  # another partner's case is one that does not exist (API.md)
        raise NotFound(f"no {kind} {case_id}")
    tenant, _ = load_tenant(rt, who.tenant_id)
    segregation = tenant.policy["exception_routing"].get("segregation_of_duties")
    try:
        holders = key_lineage.holders(rt, who.tenant_id, who.key_id, since=case["opened_at"])
        decided = cases.decide(case, who, outcome, note, rt.clock.now_iso(), segregation=segregation, holders=holders)
        # an effect receives the case untyped (`runtime.Effect`), with what the deciding use case hands it
        handed = {**decided, "payload": payload} if payload is not None else cast(dict[str, Any], decided)
        effect = decided["effect"]
        extra = _effect(rt, effect)(rt, handed, who) if effect else Changes()
    except (Forbidden, Conflict) as refused:
        # a refused governance action leaves a record (SOP-4.3 / COP-4.3), also one its effect refuses (a
        # registration decided out of submission order, PA-5.5 / CPA-5.4)
        if "refusal" in refused.extra:
            rt.audit_only(who.tenant_id, _refusal_record(case, who, outcome, refused))
        raise
    if isinstance(extra, Resolved):
        decided, extra = extra.case, extra.changes
    rt.commit(who.tenant_id, _decided(case, decided, version, who, outcome, note).merge(extra))
    observe.case_decided(who.tenant_id, decided)
    return decided


def _decided(
    case: Case, decided: Case, version: int, who: Principal, outcome: str, note: str | None
) -> Changes:
    """The decision as changes (before its effect's): the case, its audit record, its event. When a rule settled the
    case otherwise than the reviewer asked, the record says what was asked, and cites that rule too."""
    kind, case_id, final = case["kind"], case["case_id"], decided["status"]
    decision: Mapping[str, Any] = decided["decision"] or {}  # a decided case has its decision
    overridden = {"requested_outcome": outcome, "reason": decision["note"]} if final != outcome else {}
    resolution = decision.get("resolved_by_rule")
    rules = [(r["rule_id"], r["clause"]) for r in case["reasons"] if r.get("rule_id")]
    if resolution:
        rules.append((resolution["rule_id"], resolution["clause"]))
    audit = AuditEntry.by(
        who,
        f"{kind}.{final}",
        case_id,
        final,
        inputs={"note": note, "category": case["category"], "subject": case["subject"], **overridden},
        policy_version=case.get("policy_version"),
        rule_ids=[rule for rule, _ in rules],
        clauses=[clause for _, clause in rules],
        partner_id=case.get("partner_id"),
    )
    event = DomainEvent(
        f"revgov.{kind}s", f"{kind}.decided", {"case_id": case_id, "outcome": final, "subject": case["subject"]}
    )
    # decided while it waited on its partner: it leaves the partner's waiting list (GET /v1/waiting) with it
    waited = case["status"] == WAITING and case.get("partner_id")
    unlisted = [case_repository.drop_waiting_pointer(case)] if waited else []
    if case.get("partner_id"):  # no longer among its partner's undecided cases
        unlisted.append(case_repository.drop_undecided_pointer(case))
    puts = [case_repository.put(decided, version=version)]
    return Changes(puts=puts, deletes=unlisted, audit=[audit], events=[event])


def _refusal_record(case: Case, who: Principal, outcome: str, refused: RevgovError) -> AuditEntry:
    return AuditEntry.by(
        who,
        f"{case['kind']}.decision_refused",
        case["case_id"],
        "refused",
        inputs={
            "refusal": refused.extra["refusal"],
            "attempted_outcome": outcome,
            "status": refused.status,
            "detail": refused.detail,
            "queue": case["queue"],
            "case_status": case["status"],
            "requested_by": case.get("requested_by"),
        },
        policy_version=case.get("policy_version"),
        rule_ids=(refused.extra["rule_id"],),
        clauses=(refused.extra["clause"],),
    )


def _effect(rt: Runtime, name: str) -> Effect:
    effect = rt.registry.effects.get(name)
    if effect is None:
        raise LookupError(f"no effect registered as {name}")
    return effect
