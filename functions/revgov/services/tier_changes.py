"""Recording a tier review's outcome (PA-3.6 / PA-3.7, CPA-3.5 / CPA-3.6) and moving the partner's tier on the day it
takes effect (domain.partners.tier_changes).

Channel Operations records the review it held (`record_review`): the review is computed again here from the stored
sales (services.tier_review, the same figures `GET …/tier-review` shows), and an upgrade or downgrade is kept on the
partner with the day it takes effect, counted from the day it is recorded (the approval, PA-3.6; the written notice,
PA-3.7 / CPA-3.6), audited and published (`partner.tier_change_scheduled`: the partner's notice). From that day
entitlements, discount caps and rebates read the new tier (`tier_changes.assigned_on`, used by `effective_tier` and
`held_tier`); the partner-lifecycle sweep moves the record's `tier` on that day (`sweep_tier_changes`,
`partner.tier_changed`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from ..domain.access import Principal
from ..domain.audit import AuditEntry
from ..domain.errors import FieldError, NotFound, RuleViolation, StaleWrite
from ..domain.partners import tier_changes, tier_review
from ..domain.time import parse_instant
from ..ports import Changes, DomainEvent
from ..runtime import Runtime
from . import partner_repository, tenants
from .tier_review import measured_revenue, missed_commitment

SOURCE = "revgov.partner"
ACTOR = "system:tier_changes"


def _detail(partner: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "partner_id": partner["partner_id"], "status": partner["status"], "partner_type": partner["partner_type"],
        "tier": partner.get("tier"), "proposed_tier": partner.get("proposed_tier"), "outcome": change["outcome"],
        "from_tier": change["from_tier"], "to_tier": change["tier"], "effective_on": change["effective_on"],
        "notice_ends": change["notice_ends"], "rule_id": change["rule_id"], "clause": change["clause"],
    }  # fmt: skip


def record_review(rt: Runtime, who: Principal, partner_id: str, on: date | None, *, requested: bool,
                  written_commitment: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Record what the tier review held on `on` (default: today) finds for the partner; see the module doc. A request
    may carry the partner's `written_commitment` (`{"tier", "signed_on"}`, PA-3.6): kept on the change it leads to."""
    if not who.sees_partner(partner_id):
        raise NotFound(f"no partner {partner_id}")
    now = rt.clock.now_iso()
    today = parse_instant(now).date()
    day = on or today
    if day > today:
        raise RuleViolation(f"a review is recorded on or after the day it is held; {day} is after today ({today})",
                            errors=[FieldError("/on", "a day after today")])
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    policy = tenant.policy
    partner, version = partner_repository.load(rt.store, who.tenant_id, partner_id)
    review = tier_review.partner_basis(policy, partner, day, requested=requested, field="/on")
    revenue = measured_revenue(rt, who.tenant_id, partner_id, review.first, review.last, day)
    commitment = tier_review.commitment_of(policy, written_commitment, day) if written_commitment is not None else None
    missed = missed_commitment(rt, who.tenant_id, partner, day) if commitment is not None else None
    found = tier_review.findings(policy, partner, day, revenue, requested=requested, commitment=commitment,
                                 missed=missed)
    if found["outcome"] == "watch":
        return _place_on_watch(rt, who, tenant, partner, version, found, today)
    change = tier_changes.scheduled(policy, partner, found, today, recorded_by=who.role.value)
    updated = tier_changes.with_change(partner, change)
    reasons = [{"rule_id": found["rule_id"], "clause": found["clause"]}, *found["reasons"]]
    audit = AuditEntry.by(
        who, "partner.tier_change_recorded", partner_id, change["outcome"],
        inputs={"review": {k: found[k] for k in ("review", "review_day", "basis", "revenue", "tier", "qualified_tier")},
                "change": change},
        policy_version=tenant.policy_version,
        rule_ids=dict.fromkeys(str(r["rule_id"]) for r in reasons if r.get("rule_id")),
        clauses=dict.fromkeys(str(r["clause"]) for r in reasons if r.get("clause")),
    )  # fmt: skip
    sealed = rt.commit(who.tenant_id, Changes(
        puts=[partner_repository.put(updated, version=version)], audit=[audit],
        events=[DomainEvent(SOURCE, "partner.tier_change_scheduled", _detail(updated, change))],
    ))  # fmt: skip
    return {"partner_id": partner_id, "tier": updated.get("tier"), "change": change, "watch": None,
            "review": {"partner_id": partner_id, **found},
            "decision_id": sealed[0]["record_id"], "policy_version": tenant.policy_version,
            "reasons": found["reasons"]}


def _place_on_watch(rt: Runtime, who: Principal, tenant: Any, partner: Mapping[str, Any], version: int,
                    found: Mapping[str, Any], today: date) -> dict[str, Any]:
    """PA-3.6's July review below the floor: the partner "is placed on watch and notified". Kept on the partner
    (`tier_watches`), audited, and the notice published (`partner.placed_on_watch`); no tier changes."""
    partner_id = str(partner["partner_id"])
    watch = tier_changes.watch_placed(partner, found, today, recorded_by=who.role.value)
    updated = tier_changes.with_watch(partner, watch)
    audit = AuditEntry.by(
        who, "partner.placed_on_watch", partner_id, "watch",
        inputs={"review": {k: found[k] for k in ("review", "review_day", "basis", "revenue", "tier", "watch_floor")},
                "watch": watch},
        policy_version=tenant.policy_version, rule_ids={str(found["rule_id"]): None},
        clauses={str(found["clause"]): None},
    )  # fmt: skip
    detail = {
        "partner_id": partner_id, "status": updated["status"], "partner_type": updated["partner_type"],
        "tier": updated.get("tier"), "proposed_tier": updated.get("proposed_tier"), "outcome": "watch",
        "review_day": watch["review_day"], "revenue": watch["revenue"], "watch_floor": watch["watch_floor"],
        "rule_id": watch["rule_id"], "clause": watch["clause"],
    }  # fmt: skip
    sealed = rt.commit(who.tenant_id, Changes(
        puts=[partner_repository.put(updated, version=version)], audit=[audit],
        events=[DomainEvent(SOURCE, "partner.placed_on_watch", detail)],
    ))  # fmt: skip
    return {"partner_id": partner_id, "tier": updated.get("tier"), "change": None, "watch": watch,
            "review": {"partner_id": partner_id, **found},
            "decision_id": sealed[0]["record_id"], "policy_version": tenant.policy_version,
            "reasons": found["reasons"]}


def sweep_tier_changes(rt: Runtime, tenant_id: str) -> dict[str, int]:
    """Scheduled (`partner_lifecycle_sweep`): a partner whose recorded tier change took effect has its `tier` moved,
    audited citing the change's rule, with `partner.tier_changed`. Idempotent: a partner already moved is not moved
    again; one changed meanwhile is left to the next run."""
    counts = {"tier_changed": 0}
    policy_version = tenants.load_tenant(rt, tenant_id)[0].policy_version
    now = rt.clock.now_iso()
    day = parse_instant(now).date()
    for seen in partner_repository.every(rt.store, tenant_id):
        if tier_changes.due(seen, day) is None:
            continue
        partner, version = partner_repository.load(rt.store, tenant_id, seen["partner_id"])
        new_tier, change = tier_changes.due(partner, day), tier_changes.in_effect(partner, day)
        if new_tier is None or change is None:
            continue
        moved = {**partner, "tier": new_tier}
        audit = AuditEntry(actor=ACTOR, actor_role="system", action="partner.tier_changed",
                           subject=partner["partner_id"], outcome=new_tier, policy_version=policy_version,
                           inputs={"from": partner.get("tier"), "to": new_tier, "effective_on": change["effective_on"]},
                           rule_ids=(str(change["rule_id"]),), clauses=(str(change["clause"]),))  # fmt: skip
        try:
            rt.commit(tenant_id, Changes(puts=[partner_repository.put(moved, version=version)], audit=[audit],
                                         events=[DomainEvent(SOURCE, "partner.tier_changed", _detail(moved, change))]))
        except StaleWrite:  # changed meanwhile: the next run looks again
            continue
        counts["tier_changed"] += 1
    return counts
