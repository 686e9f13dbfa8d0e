"""Which registration protects an opportunity now, and the facts a quote check reads of registrations: approved, in
its exclusivity period and not lapsed under PA-4.3(d) / CPA-4.3(d) (a suspended one still protects: "the exclusivity
period continuing to run")."""

from __future__ import annotations

from typing import Any

from ...domain import deals
from ...domain.errors import RuleViolation
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
    cache = partners if partners is not None else {}
    if deal["partner_id"] not in cache:
        cache[deal["partner_id"]], _ = load_partner(rt, tenant_id, deal["partner_id"])
    found: dict[str, Any] | None = deals.hold_on(policy, deal, cache[deal["partner_id"]], now)
    return found


def live(
    rt: Runtime, tenant_id: str, customer_id: str, family: str, now: str, policy: dict[str, Any]
) -> tuple[dict[str, Any] | None, int | None]:
    """The registration that protects this customer and family now (or None), and the version of the lock read."""
    lock = repository.lock_of(rt, tenant_id, customer_id, family)
    if lock is None:
        return None, None
    held = hold(rt, tenant_id, policy, lock.data, now) if deals.is_live(lock.data, now) else None
    return (lock.data if deals.protects(lock.data, held, now) else None), lock.version


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
    if deal["customer"]["id"] != customer_id:
        raise RuleViolation(f"deal registration {deal_id} is for another customer")
    if not deals.is_live(deal, now):
        raise RuleViolation(f"deal registration {deal_id} is {deals.view(deal, now)['status']}, not live")
    held = hold(rt, tenant_id, policy, deal, now)
    if held is not None:
        raise RuleViolation(
            f"deal registration {deal_id} is {held['status']}: {held['message']}",
            extra={"rule_id": held["rule_id"], "clause": held["clause"]},
        )
    return _facts(deal)


def live_registrations(
    rt: Runtime,
    tenant_id: str,
    customer_id: str,
    families: list[str],
    now: str,
    policy: dict[str, Any],
) -> dict[str, dict[str, Any]]:
    """The registration protecting each family for this customer (a lapsed one under PA-4.3(d) does not)."""
    found = {}
    for family in families:
        protecting, _ = live(rt, tenant_id, customer_id, family, now, policy)
        if protecting is not None:
            found[family] = _facts(protecting)
    return found


def _facts(deal: dict[str, Any]) -> dict[str, Any]:
    return {
        "registration_id": deal["deal_id"],
        "partner_id": deal["partner_id"],
        "customer_id": deal["customer"]["id"],
        "family": deal["family"],
        "expires_at": deal["expires_at"],
    }
