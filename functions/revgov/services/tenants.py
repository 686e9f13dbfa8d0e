"""Operator use cases: provision, list, read, suspend, resume and re-import white-label tenants (offboarding, which
must survive a failure halfway, is `offboarding`'s).

Where tenants are stored is `tenant_repository`'s."""

from __future__ import annotations

from typing import Any

from ..domain import contract_set, retention
from ..domain.access import PLATFORM, Principal, Role
from ..domain.audit import AuditEntry
from ..domain.errors import Conflict, FieldError, RuleViolation
from ..domain.policy import policy_problems
from ..domain.tenants import Tenant
from ..ports import Changes, DomainEvent, Page, Put
from ..runtime import Runtime
from . import case_repository, contracts, keys, offboarding_repository
from . import tenant_repository as repository
from .audit import verify_chain
from .credit_hold_marks import held_marks_complete
from .tenant_repository import policy_put, registry_entry
from .usage_months import usage_months_complete

SOURCE = "revgov.tenant"


def _tenant_puts(tenant: Tenant, *, version: int | None, new: bool) -> list[Put]:
    return [repository.profile_put(tenant, version=version, new=new), repository.registry_put(registry_entry(tenant))]


def policy_at(rt: Runtime, tenant_id: str, version: str) -> dict[str, Any]:
    return repository.policy_at(rt.store, tenant_id, version)


def _contract_texts(config: dict[str, Any], documents: list[dict[str, Any]]) -> list[contract_set.ContractText]:
    """The contracts provisioned with the tenant, parsed and checked against its policy."""
    problems = policy_problems(config.get("policy", {}))
    if problems:
        raise RuleViolation("the tenant policy is inconsistent", errors=problems)
    texts = [contract_set.parse(d["name"], d["markdown"], path=f"/contracts/{i}/markdown")
             for i, d in enumerate(documents)]
    # every clause the policy cites must be in the contracts given with it (none given: the policy may cite none)
    # and every figure of a rule written in the clause it cites (domain/clause_figures.py)
    contract_set.check_set(texts, config.get("policy", {}), what="the tenant", figures=True)
    owned = [t.name for t in texts if t.partner_id is not None]
    if owned:  # a new tenant has no partners yet: a partner's own contract is uploaded once the partner exists
        raise RuleViolation(f"{', '.join(owned)} name a partner (Partner: header); upload it with PUT /v1/contracts "
                            "once that partner exists")
    return texts


def _provisioned(actor: Principal, tenant: Tenant, texts: list[contract_set.ContractText], secret: str,
                 admin: tuple[dict[str, Any], Put]) -> Changes:
    admin_key, admin_put = admin
    contract_puts = [put for text in texts for put in contracts.contract_puts(
        tenant.tenant_id, text, revision=1, at=tenant.created_at, by=actor.actor, action="uploaded",
        reason="provisioned with the tenant", version=None)]
    summaries = [{"document": t.document, "sha256": t.sha256, "clauses": len(t.contract.clauses)} for t in texts]
    return Changes(
        puts=[
            *_tenant_puts(tenant, version=None, new=True),
            repository.secrets_put(tenant.tenant_id, secret),
            Put(admin_put.collection, admin_put.key, admin_put.data, must_be_absent=True, tenant_id=tenant.tenant_id),
            policy_put(tenant),
            *contract_puts,
            case_repository.pointers_complete(tenant.tenant_id),  # no case yet: each has its pointer from its opening
            usage_months_complete(tenant.tenant_id),  # no usage yet: each record has its month pointer from the first
            held_marks_complete(tenant.tenant_id),  # no credit note yet: each held one is marked held when held
        ],
        # a former tenant's tombstone under this id lifted in the same transaction (issue #16: the id provisioned again)
        deletes=[repository.tombstone_delete(tenant.tenant_id)],
        audit=[
            AuditEntry.by(actor, "tenant.created", tenant.tenant_id, tenant.status,
                          policy_version=tenant.policy_version,
                          inputs={"tier": tenant.tier, "currency": tenant.currency,
                                  "display_name": tenant.display_name, "contracts": summaries}),
            AuditEntry.by(actor, "key.created", admin_key["key_id"], "created",
                          inputs={"tenant_id": tenant.tenant_id, "role": "admin"}),
        ],
        # on the platform chain (the envelope's tenant_id is the platform's): the tenant provisioned is named here
        events=[DomainEvent(SOURCE, "tenant.provisioned", {"provisioned_tenant_id": tenant.tenant_id,
                                                           "tier": tenant.tier, "status": tenant.status})],
    )


def create_tenant(rt: Runtime, actor: Principal, config: dict[str, Any]) -> dict[str, Any]:
    """Register a tenant from its (schema-valid) config.

    Returns the tenant with its first admin key and its webhook secret, both shown this once.
    """
    config = dict(config)
    if config.get("status", "active") != "active":  # server-owned (API.md): only suspend/resume change it
        raise RuleViolation("a tenant is provisioned active; suspend it afterwards (POST /v1/tenants/{id}/suspend)",
                            errors=[FieldError("/status", "server-owned: only `active` (the default) is accepted")])
    texts = _contract_texts(config, config.pop("contracts", None) or [])
    short = retention.problems(config, config.get("retention") or {}, at="/retention")
    if short:  # the floors hold from the first day (docs/retention.md)
        raise RuleViolation("a retention period is below what the contract or the law requires", errors=short)
    tenant = Tenant.from_config(config, created_at=rt.clock.now_iso())
    _refuse_another_deployments(rt, tenant)
    _refuse_unfinished_offboarding(rt, tenant.tenant_id)
    secret = rt.ids.secret()
    admin = keys.new_key(rt, tenant.tenant_id, Role.ADMIN, None, "initial admin key", actor.actor)
    rt.commit(PLATFORM, _provisioned(actor, tenant, texts, secret, admin))
    if not contracts.inline_indexing(rt):  # even with no contracts: the indexer drops what a former tenant left
        rt.commit(tenant.tenant_id, Changes(events=[contracts.changed_event("provisioned", "*", 1, None)]))
    indexed = contracts.reindex_after_write(rt, tenant.tenant_id)  # also drops clauses a former same-id tenant left
    return {"tenant": tenant.as_dict(), "admin_key": admin[0], "webhook_secret": secret,
            "contracts": [{**t.summary(), "revision": 1} for t in texts], "index": indexed}


def _refuse_another_deployments(rt: Runtime, tenant: Tenant) -> None:
    """A deployment serves the tenants its stack was made for (the stacks set REVGOV_TENANCY, REVGOV_SILO_TENANT_ID):
    the pooled control plane never a `silo` tenant, whose data belongs in its own stack's table (README: "`silo`
    tenants get their own stack"; e.g. CPA-11.3 "dedicated infrastructure"), and a silo's stack only its own tenant.
    Unset (the local stack, the CLI on a table): both tiers, as before."""
    tenancy, stage = rt.settings.tenancy, rt.settings.stage
    stack = f"Revgov-{stage}-Tenant-{tenant.tenant_id}"
    if tenancy == "pool" and tenant.tier == "silo":
        raise RuleViolation(
            f"tenant {tenant.tenant_id} is a silo tenant: its data goes in its own stack's table, not the pooled one. "
            f"Deploy {stack} (stacks/README.md), mint an operator key in that stack's table (its TableName output) "
            "and provision it through that stack's API (its ApiUrl output)",
            errors=[FieldError("/tier", "silo: provisioned through its own stack, never the control plane")])
    if tenancy == "silo" and tenant.tenant_id != rt.settings.silo_tenant_id:
        raise RuleViolation(
            f"this stack is tenant {rt.settings.silo_tenant_id}'s own (a silo): it serves no other tenant; provision "
            f"{tenant.tenant_id} through the control plane's API, or its own stack's if it is a silo tenant",
            errors=[FieldError("/tenant_id", f"this stack serves {rt.settings.silo_tenant_id} only")])


def _refuse_unfinished_offboarding(rt: Runtime, tenant_id: str) -> None:
    """The id of a tenant whose offboarding has not finished is not free: what is left of its data would be mixed
    with the new tenant's, and the repeated DELETE that finishes it would take the new tenant for its own."""
    found = offboarding_repository.find(rt.store, tenant_id)
    if found is not None and found[0]["status"] != "completed":
        record = found[0]
        raise Conflict(
            f"tenant {tenant_id} is being offboarded ({record['offboarding_id']}, {record['status']}): repeat DELETE "
            f"/v1/tenants/{tenant_id} to finish it before a tenant is provisioned under this id",
            extra={"offboarding_id": record["offboarding_id"]},
        )


def load_tenant(rt: Runtime, tenant_id: str) -> tuple[Tenant, int]:
    """The tenant as stored now (decoded again only when it changed; frozen and shared: never mutate it)."""
    return repository.load(rt.store, tenant_id)


def exists(rt: Runtime, tenant_id: str) -> bool:
    """The tenant is provisioned (not offboarded meanwhile)."""
    return repository.find(rt.store, tenant_id) is not None


def get_tenant(rt: Runtime, tenant_id: str) -> dict[str, Any]:
    return load_tenant(rt, tenant_id)[0].as_dict()


def list_tenants(rt: Runtime, *, limit: int, cursor: str | None) -> Page:
    return repository.registry_page(rt.store, limit=limit, cursor=cursor)


def set_status(rt: Runtime, actor: Principal, tenant_id: str, status: str, reason: str | None) -> dict[str, Any]:
    tenant, version = load_tenant(rt, tenant_id)
    moved = tenant.moved_to(status)
    action = f"tenant.{'suspended' if status == 'suspended' else 'resumed'}"
    rt.commit(PLATFORM, Changes(
        puts=_tenant_puts(moved, version=version, new=False),
        audit=[AuditEntry.by(actor, action, tenant_id, status, inputs={"reason": reason, "from": tenant.status},
                             policy_version=tenant.policy_version)],
        events=[DomainEvent(SOURCE, action, {f"{action.partition('.')[2]}_tenant_id": tenant_id, "reason": reason})],
    ))
    return moved.as_dict()


def import_tenant(rt: Runtime, actor: Principal, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Restore an offboarding export: every item as it was, a fresh webhook secret, the registry entry.

    The audit chain comes back intact (verified before answering); the import itself is audited on the platform chain.
    """
    profile = next((i for i in items if repository.is_profile(i)), None)
    if profile is None:
        raise RuleViolation("the export has no TENANT/PROFILE item; it is not a tenant export")
    tenant = Tenant.from_dict(profile["data"])
    if repository.stored_profile(rt.store, tenant.tenant_id) is not None:
        raise Conflict(f"tenant {tenant.tenant_id} exists; offboard it before importing over it")
    _refuse_another_deployments(rt, tenant)
    _refuse_unfinished_offboarding(rt, tenant.tenant_id)
    secret = rt.ids.secret()
    fresh = repository.secrets_data(secret)
    restored = [{**item, "data": fresh} if repository.is_secret(item) else item for item in items]
    written = rt.store.import_tenant(tenant.tenant_id, restored)
    chain = verify_chain(rt, tenant.tenant_id)
    outcome = "restored" if chain["valid"] else "restored_with_broken_chain"
    rt.commit(PLATFORM, Changes(
        puts=[repository.registry_put(registry_entry(tenant))],
        audit=[AuditEntry.by(actor, "tenant.imported", tenant.tenant_id, outcome, policy_version=tenant.policy_version,
                             inputs={"items": written, "audit_records": chain["records"]})],
    ))
    if not contracts.inline_indexing(rt):  # the indexer rebuilds the tenant's index from its restored contracts
        rt.commit(tenant.tenant_id, Changes(events=[contracts.changed_event("imported", "*", 0, None)]))
    indexed = contracts.reindex_after_write(rt, tenant.tenant_id)
    return {"tenant_id": tenant.tenant_id, "imported_items": written, "audit_chain": chain, "webhook_secret": secret,
            "index": indexed}
