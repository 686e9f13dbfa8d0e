"""Reading and verifying a tenant's audit chain."""

from __future__ import annotations

from typing import Any

from ..domain.audit import verify
from ..domain.errors import MalformedRequest
from ..runtime import Runtime


def verify_chain(rt: Runtime, tenant_id: str) -> dict[str, Any]:
    head = rt.store.audit_head(tenant_id)
    return verify(rt.store.iter_audit_records(tenant_id), head=head).as_dict()


def list_records(rt: Runtime, tenant_id: str, *, subject: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
    if subject:
        page = rt.store.audit_by_subject(tenant_id, subject, limit=limit, cursor=cursor)
        return {"items": [item.data for item in page.items], "next_cursor": page.next_cursor}
    if cursor and not cursor.isdigit():
        raise MalformedRequest("cursor is not valid for this list")
    after = int(cursor) if cursor else 0
    items = rt.store.audit_records(tenant_id, after_seq=after, limit=limit)
    return {"items": items, "next_cursor": str(items[-1]["seq"]) if len(items) == limit else None}
