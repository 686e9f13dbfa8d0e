"""Backfill of the partner pointers (`DEALBYPARTNER`) of registrations stored before the pointers existed.

A partner's `GET /v1/deals` pages through its own pointers only (PA-11.1: it never reads another partner's
registration, nor stands a cursor on one), so a registration stored by an earlier version, which has no pointer until
its next change, is missing from its partner's list. This writes each missing pointer, through the DocumentStore port
(SQLite and DynamoDB alike), in small commits, each with an audit record naming the registrations it touched, and
then records that the tenant's backfill ran to its end. Idempotent: a second run writes no pointer.

`revgov maintenance backfill-deal-pointers --tenant T` runs it (a full scan, always); `revgov dev` runs it at every
start for the local engine's tenants whose backfill never finished (one read per tenant when nothing is missing).
"""

from __future__ import annotations

from typing import Any

from ...domain.audit import AuditEntry
from ...domain.errors import NotFound
from ...ports import Changes
from ...runtime import Runtime
from ..tenant_repository import stored_profile
from . import repository

BATCH = 25  # registrations per commit (well under a DynamoDB transaction's 100 items with the audit record)
ACTION = "deals.partner_pointers_backfilled"


def backfill_partner_pointers(rt: Runtime, tenant_id: str, *, actor: str) -> dict[str, Any]:
    """Give every registration of the tenant its partner pointer; returns what was scanned and written."""
    if stored_profile(rt.store, tenant_id) is None:
        raise NotFound(f"no tenant {tenant_id}")
    scanned = written = 0
    batch: list[dict[str, Any]] = []
    for item in repository.every(rt, tenant_id):
        scanned += 1
        batch.append(item.data)
        if len(batch) >= BATCH:
            written += _commit(rt, tenant_id, repository.missing_pointers(rt, tenant_id, batch), actor)
            batch = []
    written += _commit(rt, tenant_id, repository.missing_pointers(rt, tenant_id, batch), actor)
    rt.commit(tenant_id, Changes(puts=[repository.backfilled_marker(rt.clock.now_iso(), scanned)]))
    return {"tenant_id": tenant_id, "scanned": scanned, "backfilled": written}


def backfill_if_unfinished(rt: Runtime, tenant_ids: list[str], *, actor: str) -> list[dict[str, Any]]:
    """The backfill for each tenant whose backfill never ran to its end (at `revgov dev` start): one read per tenant
    when every one has finished."""
    return [
        backfill_partner_pointers(rt, tenant_id, actor=actor)
        for tenant_id in tenant_ids
        if not repository.pointers_backfilled(rt, tenant_id)
    ]


def _commit(rt: Runtime, tenant_id: str, missing: list[dict[str, Any]], actor: str) -> int:
    if not missing:
        return 0
    registrations = [{"deal_id": d["deal_id"], "partner_id": d["partner_id"]} for d in missing]
    audit = AuditEntry.repair(actor, ACTION, f"{repository.DEALS}#{tenant_id}", len(missing),
                              "registration(s) given their partner pointer",
                              {"registrations": registrations, "fields_changed": []})  # fmt: skip
    rt.commit(tenant_id, Changes(puts=[repository.pointer_put(d) for d in missing], audit=[audit]))
    return len(missing)
