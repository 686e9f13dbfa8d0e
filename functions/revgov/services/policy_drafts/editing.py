"""Drafting a policy change: a draft of the active (or an earlier) policy, edited as a whole document or by an RFC 6902
patch, and the contract amendment it carries. Each edit is one commit with its audit record; the draft's revision
counts them and every key that touched it is kept (none of them approves it, SOP-4.3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...domain import contract_set, policy_change
from ...domain.access import Principal
from ...domain.errors import FieldError, NotFound, RuleViolation
from ...domain.policy_change import DRAFT
from ...domain.tenants import policy_version
from ...ports import Changes
from ...runtime import Runtime
from .. import contracts
from ..tenants import load_tenant, policy_at
from .repository import DRAFTS, draft_put, entry, expect_revision, load, must_be_editable, summary, view
from .validation import schema_problems


def create_draft(rt: Runtime, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """A draft of the active policy, or of an earlier stored version (`from_version`: a rollback is activating an
    earlier version as a new one, through the same approvals)."""
    tenant, _ = load_tenant(rt, who.tenant_id)
    source = body.get("from_version") or tenant.policy_version
    document = tenant.policy if source == tenant.policy_version else policy_at(rt, who.tenant_id, source)
    now = rt.clock.now_iso()
    draft = {
        "draft_id": rt.ids.new("pdr"), "status": DRAFT, "base_version": tenant.policy_version,
        "from_version": source, "policy": document, "policy_version": policy_version(document), "revision": 1,
        "reason": body.get("reason"), "created_at": now, "created_by": who.actor, "hands": [who.key_id],
        "edits": [], "proposal": None, "required_roles": [], "approval_rule": None, "approvals": [],
        "rejection": None, "activation": None, "amendment": None,
    }  # fmt: skip
    action = "draft_created" if source == tenant.policy_version else "rollback_drafted"
    inputs = {"from_version": source, "reason": body.get("reason")}
    rt.commit(who.tenant_id, Changes(puts=[draft_put(draft, None)], audit=[entry(who, action, draft, DRAFT, inputs)]))
    return view(draft)


def get_draft(rt: Runtime, who: Principal, draft_id: str) -> dict[str, Any]:
    return view(load(rt, who.tenant_id, draft_id)[0])


def list_drafts(rt: Runtime, who: Principal, *, status: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
    page = rt.store.query(who.tenant_id, DRAFTS, limit=limit, cursor=cursor)
    items = [summary(item.data) for item in page.items if status is None or item.data["status"] == status]
    return {"items": items, "next_cursor": page.next_cursor}


def _edit(rt: Runtime, who: Principal, draft_id: str, body: dict[str, Any],
          new_policy: Callable[[Any], Any], kind: str) -> dict[str, Any]:  # fmt: skip
    """The draft's policy replaced by `new_policy(current policy)`, which must at least be a policy (contract
    citations are checked at validation and proposal)."""
    draft, version = load(rt, who.tenant_id, draft_id)
    must_be_editable(draft)
    expect_revision(draft, body)
    document = new_policy(draft["policy"])
    found = schema_problems(rt, who.tenant_id, document)
    if found:
        raise RuleViolation("the edited policy does not match schemas/tenant.schema.json", errors=found)
    fields = {"policy": document, "policy_version": policy_version(document)}
    return _commit_edit(rt, who, draft, version, body, fields, kind, {})


def replace_policy(rt: Runtime, who: Principal, draft_id: str, body: dict[str, Any]) -> dict[str, Any]:
    document = body["policy"]
    return _edit(rt, who, draft_id, body, lambda _: document, "document")


def patch_policy(rt: Runtime, who: Principal, draft_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """RFC 6902: the operations apply to the draft's policy document (paths as `/pricing/margin_floor/percent`)."""
    operations = body["operations"]
    return _edit(rt, who, draft_id, body, lambda doc: policy_change.apply_policy_patch(doc, operations), "json_patch")


def attach_amendment(rt: Runtime, who: Principal, draft_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The contract amendment this policy change implements (new text for clauses of one stored contract document,
    as `POST /v1/contracts/{document}/amendments` takes it). It is stored in the draft only: it takes effect with the
    policy, in the activation's commit, and never alone; it replaces any amendment attached before."""
    draft, version = load(rt, who.tenant_id, draft_id)
    must_be_editable(draft)
    expect_revision(draft, body)
    document = body["document"]
    stored = rt.store.get(who.tenant_id, contracts.CURRENT, document)
    if stored is None:
        raise NotFound(f"no contract {document}")
    markdown = contract_set.amended(stored.data["markdown"], document, body["clauses"])
    text = contract_set.parse(stored.data["name"], markdown)
    if text.sha256 == stored.data["sha256"]:
        raise RuleViolation(f"the amendment changes nothing in contract {document}",
                            errors=[FieldError("/clauses", "the clauses already read so")])  # fmt: skip
    amendment = {"document": document, "name": stored.data["name"], "base_revision": stored.data["revision"],
                 "clauses": [c["clause_id"] for c in body["clauses"]], "reason": body["reason"],
                 "markdown": markdown, "sha256": text.sha256, "by": who.actor, "at": rt.clock.now_iso()}  # fmt: skip
    inputs = {"document": document, "base_revision": amendment["base_revision"], "clauses": amendment["clauses"],
              "sha256": text.sha256}  # fmt: skip
    return _commit_edit(rt, who, draft, version, body, {"amendment": amendment}, "contract_amendment", inputs)


def detach_amendment(rt: Runtime, who: Principal, draft_id: str) -> dict[str, Any]:
    draft, version = load(rt, who.tenant_id, draft_id)
    must_be_editable(draft)
    if not draft.get("amendment"):
        raise NotFound(f"policy draft {draft_id} carries no contract amendment")
    return _commit_edit(rt, who, draft, version, {}, {"amendment": None}, "contract_amendment_removed",
                        {"document": draft["amendment"]["document"]})  # fmt: skip


def _commit_edit(rt: Runtime, who: Principal, draft: dict[str, Any], version: int, body: dict[str, Any],
                 fields: dict[str, Any], kind: str, inputs: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """One edit: the draft's next revision with `fields` changed, the editor among its hands, the edit listed."""
    revision = draft["revision"] + 1
    edit = {"revision": revision, "kind": kind, "by": who.actor, "at": rt.clock.now_iso(), "reason": body.get("reason")}
    changed = {**draft, **fields, "revision": revision, "hands": sorted({*draft["hands"], who.key_id}),
               "edits": [*draft["edits"], edit]}  # fmt: skip
    rt.commit(who.tenant_id, Changes(puts=[draft_put(changed, version)],
                                     audit=[entry(who, "draft_edited", changed, DRAFT, {"kind": kind, **inputs})]))
    return view(changed)
