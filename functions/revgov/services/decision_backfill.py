"""Backfill of the per-partner decision lookup: decisions stored before it existed show in `GET /v1/decisions`.

`services.decision_repository.put` writes each partner decision with a lookup (`DECISION#<partner>`, newest first),
which a partner's `GET /v1/decisions` reads. Decisions stored before that lookup existed have none, so a partner
never saw them. This rewrites each such decision head unchanged but with its lookup, through the DocumentStore port
(the same code on SQLite and DynamoDB), in small commits, each with an audit record naming the decisions it
touched. Idempotent: a decision whose lookup is already there is left alone, so a second run writes nothing.
"""

from __future__ import annotations

from typing import Any

from ..domain.audit import AuditEntry
from ..domain.errors import NotFound
from ..ports import Changes, Stored
from ..runtime import Runtime
from . import decision_repository, decisions
from .tenant_repository import stored_profile

BATCH = 25  # decision heads per commit (well under a DynamoDB transaction's 100 items with the audit record)
ACTION = "decisions.lookup_backfilled"


def _has_lookup(rt: Runtime, tenant_id: str, decision: dict[str, Any]) -> bool:
    partition, sort = decision_repository.partner_lookup(decision)
    page = rt.store.lookup(tenant_id, partition, limit=1, prefix=sort)
    return any(item.key == decision["decision_id"] for item in page.items)


def backfill_partner_lookups(rt: Runtime, tenant_id: str, *, actor: str) -> dict[str, Any]:
    """Give every partner decision of the tenant its partner lookup; returns what was scanned and written."""
    if stored_profile(rt.store, tenant_id) is None:
        raise NotFound(f"no tenant {tenant_id}")
    scanned = written = 0
    pending: list[Stored] = []
    for item in decisions.every(rt, tenant_id):
        scanned += 1
        if item.data.get("partner_id") and not _has_lookup(rt, tenant_id, item.data):
            pending.append(item)
        if len(pending) >= BATCH:
            written += _commit(rt, tenant_id, pending, actor)
            pending = []
    if pending:
        written += _commit(rt, tenant_id, pending, actor)
    return {"tenant_id": tenant_id, "scanned": scanned, "backfilled": written}


def _commit(rt: Runtime, tenant_id: str, items: list[Stored], actor: str) -> int:
    changes = Changes(
        puts=[decision_repository.put(item.data, version=item.version) for item in items],
        audit=[
            AuditEntry(
                actor=actor,
                action=ACTION,
                subject=f"{decision_repository.DECISIONS}#{tenant_id}",
                outcome=f"{len(items)} decision(s) given their partner lookup",
                inputs={
                    "decisions": [{"decision_id": item.key, "partner_id": item.data["partner_id"]} for item in items],
                    "fields_changed": [],
                },
            )
        ],
    )
    rt.commit(tenant_id, changes)
    return len(items)
