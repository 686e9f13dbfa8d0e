"""An offboarded tenant's tombstone (`ports.TOMBSTONE`), as every store backend checks it.

Every transaction that puts into a tenant's partitions (an item or an audit record) also checks, atomically with its
writes, that the tenant has no tombstone (put when its offboarding begins): a handler that read before the offboarding
cannot write the tenant back after it (`TenantOffboarded`). It costs no read: one condition check in the transaction
(DynamoDB: a ConditionCheck item, counted in the 100; SQLite and memory: a key lookup under the write lock). Deletes
alone are never refused (they bring nothing back). The tombstone is not the tenant's data: never exported, left by the
bulk deletion (it expires with the offboarding's export), lifted by an import or a provisioning of the id.
"""

from __future__ import annotations

from ..domain.access import PLATFORM
from ..domain.errors import TenantOffboarded
from ..ports import TOMBSTONE, Changes


def tombstone_key(tenant_id: str) -> tuple[str, str]:
    """The tombstone's (pk, sk), as `store_base.partition` builds keys."""
    return f"T#{tenant_id}#{TOMBSTONE[0]}", TOMBSTONE[1]


def tenant_of(pk: str) -> str:
    """The tenant of a partition key `T#{tenant}#{collection}` (tenant ids hold no `#`)."""
    return pk.split("#", 2)[1]


def guarded_tenants(tenant_id: str, changes: Changes) -> list[str]:
    """Whose tombstone the change must find absent: each tenant it puts into (items or audit records), except the
    platform (never offboarded) and a tenant whose tombstone the change itself puts or deletes (its offboarding
    beginning; its provisioning again)."""
    putting = {put.tenant_id or tenant_id for put in changes.puts}
    if changes.audit:
        putting.add(tenant_id)
    own = {put.tenant_id or tenant_id for put in changes.puts if (put.collection, put.key) == TOMBSTONE}
    own |= {d.tenant_id or tenant_id for d in changes.deletes if (d.collection, d.key) == TOMBSTONE}
    return sorted(putting - own - {PLATFORM})


def offboarded(tenant_id: str) -> TenantOffboarded:
    detail = f"tenant {tenant_id} is being offboarded or was offboarded: nothing more is written into it"
    return TenantOffboarded(detail, extra={"tenant_id": tenant_id})
