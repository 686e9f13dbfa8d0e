"""A partner agreement's term and its renewal (PA-13.1 / CPA-13.1): read the term, record a notice of non-renewal by
either party, and the daily year-end sweep that reminds, renews or ends the agreement.

Ending runs the partner lifecycle's termination (the move to `terminated` every PA-13.3 / CPA-13.3 effect is keyed on:
deal registrations end, portal access runs out after PA-9.6 / CPA-9.8's window), audited and published as
`partner.terminated` like any other termination; there is no second path. Events for n8n: `partner.renewal_due`,
`partner.renewed`, `partner.non_renewal` (source revgov.partner).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import date
from typing import Any

from ..domain import renewal_outlook, renewals
from ..domain.access import Principal, Role
from ..domain.audit import AuditEntry
from ..domain.errors import FieldError, Forbidden, NotFound, RuleViolation, StaleWrite
from ..domain.partners import moved_by_rule
from ..domain.time import parse_day, parse_instant
from ..ports import Changes, DomainEvent
from ..runtime import Runtime
from . import partner_repository as repository
from . import tenants

SOURCE = "revgov.partner"
ACTOR = "system:partner_term"  # the scheduled year-end sweep, as it appears in history and audit
DISTRIBUTOR = frozenset({Role.CHANNEL_OPS, Role.LEGAL})  # who gives notice for the distributor
_ACTIONS = {"due": "renewal_due", "renewed": "renewed", "ended": "terminated"}


def _rule(rt: Runtime, tenant_id: str) -> tuple[renewals.TermRule, dict[str, Any], str]:
    tenant, _ = tenants.load_tenant(rt, tenant_id)
    rule = renewals.term_rule(tenant.policy)
    if rule is None:
        raise NotFound("this program's policy names no agreement term (policy.onboarding.term)")
    return rule, tenant.policy, tenant.policy_version


def _event(name: str, partner: Mapping[str, Any], **extra: Any) -> DomainEvent:
    detail = {k: partner.get(k) for k in ("partner_id", "status", "partner_type", "tier", "proposed_tier")}
    return DomainEvent(SOURCE, f"partner.{name}", {**detail, **extra})


def _visible(rt: Runtime, who: Principal, partner_id: str) -> tuple[dict[str, Any], int]:
    if not who.sees_partner(partner_id):
        raise NotFound(f"no partner {partner_id}")
    partner, version = repository.load(rt.store, who.tenant_id, partner_id)
    if not partner.get("activated_at"):
        raise NotFound(f"partner {partner_id} was never approved: no agreement term")
    return dict(partner), version


def get_term(rt: Runtime, who: Principal, partner_id: str) -> dict[str, Any]:
    """The partner's agreement term: start, current Program Year end, renewals, a notice on file, last notice day."""
    rule, _, _ = _rule(rt, who.tenant_id)
    partner, _ = _visible(rt, who, partner_id)
    today = parse_day(rt.clock.now_iso()[:10])
    return renewals.view(rule, renewals.as_of(rule, partner, today))


def _party(who: Principal) -> str:
    if who.role is Role.PARTNER:
        return "partner"
    if who.role in DISTRIBUTOR:
        return "distributor"
    raise Forbidden("only the partner itself, Channel Operations or Legal give notice of non-renewal")


def give_notice(rt: Runtime, who: Principal, partner_id: str, notice: dict[str, Any]) -> dict[str, Any]:
    """Record a notice of non-renewal by the partner (its own key) or the distributor (channel_ops / legal), in time
    for the Program Year end it is for (PA-13.1 60 days / CPA-13.1 90 days), else a 422 citing the clause."""
    party = _party(who)
    rule, _, policy_version = _rule(rt, who.tenant_id)
    partner, version = _visible(rt, who, partner_id)
    reason = str(notice.get("reason", "")).strip()
    if len(reason) < 3:
        raise RuleViolation("a notice of non-renewal says why", errors=[FieldError("/reason", "at least 3 characters")])
    now = rt.clock.now_iso()
    by = {"given_by_role": who.role.value}  # the key that gave it is in the audit record, never on the partner
    moved = renewals.non_renewal(rule, partner, party=party, notice={**notice, "reason": reason}, by=by, given_at=now)
    recorded, replaced = moved["term"]["non_renewal"], renewals.term_of(partner).get("non_renewal")
    inputs = {"party": party, "reason": reason, "effective_at": recorded["effective_at"], "given_at": now,
              **({"replaces": replaced} if replaced else {})}  # a notice for a later year end, now moot
    audit = AuditEntry.by(who, "partner.non_renewal", partner_id, "recorded", inputs=inputs,
                          policy_version=policy_version, rule_ids=(rule.rule_id,), clauses=(rule.clause,))
    event = _event("non_renewal", moved, party=party, effective_at=recorded["effective_at"], reason=reason,
                   **rule.cited())
    rt.commit(who.tenant_id, Changes(puts=[repository.put(moved, version=version)], audit=[audit], events=[event]))
    return renewals.view(rule, renewals.as_of(rule, moved, parse_instant(now).date()))


def _apply(step: renewals.Step, rule: renewals.TermRule, policy: Mapping[str, Any], version: str,
           now: str) -> tuple[dict[str, Any], AuditEntry, DomainEvent]:
    """The partner after one step, its audit entry and its event."""
    partner, year_end = step.partner, step.year_end.isoformat()
    term = partner["term"]
    if step.kind == "ended":
        termination = policy["onboarding"]["termination"]
        message = (f"notice of non-renewal given by the {term['non_renewal']['party']} on "
                   f"{term['non_renewal']['given_at'][:10]}: the agreement ended with the Program Year on {year_end} "
                   f"({rule.clause}; effects {termination['clause']})")
        reason = {**rule.cited(), "message": message}
        moved = moved_by_rule(partner, "terminated", reason, at=renewals.ended_at(step.year_end))
        moved["history"][-1]["by"] = ACTOR
        cited: tuple[tuple[str, ...], tuple[str, ...]] = (
            (rule.rule_id, termination["id"]), (rule.clause, termination["clause"]))
        extra = {"previous_status": partner["status"], "reason": message, "year_end": year_end, **rule.cited()}
    else:
        moved = {**partner, "updated_at": now}
        cited = ((rule.rule_id,), (rule.clause,))
        extra = {"year_end": year_end, **rule.cited()}
        if step.kind == "renewed":
            extra["next_year_end"] = term["year_end"]
        else:
            extra["last_notice_day"] = renewals.last_notice_day(rule, step.year_end).isoformat()
    action = _ACTIONS[step.kind]
    audit = AuditEntry(actor=ACTOR, actor_role="system", action=f"partner.{action}", subject=partner["partner_id"],
                       outcome=moved["status"], inputs={"year_end": year_end, "swept_at": now},
                       policy_version=version,
                       rule_ids=cited[0], clauses=cited[1])
    return moved, audit, _event(action, moved, **extra)


def _steps(rule: renewals.TermRule, policy: Mapping[str, Any], version: str, partner: dict[str, Any],
           now: str) -> tuple[dict[str, Any], Changes] | None:
    """Every step due for one partner (years the sweep missed roll one at a time), folded into one change."""
    day = parse_instant(now).date()
    audits: list[AuditEntry] = []
    events: list[DomainEvent] = []
    while (step := renewals.year_end_step(rule, partner, day)) is not None:
        partner, audit, event = _apply(step, rule, policy, version, now)
        audits.append(audit)
        events.append(event)
    if not audits:
        return None
    return partner, Changes(audit=audits, events=events)


def sweep_terms(rt: Runtime, tenant_id: str) -> dict[str, int]:
    """Scheduled daily (`partner_term_sweep`): remind before the last notice day, renew at year end, or end the
    agreement where a notice of non-renewal was given for that year end. Idempotent: a step taken is stored on the
    partner's term and never taken again; a partner changed meanwhile is left to the next run."""
    counts = dict.fromkeys(("looked_at", "renewal_due", "renewed", "terminated"), 0)
    tenant, _ = tenants.load_tenant(rt, tenant_id)
    rule = renewals.term_rule(tenant.policy)
    if rule is None:
        return counts
    now = rt.clock.now_iso()
    swept: list[dict[str, Any]] | None = []  # every partner as stored after the sweep (None: one changed meanwhile)
    for seen in repository.every(rt.store, tenant_id):
        counts["looked_at"] += 1
        if not seen.get("activated_at") or _steps(rule, tenant.policy, tenant.policy_version, dict(seen), now) is None:
            swept = None if swept is None else [*swept, seen]
            continue
        partner, version = repository.load(rt.store, tenant_id, seen["partner_id"])
        folded = _steps(rule, tenant.policy, tenant.policy_version, dict(partner), now)
        if folded is None:
            swept = None if swept is None else [*swept, dict(partner)]
            continue
        moved, changes = folded
        changes.puts.append(repository.put(moved, version=version))
        try:
            rt.commit(tenant_id, changes)
        except StaleWrite:  # changed meanwhile: the next run looks again (and keeps the counts then)
            swept = None
            continue
        swept = None if swept is None else [*swept, moved]
        for entry in changes.audit:
            counts[entry.action.removeprefix("partner.")] += 1
    if swept is not None:
        _keep_history(rt, tenant_id, rule, swept, parse_instant(now).date())
    return counts


def _keep_history(rt: Runtime, tenant_id: str, rule: renewals.TermRule, partners: list[dict[str, Any]],
                  today: date) -> None:
    """The base rate's counts over every agreement as the sweep left them (`partner_repository.TERM_HISTORY`): they
    change only at a year end, which the sweep steps first, so one partner's KPI figure reads them instead of every
    partner record until the next year end passes."""
    kept = renewal_outlook.history(renewal_outlook.agreements(rule, partners, today), today)
    rt.commit(tenant_id, Changes(puts=[repository.term_history_put(asdict(kept))]))
