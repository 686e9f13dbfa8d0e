"""Register a deal (PA-5.1 eligibility, PA-5.5 conflicts and submission order): a pending registration and the
channel-ops review it waits for, in one commit."""

from __future__ import annotations

from typing import Any

from ...domain import deal_evidence, deals
from ...domain.access import Principal
from ...domain.audit import AuditEntry
from ...domain.cases import Case
from ...domain.errors import Conflict, FieldError, NotFound, RuleViolation
from ...domain.partners import territory
from ...domain.tenants import Tenant
from ...ports import Changes, DomainEvent
from ...runtime import Runtime
from .. import cases
from ..partners import load_partner
from ..tenants import load_tenant
from .live import own_live, rival_live
from .repository import QUEUE_RACE, deal_puts, queue_puts, queues_of, same_opportunity

REVIEW_EFFECT = "deal.registration"


def register(rt: Runtime, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Register a deal. Registrations for one customer and family serialize on the opportunity's pending queue
    (PA-5.5): one that loses that race to another registration is made again on the fresh state, so the partner gets
    its registration (or the conflict PA-5.5 prescribes), not a 409 for a race."""
    for attempt in range(3):
        try:
            return _register_once(rt, who, body)
        except Conflict as lost:
            if lost.detail != QUEUE_RACE or attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _register_once(rt: Runtime, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    tenant, _ = load_tenant(rt, who.tenant_id)
    policy = tenant.policy
    partner_id, family = body["partner_id"], body["family"]
    if not who.sees_partner(partner_id):
        raise NotFound(f"no partner {partner_id}")
    partner, _ = load_partner(rt, who.tenant_id, partner_id)
    now = rt.clock.now_iso()
    eligibility = policy["deal_registration"]["eligibility"]
    deals.check_dates(body["expected_close"], now, int(eligibility.get("max_close_days", 180)))
    deal_evidence.check_evidence(eligibility, body["customer"])
    problems = deals.registration_problems(policy, partner, family, now)
    located = policy["deal_registration"].get("territory")  # PA-2.6 / CPA-2.5: a Regional Reseller's territory
    outside = territory.problem(located, partner, body["customer"].get("country")) if located else None
    if problems or outside:
        where = deal_evidence.location_errors(located, partner, body["customer"]) or (
            [FieldError("/customer/country", outside["message"])] if outside else [])
        reasons = [*problems, *([outside] if outside else [])]
        raise RuleViolation("the partner may not register this deal", extra={"reasons": reasons},
                            errors=[*deals.problem_fields(problems), *where])
    protecting, _ = rival_live(rt, who.tenant_id, body["customer"], family, partner_id, now, policy)
    refused = deals.conflict(policy, protecting, partner_id)
    if refused:
        raise refused
    _not_held_already(own_live(rt, who.tenant_id, body["customer"], family, partner_id, now, policy), policy)
    deal = _new_deal(rt.ids.new("dl"), body, who, now)
    queues = queues_of(rt, who.tenant_id, deal)
    _not_pending_already(same_opportunity(rt, who.tenant_id, deal, queues), partner_id)
    context = {"customer": body["customer"]["id"], "family": family, "estimated_value": body["estimated_value"],
               **_group_claim(body["customer"])}  # fmt: skip
    case, changes = open_review(
        rt, who, tenant, deal, partner,
        category="deal_registration_review", effect=REVIEW_EFFECT, risk_score=30, context=context,
    )
    deal["approval_id"] = case["case_id"]
    changes.puts += deal_puts(deal, version=None)
    changes.puts += queue_puts(rt, who.tenant_id, deal, lambda queue: deals.queue_with(queue, deal), queues)
    changes.audit.insert(0, _registered(who, tenant, deal))
    changes.events.append(
        DomainEvent(
            "revgov.deals",
            "deal.registered",
            {"deal_id": deal["deal_id"], "partner_id": partner_id, "family": family, "status": deals.PENDING},
        )
    )
    rt.commit(who.tenant_id, changes)
    return deal


def _not_held_already(own: dict[str, Any] | None, policy: dict[str, Any]) -> None:
    """A Conflict naming the partner's own approved, unexpired registration for this customer and family (PA-5.4
    "Only one approved registration may exist for a given Customer and Product Family at any time"): a second one,
    approved, would stand beside it and run its exclusivity on past the first's, an extension PA-5.3 did not grant."""
    if own is None:
        return
    rules = policy["deal_registration"]
    one = rules["one_per_customer_family"]
    until = str(own.get("expires_at") or "")[:10]
    ask = f"; ask for its extension instead ({rules['extension']['clause']})" if rules.get("extension") else ""
    held = f"until {until}" if not own.get("order") else f"(its period ended {until}; an accepted order keeps it)"
    raise Conflict(f"deal registration {own['deal_id']} of this partner already holds this customer and family "
                   f"{held}: one approved registration per customer and product family ({one['clause']}){ask}",
                   extra={"deal_id": own["deal_id"], "exclusive_until": deals.ends_at(own.get("expires_at")),
                          "rule_id": one["id"], "clause": one["clause"]})  # fmt: skip


def _not_pending_already(pending: list[dict[str, Any]], partner_id: str) -> None:
    """A Conflict naming the partner's own registration already pending for this customer and family: one request per
    partner and opportunity waits for channel ops (PA-5.4 "Only one approved registration may exist for a given
    Customer and Product Family"); copies sent again and again were each queued and reviewed, and filled the
    opportunity's queue past the store's item limit, so that no other partner could register the Customer."""
    mine = [entry["deal_id"] for entry in pending if entry.get("partner_id") == partner_id]
    if mine:
        raise Conflict(f"deal registration {mine[0]} of this partner for this customer and family is pending: it is "
                       "decided before another may be made", extra={"deal_id": mine[0]})


def open_review(
    rt: Runtime,
    who: Principal,
    tenant: Tenant,
    deal: dict[str, Any],
    partner: dict[str, Any],
    *,
    category: str,
    effect: str,
    risk_score: int,
    context: dict[str, Any],
    reasons: list[dict[str, Any]] | None = None,
) -> tuple[Case, Changes]:
    """The approval channel ops decides for a registration (its review, or its extension), due by the business days
    of the partner's country (CPA-1.3)."""
    return cases.open_case(
        rt,
        tenant.policy,
        kind="approval",
        category=category,
        subject_kind="deal",
        subject_id=deal["deal_id"],
        requested_by=who,
        reasons=reasons,
        partner_id=deal["partner_id"],
        effect=effect,
        risk_score=risk_score,
        context=context,
        policy_version=tenant.policy_version,
        country=partner.get("country"),
    )


def _group_claim(customer: dict[str, Any]) -> dict[str, Any]:
    """What channel ops must see to decide a registration that stands on a group (PA-5.4 / CPA-5.3): approved, it
    bars every other partner from the ultimate parent and each affiliate purchasing centrally, on the partner's word
    that the customer belongs to that group."""
    if deals.registered_customer(customer) == str(customer["id"]):
        return {}
    return {"ultimate_parent_id": customer["ultimate_parent_id"], "purchases_centrally": True}


def _new_deal(deal_id: str, body: dict[str, Any], who: Principal, now: str) -> dict[str, Any]:
    return {
        "deal_id": deal_id,
        "partner_id": body["partner_id"],
        "customer": body["customer"],
        "family": body["family"],
        "estimated_value": body["estimated_value"],
        "expected_close": body["expected_close"],
        "status": deals.PENDING,
        "registered_at": now,
        "registered_by": who.actor,
        "approved_at": None,
        "expires_at": None,
        "approval_id": None,
    }


def _registered(who: Principal, tenant: Tenant, deal: dict[str, Any]) -> AuditEntry:
    eligibility = tenant.policy["deal_registration"]["eligibility"]
    return AuditEntry.by(
        who,
        "deal.registered",
        deal["deal_id"],
        deals.PENDING,
        inputs={k: deal[k] for k in ("partner_id", "customer", "family", "estimated_value")},
        policy_version=tenant.policy_version,
        rule_ids=(eligibility["id"],),
        clauses=(eligibility["clause"],),
    )
