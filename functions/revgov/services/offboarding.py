"""Offboard a tenant, resumably: export every item, delete them all, prove nothing is left, audit it on the platform
chain. Before anything is deleted the export is stored in the platform's partition and a durable offboarding record
names it (`offboarding_repository`); a failure after that answers a 503 that says what is true (the data may be
partly or wholly deleted, the export is kept) and a repeated DELETE finishes from the record and answers the same
export. A DELETE repeated after the offboarding completed answers it again while the export is kept
(`EXPORT_KEPT_DAYS`); then the tenant is unknown (404)."""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta
from typing import Any

from ..domain.access import PLATFORM, Principal
from ..domain.audit import AuditEntry
from ..domain.errors import NotFound, Unavailable
from ..domain.time import instant, iso
from ..ports import Changes, DomainEvent
from ..runtime import Runtime
from . import offboarding_repository as records
from . import tenant_repository
from .offboarding_repository import Offboarding

SOURCE = "revgov.tenant"


class OffboardingIncomplete(Unavailable):
    """The tenant's data may be (partly) deleted and its export is kept: repeating DELETE finishes the offboarding."""


def _redacted(item: dict[str, Any]) -> dict[str, Any]:
    """Exports never carry live credentials: webhook secrets are replaced by a marker."""
    return {**item, "data": {"redacted": True}} if tenant_repository.is_secret(item, key=False) else item


def offboard(rt: Runtime, actor: Principal, tenant_id: str) -> dict[str, Any]:
    """Export every item of the tenant, delete them all, prove nothing is left, and audit it on the platform chain."""
    found = records.find(rt.store, tenant_id)
    profile = tenant_repository.stored_profile(rt.store, tenant_id)
    former = None  # the version of a former offboarding's record this one replaces
    if found is not None and profile is not None and (
        found[0]["status"] == "completed" or profile.data.get("created_at") != found[0]["tenant_created_at"]
    ):
        former, found = found[1], None  # a tenant provisioned again under the id of one offboarded before
    if found is None and profile is None:
        raise NotFound(f"no tenant {tenant_id}")
    if found is not None and found[0]["status"] == "completed" and profile is None:
        return _answer(rt, found[0], resumed=True)
    record, version = found or (_new_record(rt, actor, tenant_id, profile.data if profile else {}), None)
    _fence(rt, record)
    try:
        record, version = _export(rt, record, version, former=former)
        return _finish(rt, actor, record, version, resumed=found is not None)
    except Exception as exc:
        if found is None and version is None:
            # nothing stored, nothing deleted: the failure is what it says, and the tenant writes again as before (if
            # lifting the fence fails too, the original failure is still the one raised; a repeated DELETE finishes)
            with suppress(Exception):
                rt.store.commit(tenant_id, Changes(deletes=[tenant_repository.tombstone_delete(tenant_id)]))
            raise
        raise _incomplete(tenant_id, record, exc) from exc


def _fence(rt: Runtime, record: Offboarding) -> None:
    """The tenant's tombstone, before its export is taken: from here the store refuses every change that would put
    into the tenant, in that change's own transaction (a request, an event handler that read the tenant before, an
    agent, a sweep), so the export is the tenant's last state and nothing is written back after the deletion. Such
    a write fails with `TenantOffboarded`; an event handler drops its event, as one arriving after the offboarding
    (`edge.handlers.drain_batch`)."""
    expires = int(instant(record["export_kept_until"]).timestamp())
    rt.store.commit(record["tenant_id"], Changes(puts=[
        tenant_repository.tombstone_put(record["offboarding_id"], record["started_at"], expires_at=expires)]))


def _new_record(rt: Runtime, actor: Principal, tenant_id: str, profile: dict[str, Any]) -> Offboarding:
    now = rt.clock.now_iso()
    return Offboarding(
        tenant_id=tenant_id, offboarding_id=rt.ids.new("off"), status="deleting", started_at=now,
        started_by=actor.actor, tenant_created_at=str(profile.get("created_at")),
        policy_version=str(profile.get("policy_version")), export_chunks=0, exported_items=0,
        export_kept_until=iso(instant(now) + timedelta(days=records.EXPORT_KEPT_DAYS)), deleted_items=0,
        remaining_items=0, completed_at=None,
    )


def _export(rt: Runtime, record: Offboarding, version: int | None, *, former: int | None) -> tuple[Offboarding, int]:
    """What the tenant holds now, appended to the stored export (all of it the first time; on a resumed
    offboarding, what the failed attempt left), then the record: only then is anything deleted."""
    found = [_redacted(item) for item in rt.store.export_tenant(record["tenant_id"])]
    if not found and version is not None:
        return record, version
    expires = int(instant(record["export_kept_until"]).timestamp())
    first = record["export_chunks"]
    texts = list(records.encode(found))
    for number, text in enumerate(texts, start=first):
        rt.store.commit(PLATFORM, Changes(puts=[
            records.chunk_put(record["tenant_id"], record["offboarding_id"], number, text, expires_at=expires)]))
    record = Offboarding(**{**record, "export_chunks": first + len(texts)})
    exported = records.export(rt.store, record) or []
    record = Offboarding(**{**record, "exported_items": len(exported), "status": "deleting"})
    over = former if version is None else version
    rt.store.commit(PLATFORM, Changes(puts=[records.record_put(record, version=over)]))
    stored = records.find(rt.store, record["tenant_id"])
    return record, stored[1] if stored else 0


def _finish(rt: Runtime, actor: Principal, record: Offboarding, version: int, *, resumed: bool) -> dict[str, Any]:
    tenant_id = record["tenant_id"]
    # closed first, in one commit: from here a failure leaves a tenant that cannot act (no key, portal or ERP webhook
    # authenticates), never one serving on half its data or writing what the export taken above does not hold
    rt.store.commit(tenant_id, Changes(deletes=tenant_repository.closing_deletes()))
    deleted = rt.store.delete_tenant(tenant_id)
    if rt.clause_index is not None:
        rt.clause_index.delete_tenant(tenant_id)
    remaining = len(rt.store.export_tenant(tenant_id))
    total = record["deleted_items"] + deleted
    if remaining == 0:  # every exported item is gone, whichever attempt deleted it
        total = max(total, record["exported_items"])
    done = Offboarding(**{**record, "status": "completed" if remaining == 0 else "incomplete", "deleted_items": total,
                          "remaining_items": remaining, "completed_at": rt.clock.now_iso()})
    counts = {"exported_items": done["exported_items"], "deleted_items": total, "remaining_items": remaining}
    expires = int(instant(record["export_kept_until"]).timestamp()) if remaining == 0 else None
    rt.commit(PLATFORM, Changes(
        puts=[records.record_put(done, version=version, expires_at=expires)],
        deletes=[tenant_repository.registry_delete(tenant_id)],
        audit=[AuditEntry.by(actor, "tenant.offboarded", tenant_id, "deleted" if remaining == 0 else "incomplete",
                             inputs={**counts, "offboarding_id": record["offboarding_id"], "resumed": resumed},
                             policy_version=record["policy_version"])],
        # on the platform chain, so the envelope's tenant_id is the platform's: the tenant offboarded is named
        # here, for the contract indexer that deletes its search index where this function has no search access
        events=[DomainEvent(SOURCE, "tenant.offboarded",
                            {"exported_items": done["exported_items"], "offboarded_tenant_id": tenant_id})],
    ))
    return _answer(rt, done, resumed=resumed)


def _answer(rt: Runtime, record: Offboarding, *, resumed: bool) -> dict[str, Any]:
    export = records.export(rt.store, record)
    if export is None or rt.clock.now_iso() >= record["export_kept_until"]:
        raise NotFound(f"tenant {record['tenant_id']} was offboarded ({record['offboarding_id']}); its export was kept "
                       f"until {record['export_kept_until']} and has expired")
    return {
        "tenant_id": record["tenant_id"], "exported_items": record["exported_items"],
        "deleted_items": record["deleted_items"], "remaining_items": record["remaining_items"], "export": export,
        "offboarding_id": record["offboarding_id"], "resumed": resumed,
        "export_kept_until": record["export_kept_until"],
    }


def _incomplete(tenant_id: str, record: Offboarding, cause: Exception) -> OffboardingIncomplete:
    return OffboardingIncomplete(
        f"offboarding {record['offboarding_id']} of tenant {tenant_id} did not finish ({type(cause).__name__}): its "
        f"export of {record['exported_items']} items is kept until {record['export_kept_until']}, and its data may be "
        f"partly or wholly deleted already; repeat DELETE /v1/tenants/{tenant_id} to finish it: it answers the same "
        "export",
        extra={"offboarding_id": record["offboarding_id"], "export_kept_until": record["export_kept_until"]},
    )
