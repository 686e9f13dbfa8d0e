"""The MDF collections (PA-9.5 / CPA-9.5): activities, claims, the per-partner ledger of drawn and paid amounts (the
one document every claim writes over, so two claims can never spend the same accrual) and expiry markers (one per
partner and accrual Quarter: the sweep writes each once)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..domain.errors import NotFound
from ..ports import Put
from ..runtime import Runtime
from .toolkit import pages, put_over

ACTIVITIES = "MDFACTIVITY"  # partner#activity id -> an activity request and its decision
CLAIMS = "MDFCLAIM"  # partner#claim id -> a claim, its approvals and its credit note
LEDGER = "MDFLEDGER"  # partner -> {drawn: {quarter: amount}, paid: {quarter: amount}}
EXPIRIES = "MDFEXPIRY"  # partner#quarter -> the amount that expired, written once by the sweep


def _key(partner_id: str, item_id: str) -> str:
    return f"{partner_id}#{item_id}"


def _read(rt: Runtime, tenant_id: str, collection: str, partner_id: str, item_id: str,
          what: str) -> tuple[dict[str, Any], int]:
    found = rt.store.get(tenant_id, collection, _key(partner_id, item_id))
    if found is None:
        raise NotFound(f"no MDF {what} {item_id}")
    return found.data, found.version


def _over(collection: str, record: dict[str, Any], id_field: str, version: int | None) -> Put:
    item_id = record[id_field]
    return put_over(collection, _key(record["partner_id"], item_id), record, version,
                    conflict_detail=f"MDF {id_field.removesuffix('_id')} {item_id} changed meanwhile; read it again")


def activity(rt: Runtime, tenant_id: str, partner_id: str, activity_id: str) -> tuple[dict[str, Any], int]:
    return _read(rt, tenant_id, ACTIVITIES, partner_id, activity_id, "activity")


def activity_put(record: dict[str, Any], version: int | None) -> Put:
    return _over(ACTIVITIES, record, "activity_id", version)


def claim(rt: Runtime, tenant_id: str, partner_id: str, claim_id: str) -> tuple[dict[str, Any], int]:
    return _read(rt, tenant_id, CLAIMS, partner_id, claim_id, "claim")


def claim_put(record: dict[str, Any], version: int | None) -> Put:
    return _over(CLAIMS, record, "claim_id", version)


def activities_of(rt: Runtime, tenant_id: str, partner_id: str) -> list[dict[str, Any]]:
    return [s.data for s in pages(rt.store, tenant_id, ACTIVITIES, prefix=f"{partner_id}#")]


def claims_of(rt: Runtime, tenant_id: str, partner_id: str) -> list[dict[str, Any]]:
    return [s.data for s in pages(rt.store, tenant_id, CLAIMS, prefix=f"{partner_id}#")]


def ledger(rt: Runtime, tenant_id: str, partner_id: str) -> tuple[dict[str, dict[str, Decimal]], int | None]:
    """What claims drew (submitted or approved, not rejected) and what was paid, per accrual Quarter."""
    found = rt.store.get(tenant_id, LEDGER, partner_id)
    data = found.data if found else {}
    sums = {name: {q: Decimal(v) for q, v in data.get(name, {}).items()} for name in ("drawn", "paid")}
    return sums, found.version if found else None


def ledger_put(partner_id: str, sums: dict[str, dict[str, Decimal]], version: int | None) -> Put:
    data = {"partner_id": partner_id, **{name: {q: f"{v:f}" for q, v in sums[name].items()} for name in sums}}
    return put_over(LEDGER, partner_id, data, version,
                    conflict_detail=f"the MDF ledger of partner {partner_id} changed meanwhile; read it again")


def expiries(rt: Runtime, tenant_id: str, partner_id: str) -> dict[str, dict[str, Any]]:
    return {s.data["quarter"]: s.data for s in pages(rt.store, tenant_id, EXPIRIES, prefix=f"{partner_id}#")}


def expiry_put(record: dict[str, Any]) -> Put:
    return Put(EXPIRIES, _key(record["partner_id"], record["quarter"]), record, must_be_absent=True,
               conflict_detail="this accrual's expiry was recorded meanwhile")
