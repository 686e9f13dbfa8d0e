"""Stored decisions: the full record of an automated decision, readable, and replayable as of its policy version."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from ..domain.access import Principal, Role
from ..domain.canonical import Canonical, canonical_json, canonical_object
from ..domain.errors import NotFound, RevgovError
from ..ports import Put, Stored
from ..runtime import Runtime
from .tenants import policy_at
from .toolkit import pages

DECISIONS = "DECISION"
PARTS = "DECISION_PART"  # the body of a decision too large for one item (`new_decision_puts`)
BODY_INLINE_CHARS = 200_000
PART_CHARS = 120_000
AUDIT_INLINE_CHARS = 100_000
# By decision kind, the composition root (`runtime.Registry`) wires the pure evaluation a replay runs again
# (`evaluators`) and the record as a partner may read it (`views`).


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


def new_decision_puts(decision: dict[str, Any], inputs: Canonical | None = None) -> list[Put]:
    """A new decision as stored items: one when it fits, else a head item and its body in parts.

    DynamoDB caps an item at 400 KB and a transaction at 4 MB: a decision whose inputs and result are larger than
    `BODY_INLINE_CHARS` keeps them as canonical JSON cut into parts of `PART_CHARS` ASCII characters (escaped once
    more when stored: at most twice as long, so a part stays under 250 KB), bound by their SHA-256 in the head. The
    head holds everything else (status, outcome, approvals, history), so approving a quote rewrites only the head.
    `inputs`, the decision's inputs with their canonical JSON made once by the caller, are not serialised again.
    """
    body = {"inputs": decision["inputs"], "result": decision["result"]}
    if inputs is not None and inputs.value is decision["inputs"]:
        text = canonical_object({"result": decision["result"]}, {"inputs": inputs.text})
    else:
        text = canonical_json(body)
    if not text.isascii():  # ASCII parts can be cut anywhere; escaping the rest keeps the same JSON value
        text = json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    if len(text) <= BODY_INLINE_CHARS:
        return [decision_put(decision, version=None)]
    chunks = [text[start : start + PART_CHARS] for start in range(0, len(text), PART_CHARS)]
    head = {k: v for k, v in decision.items() if k not in body}
    head["body"] = {"parts": len(chunks), "chars": len(text), "sha256": hashlib.sha256(text.encode()).hexdigest()}
    parts = [
        Put(PARTS, _part_key(decision["decision_id"], number), {"decision_id": decision["decision_id"], "text": chunk},
            must_be_absent=True)
        for number, chunk in enumerate(chunks)
    ]
    return [decision_put(head, version=None), *parts]


def _part_key(decision_id: str, number: int) -> str:
    return f"{decision_id}#{number:04d}"


def whole(rt: Runtime, tenant_id: str, head: dict[str, Any]) -> dict[str, Any]:
    """A decision stored in parts, put back together and checked against the hash its head holds. The parts are
    written in the head's own commit and read consistently, so a part missing or failing the hash is damage, not a
    state that a retry outlives: a 500 (logged with the correlation id), never a 503 "retry"."""
    body = head.get("body")
    if body is None:
        return head
    refs = [(tenant_id, PARTS, _part_key(head["decision_id"], n)) for n in range(int(body["parts"]))]
    found = rt.store.get_many(refs)
    missing = [ref[2] for ref in refs if ref not in found]
    if missing:
        raise RevgovError(f"decision {head['decision_id']} is stored in parts and {len(missing)} of them are missing")
    text = "".join(found[ref].data["text"] for ref in refs)
    if hashlib.sha256(text.encode()).hexdigest() != body["sha256"]:
        raise RevgovError(f"decision {head['decision_id']}: its stored parts do not match the hash of its head")
    return {**{k: v for k, v in head.items() if k != "body"}, **json.loads(text)}


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


def decision_put(decision: dict[str, Any], *, version: int | None) -> Put:
    partner_id = decision.get("partner_id")
    return Put(
        DECISIONS,
        decision["decision_id"],
        decision,
        lookup=partner_lookup(decision) if partner_id else None,
        must_be_absent=version is None,
        expected_version=version,
        conflict_detail=f"decision {decision['decision_id']} changed meanwhile",
    )


def partner_lookup(decision: dict[str, Any]) -> tuple[str, str]:
    """Where a partner's decision is listed: its partner's partition, newest first (`list_for`); every rewrite of the
    head keeps the same lookup."""
    return f"{DECISIONS}#{decision['partner_id']}", f"{_newest_first(decision['created_at'])}#{decision['decision_id']}"


def _newest_first(at: str) -> str:
    """A sort key that orders ISO-8601 UTC instants from the newest: 10^13 ms minus the instant, zero-padded."""
    instant = datetime.fromisoformat(at.replace("Z", "+00:00"))
    return f"{10**13 - int(instant.timestamp() * 1000):013d}"


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
    if partner_id is None:
        page = rt.store.query(who.tenant_id, DECISIONS, limit=limit, cursor=cursor)
    else:
        page = rt.store.lookup(who.tenant_id, f"{DECISIONS}#{partner_id}", limit=limit, cursor=cursor)
    items = [summary(item.data) for item in page.items if who.sees_partner(item.data.get("partner_id"))]
    return {"items": items, "next_cursor": page.next_cursor}


def head(rt: Runtime, tenant_id: str, decision_id: str) -> Stored:
    """A decision's head as stored (its body may be kept in parts: `whole`), with its version; NotFound if none."""
    stored = rt.store.get(tenant_id, DECISIONS, decision_id)
    if stored is None:
        raise NotFound(f"no decision {decision_id}")
    return stored


def every(rt: Runtime, tenant_id: str) -> Iterator[Stored]:
    """Every decision head of the tenant, in id order, page by page."""
    return pages(rt.store, tenant_id, DECISIONS)


def load(rt: Runtime, who: Principal, decision_id: str) -> tuple[dict[str, Any], int]:
    """The whole stored record (staff, replay, approvals); a reader's own view is `view`."""
    stored = rt.store.get(who.tenant_id, DECISIONS, decision_id)
    if stored is None or not who.sees_partner(stored.data.get("partner_id")):
        raise NotFound(f"no decision {decision_id}")
    return whole(rt, who.tenant_id, stored.data), stored.version


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
    decision, _ = load(rt, who, decision_id)
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
