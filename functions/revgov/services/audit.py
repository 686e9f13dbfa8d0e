"""Reading and verifying a tenant's audit chain."""

from __future__ import annotations

from typing import Any

from ..domain.audit import verify
from ..runtime import Runtime


def verify_chain(rt: Runtime, tenant_id: str) -> dict[str, Any]:
    head = rt.store.audit_head(tenant_id)
    return verify(rt.store.iter_audit_records(tenant_id), head=head).as_dict()


def list_records(rt: Runtime, tenant_id: str, *, subject: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
    """The chain oldest first, or the records about `subject`; cursors are the store's, fenced to the tenant."""
    if subject:
        page = rt.store.audit_by_subject(tenant_id, subject, limit=limit, cursor=cursor)
    else:
        page = rt.store.audit_page(tenant_id, limit=limit, cursor=cursor)
    return {"items": [item.data for item in page.items], "next_cursor": page.next_cursor}
