"""Partners in the store: the one module that names the partner collection (`PARTNER`, with the status lookup
`PARTNER#<status>` sorted by `<tier>#<partner id>`) and hands back the records as `Partner` entities."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, cast

from ..domain.errors import NotFound
from ..domain.partners import Partner
from ..ports import DocumentStore, Page, Put
from .toolkit import pages

PARTNERS = "PARTNER"
_BATCH = 100  # keys per batched read
# The tenant's Program Year ends passed, over every partner's agreement (the renewal base rate's counts,
# `domain.renewal_outlook.History`): counted from every partner record by the daily term sweep, which reads them all
# anyway, so one partner's figure reads this, not every partner record (services/analytics/renewal.py).
TERM_HISTORY = ("PARTNERTERMS", "history")


def find(store: DocumentStore, tenant_id: str, partner_id: str) -> tuple[Partner, int] | None:
    """The partner and its version (for an optimistic write), or None if this tenant has no such partner."""
    stored = store.get(tenant_id, PARTNERS, partner_id)
    return None if stored is None else (cast(Partner, stored.data), stored.version)


def load(store: DocumentStore, tenant_id: str, partner_id: str) -> tuple[Partner, int]:
    """The partner and its version; NotFound if this tenant has no such partner."""
    found = find(store, tenant_id, partner_id)
    if found is None:
        raise NotFound(f"no partner {partner_id}")
    return found


def record(store: DocumentStore, tenant_id: str, partner_id: str) -> dict[str, Any] | None:
    """The partner record as stored, for callers that read it field by field; None if there is no such partner."""
    stored = store.get(tenant_id, PARTNERS, partner_id)
    return stored.data if stored else None


def exists(store: DocumentStore, tenant_id: str, partner_id: str) -> bool:
    return store.get(tenant_id, PARTNERS, partner_id) is not None


def put(partner: Mapping[str, Any], *, version: int | None) -> Put:
    """Write `partner` (new when `version` is None), listed under its status and tier."""
    partner_id = str(partner["partner_id"])
    return Put(
        PARTNERS,
        partner_id,
        dict(partner),
        must_be_absent=version is None,
        expected_version=version,
        lookup=(f"{PARTNERS}#{partner['status']}", f"{partner.get('tier') or '-'}#{partner_id}"),
        conflict_detail=f"partner {partner_id} changed meanwhile; read it again",
    )


def page_by_status(
    store: DocumentStore, tenant_id: str, status: str, *, tier: str | None, limit: int, cursor: str | None
) -> Page:
    """One page of the partners in `status` (and `tier`), through the status lookup."""
    prefix = f"{tier}#" if tier else ""
    return store.lookup(tenant_id, f"{PARTNERS}#{status}", limit=limit, cursor=cursor, prefix=prefix)


def page(store: DocumentStore, tenant_id: str, *, limit: int, cursor: str | None) -> Page:
    """One page of every partner of the tenant, in id order."""
    return store.query(tenant_id, PARTNERS, limit=limit, cursor=cursor)


def every(store: DocumentStore, tenant_id: str) -> Iterator[dict[str, Any]]:
    """Every partner record of the tenant, page by page."""
    return (item.data for item in pages(store, tenant_id, PARTNERS))


def active(store: DocumentStore, tenant_id: str) -> list[dict[str, Any]]:
    return [p for p in every(store, tenant_id) if p.get("status") == "active"]


def get_many(store: DocumentStore, tenant_id: str, partner_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The records of those of `partner_ids` the tenant has, by id, in batched reads."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(partner_ids), _BATCH):
        refs = [(tenant_id, PARTNERS, key) for key in partner_ids[start : start + _BATCH]]
        found.update({ref[2]: item.data for ref, item in store.get_many(refs).items()})
    return found


def statuses(store: DocumentStore, tenant_id: str) -> Iterator[str]:
    """The status of every partner of the tenant (read from the collection, not the lookup: strongly consistent),
    only that field projected."""
    for _, (status,) in store.project(tenant_id, PARTNERS, ["$.status"]):
        yield str(json.loads(status))


def term_history(store: DocumentStore, tenant_id: str) -> dict[str, Any] | None:
    """The base rate's counts as the term sweep last kept them (None: it never ran for this tenant)."""
    stored = store.get(tenant_id, *TERM_HISTORY)
    return None if stored is None else dict(stored.data)


def term_history_put(history: Mapping[str, Any]) -> Put:
    return Put(*TERM_HISTORY, dict(history))
