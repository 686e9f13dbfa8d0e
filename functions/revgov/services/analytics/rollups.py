"""The KPI rollups' documents: the collections they live in, their keys, and folding deltas into them.

Rollups are kept per month and scope (`all`, `tier:<tier>`, `partner:<id>`); a marker per counted fact makes a
redelivery a no-op; the directory records each partner's tier and status for threshold attainment.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ...domain import kpis as core
from ...domain.errors import NotFound
from ...domain.kpis import Delta
from ...domain.time import instant
from ...ports import Changes, Put, Stored
from ...runtime import Runtime
from ..partners import load_partner

ROLLUPS = "KPI"  # {month}#{scope} -> rollup; "directory" -> partner id -> {tier, status}
SEEN = "KPISEEN"  # what has been counted: src#, quote#, approval#, exception#, support# markers
LINES = "KPILINE"  # sales fact line id -> what of it is counted (a re-rated line moves by the difference)
DIRECTORY = "directory"
# The scope of the Distributor's direct sales to Customers (a referral, PA-8.1 / CPA-8.1 "invoices the Customer
# directly"; a sales agent's listed account, PA-8.2): counted in `all`, never in a partner's tier nor its own figures,
# as they are none of its Invoiced Revenue (PA-1.2 / CPA-1.2 "amounts invoiced by the Distributor to the Partner").
DIRECT = "direct"
KEEP_SECONDS = 400 * 24 * 3600
HISTORY_MONTHS = 36


def rollup_key(month: str, scope: str) -> str:
    return f"{month}#{scope}"


def replacing(
    collection: str, key: str, data: dict[str, Any], current: Stored | None, *, expires_at: int | None = None,
    conflict_detail: str | None = None,
) -> Put:
    """A put of `data` over what was read (`current`): created only if still absent, else only at the version read."""
    put = Put(
        collection,
        key,
        data,
        must_be_absent=current is None,
        expected_version=current.version if current else None,
        expires_at=expires_at,
    )
    return replace(put, conflict_detail=conflict_detail) if conflict_detail else put


def _marker(rt: Runtime, key: str, data: dict[str, Any]) -> Put:
    return Put(SEEN, key, data, must_be_absent=True, expires_at=rt.clock.now_ms() // 1000 + KEEP_SECONDS)


def _seen(rt: Runtime, tenant_id: str, key: str) -> bool:
    return rt.store.get(tenant_id, SEEN, key) is not None


def _directory(rt: Runtime, tenant_id: str) -> Stored | None:
    return rt.store.get(tenant_id, ROLLUPS, DIRECTORY)


def _tier_of(rt: Runtime, tenant_id: str, partner_id: str | None) -> str:
    """The partner's tier now: from the KPI directory, else its record; `none` for an unknown partner."""
    if not partner_id:
        return "none"
    directory = _directory(rt, tenant_id)
    if directory and partner_id in directory.data["partners"]:
        return str(directory.data["partners"][partner_id].get("tier") or "none")
    try:
        return str(load_partner(rt, tenant_id, partner_id)[0].get("tier") or "none")
    except NotFound:
        return "none"


def _scopes(tier: str, partner_id: str | None) -> list[tuple[str, bool]]:
    """The scopes a fact counts in, and whether each keeps revenue per partner; a direct sale (`DIRECT`) counts
    in `all` and `direct`, no tier's nor partner's."""
    if tier == DIRECT:
        return [(core.ALL, True), (DIRECT, False)]
    scopes = [(core.ALL, True), (f"tier:{tier}", True)]
    if partner_id:
        scopes.append((f"partner:{partner_id}", False))
    return scopes


def _fold(rt: Runtime, tenant_id: str, deltas: list[tuple[str, str, str | None, Delta]], changes: Changes) -> None:
    """Add each (month, tier, partner, delta) to its rollups; the puts carry the versions they were read at."""
    wanted: dict[tuple[str, str], tuple[bool, list[Delta]]] = {}
    for month, tier, partner_id, delta in deltas:
        if delta.is_zero:
            continue
        for scope, per_partner in _scopes(tier, partner_id):
            wanted.setdefault((month, scope), (per_partner, []))[1].append(delta)
    if not wanted:
        return
    stored = rt.store.get_many([(tenant_id, ROLLUPS, rollup_key(m, s)) for m, s in wanted])
    for (month, scope), (per_partner, list_of_deltas) in wanted.items():
        current = stored.get((tenant_id, ROLLUPS, rollup_key(month, scope)))
        rollup = current.data if current else core.empty(month, scope)
        for delta in list_of_deltas:
            rollup = core.apply(rollup, delta, per_partner=per_partner)
        changes.puts.append(
            replacing(ROLLUPS, rollup_key(month, scope), rollup, current,
                      conflict_detail="the KPI rollup moved meanwhile")
        )


def _month_of_instant(text: str) -> str:
    return core.month_of(instant(text).date())
