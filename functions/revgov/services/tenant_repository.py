"""Tenants in the store: the one module that names the tenant-level collections.

- `TENANT/PROFILE` in the tenant's partition: the `Tenant` (its configuration and policy);
- `TENANTS/<tenant id>` in the platform's partition: the registry entry (`GET /v1/tenants`), the profile without its
  configuration;
- `POLICY/<policy version>`: every policy version a decision was made under, so the decision can be replayed;
- `SECRET/WEBHOOK`: the tenant's webhook signing secrets;
- `OFFBOARDED/TOMBSTONE` (`ports.TOMBSTONE`): put when the tenant's offboarding begins; while it stands the store
  refuses every change that puts into the tenant (`TenantOffboarded`); deleted when the tenant is provisioned again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any, TypedDict, cast

from ..domain.access import PLATFORM
from ..domain.errors import NotFound
from ..domain.tenants import Tenant
from ..ports import TOMBSTONE, Delete, DocumentStore, Page, Put, Stored
from .toolkit import pages

PROFILE = ("TENANT", "PROFILE")
REGISTRY = "TENANTS"
SECRETS = ("SECRET", "WEBHOOK")
POLICIES = "POLICY"
_REGISTRY_PAGE = 100


class RegistryEntry(TypedDict):
    """`schemas/api/responses/tenant-entry.schema.json`: the tenant as the platform lists it."""

    tenant_id: str
    display_name: str
    status: str
    tier: str
    currency: str
    policy_version: str
    created_at: str


# --- the profile -----------------------------------------------------------------------------
def profile_ref(tenant_id: str) -> tuple[str, str, str]:
    """The profile's reference for a batched read (`DocumentStore.get_many`)."""
    return (tenant_id, *PROFILE)


def find(store: DocumentStore, tenant_id: str) -> tuple[Tenant, int] | None:
    """The tenant as stored now and its version, or None. The profile holds the whole policy and is read by nearly
    every request and event, so it is decoded again only when it changed (`get_parsed`); the Tenant is frozen and
    shared: never mutate it."""
    return store.get_parsed(tenant_id, *PROFILE, Tenant.from_dict)


def load(store: DocumentStore, tenant_id: str) -> tuple[Tenant, int]:
    found = find(store, tenant_id)
    if found is None:
        raise NotFound(f"no tenant {tenant_id}")
    return found


def stored_profile(store: DocumentStore, tenant_id: str) -> Stored | None:
    """The profile document as stored (not decoded), or None once the tenant is gone."""
    return store.get(tenant_id, *PROFILE)


def profile_put(
    tenant: Tenant, *, version: int | None, new: bool = False, conflict_detail: str | None = None
) -> Put:
    return Put(
        PROFILE[0],
        PROFILE[1],
        tenant.as_dict(),
        tenant_id=tenant.tenant_id,
        must_be_absent=new,
        expected_version=version,
        conflict_detail=conflict_detail or f"tenant {tenant.tenant_id} already exists",
    )


def is_profile(item: Mapping[str, Any]) -> bool:
    """Whether an exported item (`{collection, key, data}`) is the tenant's profile."""
    return (item["collection"], item["key"]) == PROFILE


# --- the platform's registry -----------------------------------------------------------------
def registry_entry(tenant: Tenant) -> RegistryEntry:
    return cast(RegistryEntry, {k: v for k, v in tenant.as_dict().items() if k != "config"})


def registry_put(entry: RegistryEntry, *, version: int | None = None, conflict_detail: str | None = None) -> Put:
    put = Put(REGISTRY, entry["tenant_id"], dict(entry), tenant_id=PLATFORM, expected_version=version)
    return put if conflict_detail is None else replace(put, conflict_detail=conflict_detail)


def registry_delete(tenant_id: str) -> Delete:
    return Delete(REGISTRY, tenant_id)


def listed(store: DocumentStore, tenant_id: str) -> Stored | None:
    """The tenant's registry entry as stored, or None."""
    return store.get(PLATFORM, REGISTRY, tenant_id)


def registry_page(store: DocumentStore, *, limit: int, cursor: str | None) -> Page:
    return store.query(PLATFORM, REGISTRY, limit=limit, cursor=cursor)


def registry_items(store: DocumentStore) -> Iterator[Stored]:
    """Every registry entry as stored (its key is the tenant id), page by page."""
    return pages(store, PLATFORM, REGISTRY, page_size=_REGISTRY_PAGE)


def tenant_ids(store: DocumentStore) -> Iterator[str]:
    """Every tenant in the platform's registry, page by page."""
    return (item.key for item in registry_items(store))


# --- policy versions -------------------------------------------------------------------------
def policy_put(tenant: Tenant) -> Put:
    """Every policy version a decision was made under stays readable, so the decision can be replayed."""
    data = {"policy_version": tenant.policy_version, "policy": tenant.policy}
    return Put(POLICIES, tenant.policy_version, data, tenant_id=tenant.tenant_id)


def policy_at(store: DocumentStore, tenant_id: str, version: str) -> dict[str, Any]:
    stored = store.get(tenant_id, POLICIES, version)
    if stored is None:
        raise NotFound(f"policy version {version} is not stored for this tenant")
    return dict(stored.data["policy"])


# --- webhook secrets -------------------------------------------------------------------------
def webhook_secrets(store: DocumentStore, tenant_id: str) -> Stored | None:
    """The tenant's webhook secrets as stored (`{"secrets": [{secret, valid_until}]}`), or None."""
    return store.get(tenant_id, *SECRETS)


def secrets_put(tenant_id: str, secret: str) -> Put:
    """A fresh webhook secret, valid until rotated."""
    return Put(SECRETS[0], SECRETS[1], secrets_data(secret), tenant_id=tenant_id)


def secrets_put_over(
    tenant_id: str, secrets: list[dict[str, Any]], *, version: int | None, conflict_detail: str
) -> Put:
    """The secrets written over those read at `version` (None: there were none)."""
    return Put(SECRETS[0], SECRETS[1], {"secrets": secrets}, tenant_id=tenant_id, must_be_absent=version is None,
               expected_version=version, conflict_detail=conflict_detail)


def secrets_data(secret: str) -> dict[str, Any]:
    return {"secrets": [{"secret": secret, "valid_until": None}]}


def tombstone_put(offboarding_id: str, since: str, *, expires_at: int) -> Put:
    """The tenant fenced for its offboarding: from this commit on, nothing more is written into it (by a request, a
    handler that read before, an agent or a sweep); kept as long as the offboarding's export (its TTL)."""
    return Put(*TOMBSTONE, {"offboarding_id": offboarding_id, "since": since}, expires_at=expires_at)


def tombstone_delete(tenant_id: str) -> Delete:
    """The fence lifted: the tenant provisioned again under its id (in the provisioning's own transaction), or an
    offboarding that failed before storing or deleting anything."""
    return Delete(*TOMBSTONE, tenant_id=tenant_id)


def closing_deletes() -> list[Delete]:
    """What closes a tenant ahead of its bulk deletion (offboarding): its profile (its keys and portal then answer
    as for an unknown tenant) and its webhook secrets (its ERP webhook then refuses every signature)."""
    return [Delete(*PROFILE), Delete(*SECRETS)]


def is_secret(item: Mapping[str, Any], *, key: bool = True) -> bool:
    """Whether an exported item holds the webhook secrets (`key=False`: anything in the secrets collection)."""
    return item["collection"] == SECRETS[0] and (not key or item["key"] == SECRETS[1])
