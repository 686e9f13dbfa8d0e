"""Stored decisions: the full record of an automated decision, readable, and replayable as of its policy version."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, cast

from ..domain.access import Principal, Role
from ..domain.canonical import Canonical, canonical_json
from ..domain.errors import NotFound
from ..ports import Stored
from ..runtime import Runtime
from . import decision_repository as repository
from .decision_repository import Decision
from .tenants import policy_at

AUDIT_INLINE_CHARS = 100_000
# By decision kind, the composition root (`runtime.Registry`) wires the pure evaluation a replay runs again
# (`evaluators`) and the record as a partner may read it (`views`). How a decision is stored (its collections, its
# body in parts, its partner lookup) is `decision_repository`'s.


def new_decision(
    *,
    decision_id: str,
    kind: str,
    subject: dict[str, str],
    partner_id: str | None,
    policy_version: str,
    inputs: dict[str, Any],
    result: dict[str, Any],
    actor: Principal,
    at: str,
) -> Decision:
    return {
        "decision_id": decision_id,
        "kind": kind,
        "subject": subject,
        "partner_id": partner_id,
        "policy_version": policy_version,
        "inputs": inputs,
        "result": result,
        "outcome": result["outcome"],
        "status": "pending_approval" if result["outcome"] == "approval_required" else "final",
        "approvals": [],
        "decided_by": actor.actor,
        "created_at": at,
        "history": [],
    }


def whole(rt: Runtime, tenant_id: str, head: Mapping[str, Any]) -> dict[str, Any]:
    """A decision head with its body put back together when it is stored in parts (`decision_repository.whole`), as
    a document for the readers that go through it field by field."""
    return cast(dict[str, Any], repository.whole(rt.store, tenant_id, head))


def audit_inputs(decision_id: str, inputs: Canonical) -> Canonical | dict[str, Any]:
    """What the audit record of a decision carries: its inputs, or, when they would not fit one audit item, their
    SHA-256 and size with a pointer to the decision that keeps them (the hash binds them into the chain)."""
    if len(inputs.text) <= AUDIT_INLINE_CHARS:
        return inputs
    return {
        "decision_id": decision_id,
        "inputs_kept_with": f"decision {decision_id}",
        "inputs_sha256": inputs.sha256,
        "inputs_chars": len(inputs.text),
    }


def summary(decision: dict[str, Any]) -> dict[str, Any]:
    """A decision in a list: what it was about and how it ended, with its list and net totals when it has them.
    Nothing of its inputs or findings, so the same summary is safe for every reader who may see the decision."""
    totals = (decision.get("result") or {}).get("totals") or {}
    return {
        "decision_id": decision["decision_id"],
        "kind": decision["kind"],
        "subject": decision["subject"],
        "partner_id": decision.get("partner_id"),
        "outcome": decision["outcome"],
        "status": decision["status"],
        "policy_version": decision["policy_version"],
        "created_at": decision["created_at"],
        "list_total": totals.get("list_total"),
        "net_total": totals.get("net_total"),
    }


def tier_at_decision(decision: dict[str, Any]) -> str | None:
    """The tier the partner held when the decision was made, as the decision's inputs recorded it (`none` for a
    partner without one); None when not recorded (a decision of another kind, or a head whose inputs are kept in
    parts), for the caller to fall back on the partner's tier now."""
    partner = (decision.get("inputs") or {}).get("partner") or {}
    tier = partner.get("tier") if isinstance(partner, dict) else None
    return str(tier) if tier else None


def list_for(
    rt: Runtime, who: Principal, *, partner_id: str | None, limit: int, cursor: str | None
) -> dict[str, Any]:
    """Decisions as summaries. A partner key: only its own, newest first, whatever `partner_id` it asks for, read
    through its own lookup partition so no other partner's decision is read. Staff: one partner's newest first, or
    the tenant's in id order."""
    if who.role is Role.PARTNER:
        partner_id = who.partner_id
    page = repository.page(rt.store, who.tenant_id, partner_id=partner_id, limit=limit, cursor=cursor)
    items = [summary(item.data) for item in page.items if who.sees_partner(item.data.get("partner_id"))]
    return {"items": items, "next_cursor": page.next_cursor}


def head(rt: Runtime, tenant_id: str, decision_id: str) -> Stored:
    """A decision's head as stored (its body may be kept in parts: `whole`), with its version; NotFound if none."""
    return repository.head(rt.store, tenant_id, decision_id)


def every(rt: Runtime, tenant_id: str) -> Iterator[Stored]:
    """Every decision head of the tenant, in id order, page by page."""
    return repository.every(rt.store, tenant_id)


def load(rt: Runtime, who: Principal, decision_id: str) -> tuple[dict[str, Any], int]:
    """The whole stored record (staff, replay, approvals); a reader's own view is `view`."""
    decision, version = _load(rt, who, decision_id)
    return cast(dict[str, Any], decision), version


def _load(rt: Runtime, who: Principal, decision_id: str) -> tuple[Decision, int]:
    stored = repository.read(rt.store, who.tenant_id, decision_id)
    if stored is None or not who.sees_partner(stored.data.get("partner_id")):
        raise NotFound(f"no decision {decision_id}")
    return repository.whole(rt.store, who.tenant_id, stored.data), stored.version


def view(rt: Runtime, who: Principal, decision_id: str) -> dict[str, Any]:
    """The decision as `who` may read it: staff see the whole record, a partner what its audience view keeps."""
    decision, _ = load(rt, who, decision_id)
    if who.role is not Role.PARTNER:
        return decision
    partner_view = rt.registry.views.get(decision["kind"])
    if partner_view is None:  # a kind with no partner view of its own: the outcome without the facts behind it
        return {k: v for k, v in decision.items() if k not in ("inputs", "result")}
    return partner_view(rt, who, decision)


def replay(rt: Runtime, who: Principal, decision_id: str) -> dict[str, Any]:
    """Re-evaluate the stored inputs under the stored policy version; the result must be identical."""
    decision, _ = _load(rt, who, decision_id)
    policy = policy_at(rt, who.tenant_id, decision["policy_version"])
    evaluate = rt.registry.evaluators[decision["kind"]]
    again = evaluate(policy, decision["policy_version"], decision["inputs"])
    same = canonical_json(again) == canonical_json(decision["result"])
    return {
        "decision_id": decision_id,
        "policy_version": decision["policy_version"],
        "identical": same,
        "original_outcome": decision["result"]["outcome"],
        "replayed_outcome": again["outcome"],
    }
