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
from ...domain.deal_holds import uncertified_when
from ...domain.errors import Conflict, FieldError, RuleViolation
from ...domain.partners import screening, suspended_when
from ...domain.partners.evidence import family_expiry_gaps
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
    _not_withheld(policy, deal, partner, held, body["accepted_at"])
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


def _not_withheld(policy: dict[str, Any], deal: dict[str, Any], partner: dict[str, Any], held: dict[str, Any] | None,
                  accepted_at: str) -> None:
    """An order accepted when the partner could not place one keeps no registration: during a suspension (PA-13.2 /
    CPA-13.2 "suspend a Partner from new quotes, orders, deal registrations [...] Orders already accepted are
    fulfilled"), or while it held no certification in the registration's family (PA-4.3(b) / CPA-4.3(b) "may not
    quote, order or register deals [...] Orders accepted before the expiry are fulfilled"). A 422 naming the rule and
    /accepted_at, nothing recorded; an order accepted before either is recorded as before."""
    since = suspended_when(partner, accepted_at)
    if since is not None:
        rule = (policy.get("onboarding") or {}).get("suspension") or policy["deal_registration"]["eligibility"]
        raise RuleViolation(
            f"the order for deal registration {deal['deal_id']} was accepted at {accepted_at}, while partner "
            f"{deal['partner_id']} was suspended (since {since}) from new orders ({rule['id']}, {rule['clause']}): "
            "only an order accepted before the suspension keeps the registration",
            errors=[FieldError("/accepted_at", "not while the partner was suspended")],
            extra={"rule_id": rule["id"], "clause": rule["clause"]},
        )
    spell = uncertified_when(policy, held, family_expiry_gaps(policy, partner, deal["family"]), accepted_at)
    if spell is not None:
        raise RuleViolation(
            f"the order for deal registration {deal['deal_id']} was accepted at {accepted_at}, while partner "
            f"{deal['partner_id']} held no valid certification in {deal['family']} (from {spell['since']}"
            + (f" to {spell['until']}" if spell["until"] else "") + f"): it may not order there ({spell['clause']})",
            errors=[FieldError("/accepted_at", f"not while the partner held no certification in {deal['family']}")],
            extra={"rule_id": spell["rule_id"], "clause": spell["clause"]},
        )
