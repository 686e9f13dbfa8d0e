"""Backfill of the pointers (`case_repository.undecided_pointer`) of the cases opened before a partner's undecided
cases had them.

The performance summary reads a partner's undecided approvals and exceptions through the partner's own pointers
(`CASEOPEN`) once the tenant's mark `CASEOPEN/#complete` says every undecided case has one; a tenant provisioned
before the pointers has no mark, and its summaries read the tenant's undecided cases and filter them, as before. This
writes each missing pointer of an undecided case about a partner, then the mark, through the DocumentStore port
(SQLite and DynamoDB alike), in commits of at most `BATCH`, each with an audit record naming the cases it touched.
Idempotent: a second run writes no pointer. `revgov maintenance backfill-open-pointers --tenant T` runs it; `revgov
dev` runs it at start for a tenant of an older `.revgov` database.
"""

from __future__ import annotations

from typing import Any

from ..domain.audit import AuditEntry
from ..domain.cases import Case
from ..domain.errors import NotFound
from ..domain.sla_pause import OPEN, WAITING
from ..ports import Changes
from ..runtime import Runtime
from . import case_repository
from .tenant_repository import stored_profile

BATCH = 25  # pointers per commit (well under a DynamoDB transaction's 100 items with the audit record)
ACTION = "cases.open_pointers_backfilled"


def backfill_open_pointers(rt: Runtime, tenant_id: str, *, actor: str) -> dict[str, Any]:
    """Give every undecided case of the tenant about a partner its pointer, then mark the pointers complete; returns
    what was scanned and written."""
    if stored_profile(rt.store, tenant_id) is None:
        raise NotFound(f"no tenant {tenant_id}")
    undecided = [case for kind in ("approval", "exception") for status in (OPEN[kind], WAITING)
                 for case in case_repository.by_status(rt.store, tenant_id, kind, status) if case.get("partner_id")]
    pointers = [case_repository.undecided_pointer(case) for case in undecided]
    found = rt.store.get_many([(tenant_id, p.collection, p.key) for p in pointers])
    missing = [case for case, p in zip(undecided, pointers, strict=True)
               if (tenant_id, p.collection, p.key) not in found]  # fmt: skip
    for start in range(0, len(missing), BATCH):
        rt.commit(tenant_id, _changes(tenant_id, missing[start:start + BATCH], actor))
    complete = rt.store.get(tenant_id, case_repository.UNDECIDED_POINTERS, case_repository.POINTERS_COMPLETE)
    if complete is None:
        rt.commit(tenant_id, Changes(puts=[case_repository.pointers_complete()], audit=[_record(tenant_id, [], actor)]))
    return {"tenant_id": tenant_id, "scanned": len(undecided), "backfilled": len(missing)}


def backfill_if_unfinished(rt: Runtime, tenant_ids: list[str], *, actor: str) -> list[dict[str, Any]]:
    """The backfill for each tenant without the mark (at `revgov dev` start): one read per tenant once all have it."""
    return [backfill_open_pointers(rt, tenant_id, actor=actor) for tenant_id in tenant_ids
            if rt.store.get(tenant_id, case_repository.UNDECIDED_POINTERS, case_repository.POINTERS_COMPLETE) is None]


def _record(tenant_id: str, cases: list[Case], actor: str) -> AuditEntry:
    return AuditEntry(
        actor=actor,
        action=ACTION,
        subject=f"{case_repository.UNDECIDED_POINTERS}#{tenant_id}",
        outcome=f"{len(cases)} undecided case(s) given their partner pointer" if cases
        else "every undecided case has its partner pointer",
        inputs={"cases": [{"case_id": c["case_id"], "kind": c["kind"], "partner_id": c["partner_id"]} for c in cases],
                "fields_changed": []},
    )  # fmt: skip


def _changes(tenant_id: str, cases: list[Case], actor: str) -> Changes:
    """The pointers of `cases` and the record naming them (nothing of the cases themselves changes)."""
    return Changes(puts=[case_repository.undecided_pointer(case) for case in cases],
                   audit=[_record(tenant_id, cases, actor)])  # fmt: skip
