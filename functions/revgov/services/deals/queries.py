"""Read registrations as a caller may see them (their certification hold shown), and withdraw one."""

from __future__ import annotations

from typing import Any

from ...domain import deals
from ...domain.access import Principal
from ...domain.audit import AuditEntry
from ...domain.errors import NotFound
from ...ports import Changes
from ...runtime import Runtime
from ..tenants import load_tenant
from . import repository
from .live import ended, hold


def get(rt: Runtime, who: Principal, deal_id: str, *, raw: bool = False) -> Any:
    """The registration as `who` may read it (NotFound for another partner's); `raw`: as stored, with its version."""
    stored = repository.find(rt, who.tenant_id, deal_id)
    if stored is None or not who.sees_partner(stored.data["partner_id"]):
        raise NotFound(f"no deal registration {deal_id}")
    if raw:
        return stored.data, stored.version
    tenant, _ = load_tenant(rt, who.tenant_id)
    return shown(rt, who.tenant_id, tenant.policy, stored.data, rt.clock.now_iso())


def shown(rt: Runtime, tenant_id: str, policy: dict[str, Any], deal: dict[str, Any], now: str, *,
          partners: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The registration as callers read it: ended with its partner's termination (PA-13.3), held under PA-4.3(d), or
    as stored. `partners`: the partners read so far, by id."""
    seen = partners if partners is not None else {}
    over = ended(rt, tenant_id, policy, deal, seen)
    return deals.view(deal, now, None if over else hold(rt, tenant_id, policy, deal, now, seen), over)


def list_deals(rt: Runtime, who: Principal, *, limit: int, cursor: str | None) -> dict[str, Any]:
    if who.partner_id is not None:  # a partner key pages its own registrations only (PA-11.1)
        page = repository.partner_page(rt, who.tenant_id, who.partner_id, limit=limit, cursor=cursor)
    else:
        page = repository.page(rt, who.tenant_id, limit=limit, cursor=cursor)
    now = rt.clock.now_iso()
    policy = load_tenant(rt, who.tenant_id)[0].policy
    seen: dict[str, dict[str, Any]] = {}
    items = [
        shown(rt, who.tenant_id, policy, item.data, now, partners=seen)
        for item in page.items
        if who.sees_partner(item.data["partner_id"])
    ]
    return {"items": items, "next_cursor": page.next_cursor}


def withdraw(rt: Runtime, who: Principal, deal_id: str) -> dict[str, Any]:
    """The partner (or channel ops) withdraws a registration: it leaves the opportunity's lock and pending queue."""
    deal, version = get(rt, who, deal_id, raw=True)
    withdrawn = deals.moved_to(deal, deals.WITHDRAWN)
    changes = Changes(
        puts=repository.deal_puts(withdrawn, version=version),
        audit=[
            AuditEntry.by(
                who, "deal.withdrawn", deal_id, deals.WITHDRAWN, inputs={"previous_status": deal["status"]}
            )
        ],
    )
    changes.puts += [repository.lock_changed(lock, status=deals.WITHDRAWN)
                     for lock in repository.held_locks(rt, who.tenant_id, deal)]  # fmt: skip
    if deal["status"] == deals.PENDING:
        changes.puts += repository.queue_puts(rt, who.tenant_id, deal, lambda q: deals.queue_without(q, deal_id))
    rt.commit(who.tenant_id, changes)
    return withdrawn
