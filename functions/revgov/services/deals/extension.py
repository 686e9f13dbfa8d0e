"""PA-5.3 / CPA-5.2: the one 30-day extension of a registration's exclusivity, asked by the partner and decided by
channel ops as an approval (the effect of `deal.extension`)."""

from __future__ import annotations

from typing import Any

from ...domain import cases as case_rules
from ...domain import deal_extensions, deals
from ...domain.access import Principal
from ...domain.audit import AuditEntry
from ...domain.errors import FieldError, RuleViolation
from ...domain.tenants import Tenant
from ...ports import Changes, DomainEvent, Stored
from ...runtime import Runtime
from .. import cases
from ..partners import load_partner
from ..tenants import load_tenant
from . import repository
from .live import ended, hold, not_suspended
from .queries import get
from .register import open_review

EXTENSION_EFFECT = "deal.extension"
NOTHING_TO_EXTEND = (
    "the registration no longer holds the opportunity (withdrawn, or another was approved after its exclusivity "
    "ended): nothing to extend"
)


def request_extension(rt: Runtime, who: Principal, deal_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """PA-5.3 / CPA-5.2: the partner asks, before the exclusivity ends and with the proposal it submitted, for the one
    30-day extension; channel ops decides it as an approval (PA-5.3: "within 2 business days")."""
    deal, version = get(rt, who, deal_id, raw=True)
    tenant, _ = load_tenant(rt, who.tenant_id)
    policy, now = tenant.policy, rt.clock.now_iso()
    if body["proposal_date"] > now[:10]:
        raise RuleViolation(
            f"proposal_date {body['proposal_date']} is in the future",
            errors=[FieldError("/proposal_date", "on or before today")],
        )
    over = ended(rt, who.tenant_id, policy, deal)
    if over is not None:  # PA-13.3 / CPA-13.3: a terminated partner's registrations end; nothing to extend
        raise RuleViolation(f"{over['message']}: nothing to extend",
                            extra={"rule_id": over["rule_id"], "clause": over["clause"]})
    refused = deal_extensions.extension_problem(policy, deal, hold(rt, who.tenant_id, policy, deal, now), now)
    if refused is not None:
        raise refused
    partner, _ = load_partner(rt, who.tenant_id, deal["partner_id"])
    rule = policy["deal_registration"]["extension"]
    case, changes = open_review(
        rt, who, tenant, deal, partner,
        category="deal_extension_review",
        effect=EXTENSION_EFFECT,
        risk_score=20,
        context={"expires_at": deal["expires_at"], "proposal_reference": body["proposal_reference"]},
        reasons=[{"rule_id": rule["id"], "clause": rule["clause"], "message": f"extension of {rule['days']} days"}],
    )
    asked = deal_extensions.extension_requested(policy, deal, body, approval_id=case["case_id"], at=now)
    changes.puts += repository.deal_puts(asked, version=version)
    inputs = {"proposal": asked["extension"]["proposal"], "expires_at": deal["expires_at"]}
    changes.audit.insert(0, _cited(who, tenant, "deal.extension_requested", asked, deals.PENDING, inputs))
    changes.events.append(DomainEvent("revgov.deals", "deal.extension_requested", _extension_detail(asked)))
    rt.commit(who.tenant_id, changes)
    return dict(deals.view(asked, now, hold(rt, who.tenant_id, policy, asked, now)))


def apply_extension(rt: Runtime, case: dict[str, Any], who: Principal) -> Changes | cases.Resolved:
    """Channel ops decided an extension: approved, the registration's exclusivity (and its lock) ends `days` later.
    If another partner's registration was approved for the opportunity meanwhile (the period had ended before the
    decision), the extension cannot be given and the decision resolves as a rejection saying so."""
    tenant, _ = load_tenant(rt, who.tenant_id)
    rule = tenant.policy["deal_registration"]["extension"]
    stored = repository.load(rt, who.tenant_id, case["subject"]["id"])
    deal, now = stored.data, rt.clock.now_iso()
    outcome = deals.APPROVED if case["status"] == "approved" else deals.REJECTED
    note = (case.get("decision") or {}).get("note")
    changes = Changes()
    resolved: case_rules.Case | None = None
    held, taken = _locks(rt, who.tenant_id, deal)
    over = ended(rt, who.tenant_id, tenant.policy, deal) if outcome == deals.APPROVED else None
    if over is None and outcome == deals.APPROVED:
        not_suspended(rt, who.tenant_id, tenant.policy, deal)  # PA-13.2 / CPA-13.2: not while suspended
    if over is not None:  # the partner was terminated while the extension waited (PA-13.3 / CPA-13.3)
        outcome, note = deals.REJECTED, over["message"]
        resolved = case_rules.resolved_otherwise(case, "rejected", over)
    elif outcome == deals.APPROVED and (not held or taken):
        reason = {"rule_id": rule["id"], "clause": rule["clause"], "message": NOTHING_TO_EXTEND}
        outcome, note = deals.REJECTED, reason["message"]
        resolved = case_rules.resolved_otherwise(case, "rejected", reason)
    deal = deal_extensions.extension_decided(deal, outcome, now, note)
    changes.puts += repository.deal_puts(deal, version=stored.version)
    if outcome == deals.APPROVED:
        changes.puts += [repository.lock_changed(lock, expires_at=deal["expires_at"]) for lock in held]
    inputs = {"approval_id": case["case_id"], "expires_at": deal["expires_at"], "note": note}
    changes.audit.append(_cited(who, tenant, f"deal.extension_{outcome}", deal, outcome, inputs))
    kind = "deal.extended" if outcome == deals.APPROVED else "deal.extension_rejected"
    changes.events.append(DomainEvent("revgov.deals", kind, _extension_detail(deal)))
    return cases.Resolved(changes, resolved) if resolved is not None else changes


def _locks(rt: Runtime, tenant_id: str, deal: dict[str, Any]) -> tuple[list[Stored], bool]:
    """The locks the registration holds, and whether a registration approved after it took one of the
    opportunities it stands on (its period had ended before the decision)."""
    held = repository.held_locks(rt, tenant_id, deal)
    others = [lock.data for lock in repository.locks_of(rt, tenant_id, deal["customer"], deal["family"]).values()
              if lock is not None and lock.data["deal_id"] != deal["deal_id"]]  # fmt: skip
    return held, any(str(o.get("approved_at") or "") > str(deal.get("approved_at") or "") for o in others)


def _cited(who: Principal, tenant: Tenant, action: str, deal: dict[str, Any], outcome: str,
           inputs: dict[str, Any]) -> AuditEntry:
    """An audit record of the extension, citing PA-5.3 / CPA-5.2."""
    rule = tenant.policy["deal_registration"]["extension"]
    return AuditEntry.by(who, action, deal["deal_id"], outcome, inputs=inputs, policy_version=tenant.policy_version,
                         rule_ids=(rule["id"],), clauses=(rule["clause"],))


def _extension_detail(deal: dict[str, Any]) -> dict[str, Any]:
    """The extension event's facts: the registration, its exclusivity end, and the extension as its partner sees it."""
    extension = deal["extension"]
    shown = {k: extension[k] for k in ("status", "days", "rule_id", "clause", "requested_at") if k in extension}
    if extension.get("previous_expires_at"):
        shown["previous_expires_at"] = extension["previous_expires_at"]
    if extension["status"] == deals.REJECTED:
        shown["reason"] = extension.get("decision_note") or "rejected"
    return {
        "deal_id": deal["deal_id"],
        "partner_id": deal["partner_id"],
        "family": deal["family"],
        "status": deal["status"],
        "expires_at": deal["expires_at"],
        "extension": shown,
    }
