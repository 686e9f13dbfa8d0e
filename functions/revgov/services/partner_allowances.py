"""Sandboxes and exam vouchers (CPA-9.7): issued by Channel Operations up to the partner's entitlement, a sandbox
returned; each a write over the partner record as read (two issues at once cannot pass the cap) with its audit record.

CPA-9.7: "up to 1 (Authorized), 3 (Advanced) or 10 (Elite) at a time, and certification exam vouchers per Program Year:
2 (Authorized), 6 (Advanced) or 20 (Elite) [...] Unused vouchers expire at the end of the Program Year."
The arithmetic is `domain.partners.allowances`; the cap is the entitlement answer as of now.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..domain import partners
from ..domain.access import Principal
from ..domain.audit import AuditEntry
from ..domain.errors import ConcurrentUpdate, NotFound
from ..domain.partners import Partner, allowances
from ..domain.tenants import Tenant
from ..ports import Changes
from ..runtime import Runtime
from . import partner_repository as repository
from . import tenants
from .toolkit import retry_on_conflict

_ATTEMPTS = 12  # as the partner's other filings: a write that finds the partner changed reads it again
_PREFIX = {allowances.SANDBOXES: "sbx", allowances.VOUCHERS: "vch"}


Change = Callable[[Partner, Tenant, str], tuple[dict[str, Any], AuditEntry, dict[str, Any]]]


def _write(rt: Runtime, who: Principal, partner_id: str, change: Change) -> dict[str, Any]:
    """Read the partner, apply `change` (the new record, its audit record, the answer), write it over what was read."""
    if not who.sees_partner(partner_id):
        raise NotFound(f"no partner {partner_id}")
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)

    def attempt() -> dict[str, Any]:
        partner, version = repository.load(rt.store, who.tenant_id, partner_id)
        changed, audit, answer = change(partner, tenant, rt.clock.now_iso())
        rt.commit(who.tenant_id, Changes(puts=[repository.put(changed, version=version)], audit=[audit]))
        return answer

    return retry_on_conflict(attempt, attempts=_ATTEMPTS, exhausted=lambda: ConcurrentUpdate(
        f"partner {partner_id} kept changing under this write; retry"))


def issue(rt: Runtime, who: Principal, partner_id: str, name: str) -> dict[str, Any]:
    """POST /v1/partners/{partner_id}/sandboxes or /exam-vouchers: one more, or a 409 at the cap."""
    def change(partner: Partner, tenant: Tenant, now: str) -> tuple[dict[str, Any], AuditEntry, dict[str, Any]]:
        answer = partners.entitlement(tenant.policy, partner, name, now)
        done = allowances.issue(partner, answer, rt.ids.new(_PREFIX[name]), now)
        audit = AuditEntry.by(who, f"partner.{name}_issued", partner_id, "issued",
                              inputs={"item": done.item, "remaining": done.remaining, "cap": answer["value"]},
                              policy_version=tenant.policy_version, rule_ids=(answer["rule_id"],),
                              clauses=(answer["clause"],))
        return done.partner, audit, {"partner_id": partner_id, "entitlement": name, "issued": done.item,
                                     "remaining": done.remaining, "rule_id": answer["rule_id"],
                                     "clause": answer["clause"]}

    return _write(rt, who, partner_id, change)


def give_back(rt: Runtime, who: Principal, partner_id: str, sandbox_id: str) -> dict[str, Any]:
    """POST /v1/partners/{partner_id}/sandboxes/{sandbox_id}/return: no longer held."""
    def change(partner: Partner, tenant: Tenant, now: str) -> tuple[dict[str, Any], AuditEntry, dict[str, Any]]:
        returned = allowances.give_back(partner, sandbox_id)
        answer = partners.entitlement(tenant.policy, returned, allowances.SANDBOXES, now)
        audit = AuditEntry.by(who, "partner.sandbox_returned", partner_id, "returned",
                              inputs={"sandbox_id": sandbox_id}, policy_version=tenant.policy_version,
                              rule_ids=(answer["rule_id"],), clauses=(answer["clause"],))
        return returned, audit, {"partner_id": partner_id, "entitlement": allowances.SANDBOXES,
                                 "returned": sandbox_id, "remaining": answer["remaining"],
                                 "rule_id": answer["rule_id"], "clause": answer["clause"]}

    return _write(rt, who, partner_id, change)
