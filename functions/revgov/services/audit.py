"""Reading and verifying a tenant's audit chain."""

from __future__ import annotations

from typing import Any

from ..domain.audit import ChainWalk
from ..runtime import Runtime


def verify_chain(rt: Runtime, tenant_id: str) -> dict[str, Any]:
    """Verify a live chain: writers may append while it is walked. The head is read after the walk, so it covers
    every record walked (a record and the head move in one transaction); records appended after the walk passed
    the end are read up to that head. A record the head does not cover, or a head beyond the records, is invalid."""
    walk = ChainWalk()
    for record in rt.store.iter_audit_records(tenant_id):
        walk.add(record)
    head = rt.store.audit_head(tenant_id)
    while walk.first_invalid is None and walk.last_seq < head[0]:
        later = [r for r in rt.store.audit_records(tenant_id, after_seq=walk.last_seq) if r["seq"] <= head[0]]
        if not later:
            break
        for record in later:
            walk.add(record)
    return walk.result(head).as_dict()


def list_records(rt: Runtime, tenant_id: str, *, subject: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
    """The chain oldest first, or the records about `subject`; cursors are the store's, fenced to the tenant."""
    if subject:
        page = rt.store.audit_by_subject(tenant_id, subject, limit=limit, cursor=cursor)
    else:
        page = rt.store.audit_page(tenant_id, limit=limit, cursor=cursor)
    return {"items": [item.data for item in page.items], "next_cursor": page.next_cursor}
