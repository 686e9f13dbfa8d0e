"""A partner applies to change its partner type; Channel Operations approves it (PA-2.1). The rules are
`domain.partners.type_change`'s.

`request_change`: the partner (or channel ops on its behalf) asks for the new type with its reason: an approval of
the policy's category (`onboarding.type_change.category`, routed to channel ops) is opened in the name of the
requester, who can never decide it (SOP-4.3 segregation of duties), and the pending change is kept on the partner
(`type_change`), audited (`partner.type_change_requested`) and published. While it is pending the partner files the
documents the new type requires through the usual documents route. `apply_decision` (effect `partner.type_change`):
approved, the type changes from the approval's instant if every document, term and certification the new type
requires is on file and current (else a 422 naming them, the approval still open); rejected, the type stays. Either
is audited (`partner.type_changed` / `partner.type_change_rejected`) and published. Tier, pricing, rebates and
entitlements read the tier, not the type (PA-2.1), and do not change."""

from __future__ import annotations

from typing import Any

from ..domain.access import Principal
from ..domain.audit import AuditEntry
from ..domain.partners import type_change
from ..ports import Changes, DomainEvent
from ..runtime import Runtime
from . import cases, tenants
from . import partner_repository as repository
from .partners import SOURCE, view, visible_id

EFFECT = "partner.type_change"


def request_change(rt: Runtime, who: Principal, partner_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Apply for the new type (see the module); the partner as its reader sees it, with the pending `type_change`."""
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    partner, version = repository.load(rt.store, who.tenant_id, visible_id(who, partner_id))
    at = rt.clock.now_iso()
    change = type_change.requested(tenant.policy, partner, body["partner_type"], reason=body["reason"],
                                   by=who.actor, at=at)  # fmt: skip
    cite = {"rule_id": change["rule_id"], "clause": change["clause"]}
    missing = type_change.gaps(tenant.policy, partner, change["to"], at)
    case, changes = cases.open_case(
        rt, tenant.policy, kind="approval", category=type_change.rule(tenant.policy)["category"],  # type: ignore[index]
        subject_kind="partner", subject_id=partner_id, requested_by=who, partner_id=partner_id, effect=EFFECT,
        reasons=[{**cite, "message": f"{partner_id} applies to change its partner type from {change['from']} to "
                                     f"{change['to']}: {change['reason']}"}],
        context={"from": change["from"], "to": change["to"],
                 "missing": [f"{gap['kind']}:{gap['name']}" for gap in missing]},
        policy_version=tenant.policy_version, country=partner.get("country"),
    )  # fmt: skip
    change["approval_id"] = case["case_id"]
    updated = {**partner, "type_change": change, "updated_at": at}
    changes.puts.insert(0, repository.put(updated, version=version))
    changes.audit.insert(0, _audit(who, "partner.type_change_requested", updated, change, tenant.policy_version))
    changes.events.append(_event("type_change_requested", updated, change))
    rt.commit(who.tenant_id, changes)
    return {**view(updated), "outstanding": missing}


def apply_decision(rt: Runtime, case: dict[str, Any], who: Principal) -> Changes:
    """The `partner.type_change` effect, in the approval decision's commit (see the module)."""
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    partner, version = repository.load(rt.store, who.tenant_id, case["subject"]["id"])
    decision = case["decision"]
    updated = type_change.decided(tenant.policy, partner, case["case_id"], case["status"], by=who.actor,
                                  at=decision["at"], note=decision.get("note"))  # fmt: skip
    if updated.get("type_change") == partner.get("type_change"):  # not this partner's pending change
        return Changes()
    change = updated["type_change"]
    action = "type_changed" if change["status"] == type_change.APPROVED else "type_change_rejected"
    return Changes(puts=[repository.put(updated, version=version)],
                   audit=[_audit(who, f"partner.{action}", updated, change, case.get("policy_version"))],
                   events=[_event(action, updated, change)])  # fmt: skip


def _audit(who: Principal, action: str, partner: dict[str, Any], change: dict[str, Any],
           policy_version: str | None) -> AuditEntry:  # fmt: skip
    inputs = {k: change[k] for k in ("from", "to", "reason", "approval_id", "note") if change.get(k) is not None}
    return AuditEntry.by(who, action, partner["partner_id"], change["status"], inputs=inputs,
                         policy_version=policy_version, rule_ids=(change["rule_id"],), clauses=(change["clause"],),
                         partner_id=partner["partner_id"])  # fmt: skip


def _event(name: str, partner: dict[str, Any], change: dict[str, Any]) -> DomainEvent:
    detail = {"partner_id": partner["partner_id"], "status": partner["status"], "partner_type": partner["partner_type"],
              "tier": partner.get("tier"), "proposed_tier": partner.get("proposed_tier"), "from_type": change["from"],
              "to_type": change["to"], "change_status": change["status"], "approval_id": change.get("approval_id"),
              "rule_id": change["rule_id"], "clause": change["clause"]}  # fmt: skip
    return DomainEvent(SOURCE, f"partner.{name}", detail)
