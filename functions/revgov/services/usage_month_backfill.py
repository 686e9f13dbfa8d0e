"""Backfill of the month pointers (`billing.repository.usage_month_put`) of the usage records stored before the usage
what-if read a month's records through them.

The usage what-if (`POST /v1/policy/drafts/{draft_id}/usage-whatif`) reads the records of the months it is asked about
through their pointers (`USAGEMONTH`) once the tenant's mark `USAGEMONTH/#complete` says every record has one; a
tenant provisioned before the pointers has no mark, and its what-ifs read every usage record of the tenant and filter
them, as before. This writes each missing pointer, then the mark, through the DocumentStore port (SQLite and DynamoDB
alike), in commits of at most `BATCH`, each with an audit record naming the records it touched. Idempotent: a second
run writes no pointer. `revgov maintenance backfill-usage-months --tenant T` runs it; `revgov dev` runs it at start
for a tenant of an older `.revgov` database.
"""

from __future__ import annotations

from typing import Any

from ..domain.audit import AuditEntry
from ..domain.errors import NotFound
from ..ports import Changes, Put
from ..runtime import Runtime
from .billing.repository import USAGE
from .tenant_repository import stored_profile
from .toolkit import pages
from .usage_months import USAGE_MONTHS, USAGE_MONTHS_COMPLETE, usage_month_put, usage_months_complete

BATCH = 25  # pointers per commit (well under a DynamoDB transaction's 100 items with the audit record)
ACTION = "billing.usage_month_pointers_backfilled"


def backfill_usage_months(rt: Runtime, tenant_id: str, *, actor: str) -> dict[str, Any]:
    """Give every usage record of the tenant its month pointer, then mark the pointers complete; returns what was
    scanned and written."""
    if stored_profile(rt.store, tenant_id) is None:
        raise NotFound(f"no tenant {tenant_id}")
    pointers = [usage_month_put(item.key, str(item.data["period"])) for item in pages(rt.store, tenant_id, USAGE)]
    found = set()
    for start in range(0, len(pointers), 100):
        refs = [(tenant_id, p.collection, p.key) for p in pointers[start:start + 100]]
        found |= set(rt.store.get_many(refs))
    missing = [p for p in pointers if (tenant_id, p.collection, p.key) not in found]
    for start in range(0, len(missing), BATCH):
        batch = missing[start:start + BATCH]
        rt.commit(tenant_id, Changes(puts=batch, audit=[_record(tenant_id, batch, actor)]))
    if rt.store.get(tenant_id, USAGE_MONTHS, USAGE_MONTHS_COMPLETE) is None:
        rt.commit(tenant_id, Changes(puts=[usage_months_complete()], audit=[_record(tenant_id, [], actor)]))
    return {"tenant_id": tenant_id, "scanned": len(pointers), "backfilled": len(missing)}


def backfill_if_unfinished(rt: Runtime, tenant_ids: list[str], *, actor: str) -> list[dict[str, Any]]:
    """The backfill for each tenant without the mark (at `revgov dev` start): one read per tenant once all have it."""
    return [backfill_usage_months(rt, tenant_id, actor=actor) for tenant_id in tenant_ids
            if rt.store.get(tenant_id, USAGE_MONTHS, USAGE_MONTHS_COMPLETE) is None]


def _record(tenant_id: str, pointers: list[Put], actor: str) -> AuditEntry:
    return AuditEntry(
        actor=actor,
        action=ACTION,
        subject=f"{USAGE_MONTHS}#{tenant_id}",
        outcome=f"{len(pointers)} usage record(s) given their month pointer" if pointers
        else "every usage record has its month pointer",
        inputs={"usage_records": [p.data["usage_key"] for p in pointers], "fields_changed": []},
    )  # fmt: skip
