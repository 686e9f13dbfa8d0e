"""Backfill of the pointers (`case_repository.waiting_pointer`) of items asked before `GET /v1/waiting` existed.

A partner's `GET /v1/waiting` reads its own pointers only (PA-11.1: never another partner's item), so an approval or
exception that was already `waiting_on_partner` when the pointers came (1.28.0) is missing from its partner's list
until it is answered. This writes each missing pointer through the DocumentStore port (SQLite and DynamoDB alike), in
commits of at most `BATCH`, each with an audit record naming the items it touched. Idempotent: a second run writes no
pointer. `revgov maintenance backfill-waiting-pointers --tenant T` runs it.
"""

from __future__ import annotations

from typing import Any

from ..domain.audit import AuditEntry
from ..domain.cases import Case
from ..domain.errors import NotFound
from ..domain.sla_pause import WAITING
from ..ports import Changes
from ..runtime import Runtime
from . import case_repository
from .tenant_repository import stored_profile

BATCH = 25  # pointers per commit (well under a DynamoDB transaction's 100 items with the audit record)
ACTION = "cases.waiting_pointers_backfilled"


def backfill_waiting_pointers(rt: Runtime, tenant_id: str, *, actor: str) -> dict[str, Any]:
    """Give every item of the tenant waiting on a partner its pointer; returns what was scanned and written."""
    if stored_profile(rt.store, tenant_id) is None:
        raise NotFound(f"no tenant {tenant_id}")
    waiting = [case for kind in ("approval", "exception")
               for case in case_repository.by_status(rt.store, tenant_id, kind, WAITING) if case.get("partner_id")]
    pointers = [case_repository.waiting_pointer(case) for case in waiting]
    found = rt.store.get_many([(tenant_id, p.collection, p.key) for p in pointers])
    missing = [case for case, p in zip(waiting, pointers, strict=True) if (tenant_id, p.collection, p.key) not in found]
    for start in range(0, len(missing), BATCH):
        rt.commit(tenant_id, _changes(tenant_id, missing[start:start + BATCH], actor))
    return {"tenant_id": tenant_id, "scanned": len(waiting), "backfilled": len(missing)}


def _changes(tenant_id: str, cases: list[Case], actor: str) -> Changes:
    """The pointers of `cases` and the record naming them (nothing of the cases themselves changes)."""
    record = AuditEntry(
        actor=actor,
        action=ACTION,
        subject=f"{case_repository.WAITING_POINTERS}#{tenant_id}",
        outcome=f"{len(cases)} waiting item(s) given their partner pointer",
        inputs={"cases": [{"case_id": c["case_id"], "kind": c["kind"], "partner_id": c["partner_id"]} for c in cases],
                "fields_changed": []},
    )  # fmt: skip
    return Changes(puts=[case_repository.waiting_pointer(case) for case in cases], audit=[record])
