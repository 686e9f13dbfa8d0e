"""Stored decisions: the full record of an automated decision, readable, and replayable as of its policy version."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from ..domain.access import Principal
from ..domain.canonical import canonical_json
from ..domain.errors import NotFound
from ..ports import Put
from ..runtime import Runtime
from .tenants import policy_at

DECISIONS = "DECISION"
# decision kind -> "module:function(policy, policy_version, inputs) -> result": the pure evaluation to replay
EVALUATORS: dict[str, str] = {"pricing": "revgov.services.pricing:evaluate"}


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
) -> dict[str, Any]:
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


def decision_put(decision: dict[str, Any], *, version: int | None) -> Put:
    return Put(
        DECISIONS,
        decision["decision_id"],
        decision,
        must_be_absent=version is None,
        expected_version=version,
        conflict_detail=f"decision {decision['decision_id']} changed meanwhile",
    )


def load(rt: Runtime, who: Principal, decision_id: str) -> tuple[dict[str, Any], int]:
    stored = rt.store.get(who.tenant_id, DECISIONS, decision_id)
    if stored is None or not who.sees_partner(stored.data.get("partner_id")):
        raise NotFound(f"no decision {decision_id}")
    return stored.data, stored.version


def replay(rt: Runtime, who: Principal, decision_id: str) -> dict[str, Any]:
    """Re-evaluate the stored inputs under the stored policy version; the result must be identical."""
    decision, _ = load(rt, who, decision_id)
    policy = policy_at(rt, who.tenant_id, decision["policy_version"])
    evaluate = _evaluator(decision["kind"])
    again = evaluate(policy, decision["policy_version"], decision["inputs"])
    same = canonical_json(again) == canonical_json(decision["result"])
    return {
        "decision_id": decision_id,
        "policy_version": decision["policy_version"],
        "identical": same,
        "original_outcome": decision["result"]["outcome"],
        "replayed_outcome": again["outcome"],
    }


def _evaluator(kind: str) -> Callable[[dict[str, Any], str, dict[str, Any]], dict[str, Any]]:
    module, _, function = EVALUATORS[kind].partition(":")
    return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]
