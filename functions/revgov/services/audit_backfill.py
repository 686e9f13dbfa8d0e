"""Backfill of each partner's audit index (PA-12.1 / CPA-12.1) for records sealed before records named their partner.

A record sealed since carries `partner_id` (under its hash) and its partner's pointer is written in the same
transaction. A record sealed before has neither; it cannot gain the field (that would break the chain), so this gives
it its pointer only: the partner is derived from the record as kept, as the sealing derives it now
(`domain.audit.partner_of_record`: its `inputs.partner_id`, a partner subject, or the partner of the key that acted).
Through the DocumentStore port (SQLite and DynamoDB alike), in small commits, each with an audit record naming the
records it indexed; then it records how far the chain was read. Idempotent: a second run writes no pointer.

`revgov maintenance backfill-audit-pointers --tenant T` runs it (a full scan, always); `revgov dev` runs it at every
start for the local engine's tenants, from where the last run ended (one read per tenant when nothing was added).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..domain.audit import PARTNER_INDEX, AuditEntry, partner_of_record, partner_pointer
from ..domain.errors import NotFound
from ..ports import Changes, Put
from ..runtime import Runtime
from . import keys
from .tenant_repository import stored_profile

BATCH = 40  # pointers per commit (well under a DynamoDB transaction's 100 items with the audit record and head)
ACTION = "audit.partner_pointers_backfilled"
MARKER = "backfill"  # PARTNER_INDEX / backfill: the last seq the backfill read


def backfill_partner_pointers(rt: Runtime, tenant_id: str, *, actor: str, after_seq: int = 0) -> dict[str, Any]:
    """Give every record of the tenant's chain after `after_seq` that concerns a partner its pointer; returns what
    was scanned and written."""
    if stored_profile(rt.store, tenant_id) is None:
        raise NotFound(f"no tenant {tenant_id}")
    head = rt.store.audit_head(tenant_id)[0]
    scanned = written = 0
    batch: list[tuple[dict[str, Any], str]] = []
    partner_of_key: dict[str, str | None] = {}
    for record in _records(rt, tenant_id, after_seq, head):
        scanned += 1
        partner_id = record_partner(rt, tenant_id, record, partner_of_key)
        if partner_id is not None:
            batch.append((record, partner_id))
        if len(batch) >= BATCH:
            written += _commit(rt, tenant_id, batch, actor)
            batch = []
    written += _commit(rt, tenant_id, batch, actor)
    rt.commit(tenant_id, Changes(puts=[Put(PARTNER_INDEX, MARKER, {"through_seq": head, "at": rt.clock.now_iso()})]))
    return {"tenant_id": tenant_id, "scanned": scanned, "backfilled": written}


def backfill_if_unfinished(rt: Runtime, tenant_ids: list[str], *, actor: str) -> list[dict[str, Any]]:
    """At `revgov dev` start: for each tenant, the records sealed since the last run ended (none once every record
    carries its own pointer; one read per tenant when the chain did not grow past the marker)."""
    ran = []
    for tenant_id in tenant_ids:
        marker = rt.store.get(tenant_id, PARTNER_INDEX, MARKER)
        through = int(marker.data["through_seq"]) if marker else 0
        if marker is None or rt.store.audit_head(tenant_id)[0] > through:
            ran.append(backfill_partner_pointers(rt, tenant_id, actor=actor, after_seq=through))
    return ran


def _records(rt: Runtime, tenant_id: str, after_seq: int, head: int) -> Iterator[dict[str, Any]]:
    """The records after `after_seq` up to `head` (the chain as it stood when the run began), decoded; a record
    whose stored text is not a record is left alone (`GET /v1/audit/verify` names it)."""
    for text in rt.store.iter_audit_texts(tenant_id, after_seq=after_seq):
        try:
            record = json.loads(text or "null")
        except ValueError:
            continue
        seq = record.get("seq") if isinstance(record, dict) else None
        if isinstance(seq, int) and seq > head:
            return
        if isinstance(seq, int) and seq > after_seq:
            yield record


def record_partner(rt: Runtime, tenant_id: str, record: dict[str, Any], known: dict[str, str | None]) -> str | None:
    """The partner a stored record concerns (`domain.audit.partner_of_record`), the keys' partners read once into
    `known`."""
    return partner_of_record(record, lambda key_id: _key_partner(rt, tenant_id, key_id, known))


def _key_partner(rt: Runtime, tenant_id: str, key_id: str, known: dict[str, str | None]) -> str | None:
    if key_id not in known:
        stored = keys.load_key(rt, tenant_id, key_id)
        known[key_id] = stored.data.get("partner_id") if stored else None
    return known[key_id]


def _commit(rt: Runtime, tenant_id: str, batch: list[tuple[dict[str, Any], str]], actor: str) -> int:
    """The pointers of `batch` not yet stored, in one commit with its audit record; how many were written."""
    pointers = [(partner_pointer(record, partner_id), partner_id) for record, partner_id in batch]
    refs = [(tenant_id, collection, key) for (collection, key, _), _ in pointers]
    found = rt.store.get_many(refs) if refs else {}
    missing = [(pointer, partner_id) for pointer, partner_id in pointers if (tenant_id, *pointer[:2]) not in found]
    if not missing:
        return 0
    records = [{"seq": data["seq"], "partner_id": partner_id} for (_, _, data), partner_id in missing]
    audit = AuditEntry.repair(actor, ACTION, f"AUDIT#{tenant_id}", len(missing),
                              "record(s) given their partner pointer", {"records": records})  # fmt: skip
    puts = [Put(collection, key, data) for (collection, key, data), _ in missing]
    rt.commit(tenant_id, Changes(puts=puts, audit=[audit]))
    return len(missing)
