"""Provisions every tenant in `tenants/` through the same use cases the operator API calls, and mints demo keys."""

from __future__ import annotations

from typing import Any

from ..domain.access import PLATFORM, Principal, Role
from ..runtime import Runtime
from ..services import keys, tenants
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
