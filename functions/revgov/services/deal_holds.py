"""The certification-hold sweep (PA-4.3(d) / CPA-4.3(d), SOP-4.1 / COP-4.1).

PA-4.3: "From the moment a certification expires, and until a valid certification of the same id is recorded: [...]
(d) approved deal registrations in that Product Family are suspended, with the exclusivity period continuing to run,
and they lapse if a valid certification is not recorded within 30 days after expiry" (CPA-4.3(d): 21 days). SOP-4.1
routes `certification_expired_active_deal` to channel_ops within 8 hours (COP-4.1: 12).

Scheduled (`deal_certification_sweep`, events/schedules.json), per tenant, over the approved registrations:
- a registration suspended under PA-4.3(d) becomes one `certification_expired_active_deal` exception (queue and SLA
  from the routing matrix, citing the hold's clause) and a `deal.suspended` event tells the partner;
- later runs refresh that exception while it is open (the days left before the lapse) instead of opening another;
- the hold lifting (a valid certification recorded in time) closes the exception as resolved by the sweep and
  publishes `deal.reinstated`; the registration lapsing annotates the exception (channel ops still owns it) and
  publishes `deal.lapsed`; the registration ending (exclusivity over, withdrawn, or its partner terminated: PA-13.3
  / CPA-13.3 "registrations end") closes the exception and never opens one.
A marker per registration (`DEALHOLD`) names its exception and the spell it is about; a closed exception is never
reopened for the same spell; a later expiry (a new spell) opens a new one.
"""

from __future__ import annotations

from typing import Any

from ..domain import deal_holds as steps
from ..domain import deals as core
from ..domain.audit import AuditEntry
from ..domain.errors import Conflict
from ..domain.tenants import Tenant
from ..ports import Changes, DomainEvent, Put, Stored
from ..runtime import Runtime
from . import cases, tenants
from .deals import repository as deal_store
from .deals.live import ended as ended_by
from .deals.live import hold as hold_of
from .toolkit import pages, put_over

HOLDS = "DEALHOLD"  # deal id -> {case_id, state, certification_expired_at}
ACTOR = "system:deal_holds"
CATEGORY = "certification_expired_active_deal"


def sweep(rt: Runtime, tenant_id: str) -> dict[str, int]:
    """One pass for one tenant: {looked_at, opened, refreshed, annotated, closed}."""
    counts = dict.fromkeys(("looked_at", "opened", "refreshed", "annotated", "closed"), 0)
    tenant, _ = tenants.load_tenant(rt, tenant_id)
    if "certification_lapse" not in tenant.policy.get("deal_registration", {}):
        return counts
    now = rt.clock.now_iso()
    markers = {item.key: item for item in pages(rt.store, tenant_id, HOLDS)}
    partners: dict[str, dict[str, Any]] = {}
    deals = {d["deal_id"]: d for d in (item.data for item in deal_store.every(rt, tenant_id))}
    for deal_id, deal in deals.items():
        marker = markers.get(deal_id)
        if deal["status"] != core.APPROVED and marker is None:
            continue
        counts["looked_at"] += 1
        if ended_by(rt, tenant_id, tenant.policy, deal, partners) is not None:
            deal = {**deal, "status": core.ENDED}  # PA-13.3 / CPA-13.3 "registrations end": nothing is held
        hold = hold_of(rt, tenant_id, tenant.policy, deal, now, partners) if core.is_live(deal, now) else None
        step = steps.hold_step(deal, hold, marker.data if marker else None, now)
        if step != steps.HOLD_NONE:
            _apply(rt, tenant, deal, hold, marker, step, now, counts)
    return counts


def _detail(deal: dict[str, Any], status: str, hold: dict[str, Any] | None) -> dict[str, Any]:
    detail = {
        "deal_id": deal["deal_id"],
        "partner_id": deal["partner_id"],
        "family": deal["family"],
        "status": status,
        "expires_at": deal["expires_at"],
    }
    if hold is not None:
        detail["hold"] = {k: hold[k] for k in ("rule_id", "clause", "certification_expired_at", "lapses_at", "message")}
    return detail


def _context(deal: dict[str, Any], hold: dict[str, Any]) -> dict[str, Any]:
    return {
        "deal_id": deal["deal_id"],
        "customer": deal["customer"],
        "family": deal["family"],
        "exclusivity_ends": core.ends_at(deal["expires_at"]),
        "hold": hold,
    }


def _apply(
    rt: Runtime,
    tenant: Tenant,
    deal: dict[str, Any],
    hold: dict[str, Any] | None,
    marker: Stored | None,
    step: str,
    now: str,
    counts: dict[str, int],
) -> None:
    """Commit one registration's step; a commit that loses a race is left for the next run."""
    if step == steps.HOLD_OPEN:
        assert hold is not None
        changes, counted = _opened(rt, tenant, deal, hold, marker), "opened"
    else:
        assert marker is not None
        stored = cases.find(rt, tenant.tenant_id, marker.data["case_id"])
        case = stored if stored is not None and cases.undecided(stored.data) else None
        if step == steps.HOLD_REFRESH:
            assert hold is not None
            changes, counted = _refreshed(deal, hold, marker, case, now), ("refreshed" if case else "")
        elif step == steps.HOLD_LAPSED:
            assert hold is not None
            changes, counted = _lapsed(tenant, deal, hold, marker, case, now), "annotated"
        else:
            changes, counted = _closed(tenant, deal, marker, case, step, now), "closed"
    try:
        rt.commit(tenant.tenant_id, changes)
    except Conflict:  # another run or a decision moved it meanwhile: the next run sees the new state
        return
    if counted:
        counts[counted] += 1


def _cite(tenant: Tenant) -> dict[str, Any]:
    rule = tenant.policy["deal_registration"]["certification_lapse"]
    return {"rule_id": rule["id"], "clause": rule["clause"]}


def _opened(
    rt: Runtime, tenant: Tenant, deal: dict[str, Any], hold: dict[str, Any], marker: Stored | None
) -> Changes:
    """A suspended registration: its exception opened, the partner told (`deal.suspended`)."""
    cite = _cite(tenant)
    case, changes = cases.open_case(
        rt,
        tenant.policy,
        kind="exception",
        category=CATEGORY,
        subject_kind="deal",
        subject_id=deal["deal_id"],
        requested_by=ACTOR,
        reasons=[{**cite, "message": hold["message"]}],
        risk_score=70,
        partner_id=deal["partner_id"],
        context=_context(deal, hold),
        policy_version=tenant.policy_version,
    )
    changes.puts.append(_marker(deal, case["case_id"], steps.HOLD_OPEN, hold, marker))
    changes.events.append(DomainEvent("revgov.deals", "deal.suspended", _detail(deal, core.SUSPENDED, hold)))
    changes.audit.append(_audit("deal.suspended", deal, core.SUSPENDED, cite, case["case_id"], hold, tenant))
    return changes


def _refreshed(
    deal: dict[str, Any], hold: dict[str, Any], marker: Stored, case: Stored | None, now: str
) -> Changes:
    """Still suspended: its open exception brought up to date; one channel ops closed is not reopened."""
    changes = Changes()
    if case is not None:
        changes.puts.append(cases.refresh_case(case.data, case.version, context=_context(deal, hold), at=now))
    state = steps.HOLD_OPEN if case is not None else "closed"  # channel ops closed it: one exception per finding
    changes.puts.append(_marker(deal, marker.data["case_id"], state, hold, marker))
    return changes


def _lapsed(
    tenant: Tenant, deal: dict[str, Any], hold: dict[str, Any], marker: Stored, case: Stored | None, now: str
) -> Changes:
    """Lapsed: the open exception annotated (channel ops still owns it), the partner told (`deal.lapsed`)."""
    changes = Changes()
    if case is not None:
        context = {**_context(deal, hold), "annotation": {"at": now, "note": hold["message"]}}
        changes.puts.append(cases.refresh_case(case.data, case.version, context=context, at=now))
    changes.puts.append(_marker(deal, marker.data["case_id"], steps.HOLD_LAPSED, hold, marker))
    changes.events.append(DomainEvent("revgov.deals", "deal.lapsed", _detail(deal, core.LAPSED, hold)))
    cite = _cite(tenant)
    changes.audit.append(_audit("deal.lapsed", deal, core.LAPSED, cite, marker.data["case_id"], hold, tenant))
    return changes


def _closed(
    tenant: Tenant, deal: dict[str, Any], marker: Stored, case: Stored | None, step: str, now: str
) -> Changes:
    """The hold lifted (`deal.reinstated`) or the registration ended: its open exception resolved by the sweep."""
    cite = _cite(tenant)
    lifted = step == steps.HOLD_LIFTED
    note = (
        f"a valid certification for {deal['family']} was recorded in time ({cite['clause']}): the registration "
        "is no longer suspended"
        if lifted
        else "the registration no longer holds the opportunity (its exclusivity ended, it was withdrawn, or its "
        "partner was terminated)"
    )
    changes = Changes()
    if case is not None:
        changes.puts.append(cases.closed_by_watcher(case.data, case.version, actor=ACTOR, note=note, rule=cite, at=now))
        changes.audit.append(
            AuditEntry(actor=ACTOR, action="exception.resolved", subject=case.data["case_id"], outcome="resolved",
                       inputs={"category": CATEGORY, "subject": case.data["subject"], "note": note},
                       policy_version=tenant.policy_version, rule_ids=(cite["rule_id"],), clauses=(cite["clause"],))
        )
    changes.puts.append(_marker(deal, marker.data["case_id"], step, None, marker))
    if lifted:
        changes.events.append(DomainEvent("revgov.deals", "deal.reinstated", _detail(deal, core.APPROVED, None)))
        changes.audit.append(
            _audit("deal.reinstated", deal, core.APPROVED, cite, marker.data["case_id"], None, tenant)
        )
    return changes


def _marker(
    deal: dict[str, Any], case_id: str, state: str, hold: dict[str, Any] | None, marker: Stored | None
) -> Put:
    previous = marker.data if marker else {}
    data = {
        "deal_id": deal["deal_id"],
        "case_id": case_id,
        "state": state,
        "certification_expired_at": hold["certification_expired_at"] if hold else previous.get(
            "certification_expired_at"),
    }
    return put_over(HOLDS, deal["deal_id"], data, marker,
                    conflict_detail=f"the hold of {deal['deal_id']} was recorded meanwhile")


def _audit(
    action: str,
    deal: dict[str, Any],
    status: str,
    cite: dict[str, Any],
    case_id: str,
    hold: dict[str, Any] | None,
    tenant: Tenant,
) -> AuditEntry:
    return AuditEntry(
        actor=ACTOR,
        action=action,
        subject=deal["deal_id"],
        outcome=status,
        inputs={"exception_id": case_id, "hold": hold, "expires_at": deal["expires_at"]},
        policy_version=tenant.policy_version,
        rule_ids=(cite["rule_id"],),
        clauses=(cite["clause"],),
    )
