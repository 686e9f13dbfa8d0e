"""Operator use cases: provision, list, read, suspend, resume and offboard white-label tenants."""

from __future__ import annotations

from typing import Any

from ..domain import contract_set
from ..domain.access import PLATFORM, Principal, Role
from ..domain.audit import AuditEntry
from ..domain.errors import Conflict, NotFound, RuleViolation
from ..domain.policy import policy_problems
from ..domain.tenants import Tenant
from ..ports import Changes, Delete, DomainEvent, Page, Put
from ..runtime import Runtime
from . import contracts, keys

PROFILE = ("TENANT", "PROFILE")
REGISTRY = "TENANTS"
SECRETS = ("SECRET", "WEBHOOK")
POLICIES = "POLICY"


def registry_entry(tenant: Tenant) -> dict[str, Any]:
    return {k: v for k, v in tenant.as_dict().items() if k != "config"}


def _tenant_puts(tenant: Tenant, *, version: int | None, new: bool) -> list[Put]:
    return [
        Put(
            PROFILE[0],
            PROFILE[1],
            tenant.as_dict(),
            tenant_id=tenant.tenant_id,
            must_be_absent=new,
            expected_version=version,
            conflict_detail=f"tenant {tenant.tenant_id} already exists",
        ),
        Put(REGISTRY, tenant.tenant_id, registry_entry(tenant), tenant_id=PLATFORM),
    ]


def policy_put(tenant: Tenant) -> Put:
    """Every policy version a decision was made under stays readable, so the decision can be replayed."""
    data = {"policy_version": tenant.policy_version, "policy": tenant.policy}
    return Put(POLICIES, tenant.policy_version, data, tenant_id=tenant.tenant_id)


def policy_at(rt: Runtime, tenant_id: str, version: str) -> dict[str, Any]:
    stored = rt.store.get(tenant_id, POLICIES, version)
    if stored is None:
        raise NotFound(f"policy version {version} is not stored for this tenant")
    return dict(stored.data["policy"])


def create_tenant(rt: Runtime, actor: Principal, config: dict[str, Any]) -> dict[str, Any]:
    """Register a tenant from its (schema-valid) config.

    Returns the tenant with its first admin key and its webhook secret, both shown this once.
    """
    config = dict(config)
    documents = config.pop("contracts", None) or []
    problems = policy_problems(config.get("policy", {}))
    if problems:
        raise RuleViolation("the tenant policy is inconsistent", errors=problems)
    texts = [contract_set.parse(d["name"], d["markdown"], path=f"/contracts/{i}/markdown")
             for i, d in enumerate(documents)]
    # every clause the policy cites must be in the contracts given with it (none given: the policy may cite none)
    contract_set.check_set(texts, config.get("policy", {}), what="the tenant")
    owned = [t.name for t in texts if t.partner_id is not None]
    if owned:  # a new tenant has no partners yet: a partner's own contract is uploaded once the partner exists
        raise RuleViolation(f"{', '.join(owned)} name a partner (Partner: header); upload it with PUT /v1/contracts "
                            "once that partner exists")
    tenant = Tenant.from_config(config, created_at=rt.clock.now_iso())
    secret = rt.ids.secret()
    admin_key, admin_put = keys.new_key(rt, tenant.tenant_id, Role.ADMIN, None, "initial admin key", actor.actor)
    changes = Changes(
        puts=[
            *_tenant_puts(tenant, version=None, new=True),
            Put(
                SECRETS[0],
                SECRETS[1],
                {"secrets": [{"secret": secret, "valid_until": None}]},
                tenant_id=tenant.tenant_id,
            ),
            Put(admin_put.collection, admin_put.key, admin_put.data, must_be_absent=True, tenant_id=tenant.tenant_id),
            policy_put(tenant),
            *(put for text in texts for put in contracts.contract_puts(
                tenant.tenant_id, text, revision=1, at=tenant.created_at, by=actor.actor, action="uploaded",
                reason="provisioned with the tenant", version=None)),
        ],
        audit=[
            AuditEntry(
                actor=actor.actor,
                actor_role=actor.role.value,
                action="tenant.created",
                subject=tenant.tenant_id,
                outcome="active" if tenant.status == "active" else tenant.status,
                inputs={"tier": tenant.tier, "currency": tenant.currency, "display_name": tenant.display_name,
                        "contracts": [{"document": t.document, "sha256": t.sha256,
                                       "clauses": len(t.contract.clauses)} for t in texts]},
                policy_version=tenant.policy_version,
            ),
            AuditEntry(
                actor=actor.actor,
                actor_role=actor.role.value,
                action="key.created",
                subject=admin_key["key_id"],
                outcome="created",
                inputs={"tenant_id": tenant.tenant_id, "role": "admin"},
            ),
        ],
        events=[DomainEvent("revgov.tenant", "tenant.provisioned", {"tier": tenant.tier, "status": tenant.status})],
    )
    rt.commit(PLATFORM, changes)
    if not contracts.inline_indexing(rt):  # even with no contracts: the indexer drops what a former tenant left
        rt.commit(tenant.tenant_id, Changes(events=[contracts.changed_event("provisioned", "*", 1, None)]))
    indexed = contracts.reindex_after_write(rt, tenant.tenant_id)  # also drops clauses a former same-id tenant left
    return {"tenant": tenant.as_dict(), "admin_key": admin_key, "webhook_secret": secret,
            "contracts": [{**t.summary(), "revision": 1} for t in texts], "index": indexed}


def load_tenant(rt: Runtime, tenant_id: str) -> tuple[Tenant, int]:
    """The tenant as stored now. Its profile holds the whole policy and is read by nearly every request and event,
    so it is decoded again only when it changed (`get_parsed`); the Tenant is frozen and shared: never mutate it."""
    found = rt.store.get_parsed(tenant_id, *PROFILE, Tenant.from_dict)
    if found is None:
        raise NotFound(f"no tenant {tenant_id}")
    return found


def exists(rt: Runtime, tenant_id: str) -> bool:
    """The tenant is provisioned (not offboarded meanwhile)."""
    return rt.store.get_parsed(tenant_id, *PROFILE, Tenant.from_dict) is not None


def get_tenant(rt: Runtime, tenant_id: str) -> dict[str, Any]:
    return load_tenant(rt, tenant_id)[0].as_dict()


def list_tenants(rt: Runtime, *, limit: int, cursor: str | None) -> Page:
    return rt.store.query(PLATFORM, REGISTRY, limit=limit, cursor=cursor)


def set_status(rt: Runtime, actor: Principal, tenant_id: str, status: str, reason: str | None) -> dict[str, Any]:
    tenant, version = load_tenant(rt, tenant_id)
    moved = tenant.moved_to(status)
    rt.commit(
        PLATFORM,
        Changes(
            puts=_tenant_puts(moved, version=version, new=False),
            audit=[
                AuditEntry(
                    actor=actor.actor,
                    actor_role=actor.role.value,
                    action=f"tenant.{'suspended' if status == 'suspended' else 'resumed'}",
                    subject=tenant_id,
                    outcome=status,
                    inputs={"reason": reason, "from": tenant.status},
                    policy_version=tenant.policy_version,
                )
            ],
            events=[
                DomainEvent(
                    "revgov.tenant", f"tenant.{'suspended' if status == 'suspended' else 'resumed'}", {"reason": reason}
                )
            ],
        ),
    )
    return moved.as_dict()


def _redacted(item: dict[str, Any]) -> dict[str, Any]:
    """Exports never carry live credentials: webhook secrets are replaced by a marker."""
    return {**item, "data": {"redacted": True}} if item["collection"] == SECRETS[0] else item


def offboard(rt: Runtime, actor: Principal, tenant_id: str) -> dict[str, Any]:
    """Export every item of the tenant, delete them all, prove nothing is left, and audit it on the platform chain."""
    tenant, _ = load_tenant(rt, tenant_id)
    export = [_redacted(item) for item in rt.store.export_tenant(tenant_id)]
    deleted = rt.store.delete_tenant(tenant_id)
    if rt.clause_index is not None:
        rt.clause_index.delete_tenant(tenant_id)
    remaining = len(rt.store.export_tenant(tenant_id))
    rt.commit(
        PLATFORM,
        Changes(
            deletes=[Delete(REGISTRY, tenant_id)],
            audit=[
                AuditEntry(
                    actor=actor.actor,
                    actor_role=actor.role.value,
                    action="tenant.offboarded",
                    subject=tenant_id,
                    outcome="deleted" if remaining == 0 else "incomplete",
                    inputs={"exported_items": len(export), "deleted_items": deleted, "remaining_items": remaining},
                    policy_version=tenant.policy_version,
                )
            ],
            # on the platform chain, so the envelope's tenant_id is the platform's: the tenant offboarded is named
            # here, for the contract indexer that deletes its search index where this function has no search access
            events=[DomainEvent("revgov.tenant", "tenant.offboarded",
                                {"exported_items": len(export), "offboarded_tenant_id": tenant_id})],
        ),
    )
    return {
        "tenant_id": tenant_id,
        "exported_items": len(export),
        "deleted_items": deleted,
        "remaining_items": remaining,
        "export": export,
    }


def import_tenant(rt: Runtime, actor: Principal, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Restore an offboarding export: every item as it was, a fresh webhook secret, the registry entry.

    The audit chain comes back intact (verified before answering); the import itself is audited on the platform chain.
    """
    profile = next((i for i in items if (i["collection"], i["key"]) == PROFILE), None)
    if profile is None:
        raise RuleViolation("the export has no TENANT/PROFILE item; it is not a tenant export")
    tenant = Tenant.from_dict(profile["data"])
    if rt.store.get(tenant.tenant_id, *PROFILE) is not None:
        raise Conflict(f"tenant {tenant.tenant_id} exists; offboard it before importing over it")
    secret = rt.ids.secret()
    restored = [
        {**item, "data": {"secrets": [{"secret": secret, "valid_until": None}]}}
        if (item["collection"], item["key"]) == SECRETS
        else item
        for item in items
    ]
    written = rt.store.import_tenant(tenant.tenant_id, restored)
    from .audit import verify_chain

    chain = verify_chain(rt, tenant.tenant_id)
    rt.commit(
        PLATFORM,
        Changes(
            puts=[Put(REGISTRY, tenant.tenant_id, registry_entry(tenant), tenant_id=PLATFORM)],
            audit=[
                AuditEntry(
                    actor=actor.actor,
                    actor_role=actor.role.value,
                    action="tenant.imported",
                    subject=tenant.tenant_id,
                    outcome="restored" if chain["valid"] else "restored_with_broken_chain",
                    inputs={"items": written, "audit_records": chain["records"]},
                    policy_version=tenant.policy_version,
                )
            ],
        ),
    )
    if not contracts.inline_indexing(rt):  # the indexer rebuilds the tenant's index from its restored contracts
        rt.commit(tenant.tenant_id, Changes(events=[contracts.changed_event("imported", "*", 0, None)]))
    indexed = contracts.reindex_after_write(rt, tenant.tenant_id)
    return {"tenant_id": tenant.tenant_id, "imported_items": written, "audit_chain": chain, "webhook_secret": secret,
            "index": indexed}
