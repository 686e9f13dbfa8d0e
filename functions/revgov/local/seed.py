"""Provisions every tenant in `tenants/` through the same use cases the operator API calls, and mints demo keys."""

from __future__ import annotations

import json
from typing import Any

from ..domain.access import PLATFORM, Principal, Role
from ..runtime import Runtime
from ..services import keys, tenant_repository, tenants
from ..services.contracts import reindex
from ..tenant_files import load_tenant_file, tenant_files
from .demo_partners import seed_partners

SYSTEM = Principal(PLATFORM, Role.OPERATOR, "local-stack")
DEMO_ROLES = (Role.FINANCE, Role.CHANNEL_OPS, Role.LEGAL, Role.CUSTOMER_SUCCESS, Role.SALES, Role.VIEWER)


def seed(rt: Runtime) -> dict[str, Any]:
    """Everything `.revgov/local.json` lists: the operator key and, per tenant, its keys and webhook secret."""
    operator_key = keys.mint_operator_key(rt, "local operator")
    out: dict[str, Any] = {"operator_key": operator_key, "tenants": {}}
    for path in tenant_files(rt.settings.tenants_dir):
        created = tenants.create_tenant(rt, SYSTEM, load_tenant_file(path))
        tenant_id = created["tenant"]["tenant_id"]
        admin = Principal(tenant_id, Role.ADMIN, created["admin_key"]["key_id"])
        minted = {role: keys.create_key(rt, admin, tenant_id, role, None, f"demo {role.value}") for role in DEMO_ROLES}
        role_keys = {role.value: key["key"] for role, key in minted.items()}
        demo_partners, partner_keys = seed_partners(
            rt,
            created["tenant"]["config"]["policy"],
            created["tenant"]["display_name"],
            admin=admin,
            sales=Principal(tenant_id, Role.SALES, minted[Role.SALES]["key_id"]),
            approver=Principal(tenant_id, Role.CHANNEL_OPS, minted[Role.CHANNEL_OPS]["key_id"]),
        )
        out["tenants"][tenant_id] = {
            "admin_key": created["admin_key"]["key"],
            "keys": {"admin": created["admin_key"]["key"], **role_keys, **partner_keys},
            "webhook_secret": created["webhook_secret"],
            "partners": demo_partners,
        }
    return out


class PartialSeed(RuntimeError):
    """The database has tenants but no record of the demo seed (a first start was killed while seeding)."""


def _registry_tenants(rt: Runtime) -> list[str]:
    return list(tenant_repository.tenant_ids(rt.store))


def seed_once(rt: Runtime) -> tuple[dict[str, Any], bool]:
    """Seed the demo tenants into an empty database only; returns what local.json lists and whether it seeded now.

    On the embedded engine the seed's keys are kept in the database file (its `local_state`), so every restart lists
    the same working keys: the one place they are kept in the clear besides local.json, both on this machine only.
    """
    db = getattr(rt.store, "db", None)
    if db is None:  # DynamoDB: seed an empty table; a table that has tenants keeps them, and their keys are not known
        if _registry_tenants(rt):
            return {"operator_key": None, "tenants": {}}, False
        return seed(rt), True
    with db.read() as c:
        kept = c.execute("SELECT value FROM local_state WHERE name = 'seed'").fetchone()
    if kept is not None:
        return dict(json.loads(kept[0])), False
    if _registry_tenants(rt):
        raise PartialSeed(
            f"{db.path} has tenants but no record of the demo seed (was the first start interrupted?): "
            "run `revgov dev --reset` to start over"
        )
    info = seed(rt)
    with db.write() as c:
        c.execute("INSERT INTO local_state (name, value) VALUES ('seed', ?)", (json.dumps(info),))
    return info, True


def sweep_index(rt: Runtime) -> list[str]:
    """Keep the copilot's local index in step with the tenants: a tenant the database no longer has (reset, or
    offboarded by a process that died before it cleaned the index) loses its clauses, so a tenant re-created with the
    same id never sees an old tenant's contracts."""
    index = rt.clause_index
    if index is None or not hasattr(index, "tenants"):
        return []
    live = set(_registry_tenants(rt))
    stale = [tenant_id for tenant_id in index.tenants() if tenant_id not in live]
    for tenant_id in stale:
        index.delete_tenant(tenant_id)
    return stale


def index_stored_contracts(rt: Runtime) -> None:
    """The copilot's index at each start, from each tenant's contracts as stored (`/v1/contracts` amends, replaces and
    withdraws them; `tenants/<id>/contracts/` only seeds an empty database), documents no longer stored dropped.
    Unchanged contracts are no-ops, so restarts stay fast."""
    if rt.clause_index is None:
        return

    sweep_index(rt)
    for tenant_id in _registry_tenants(rt):
        reindex(rt, tenant_id)
