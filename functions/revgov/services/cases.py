"""Approvals and exceptions: open them inside another use case's commit, list them by queue, decide them.

Deciding an approval applies its effect (activate a partner, allow a quote…) in the same commit as the decision,
through the EFFECTS table: one line per kind of request that waits for a person.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import observe
from ..domain import cases
from ..domain.access import Principal
from ..domain.audit import AuditEntry
from ..domain.errors import Conflict, Forbidden, NotFound, RevgovError
from ..ports import Changes, DomainEvent, Page, Put
from ..runtime import Runtime
from . import key_lineage

CASES = "CASE"
# effect name -> "module:function(rt, decided_case, who) -> Changes", imported when first needed
EFFECTS: dict[str, str] = {
    "pricing.approval": "revgov.services.pricing:apply_approval",
    "rebate.dispute": "revgov.services.rebates:apply_dispute_decision",
    "invoice.dispute": "revgov.services.invoice_disputes:apply_decision",
    "credit_note.approval": "revgov.services.credit_notes:apply_decision",
    "deal.registration": "revgov.services.deals:apply_review",
    "deal.extension": "revgov.services.deals:apply_extension",
    "partner.activation": "revgov.services.partners:apply_activation_decision",
}


@dataclass
class Resolved:
    """What an effect returns when a rule settles the case another way than the reviewer asked (e.g. approving a
    registration that lost to one approved first rejects it): its changes and the case as finally decided."""

    changes: Changes
    case: dict[str, Any]


Effect = Callable[[Runtime, dict[str, Any], Principal], "Changes | Resolved"]


def _index(case: dict[str, Any]) -> tuple[str, str]:
    return f"{CASES}#{case['kind']}#{case['status']}", f"{case['queue']}#{case['due_at']}#{case['case_id']}"


def _put(case: dict[str, Any], *, version: int | None, new: bool) -> Put:
    return Put(
        CASES,
        case["case_id"],
        case,
        lookup=_index(case),
        must_be_absent=new,
        expected_version=version,
        conflict_detail=f"{case['kind']} {case['case_id']} changed meanwhile; read it again",
    )


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
) -> tuple[dict[str, Any], Changes]:
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
    actor = requested_by.actor if isinstance(requested_by, Principal) else requested_by
    rule_ids = tuple(r["rule_id"] for r in case["reasons"] if r.get("rule_id"))
    clauses = tuple(r["clause"] for r in case["reasons"] if r.get("clause"))
    changes = Changes(
        puts=[_put(case, version=None, new=True)],
        audit=[
            AuditEntry(
                actor=actor,
                action=f"{kind}.opened",
                subject=case["case_id"],
                outcome=case["status"],
                inputs={
                    "category": category,
                    "queue": route.queue,
                    "subject": case["subject"],
                    "risk_score": case["risk_score"],
                },
                policy_version=policy_version,
                rule_ids=rule_ids,
                clauses=clauses,
            )
        ],
        events=[
            DomainEvent(
                f"revgov.{kind}s",
                f"{kind}.opened",
                {
                    cases.id_field(kind): case["case_id"],
                    "case_id": case["case_id"],
                    "category": category,
                    "queue": route.queue,
                    "due_at": case["due_at"],
                    "subject": case["subject"],
                },
            )
        ],
    )
    return case, changes


def refresh_case(case: dict[str, Any], version: int, *, context: dict[str, Any], at: str) -> Put:
    """An open case brought up to date by a watcher that found the same thing again: its context replaced and the
    number of times it was seen counted, instead of a second case for one finding."""
    refreshed = {**case, "context": context, "seen_count": int(case.get("seen_count", 1)) + 1, "last_seen_at": at}
    return _put(refreshed, version=version, new=False)


def closed_by_watcher(
    case: dict[str, Any], version: int, *, actor: str, note: str, rule: dict[str, Any], at: str
) -> Put:
    """An open exception a scheduled watcher closes because what it reported no longer holds (e.g. the
    certification was recorded in time): resolved by the watcher, with the rule and the reason on the decision."""
    decision = {"outcome": "resolved", "by": actor, "role": "system", "note": note, "at": at,
                "resolved_by_rule": {"rule_id": rule["rule_id"], "clause": rule["clause"]}}
    return _put({**case, "status": "resolved", "decision": decision}, version=version, new=False)


def get_case(rt: Runtime, tenant_id: str, kind: str, case_id: str) -> tuple[dict[str, Any], int]:
    stored = rt.store.get(tenant_id, CASES, case_id)
    if stored is None or stored.data["kind"] != kind:
        raise NotFound(f"no {kind} {case_id}")
    return stored.data, stored.version


def list_cases(
    rt: Runtime, tenant_id: str, kind: str, *, status: str, queue: str | None, limit: int, cursor: str | None
) -> Page:
    return rt.store.lookup(
        tenant_id, f"{CASES}#{kind}#{status}", limit=limit, cursor=cursor, prefix=f"{queue}#" if queue else ""
    )


def decide_case(
    rt: Runtime,
    who: Principal,
    kind: str,
    case_id: str,
    outcome: str,
    note: str | None,
    payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
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
) -> dict[str, Any]:
    case, version = get_case(rt, who.tenant_id, kind, case_id)
    from .tenants import load_tenant

    tenant, _ = load_tenant(rt, who.tenant_id)
    segregation = tenant.policy["exception_routing"].get("segregation_of_duties")
    try:
        holders = key_lineage.holders(rt, who.tenant_id, who.key_id, since=case["opened_at"])
        decided = cases.decide(case, who, outcome, note, rt.clock.now_iso(), segregation=segregation, holders=holders)
        handed = {**decided, "payload": payload} if payload is not None else decided
        extra = _effect(decided["effect"])(rt, handed, who) if decided.get("effect") else Changes()
    except (Forbidden, Conflict) as refused:
        # a refused governance action leaves a record (SOP-4.3 / COP-4.3), also one its effect refuses (a
        # registration decided out of submission order, PA-5.5 / CPA-5.4)
        if "refusal" in refused.extra:
            rt.audit_only(who.tenant_id, _refusal_record(case, who, outcome, refused))
        raise
    if isinstance(extra, Resolved):
        decided, extra = extra.case, extra.changes
    final = decided["status"]
    overridden = {"requested_outcome": outcome, "reason": decided["decision"]["note"]} if final != outcome else {}
    resolution = decided["decision"].get("resolved_by_rule")
    rules = [(r["rule_id"], r["clause"]) for r in case["reasons"] if r.get("rule_id")]
    if resolution:
        rules.append((resolution["rule_id"], resolution["clause"]))
    changes = Changes(
        puts=[_put(decided, version=version, new=False)],
        audit=[
            AuditEntry(
                actor=who.actor,
                actor_role=who.role.value,
                action=f"{kind}.{final}",
                subject=case_id,
                outcome=final,
                inputs={
                    "note": note,
                    "category": case["category"],
                    "subject": case["subject"],
                    **overridden,
                },
                policy_version=case.get("policy_version"),
                rule_ids=tuple(rule for rule, _ in rules),
                clauses=tuple(clause for _, clause in rules),
            )
        ],
        events=[
            DomainEvent(
                f"revgov.{kind}s",
                f"{kind}.decided",
                {"case_id": case_id, "outcome": final, "subject": case["subject"]},
            )
        ],
    )
    changes.puts.extend(extra.puts)
    changes.deletes.extend(extra.deletes)
    changes.audit.extend(extra.audit)
    changes.events.extend(extra.events)
    rt.commit(who.tenant_id, changes)
    observe.case_decided(who.tenant_id, decided)
    return decided


def _refusal_record(case: dict[str, Any], who: Principal, outcome: str, refused: RevgovError) -> AuditEntry:
    return AuditEntry(
        actor=who.actor,
        actor_role=who.role.value,
        action=f"{case['kind']}.decision_refused",
        subject=case["case_id"],
        outcome="refused",
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


def _effect(name: str) -> Effect:
    if name not in EFFECTS:
        raise LookupError(f"no effect registered as {name}")
    module, _, function = EFFECTS[name].partition(":")
    return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]
