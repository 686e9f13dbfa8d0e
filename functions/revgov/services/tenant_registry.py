"""The platform's tenant registry kept true to each tenant's profile.

The registry entry (`TENANTS` in the platform partition, what `GET /v1/tenants` lists) is a copy of the tenant's
profile without its configuration. A policy activation writes the tenant's own partition (its profile, policy version
and audit chain) in one tenant-scoped commit, which cannot also write the platform's partition: in AWS a tenant
session is denied writes to the registry. So `policy.activated` (rule `tenant-registry`) runs `sync`, in a function
of its own that may read profiles and write registry entries and nothing else.

Idempotent and order-proof: the entry is re-derived from the profile as it is now, never from the event, so a
redelivered or late event writes nothing new, and an older event can never put back an older version. A tenant whose
profile is gone (offboarded) or whose registry entry is gone is left alone: the registry is never re-created here.
"""

from __future__ import annotations

from typing import Any

from ..domain.access import PLATFORM
from ..domain.errors import RuleViolation
from ..domain.tenants import Tenant
from ..ports import Changes
from ..runtime import Runtime
from . import tenant_repository as repository

TRIGGERS = {("revgov.policy", "policy.activated")}


def sync(rt: Runtime, tenant_id: str) -> dict[str, Any]:
    """Make the tenant's registry entry the one its profile gives: `updated`, `unchanged` or `skipped`."""
    profile = repository.stored_profile(rt.store, tenant_id)
    listed = repository.listed(rt.store, tenant_id)
    if profile is None or listed is None:
        return {"status": "skipped", "tenant_id": tenant_id,
                "reason": "no tenant profile" if profile is None else "not in the registry"}
    entry = repository.registry_entry(Tenant.from_dict(profile.data))
    if listed.data == entry:
        return {"status": "unchanged", "tenant_id": tenant_id, "policy_version": entry.get("policy_version")}
    rt.commit(PLATFORM, Changes(puts=[repository.registry_put(
        entry, version=listed.version, conflict_detail="the registry entry changed meanwhile; retried")]))
    return {"status": "updated", "tenant_id": tenant_id, "policy_version": entry.get("policy_version"),
            "was": listed.data.get("policy_version")}


def sync_from_event(rt: Runtime, bus_event: dict[str, Any]) -> dict[str, Any]:
    """The handler's use case (raises, so the queue retries a conflict)."""
    detail = bus_event.get("detail")
    kind = (bus_event.get("source"), bus_event.get("detail-type"))
    if kind not in TRIGGERS or not isinstance(detail, dict) or not isinstance(detail.get("tenant_id"), str) \
            or detail["tenant_id"] == PLATFORM:
        raise RuleViolation("not a revgov.policy policy.activated event naming its tenant")
    return sync(rt, detail["tenant_id"])
