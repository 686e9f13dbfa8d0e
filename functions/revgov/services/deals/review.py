"""Channel ops decided a registration (the effect of `deal.registration`, decided through `services.cases`)."""

from __future__ import annotations

from typing import Any

from ...domain import cases as case_rules
from ...domain import deals
from ...domain.access import Principal
from ...domain.audit import AuditEntry
from ...ports import Changes, DomainEvent
from ...runtime import Runtime
from .. import cases
from ..tenants import load_tenant
from . import repository
from .live import ended, not_suspended, rival_live


def apply_review(rt: Runtime, case: dict[str, Any], who: Principal) -> Changes | cases.Resolved:
    """Channel ops decided a registration: approval starts exclusivity. A registration that conflicts with one
    approved first (and still in force) is rejected instead, with the clause and a reason (PA-5.5 / CPA-5.4), and so
    is one whose partner was terminated meanwhile (PA-13.3 / CPA-13.3 "registrations end"); the reviewer's decision
    resolves as that rejection and the partner is told by a `deal.rejected` event. An approval while the partner is
    suspended is refused (PA-13.2 / CPA-13.2 "deal registrations": `live.not_suspended`)."""
    tenant, _ = load_tenant(rt, who.tenant_id)
    policy = tenant.policy
    stored = repository.load(rt, who.tenant_id, case["subject"]["id"])
    deal, now = stored.data, rt.clock.now_iso()
    queues = repository.queues_of(rt, who.tenant_id, deal)
    waiting = _not_ended(rt, who.tenant_id, policy, repository.same_opportunity(rt, who.tenant_id, deal, queues))
    earlier = deals.earlier_pending(deal, waiting)
    if earlier is not None:  # PA-5.5 / CPA-5.4: decided in order of submission
        raise deals.out_of_order(policy, earlier)
    # the decision commits only if the queues it was checked against are unchanged (a registration submitted meanwhile)
    leaves = repository.queue_puts(
        rt, who.tenant_id, deal, lambda q: deals.queue_without(q, deal["deal_id"]), stored=queues
    )
    changes = Changes(puts=leaves)
    resolved: case_rules.Case | None = None
    rule = policy["deal_registration"]["exclusivity"]
    over = ended(rt, who.tenant_id, policy, deal) if case["status"] == "approved" else None
    if over is None and case["status"] == "approved":
        not_suspended(rt, who.tenant_id, policy, deal)
    if over is not None:  # PA-13.3 / CPA-13.3: the partner was terminated meanwhile, its registrations end
        rule = {"id": over["rule_id"], "clause": over["clause"]}
        deal = deals.rejected_for_cause(deal, over, now)
        resolved = case_rules.resolved_otherwise(case, "rejected", over)
    elif case["status"] == "approved":
        protecting, lock_versions = rival_live(
            rt, who.tenant_id, deal["customer"], deal["family"], deal["partner_id"], now, policy
        )
        if protecting is not None:
            reason = deals.conflict_reason(policy, protecting)
            rule = deals.conflict_rule(policy)
            deal = deals.rejected_for_conflict(deal, reason, now)
            resolved = case_rules.resolved_otherwise(case, "rejected", reason)
        else:
            deal = deals.decided(deal, deals.APPROVED, now, policy)
            changes.puts += repository.lock_taken(deal, lock_versions)
    else:
        note = (case.get("decision") or {}).get("note")
        deal = {**deals.moved_to(deal, deals.REJECTED), "decided_at": now, "rejection_reason": note}
    changes.puts += repository.deal_puts(deal, version=stored.version)
    changes.merge(_reviewed(who, case, deal, rule, tenant.policy_version))
    return cases.Resolved(changes, resolved) if resolved is not None else changes


def _not_ended(rt: Runtime, tenant_id: str, policy: dict[str, Any], queue: repository.Queue) -> repository.Queue:
    """The pending registrations still to be decided first: a terminated partner's have ended (PA-13.3 / CPA-13.3
    "registrations end"), so they hold up no one (PA-5.5 decides pending registrations in order of submission)."""
    partners: dict[str, dict[str, Any]] = {}
    return [entry for entry in queue if entry.get("status") != deals.PENDING
            or ended(rt, tenant_id, policy, entry, partners) is None]  # fmt: skip


def _reviewed(
    who: Principal, case: dict[str, Any], deal: dict[str, Any], rule: dict[str, Any], policy_version: str
) -> Changes:
    """The decision's audit record (citing the rule it was decided under) and the event that tells the partner."""
    outcome = deal["status"]
    audit = AuditEntry.by(
        who,
        f"deal.{outcome}",
        deal["deal_id"],
        outcome,
        inputs={
            "approval_id": case["case_id"],
            "expires_at": deal.get("expires_at"),
            **({"rejection": deal["rejection"]} if deal.get("rejection") else {}),
        },
        policy_version=policy_version,
        partner_id=deal["partner_id"],
        rule_ids=(rule["id"],),
        clauses=(rule["clause"],),
    )
    detail: dict[str, Any] = {
        "deal_id": deal["deal_id"],
        "partner_id": deal["partner_id"],
        "family": deal["family"],
        "status": outcome,
    }
    if outcome == deals.APPROVED:
        detail["expires_at"] = deal["expires_at"]
    else:
        detail["reason"] = deal.get("rejection") or {"message": deal.get("rejection_reason") or "rejected"}
    return Changes(audit=[audit], events=[DomainEvent("revgov.deals", f"deal.{outcome}", detail)])
