"""What keeps a policy draft from taking effect, and what it changes: schema and contract problems, the rule-by-rule
diff against the policy in force, and the contract amendment it carries still applying to its document."""

from __future__ import annotations

from typing import Any

from ...domain import contract_set, policy_change
from ...domain.access import Principal
from ...domain.errors import Conflict, FieldError
from ...ports import Stored
from ...runtime import Runtime
from ...schemas import problems
from .. import contracts
from ..tenants import load_tenant
from .repository import load


def schema_problems(rt: Runtime, tenant_id: str, document: Any) -> list[FieldError]:
    """The document against schemas/tenant.schema.json, as the tenant's policy."""
    tenant, _ = load_tenant(rt, tenant_id)
    config = {k: v for k, v in tenant.config.items() if k != "contracts"}
    return [e for e in problems("tenant.schema.json", {**config, "policy": document})
            if e.path.startswith("/policy")] or (
        [] if isinstance(document, dict) else [FieldError("/policy", "not an object")])  # fmt: skip


def problems_of(rt: Runtime, tenant_id: str, document: dict[str, Any],
                amendment: dict[str, Any] | None = None) -> list[FieldError]:  # fmt: skip
    """What keeps a policy from being activated: its schema, its own consistency, and every clause it cites being in
    the tenant's stored contracts (with the draft's contract amendment applied, since both take effect together)."""
    found = schema_problems(rt, tenant_id, document)
    if found:
        return found
    texts = contracts.contract_texts(rt, tenant_id)
    if amendment:
        texts = [t for t in texts if t.document != amendment["document"]]
        texts.append(contract_set.parse(amendment["name"], amendment["markdown"]))
    return contract_set.set_problems(texts, document, figures=True)


def amended_contract_current(rt: Runtime, tenant_id: str, draft: dict[str, Any]) -> Stored | None:
    """The stored contract the draft's amendment was made on, still at that revision (else 409: both take effect
    together or neither does)."""
    amendment = draft.get("amendment")
    if not amendment:
        return None
    stored = rt.store.get(tenant_id, contracts.CURRENT, amendment["document"])
    if stored is None or stored.data["revision"] != amendment["base_revision"]:
        now = stored.data["revision"] if stored else None
        raise Conflict(f"contract {amendment['document']} moved since the draft's amendment was made on revision "
                       f"{amendment['base_revision']} (now {now or 'removed'}); the amendment and the policy change "
                       "take effect together or not at all: attach the amendment again",
                       extra={"document": amendment["document"], "contract_revision": now})  # fmt: skip
    return stored


def validate_draft(rt: Runtime, who: Principal, draft_id: str) -> dict[str, Any]:
    draft, _ = load(rt, who.tenant_id, draft_id)
    found = problems_of(rt, who.tenant_id, draft["policy"], draft.get("amendment"))
    return {"draft_id": draft_id, "revision": draft["revision"], "valid": not found,
            "problems": [e.as_dict() for e in found]}  # fmt: skip


def diff_draft(rt: Runtime, who: Principal, draft_id: str) -> dict[str, Any]:
    draft, _ = load(rt, who.tenant_id, draft_id)
    tenant, _ = load_tenant(rt, who.tenant_id)
    amendment = draft.get("amendment")
    return {"draft_id": draft_id, "revision": draft["revision"], "active_version": tenant.policy_version,
            "draft_version": draft["policy_version"],
            **policy_change.rule_diff(tenant.policy, draft["policy"]),
            "amendment": {k: amendment[k] for k in ("document", "base_revision", "clauses", "reason")}
            if amendment else None}  # fmt: skip
