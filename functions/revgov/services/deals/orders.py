"""An accepted order recorded against an approved registration: it keeps the registration past its period.

PA-5.3: "A registration expires at the end of its exclusivity period unless an order has been accepted." CPA-5.2:
"Protection ends at the end of the period unless an order has been accepted." The ERP's events carry no customer or
registration, so channel ops records the order the Distributor accepted (`POST /v1/deals/{deal_id}/order`).

Not while a screening match holds the partner: PA-2.8 "no quote, order or incentive may be processed for the Partner
while the match is unresolved" (CPA-2.8 "no quote, order, payment or incentive"; PA-13.2 "Orders already accepted
are fulfilled unless the reason is (b)"), as an ERP order event of a held partner is held for Legal."""

from __future__ import annotations

from typing import Any

from ...domain import deals
from ...domain.access import Principal
from ...domain.audit import AuditEntry
from ...domain.errors import Conflict
from ...domain.partners import screening
from ...ports import Changes
from ...runtime import Runtime
from .. import partner_repository
from ..tenants import load_tenant
from . import repository
from .live import ended, hold
from .queries import get


def record_order(rt: Runtime, who: Principal, deal_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Record the order accepted for this registration within its period; the registration then stays approved
    (and keeps barring other partners) after its period ends."""
    deal, version = get(rt, who, deal_id, raw=True)
    tenant, _ = load_tenant(rt, who.tenant_id)
    policy, now = tenant.policy, rt.clock.now_iso()
    over = ended(rt, who.tenant_id, policy, deal)
    if over is not None:  # PA-13.3 / CPA-13.3: the partner was terminated, its registrations end
        raise Conflict(f"deal registration {deal_id} has ended: {over['message']}",
                       extra={"rule_id": over["rule_id"], "clause": over["clause"]})
    refused = deals.order_problem(policy, deal, body["accepted_at"], now)
    if refused is not None:
        raise refused
    partner = partner_repository.record(rt.store, who.tenant_id, deal["partner_id"]) or {}
    screening.refuse_while_held(policy, partner, f"the order for deal registration {deal_id}")
    held = hold(rt, who.tenant_id, policy, deal, now)
    if held is not None and held["status"] == deals.LAPSED:  # PA-4.3(d): a lapsed registration has ended
        raise Conflict(f"deal registration {deal_id} has lapsed: {held['message']}",
                       extra={"rule_id": held["rule_id"], "clause": held["clause"]})
    kept = deals.order_recorded(deal, body, policy, now)
    changes = Changes(puts=repository.deal_puts(kept, version=version))
    # the locks decide who holds the opportunity
    changes.puts += [repository.lock_changed(lock, order=kept["order"])
                     for lock in repository.held_locks(rt, who.tenant_id, deal)]  # fmt: skip
    rule = policy["deal_registration"]["order_accepted"]
    changes.audit.append(AuditEntry.by(
        who, "deal.order_recorded", deal_id, deals.APPROVED, inputs={"order": kept["order"]},
        policy_version=tenant.policy_version, rule_ids=(rule["id"],), clauses=(rule["clause"],),
    ))
    rt.commit(who.tenant_id, changes)
    return dict(deals.view(kept, now, held))
