"""Deal registration: register (eligibility, conflicts), channel ops review, withdraw; live registrations."""

from __future__ import annotations

from typing import Any

from ..domain import cases as case_rules
from ..domain import deals
from ..domain import partners as partner_rules
from ..domain.access import Principal
from ..domain.audit import AuditEntry
from ..domain.errors import Conflict, FieldError, NotFound, RuleViolation
from ..domain.time import parse_instant
from ..ports import Changes, DomainEvent, Page, Put, Stored
from ..runtime import Runtime
from . import cases
from .tenants import load_tenant

DEALS = "DEAL"
LOCKS = "DEALLOCK"  # customer#family -> the live registration: makes "first approved wins" atomic
QUEUES = "DEALQUEUE"  # customer#family -> the pending registrations in order of submission (PA-5.5, read consistently)
QUEUE_RACE = "another registration for this customer and family was submitted or decided meanwhile; retry"
REVIEW_EFFECT = "deal.registration"
EXTENSION_EFFECT = "deal.extension"


def _lock_key(customer_id: str, family: str) -> str:
    return f"{customer_id}#{family}"


def _put(deal: dict[str, Any], *, version: int | None) -> Put:
    lookup = (f"{DEALS}#{deal['customer']['id']}#{deal['family']}", f"{deal['registered_at']}#{deal['deal_id']}")
    return Put(
        DEALS,
        deal["deal_id"],
        deal,
        lookup=lookup,
        must_be_absent=version is None,
        expected_version=version,
        conflict_detail=f"deal registration {deal['deal_id']} changed meanwhile",
    )


def _hold(
    rt: Runtime,
    tenant_id: str,
    policy: dict[str, Any],
    deal: dict[str, Any],
    now: str,
    partners: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any] | None:
    """The PA-4.3(d) / CPA-4.3(d) hold on an approved registration, from its partner's certifications now."""
    if deal["status"] != deals.APPROVED or "certification_lapse" not in policy["deal_registration"]:
        return None
    cache = partners if partners is not None else {}
    if deal["partner_id"] not in cache:
        from .partners import load_partner

        cache[deal["partner_id"]], _ = load_partner(rt, tenant_id, deal["partner_id"])
    return deals.hold_on(policy, deal, cache[deal["partner_id"]], now)  # type: ignore[no-any-return]


def _live(
    rt: Runtime, tenant_id: str, customer_id: str, family: str, now: str, policy: dict[str, Any]
) -> tuple[dict[str, Any] | None, int | None]:
    """The registration that protects this customer and family now: approved, in its exclusivity period and not
    lapsed under PA-4.3(d) (a suspended one still protects: "the exclusivity period continuing to run")."""
    lock = rt.store.get(tenant_id, LOCKS, _lock_key(customer_id, family))
    if lock is None:
        return None, None
    live = deals.is_live(lock.data, now)
    hold = _hold(rt, tenant_id, policy, lock.data, now) if live else None
    return (lock.data if deals.protects(lock.data, hold, now) else None), lock.version


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
    partner_id = body["partner_id"]
    if not who.sees_partner(partner_id):
        raise NotFound(f"no partner {partner_id}")
    from .partners import load_partner

    partner, _ = load_partner(rt, who.tenant_id, partner_id)
    now = rt.clock.now_iso()
    eligibility_rule = policy["deal_registration"]["eligibility"]
    deals.check_dates(body["expected_close"], now, int(eligibility_rule.get("max_close_days", 180)))
    family = body["family"]
    known_families = {c["product_family"] for c in policy.get("certifications", [])}
    if family not in known_families | set(
        policy["deal_registration"]["eligibility"].get("certification_exempt_families", [])
    ):
        raise RuleViolation(f"unknown product family {family}")
    day = parse_instant(now).date()
    entitled = partner_rules.entitlements(policy, partner, now)
    name = policy["deal_registration"]["eligibility"]["entitlement"]
    certified = any(
        c["id"] in partner_rules.valid_certifications(partner, day) and c["product_family"] == family
        for c in policy.get("certifications", [])
    )
    tier = partner_rules.effective_tier(policy, partner, day)
    problems = deals.eligibility_problems(
        policy,
        partner_status=partner["status"],
        entitled=_entitled(entitled, name),
        certified=certified,
        family=family,
        tier=tier["tier"] if tier else "none",
    )
    if family in partner_rules.barred_families(policy, partner, day):  # PA-4.3(b) / CPA-4.3(b)
        lapse = policy["onboarding"]["certification_lapse"]
        problems.append(
            {
                "rule_id": lapse["id"],
                "clause": lapse["clause"],
                "message": f"the partner's certification for {family} has expired and it holds no other valid one",
            }
        )
    if problems:
        raise RuleViolation("the partner may not register this deal", extra={"reasons": problems})
    live, _ = _live(rt, who.tenant_id, body["customer"]["id"], family, now, policy)
    refused = deals.conflict(policy, live, partner_id)
    if refused:
        raise refused
    deal = {
        "deal_id": rt.ids.new("dl"),
        "partner_id": partner_id,
        "customer": body["customer"],
        "family": family,
        "estimated_value": body["estimated_value"],
        "expected_close": body["expected_close"],
        "status": deals.PENDING,
        "registered_at": now,
        "registered_by": who.actor,
        "approved_at": None,
        "expires_at": None,
        "approval_id": None,
    }
    case, changes = cases.open_case(
        rt,
        policy,
        kind="approval",
        category="deal_registration_review",
        subject_kind="deal",
        subject_id=deal["deal_id"],
        requested_by=who,
        partner_id=partner_id,
        effect=REVIEW_EFFECT,
        risk_score=30,
        context={"customer": body["customer"]["id"], "family": family, "estimated_value": body["estimated_value"]},
        policy_version=tenant.policy_version,
        country=partner.get("country"),
    )
    deal["approval_id"] = case["case_id"]
    changes.puts.append(_put(deal, version=None))
    changes.puts.append(_queue_put(rt, who.tenant_id, deal, lambda queue: deals.queue_with(queue, deal)))
    eligibility = policy["deal_registration"]["eligibility"]
    changes.audit.insert(
        0,
        AuditEntry(
            actor=who.actor,
            actor_role=who.role.value,
            action="deal.registered",
            subject=deal["deal_id"],
            outcome=deals.PENDING,
            inputs={k: deal[k] for k in ("partner_id", "customer", "family", "estimated_value")},
            policy_version=tenant.policy_version,
            rule_ids=(eligibility["id"],),
            clauses=(eligibility["clause"],),
        ),
    )
    changes.events.append(
        DomainEvent(
            "revgov.deals",
            "deal.registered",
            {"deal_id": deal["deal_id"], "partner_id": partner_id, "family": family, "status": deals.PENDING},
        )
    )
    rt.commit(who.tenant_id, changes)
    return deal


def _entitled(entitlements: dict[str, Any], name: str) -> bool:
    found = entitlements.get("entitlements", entitlements).get(name)
    return bool(found and found.get("entitled"))


def apply_review(rt: Runtime, case: dict[str, Any], who: Principal) -> Changes | cases.Resolved:
    """Channel ops decided a registration: approval starts exclusivity. A registration that conflicts with one
    approved first (and still in force) is rejected instead, with the clause and a reason (PA-5.5 / CPA-5.4); the
    reviewer's decision resolves as that rejection and the partner is told by a `deal.rejected` event."""
    tenant, _ = load_tenant(rt, who.tenant_id)
    policy = tenant.policy
    stored = rt.store.get(who.tenant_id, DEALS, case["subject"]["id"])
    if stored is None:
        raise NotFound(f"no deal registration {case['subject']['id']}")
    deal, now = stored.data, rt.clock.now_iso()
    queue = rt.store.get(who.tenant_id, QUEUES, _lock_key(deal["customer"]["id"], deal["family"]))
    earlier = deals.earlier_pending(deal, _same_opportunity(rt, who.tenant_id, deal, queue))
    if earlier is not None:  # PA-5.5 / CPA-5.4: decided in order of submission
        raise deals.out_of_order(policy, earlier)
    outcome = deals.APPROVED if case["status"] == "approved" else deals.REJECTED
    # the decision commits only if the queue it was checked against is unchanged (a registration submitted meanwhile)
    leaves = _queue_put(rt, who.tenant_id, deal, lambda q: deals.queue_without(q, deal["deal_id"]), stored=queue)
    changes = Changes(puts=[leaves])
    resolved: dict[str, Any] | None = None
    rule = policy["deal_registration"]["exclusivity"]
    if outcome == deals.APPROVED:
        live, lock_version = _live(rt, who.tenant_id, deal["customer"]["id"], deal["family"], now, policy)
        if live is not None and live["partner_id"] != deal["partner_id"]:
            reason = deals.conflict_reason(policy, live)
            outcome, rule = deals.REJECTED, deals.conflict_rule(policy)
            deal = deals.rejected_for_conflict(deal, reason, now)
            resolved = case_rules.resolved_otherwise(case, "rejected", reason)
        else:
            deal = deals.decided(deal, outcome, now, policy)
            changes.puts.append(
                Put(
                    LOCKS,
                    _lock_key(deal["customer"]["id"], deal["family"]),
                    deal,
                    must_be_absent=lock_version is None,
                    expected_version=lock_version,
                    conflict_detail="another registration for this customer and family was approved first; retry",
                )
            )
    else:
        note = (case.get("decision") or {}).get("note")
        deal = {**deals.moved_to(deal, outcome), "decided_at": now, "rejection_reason": note}
    changes.puts.append(_put(deal, version=stored.version))
    changes.audit.append(
        AuditEntry(
            actor=who.actor,
            actor_role=who.role.value,
            action=f"deal.{outcome}",
            subject=deal["deal_id"],
            outcome=outcome,
            inputs={
                "approval_id": case["case_id"],
                "expires_at": deal.get("expires_at"),
                **({"rejection": deal["rejection"]} if deal.get("rejection") else {}),
            },
            policy_version=tenant.policy_version,
            rule_ids=(rule["id"],),
            clauses=(rule["clause"],),
        )
    )
    detail: dict[str, Any] = {
        "deal_id": deal["deal_id"],
        "partner_id": deal["partner_id"],
        "family": deal["family"],
        "status": outcome,
    }
    if outcome == deals.APPROVED:
        detail["expires_at"] = deal["expires_at"]
    else:
        detail["reason"] = deal.get("rejection") or {"message": deal.get("rejection_reason") or "rejected"}
    changes.events.append(DomainEvent("revgov.deals", f"deal.{outcome}", detail))
    return cases.Resolved(changes, resolved) if resolved is not None else changes


def request_extension(rt: Runtime, who: Principal, deal_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """PA-5.3 / CPA-5.2: the partner asks, before the exclusivity ends and with the proposal it submitted, for the one
    30-day extension; channel ops decides it as an approval (PA-5.3: "within 2 business days")."""
    deal, version = get(rt, who, deal_id, raw=True)
    tenant, _ = load_tenant(rt, who.tenant_id)
    policy, now = tenant.policy, rt.clock.now_iso()
    if body["proposal_date"] > now[:10]:
        raise RuleViolation(
            f"proposal_date {body['proposal_date']} is in the future",
            errors=[FieldError("/proposal_date", "on or before today")],
        )
    refused = deals.extension_problem(policy, deal, _hold(rt, who.tenant_id, policy, deal, now), now)
    if refused is not None:
        raise refused
    from .partners import load_partner

    partner, _ = load_partner(rt, who.tenant_id, deal["partner_id"])
    rule = policy["deal_registration"]["extension"]
    case, changes = cases.open_case(
        rt,
        policy,
        kind="approval",
        category="deal_extension_review",
        subject_kind="deal",
        subject_id=deal_id,
        requested_by=who,
        reasons=[{"rule_id": rule["id"], "clause": rule["clause"], "message": f"extension of {rule['days']} days"}],
        partner_id=deal["partner_id"],
        effect=EXTENSION_EFFECT,
        risk_score=20,
        context={"expires_at": deal["expires_at"], "proposal_reference": body["proposal_reference"]},
        policy_version=tenant.policy_version,
        country=partner.get("country"),
    )
    asked = deals.extension_requested(policy, deal, body, approval_id=case["case_id"], at=now)
    changes.puts.append(_put(asked, version=version))
    changes.audit.insert(
        0,
        AuditEntry(
            actor=who.actor,
            actor_role=who.role.value,
            action="deal.extension_requested",
            subject=deal_id,
            outcome=deals.PENDING,
            inputs={"proposal": asked["extension"]["proposal"], "expires_at": deal["expires_at"]},
            policy_version=tenant.policy_version,
            rule_ids=(rule["id"],),
            clauses=(rule["clause"],),
        ),
    )
    changes.events.append(DomainEvent("revgov.deals", "deal.extension_requested", _extension_detail(asked)))
    rt.commit(who.tenant_id, changes)
    return dict(deals.view(asked, now, _hold(rt, who.tenant_id, policy, asked, now)))


def apply_extension(rt: Runtime, case: dict[str, Any], who: Principal) -> Changes | cases.Resolved:
    """Channel ops decided an extension: approved, the registration's exclusivity (and its lock) ends `days` later.
    If another partner's registration was approved for the opportunity meanwhile (the period had ended before the
    decision), the extension cannot be given and the decision resolves as a rejection saying so."""
    tenant, _ = load_tenant(rt, who.tenant_id)
    rule = tenant.policy["deal_registration"]["extension"]
    stored = rt.store.get(who.tenant_id, DEALS, case["subject"]["id"])
    if stored is None:
        raise NotFound(f"no deal registration {case['subject']['id']}")
    deal, now = stored.data, rt.clock.now_iso()
    outcome = deals.APPROVED if case["status"] == "approved" else deals.REJECTED
    note = (case.get("decision") or {}).get("note")
    changes = Changes()
    resolved: dict[str, Any] | None = None
    lock = rt.store.get(who.tenant_id, LOCKS, _lock_key(deal["customer"]["id"], deal["family"]))
    if outcome == deals.APPROVED and (lock is None or lock.data["deal_id"] != deal["deal_id"]):
        reason = {
            "rule_id": rule["id"],
            "clause": rule["clause"],
            "message": "the registration no longer holds the opportunity (withdrawn, or another was approved after "
            "its exclusivity ended): nothing to extend",
        }
        outcome, note = deals.REJECTED, reason["message"]
        resolved = case_rules.resolved_otherwise(case, "rejected", reason)
    deal = deals.extension_decided(deal, outcome, now, note)
    changes.puts.append(_put(deal, version=stored.version))
    if outcome == deals.APPROVED and lock is not None:
        changes.puts.append(
            Put(LOCKS, lock.key, {**lock.data, "expires_at": deal["expires_at"]}, expected_version=lock.version)
        )
    changes.audit.append(
        AuditEntry(
            actor=who.actor,
            actor_role=who.role.value,
            action=f"deal.extension_{outcome}",
            subject=deal["deal_id"],
            outcome=outcome,
            inputs={"approval_id": case["case_id"], "expires_at": deal["expires_at"], "note": note},
            policy_version=tenant.policy_version,
            rule_ids=(rule["id"],),
            clauses=(rule["clause"],),
        )
    )
    kind = "deal.extended" if outcome == deals.APPROVED else "deal.extension_rejected"
    changes.events.append(DomainEvent("revgov.deals", kind, _extension_detail(deal)))
    return cases.Resolved(changes, resolved) if resolved is not None else changes


def _same_opportunity(
    rt: Runtime, tenant_id: str, deal: dict[str, Any], queue: Stored | None
) -> list[dict[str, Any]]:
    """The pending registrations for the deal's customer and family, read consistently from the per-opportunity
    queue item (the lookup index is eventually consistent on DynamoDB: a registration submitted a moment earlier could
    be missing from it). An opportunity registered before the queue existed has none: its lookup is read instead."""
    if queue is not None:
        return list(queue.data["pending"])
    return _indexed(rt, tenant_id, deal)


def _indexed(rt: Runtime, tenant_id: str, deal: dict[str, Any]) -> list[dict[str, Any]]:
    """Every registration for the deal's customer and family by the lookup's submission order (not read-consistent)."""
    partition = f"{DEALS}#{deal['customer']['id']}#{deal['family']}"
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = rt.store.lookup(tenant_id, partition, limit=100, cursor=cursor)
        found.extend(item.data for item in page.items)
        cursor = page.next_cursor
        if cursor is None:
            return found


_UNREAD: Any = object()


def _queue_put(rt: Runtime, tenant_id: str, deal: dict[str, Any], change: Any, stored: Any = _UNREAD) -> Put:
    """The opportunity's pending queue after `change`, conditional on the version read (so two registrations, or a
    registration and a decision, for one customer and family serialize). Created from the lookup when missing."""
    key = _lock_key(deal["customer"]["id"], deal["family"])
    if stored is _UNREAD:
        stored = rt.store.get(tenant_id, QUEUES, key)
    if stored is None:
        current = [deals.queue_entry(d) for d in _indexed(rt, tenant_id, deal)
                   if d["status"] == deals.PENDING and d["deal_id"] != deal["deal_id"]]
    else:
        current = list(stored.data["pending"])
    return Put(
        QUEUES,
        key,
        {"customer_id": deal["customer"]["id"], "family": deal["family"], "pending": change(current)},
        must_be_absent=stored is None,
        expected_version=stored.version if stored else None,
        conflict_detail=QUEUE_RACE,
    )


def _extension_detail(deal: dict[str, Any]) -> dict[str, Any]:
    """The extension event's facts: the registration, its exclusivity end, and the extension as its partner sees it."""
    extension = deal["extension"]
    shown = {k: extension[k] for k in ("status", "days", "rule_id", "clause", "requested_at") if k in extension}
    if extension.get("previous_expires_at"):
        shown["previous_expires_at"] = extension["previous_expires_at"]
    if extension["status"] == deals.REJECTED:
        shown["reason"] = extension.get("decision_note") or "rejected"
    return {
        "deal_id": deal["deal_id"],
        "partner_id": deal["partner_id"],
        "family": deal["family"],
        "status": deal["status"],
        "expires_at": deal["expires_at"],
        "extension": shown,
    }


def withdraw(rt: Runtime, who: Principal, deal_id: str) -> dict[str, Any]:
    deal, version = get(rt, who, deal_id, raw=True)
    withdrawn = deals.moved_to(deal, deals.WITHDRAWN)
    changes = Changes(
        puts=[_put(withdrawn, version=version)],
        audit=[
            AuditEntry(
                actor=who.actor,
                actor_role=who.role.value,
                action="deal.withdrawn",
                subject=deal_id,
                outcome=deals.WITHDRAWN,
                inputs={"previous_status": deal["status"]},
            )
        ],
    )
    lock = rt.store.get(who.tenant_id, LOCKS, _lock_key(deal["customer"]["id"], deal["family"]))
    if lock is not None and lock.data["deal_id"] == deal_id:
        changes.puts.append(
            Put(LOCKS, lock.key, {**lock.data, "status": deals.WITHDRAWN}, expected_version=lock.version)
        )
    if deal["status"] == deals.PENDING:
        changes.puts.append(_queue_put(rt, who.tenant_id, deal, lambda q: deals.queue_without(q, deal_id)))
    rt.commit(who.tenant_id, changes)
    return withdrawn


def get(rt: Runtime, who: Principal, deal_id: str, *, raw: bool = False) -> Any:
    stored = rt.store.get(who.tenant_id, DEALS, deal_id)
    if stored is None or not who.sees_partner(stored.data["partner_id"]):
        raise NotFound(f"no deal registration {deal_id}")
    if raw:
        return stored.data, stored.version
    tenant, _ = load_tenant(rt, who.tenant_id)
    now = rt.clock.now_iso()
    return deals.view(stored.data, now, _hold(rt, who.tenant_id, tenant.policy, stored.data, now))


def list_deals(rt: Runtime, who: Principal, *, limit: int, cursor: str | None) -> dict[str, Any]:
    page: Page = rt.store.query(who.tenant_id, DEALS, limit=limit, cursor=cursor)
    now = rt.clock.now_iso()
    policy = load_tenant(rt, who.tenant_id)[0].policy
    seen: dict[str, dict[str, Any]] = {}
    items = [
        deals.view(item.data, now, _hold(rt, who.tenant_id, policy, item.data, now, seen))
        for item in page.items
        if who.sees_partner(item.data["partner_id"])
    ]
    return {"items": items, "next_cursor": page.next_cursor}


def registration_for_quote(
    rt: Runtime,
    tenant_id: str,
    deal_id: str,
    partner_id: str,
    customer_id: str,
    now: str,
    policy: dict[str, Any],
) -> dict[str, Any]:
    stored = rt.store.get(tenant_id, DEALS, deal_id)
    if stored is None or stored.data["partner_id"] != partner_id:
        raise RuleViolation(f"deal registration {deal_id} is not this partner's")
    deal = stored.data
    if deal["customer"]["id"] != customer_id:
        raise RuleViolation(f"deal registration {deal_id} is for another customer")
    if not deals.is_live(deal, now):
        raise RuleViolation(f"deal registration {deal_id} is {deals.view(deal, now)['status']}, not live")
    hold = _hold(rt, tenant_id, policy, deal, now)
    if hold is not None:  # PA-4.3(d) / CPA-4.3(d): no registration discount while suspended or after it lapsed
        raise RuleViolation(
            f"deal registration {deal_id} is {hold['status']}: {hold['message']}",
            extra={"rule_id": hold["rule_id"], "clause": hold["clause"]},
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
        live, _ = _live(rt, tenant_id, customer_id, family, now, policy)
        if live is not None:
            found[family] = _facts(live)
    return found


def _facts(deal: dict[str, Any]) -> dict[str, Any]:
    return {
        "registration_id": deal["deal_id"],
        "partner_id": deal["partner_id"],
        "customer_id": deal["customer"]["id"],
        "family": deal["family"],
        "expires_at": deal["expires_at"],
    }
