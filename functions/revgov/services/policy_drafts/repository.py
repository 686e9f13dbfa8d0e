"""Policy drafts as stored: the draft and activation collections, reading a draft, writing it over the version read,
and the audit entry and event every step of a draft's life writes."""

from __future__ import annotations

from typing import Any

from ...domain.access import Principal
from ...domain.audit import AuditEntry
from ...domain.errors import Conflict, NotFound
from ...domain.policy_change import DRAFT
from ...domain.time import instant
from ...ports import DomainEvent, Put
from ...runtime import Runtime
from ..toolkit import pages, put_over

DRAFTS = "POLICY_DRAFT"
ACTIVATIONS = "POLICY_ACTIVATION"  # one item per activation, keyed by time: the tenant's policy history
SOURCE = "revgov.policy"
_VIEW_HIDDEN = ("hands", "approved_hands")


def load(rt: Runtime, tenant_id: str, draft_id: str) -> tuple[dict[str, Any], int]:
    stored = rt.store.get(tenant_id, DRAFTS, draft_id)
    if stored is None:
        raise NotFound(f"no policy draft {draft_id}")
    return stored.data, stored.version


def version_in_force(rt: Runtime, tenant_id: str, at_iso: str, current: str) -> str:
    """The policy version the tenant was under at `at_iso`: the one the first activation after it replaced
    (`previous_version`), or `current` when none was activated since."""
    when = instant(at_iso)
    for stored in pages(rt.store, tenant_id, ACTIVATIONS):
        if instant(str(stored.data["activated_at"])) > when:
            return str(stored.data["previous_version"])
    return current


def view(draft: dict[str, Any]) -> dict[str, Any]:
    """A draft as callers read it: without the key ids of the hands that made and approved it."""
    return {k: v for k, v in draft.items() if k not in _VIEW_HIDDEN}


def summary(draft: dict[str, Any]) -> dict[str, Any]:
    return {k: draft[k] for k in ("draft_id", "status", "base_version", "policy_version", "revision", "reason",
                                  "created_at", "created_by", "required_roles", "proposal", "activation")}  # fmt: skip


def draft_put(draft: dict[str, Any], version: int | None) -> Put:
    detail = f"policy draft {draft['draft_id']} changed meanwhile; read it again"
    return put_over(DRAFTS, draft["draft_id"], draft, version, conflict_detail=detail)


def entry(who: Principal, action: str, draft: dict[str, Any], outcome: str, inputs: dict[str, Any],
          rule: dict[str, Any] | None = None) -> AuditEntry:  # fmt: skip
    """The audit entry of a step on a draft (`policy.<action>`), under the version it was drafted from, citing the
    approval rule once the draft has one."""
    return AuditEntry.by(who, f"policy.{action}", draft["draft_id"], outcome,
                         inputs={"draft_policy_version": draft["policy_version"], "base_version": draft["base_version"],
                                 "revision": draft["revision"], **inputs},
                         policy_version=draft["base_version"],
                         rule_ids=(rule["id"],) if rule and rule.get("id") else (),
                         clauses=(rule["clause"],) if rule and rule.get("clause") else ())  # fmt: skip


def event(action: str, draft: dict[str, Any], **more: Any) -> DomainEvent:
    detail = {"draft_id": draft["draft_id"], "status": draft["status"], "policy_version": draft["policy_version"],
              "base_version": draft["base_version"], **more}  # fmt: skip
    return DomainEvent(SOURCE, f"policy.{action}", detail)


def expect_revision(draft: dict[str, Any], body: dict[str, Any]) -> None:
    expected = body.get("expected_revision")
    if expected is not None and expected != draft["revision"]:
        raise Conflict(f"policy draft {draft['draft_id']} is at revision {draft['revision']}, not {expected}; "
                       "read it again", extra={"current_revision": draft["revision"]})  # fmt: skip


def must_be_editable(draft: dict[str, Any]) -> None:
    if draft["status"] != DRAFT:
        raise Conflict(f"policy draft {draft['draft_id']} is {draft['status']}; only a draft is edited "
                       "(withdraw a proposal to edit it again)", extra={"current_status": draft["status"]})  # fmt: skip


def missing_roles(draft: dict[str, Any]) -> list[str]:
    return sorted(set(draft["required_roles"]) - {a["role"] for a in draft["approvals"]})
