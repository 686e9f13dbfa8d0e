"""Which registration protects an opportunity now, and the facts a quote check reads of registrations: approved, in
its exclusivity period and not lapsed under PA-4.3(d) / CPA-4.3(d) (a suspended one still protects: "the exclusivity
period continuing to run")."""

from __future__ import annotations

from typing import Any

from ...domain import deal_holds, deals
from ...domain.errors import RuleViolation
from ...ports import Stored
from ...runtime import Runtime
from ..partners import load_partner
from . import repository


def hold(
    rt: Runtime,
    tenant_id: str,
    policy: dict[str, Any],
    deal: dict[str, Any],
    now: str,
    partners: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any] | None:
    """The PA-4.3(d) / CPA-4.3(d) hold on an approved registration, from its partner's certifications now.
    `partners`: the partners read so far, by id (a sweep or a list reads each once)."""
    if deal["status"] != deals.APPROVED or "certification_lapse" not in policy["deal_registration"]:
        return None
    found: dict[str, Any] | None = deals.hold_on(policy, deal, _partner(rt, tenant_id, deal, partners), now)
    return found


def ended(
    rt: Runtime,
    tenant_id: str,
    policy: dict[str, Any],
    deal: dict[str, Any],
    partners: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any] | None:
    """Why a pending or approved registration is over although nobody decided so: its partner was terminated
    (PA-13.3 / CPA-13.3 "registrations end"); None otherwise. `partners`: as for `hold`."""
    if deal["status"] not in (deals.PENDING, deals.APPROVED):
        return None
    return deals.ended_by_termination(policy, deal, _partner(rt, tenant_id, deal, partners))


def not_suspended(rt: Runtime, tenant_id: str, policy: dict[str, Any], deal: dict[str, Any]) -> None:
    """PA-13.2 / CPA-13.2: a suspended partner is suspended from new "deal registrations" (the suspension withholds
    `deal_registration`): its registration, or the extension of one, asked for before the suspension is not approved
    during it (a RuleViolation naming the suspension's rule, nothing changed); it waits for the suspension to end."""
    partner = _partner(rt, tenant_id, deal, None)
    if partner.get("status") != "suspended":
        return
    rule = (policy.get("onboarding") or {}).get("suspension") or policy["deal_registration"]["eligibility"]
    raise RuleViolation(
        f"deal registration {deal['deal_id']} is not approved or extended: partner {deal['partner_id']} is suspended "
        f"from new deal registrations ({rule['id']}, {rule['clause']}); it waits for the suspension to be lifted",
        extra={"rule_id": rule["id"], "clause": rule["clause"]},
    )


def _partner(
    rt: Runtime, tenant_id: str, deal: dict[str, Any], partners: dict[str, dict[str, Any]] | None
) -> dict[str, Any]:
    cache = partners if partners is not None else {}
    if deal["partner_id"] not in cache:
        cache[deal["partner_id"]], _ = load_partner(rt, tenant_id, deal["partner_id"])
    return cache[deal["partner_id"]]


def live(
    rt: Runtime, tenant_id: str, customer_id: str, family: str, now: str, policy: dict[str, Any]
) -> tuple[dict[str, Any] | None, int | None]:
    """The registration that protects this customer and family now (or None), and the version of the lock read.
    A registration whose partner was terminated protects nothing (PA-13.3; PA-5.5: "other Partners may register the
    opportunity afresh")."""
    lock = repository.lock_of(rt, tenant_id, customer_id, family)
    return _protecting(rt, tenant_id, lock, now, policy), (lock.version if lock is not None else None)


def rival_live(
    rt: Runtime, tenant_id: str, customer: dict[str, Any], family: str, partner_id: str, now: str,
    policy: dict[str, Any],
) -> tuple[dict[str, Any] | None, dict[str, int | None]]:
    """Another partner's registration protecting any Customer this one stands on (its group and the company itself,
    `repository.customers`; PA-5.4), or None; and the version of each lock read, by opportunity key."""
    rival, versions = None, {}
    for key, lock in repository.locks_of(rt, tenant_id, customer, family).items():
        versions[key] = lock.version if lock is not None else None
        protecting = _protecting(rt, tenant_id, lock, now, policy)
        if rival is None and protecting is not None and protecting["partner_id"] != partner_id:
            rival = protecting
    return rival, versions


def own_live(
    rt: Runtime, tenant_id: str, customer: dict[str, Any], family: str, partner_id: str, now: str,
    policy: dict[str, Any],
) -> dict[str, Any] | None:
    """The partner's own registration protecting any Customer this one stands on (PA-5.4: one approved registration
    per Customer and Product Family, the holder's included), or None."""
    for lock in repository.locks_of(rt, tenant_id, customer, family).values():
        protecting = _protecting(rt, tenant_id, lock, now, policy)
        if protecting is not None and protecting["partner_id"] == partner_id:
            return protecting
    return None


def _protecting(
    rt: Runtime, tenant_id: str, lock: Stored | None, now: str, policy: dict[str, Any]
) -> dict[str, Any] | None:
    found = _protecting_held(rt, tenant_id, lock, now, policy, {})
    return found[0] if found is not None else None


def _protecting_held(
    rt: Runtime, tenant_id: str, lock: Stored | None, now: str, policy: dict[str, Any],
    partners: dict[str, dict[str, Any]],
) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
    """The registration protecting the lock's opportunity now and its certification hold, or None."""
    found = _live_held(rt, tenant_id, lock, now, policy, partners)
    return found if found is not None and deals.protects(*found, now) else None


def _live_held(
    rt: Runtime, tenant_id: str, lock: Stored | None, now: str, policy: dict[str, Any],
    partners: dict[str, dict[str, Any]],
) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
    """The lock's registration while live and not ended (PA-13.3), and its certification hold (a lapsed one
    included), or None."""
    if lock is None or not deals.is_live(lock.data, now):
        return None
    if ended(rt, tenant_id, policy, lock.data, partners) is not None:
        return None
    return lock.data, hold(rt, tenant_id, policy, lock.data, now, partners)


def registration_for_quote(
    rt: Runtime,
    tenant_id: str,
    deal_id: str,
    partner_id: str,
    customer_id: str,
    now: str,
    policy: dict[str, Any],
) -> dict[str, Any]:
    """The partner's own registration a quote names, as the check's facts; refused unless it is the partner's, for
    this customer, live, and not held (PA-4.3(d) / CPA-4.3(d): no registration discount while suspended or lapsed)."""
    stored = repository.find(rt, tenant_id, deal_id)
    if stored is None or stored.data["partner_id"] != partner_id:
        raise RuleViolation(f"deal registration {deal_id} is not this partner's")
    deal = stored.data
    named = {repository.customer_key(c) for c in (deal["customer"]["id"], deals.registered_customer(deal["customer"]))}
    if repository.customer_key(customer_id) not in named:  # its customer, or the group it counts as (PA-5.4)
        raise RuleViolation(f"deal registration {deal_id} is for another customer")
    if not deals.discounted(policy, deal, now):  # PA-5.6 "during the exclusivity period" (CPA-5.5: protection)
        status = deals.view(deal, now)["status"]
        status = "past its exclusivity period" if status == deals.APPROVED else status
        raise RuleViolation(f"deal registration {deal_id} is {status}, not live")
    held = hold(rt, tenant_id, policy, deal, now)
    if held is not None:
        raise RuleViolation(
            f"deal registration {deal_id} is {held['status']}: {held['message']}",
            extra={"rule_id": held["rule_id"], "clause": held["clause"]},
        )
    return _facts(deal)


def quote_registrations(
    rt: Runtime,
    tenant_id: str,
    customer_id: str,
    families: list[str],
    partner: dict[str, Any],
    now: str,
    policy: dict[str, Any],
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """What a quote check reads of the registrations of this customer in the quote's families, by family, from the
    opportunity locks (one read for all families, keyed by customer and family; no scan): the quoting partner's own
    that give the registration discount now, other partners' protecting the opportunity, and the quoting partner's
    own that would give it but for their PA-4.3(d) / CPA-4.3(d) hold (suspended or lapsed: `withheld`, with the
    hold's status, rule and clause, so the quote says why it got no discount; only ever the partner's own).

    Own: PA-5.6 "A Partner holding an approved registration receives an additional registration discount [...] on
    quote lines for the registered Customer and Product Family during the exclusivity period" (CPA-5.5 "during the
    protection period", `deals.discounted`), not while suspended under PA-4.3(d) / CPA-4.3(d). Others': PA-5.3 "applies
    the registration discount ... only to the registering Partner's quotes" (CPA-5.2): they give the quote nothing,
    and the check flags the channel conflict (a lapsed one protects nothing)."""
    refs = [(tenant_id, repository.LOCKS, repository.opportunity_key(customer_id, family)) for family in families]
    found = rt.store.get_many(refs) if refs else {}
    partners = {partner["partner_id"]: partner}  # the quoting partner, read already
    own: dict[str, dict[str, Any]] = {}
    rivals: dict[str, dict[str, Any]] = {}
    withheld: dict[str, dict[str, Any]] = {}
    for family, ref in zip(families, refs, strict=True):
        found_held = _live_held(rt, tenant_id, found.get(ref), now, policy, partners)
        if found_held is None:
            continue
        deal, held = found_held
        if deal["partner_id"] != partner["partner_id"]:
            if deals.protects(deal, held, now):
                rivals[family] = _facts(deal)
        elif deals.discounted(policy, deal, now):
            if held is None:
                own[family] = _facts(deal)
            else:
                withheld[family] = deal_holds.withheld(_facts(deal), held)
    return own, rivals, withheld


def _facts(deal: dict[str, Any]) -> dict[str, Any]:
    return {
        "registration_id": deal["deal_id"],
        "partner_id": deal["partner_id"],
        "customer_id": deal["customer"]["id"],
        "family": deal["family"],
        "expires_at": deal["expires_at"],
    }
