"""Partner onboarding use cases: apply, file documents and certifications, submit, activate or reject through an
approval, suspend, reinstate, terminate, and answer entitlements as of a time.

Other areas read partners through `load_partner` and ask about entitlements through `entitlement`; where partners are
stored is `partner_repository`'s; a change of ownership is recorded through this module's filing by
`partner_ownership`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from ..domain import partners
from ..domain.access import Principal, Role
from ..domain.audit import AuditEntry
from ..domain.cases import Case
from ..domain.errors import ConcurrentUpdate, NotFound, StaleWrite
from ..domain.partners import Assessment, Partner, reminders
from ..domain.partners import screening as screening_rules
from ..domain.partners.evidence import late_recording
from ..domain.time import parse_instant
from ..ports import Changes, DomainEvent
from ..runtime import Runtime
from . import cases, partner_plan, screening, tenants
from . import partner_repository as repository
from .toolkit import retry_on_conflict

SOURCE = "revgov.partner"
EFFECT = "partner.activation"
_FILING_ATTEMPTS = 12  # concurrent uploads to one partner: each re-reads and re-applies, with jittered backoff
_STATUS_ACTIONS = {"suspended": "suspended", "active": "reinstated", "terminated": "terminated"}


# --- reading ---------------------------------------------------------------------------------
def _policy(rt: Runtime, tenant_id: str) -> tuple[dict[str, Any], str]:
    tenant, _ = tenants.load_tenant(rt, tenant_id)
    return tenant.policy, tenant.policy_version


def load_partner(rt: Runtime, tenant_id: str, partner_id: str) -> tuple[dict[str, Any], int]:
    """The partner record and its version (for an optimistic write); NotFound if this tenant has no such partner."""
    partner, version = repository.load(rt.store, tenant_id, partner_id)
    return cast(dict[str, Any], partner), version


def visible_id(who: Principal, partner_id: str) -> str:
    """The one partner-scope rule of the routes under /v1/partners/{partner_id} (the use case's, not the edge's): a
    partner key reaches only its own partner; any other id is not found, never forbidden (API.md: 404 "also for
    another tenant's or partner's object: never confirm it exists")."""
    if not who.sees_partner(partner_id):
        raise NotFound(f"no partner {partner_id}")
    return partner_id


def _visible(rt: Runtime, who: Principal, partner_id: str) -> tuple[Partner, int]:
    """The partner record and its version, if the caller may see it (`visible_id`)."""
    return repository.load(rt.store, who.tenant_id, visible_id(who, partner_id))


def view(partner: Mapping[str, Any]) -> dict[str, Any]:
    """What callers see: everything but the key ids kept for segregation of duties."""
    return {k: v for k, v in partner.items() if not k.endswith("_key")}


def get_partner(rt: Runtime, who: Principal, partner_id: str) -> dict[str, Any]:
    """A partner key reads which team acted, never which key: the edge's partner view (domain/audience.py)."""
    return view(_visible(rt, who, partner_id)[0])


def list_partners(
    rt: Runtime, tenant_id: str, *, status: str | None, tier: str | None, limit: int, cursor: str | None
) -> dict[str, Any]:
    """By status (and tier) through the lookup index; by tier alone, the collection read page by page and filtered."""
    if status:
        page = repository.page_by_status(rt.store, tenant_id, status, tier=tier, limit=limit, cursor=cursor)
        return {"items": [view(item.data) for item in page.items], "next_cursor": page.next_cursor}
    items: list[dict[str, Any]] = []
    while True:  # a page of up to `limit` matches, and the cursor to go on from: not a whole-collection read
        page = repository.page(rt.store, tenant_id, limit=limit - len(items), cursor=cursor)
        items += [view(item.data) for item in page.items if tier is None or item.data.get("tier") == tier]
        cursor = page.next_cursor
        if len(items) >= limit or not cursor:
            return {"items": items, "next_cursor": cursor}


# --- writing ---------------------------------------------------------------------------------
def _event(name: str, partner: Mapping[str, Any], **extra: Any) -> DomainEvent:
    detail = {
        "partner_id": partner["partner_id"],
        "status": partner["status"],
        "partner_type": partner["partner_type"],
        "tier": partner.get("tier"),
        "proposed_tier": partner.get("proposed_tier"),
        **extra,
    }
    return DomainEvent(SOURCE, f"partner.{name}", detail)


def _audit(
    who: Principal,
    action: str,
    partner: Mapping[str, Any],
    rules: list[dict[str, Any]],
    inputs: dict[str, Any],
    policy_version: str | None,
) -> AuditEntry:
    return AuditEntry.by(
        who,
        action,
        partner["partner_id"],
        partner["status"],
        inputs=inputs,
        policy_version=policy_version,
        rule_ids=dict.fromkeys(r["rule_id"] if "rule_id" in r else r["id"] for r in rules),
        clauses=dict.fromkeys(r["clause"] for r in rules),
    )


def _outstanding(policy: dict[str, Any], partner: Mapping[str, Any], at: str) -> list[dict[str, Any]]:
    return list(partners.assess(policy, partner, at).missing)


def apply(rt: Runtime, who: Principal, application: dict[str, Any]) -> dict[str, Any]:
    """Record an application; the creator's key is kept so it can never approve its own application."""
    policy, version = _policy(rt, who.tenant_id)
    partner_plan.check_room(rt, who.tenant_id)
    at = rt.clock.now_iso()
    partner = partners.new_application(
        policy, partner_id=rt.ids.new("ptr"), application=application, created_by=who, at=at
    )
    onboarding = policy["onboarding"]
    rules = [onboarding["partner_types"][partner["partner_type"]], onboarding["all_partners"]]
    inputs = {k: partner[k] for k in ("legal_name", "partner_type", "requested_tier", "terms")}
    rt.commit(
        who.tenant_id,
        Changes(
            puts=[repository.put(partner, version=None)],
            audit=[_audit(who, "partner.applied", partner, rules, inputs, version)],
            events=[_event("applied", partner, requested_tier=partner["requested_tier"])],
        ),
    )
    return {**view(partner), "outstanding": _outstanding(policy, partner, at)}


@dataclass(frozen=True)
class Filing:
    """One change recorded onto a partner: the partner as it should be written, the action (audit `partner.<action>`
    and event `partner.<action>`), the rules it rests on, the audit inputs and the event's extra detail."""

    partner: dict[str, Any]
    action: str
    rules: list[dict[str, Any]]
    inputs: dict[str, Any]
    detail: dict[str, Any] = field(default_factory=dict)
    # what the filing brings besides (a potential screening match's Legal exception), given the partner as written
    more: Callable[[dict[str, Any], str], Changes] | None = None


# (policy, partner as read, now) -> the filing; a business refusal raises
_Change = Callable[[dict[str, Any], Partner, str], Filing]


def file_change(
    rt: Runtime, who: Principal, partner_id: str, change: _Change
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Record something onto a partner (a document, a certification, terms) and return the partner as written, the
    policy and the time. Uploads to one partner race (an applicant's portal sends its documents at once), and each
    touches its own part of the record, so a write that finds the partner changed meanwhile reads it again and
    applies its change to what is there now, after a jittered pause, rather than answering 409."""
    policy, policy_version = _policy(rt, who.tenant_id)

    def attempt() -> tuple[dict[str, Any], dict[str, Any], str]:
        partner, version = _visible(rt, who, partner_id)
        at = rt.clock.now_iso()
        filing = change(policy, partner, at)  # a business refusal (a plain Conflict) is not retried
        updated = filing.partner
        audit = _audit(who, f"partner.{filing.action}", updated, filing.rules, filing.inputs, policy_version)
        changes = filing.more(updated, policy_version) if filing.more else Changes()
        changes.puts.append(repository.put(updated, version=version))
        changes.audit.append(audit)
        changes.events.append(_event(filing.action, updated, **filing.detail))
        rt.commit(who.tenant_id, changes)
        return updated, policy, at

    return retry_on_conflict(
        attempt,
        attempts=_FILING_ATTEMPTS,
        exhausted=lambda: ConcurrentUpdate(f"partner {partner_id} kept changing under this write; retry"),
    )


def amend_terms(rt: Runtime, who: Principal, partner_id: str, terms: dict[str, Any]) -> dict[str, Any]:
    def change(policy: dict[str, Any], partner: Partner, at: str) -> Filing:
        amended = partners.amended_terms(policy, partner, terms, at=at)
        rules = list(partners.required_terms(policy, partner["partner_type"]).values())
        return Filing(amended, "terms_amended", rules, {"terms": terms}, {"terms": sorted(terms)})

    amended, policy, at = file_change(rt, who, partner_id, change)
    return {**view(amended), "outstanding": _outstanding(policy, amended, at)}


def add_document(rt: Runtime, who: Principal, partner_id: str, document: dict[str, Any]) -> dict[str, Any]:
    kind = document["document_type"]

    def change(policy: dict[str, Any], partner: Partner, at: str) -> Filing:
        updated = partners.record_document(policy, partner, document, by=who, at=at)
        filed = updated["documents"][partners.document_key(policy, document)]
        catalogued = policy["onboarding"]["document_types"][kind]
        required = partners.accepted_for_filing(policy, partner)[kind]
        detail = {"document_type": kind, "expires_at": filed["expires_at"],
                  **({"jurisdiction": filed["jurisdiction"]} if filed.get("jurisdiction") else {}),
                  **({"outcome": filed["outcome"]} if filed.get("outcome") else {})}  # fmt: skip
        rules = [catalogued, required, *([screened] if (screened := screening_rules.rule(policy)) and
                                         kind == screened["document_type"] else [])]
        return Filing(updated, "document_recorded", rules, {"document": filed}, detail,
                       lambda written, version: screening.match_opened(rt, who, policy, written, version))

    updated, policy, at = file_change(rt, who, partner_id, change)
    outstanding = _outstanding(policy, updated, at)
    counts = not any(gap["kind"] == "document" and gap["name"] == kind for gap in outstanding)
    return {"partner_id": partner_id, "document": updated["documents"][partners.document_key(policy, document)],
            "counts": counts, "outstanding": outstanding}


def add_certification(rt: Runtime, who: Principal, partner_id: str, certification: dict[str, Any]) -> dict[str, Any]:
    cert_id = certification["certification_id"]

    def change(policy: dict[str, Any], partner: Partner, at: str) -> Filing:
        late = late_recording(policy, certification, at)
        updated = partners.record_certification(policy, partner, certification, by=who, at=at)
        filed = updated["certifications"][cert_id]
        rule = next(c for c in policy["certifications"] if c["id"] == cert_id)
        detail = {"certification_id": cert_id, "expires_at": filed["expires_at"]}
        inputs = {"certification": filed, **({"evidence_received_at": certification["evidence_received_at"]}
                                             if certification.get("evidence_received_at") else {})}  # fmt: skip
        more = None if late is None else (lambda written, version: _recorded_late(rt, who, policy, written, cert_id,
                                                                                  late, version))  # fmt: skip
        return Filing(updated, "certification_recorded", [rule], inputs, detail, more)

    updated, policy, at = file_change(rt, who, partner_id, change)
    filed = updated["certifications"][cert_id]
    return {
        "partner_id": partner_id,
        "certification": filed,
        "valid": partners.valid_on(filed, parse_instant(at).date()),
        "outstanding": _outstanding(policy, updated, at),
    }


def _recorded_late(
    rt: Runtime, who: Principal, policy: dict[str, Any], partner: dict[str, Any], cert_id: str, late: dict[str, Any],
    policy_version: str,
) -> Changes:
    """PA-4.2: a certification recorded more than 2 business days after its evidence was received opens one exception
    for the staff who record certifications (in the recording's own commit)."""
    rule = late["rule"]
    message = (f"{cert_id} was recorded at {late['recorded_at']}, after {late['due_by']}: certification records are "
               f"updated within {rule['within_business_days']} business days of receipt of evidence "
               f"(received {late['received_at']}; {rule['clause']})")  # fmt: skip
    _, changes = cases.open_case(
        rt, policy, kind="exception", category=rule["category"], subject_kind="partner",
        subject_id=partner["partner_id"], requested_by=who, partner_id=partner["partner_id"],
        reasons=[{"rule_id": rule["id"], "clause": rule["clause"], "message": message}],
        context={"certification_id": cert_id, "evidence_received_at": late["received_at"], "due_by": late["due_by"],
                 "recorded_at": late["recorded_at"]},
        policy_version=policy_version,
    )  # fmt: skip
    return changes


def _open_activation(
    rt: Runtime, who: Principal, policy: dict[str, Any], partner: Partner, assessment: Assessment, policy_version: str
) -> tuple[Case, Changes]:
    """The activation approval, in the queue the policy names (channel ops, or legal for non-standard terms),
    requested in the name of the application's creator so that neither creator nor submitter can decide it."""
    category, rule = partners.activation_route(policy, assessment)
    creator = Principal(who.tenant_id, Role(partner["created_by_role"]), partner["created_by_key"])
    reasons = [partners.rule_ref(rule, f"activation of {partner['legal_name']}"), *assessment.reasons]
    request: dict[str, Any] = {
        "kind": "approval", "category": category, "subject_kind": "partner", "subject_id": partner["partner_id"],
        "requested_by": creator, "reasons": reasons, "risk_score": 70 if assessment.nonstandard_terms else 30,
        "partner_id": partner["partner_id"], "effect": EFFECT, "policy_version": policy_version,
        "context": {"proposed_tier": assessment.qualified_tier, "submitted_by": who.actor},
        "country": partner.get("country"),
    }
    return cases.open_case(rt, policy, **request)


def _submitted_changes(
    who: Principal, moved: dict[str, Any], assessment: Assessment, policy_version: str
) -> Changes:
    inputs = {
        "requested_tier": assessment.requested_tier,
        "qualified_tier": assessment.qualified_tier,
        "missing": [f"{gap['kind']}:{gap['name']}:{gap['problem']}" for gap in assessment.missing],
        "nonstandard_terms": [r["message"] for r in assessment.nonstandard_terms],
    }
    missing = [f"{gap['kind']}:{gap['name']}" for gap in assessment.missing]
    return Changes(
        audit=[_audit(who, "partner.submitted", moved, list(assessment.reasons), inputs, policy_version)],
        events=[_event("submitted", moved, outcome=moved["status"], missing=missing)],
    )


def _approval_view(approval: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if approval is None:
        return None
    return {"approval_id": approval["case_id"], **{k: approval[k] for k in ("case_id", "category", "queue", "due_at",
                                                                              "status")}}


def submit(rt: Runtime, who: Principal, partner_id: str) -> dict[str, Any]:
    """Run the onboarding checks. Gaps: pending_documents with the list to close. Complete: pending_approval, with
    an approval opened in the queue the policy names (channel ops, or legal for non-standard terms)."""
    partner, version = _visible(rt, who, partner_id)
    policy, policy_version = _policy(rt, who.tenant_id)
    moved, assessment = partners.submitted(policy, partner, by=who, at=rt.clock.now_iso())
    changes = _submitted_changes(who, moved, assessment, policy_version)
    approval = None
    if assessment.complete:
        approval, opened = _open_activation(rt, who, policy, partner, assessment, policy_version)
        moved = partners.awaiting_approval(moved, approval["case_id"])
        changes.merge(opened)
    changes.puts.insert(0, repository.put(moved, version=version))
    sealed = rt.commit(who.tenant_id, changes)
    return {
        "partner": view(moved),
        "outcome": moved["status"],
        "assessment": assessment.as_dict(),
        "missing": list(assessment.missing),
        "approval": _approval_view(approval),
        "decision_id": sealed[0]["record_id"],
        "policy_version": policy_version,
        "reasons": list(assessment.reasons),
    }


def apply_activation_decision(rt: Runtime, decided_case: dict[str, Any], who: Principal) -> Changes:
    """The `partner.activation` effect: applied in the same commit as the approval decision."""
    partner, version = repository.load(rt.store, who.tenant_id, decided_case["subject"]["id"])
    decision = decided_case["decision"]
    moved = partners.decided(
        partner,
        approval_id=decided_case["case_id"],
        outcome=decided_case["status"],
        note=decision.get("note"),
        by=who,
        at=decision["at"],
    )
    action = "activated" if moved["status"] == "active" else "rejected"
    inputs = {"approval_id": decided_case["case_id"], "note": decision.get("note"), "tier": moved.get("tier")}
    rules = [r for r in decided_case["reasons"][:2] if r.get("rule_id")]
    return Changes(
        puts=[repository.put(moved, version=version)],
        audit=[_audit(who, f"partner.{action}", moved, rules, inputs, decided_case.get("policy_version"))],
        events=[_event(action, moved, approval_id=decided_case["case_id"], reason=decision.get("note"))],
    )


def change_status(rt: Runtime, who: Principal, partner_id: str, status: str, reason: str) -> dict[str, Any]:
    """Suspend, reinstate (back to active) or terminate, citing the rule that allows it."""
    partner, version = _visible(rt, who, partner_id)
    policy, policy_version = _policy(rt, who.tenant_id)
    moved, rule = partners.moved_to(policy, partner, status, by=who, at=rt.clock.now_iso(), reason=reason)
    action = _STATUS_ACTIONS[status]
    inputs = {"from": partner["status"], "reason": reason}
    rt.commit(
        who.tenant_id,
        Changes(
            puts=[repository.put(moved, version=version)],
            audit=[_audit(who, f"partner.{action}", moved, [rule], inputs, policy_version)],
            events=[_event(action, moved, previous_status=partner["status"], reason=reason, rule_id=rule["id"],
                           clause=rule["clause"])],
        ),
    )
    return view(moved)


def backfill_onboarding(
    rt: Runtime, who: Principal, application: dict[str, Any], history: partners.OnboardingHistory
) -> dict[str, Any]:
    """Record a partner onboarded before Revgov recorded it (a program's existing partners; the demo seed): the
    lifecycle replayed at the history's instants, each step by `backfill`, no approval pretended. Audited now as
    `partner.backfilled` by whoever recorded it, with the instants and the evidence it rests on; the event is
    `partner.activated` with the reason saying it is backfilled (KPIs' partner directory)."""
    policy, version = _policy(rt, who.tenant_id)
    partner_plan.check_room(rt, who.tenant_id)
    now = rt.clock.now_iso()
    partner = partners.backfilled(policy, application, history, partner_id=rt.ids.new("ptr"), recorded_by=who,
                                  recorded_at=now)
    onboarding = policy["onboarding"]
    rules = [onboarding["all_partners"], onboarding["partner_types"][partner["partner_type"]],
             onboarding["activation_approval"]]
    inputs = {
        "applied_at": history.applied_at, "submitted_at": history.submitted_at,
        "activated_at": history.activated_at, "note": history.note, "tier": partner["tier"],
        "evidence": [{"received_at": f.received_at, **dict(f.item)} for f in history.evidence],
    }
    rt.commit(
        who.tenant_id,
        Changes(
            puts=[repository.put(partner, version=None)],
            audit=[_audit(who, "partner.backfilled", partner, rules, inputs, version)],
            events=[_event("activated", partner, reason=f"backfilled: {history.note}")],
        ),
    )
    return view(partner)


# --- time limits (scheduled) ------------------------------------------------------------------
_SWEPT = {"lapsed": "lapsed", "suspended": "suspended", "active": "reinstated"}


def sweep_standing(rt: Runtime, tenant_id: str) -> dict[str, int]:
    """Scheduled (`partner_lifecycle_sweep`): the time limits of PA-2.9 / CPA-2.9 (an application incomplete too long
    after submission lapses) and PA-2.7 / CPA-2.4 (an insurance certificate not renewed within the grace days
    suspends the partner, reinstated once a valid one is filed), each move audited citing its rule, with its event.
    Idempotent: a partner already moved is not moved again; one changed meanwhile is left to the next run."""
    counts = dict.fromkeys(("looked_at", "lapsed", "suspended", "reinstated"), 0)
    policy, policy_version = _policy(rt, tenant_id)
    now = rt.clock.now_iso()
    day = parse_instant(now).date()
    for seen in repository.every(rt.store, tenant_id):
        counts["looked_at"] += 1
        if partners.standing_step(policy, seen, day) is None:
            continue
        partner, version = repository.load(rt.store, tenant_id, seen["partner_id"])
        step = partners.standing_step(policy, partner, day)
        if step is None:
            continue
        status, reason = step
        moved = partners.moved_by_rule(partner, status, reason, at=now)
        action = _SWEPT[status]
        cited = {"rule_id": reason["rule_id"], "clause": reason["clause"]}
        audit = AuditEntry(actor=partners.STANDING_ACTOR, actor_role="system", action=f"partner.{action}",
                           subject=partner["partner_id"], outcome=status, policy_version=policy_version,
                           inputs={"from": partner["status"], "reason": reason["message"]},
                           rule_ids=(reason["rule_id"],), clauses=(reason["clause"],))
        event = _event(action, moved, previous_status=partner["status"], reason=reason["message"], **cited)
        try:
            rt.commit(tenant_id, Changes(puts=[repository.put(moved, version=version)], audit=[audit], events=[event]))
        except StaleWrite:  # changed meanwhile: the next run looks again
            continue
        counts[action] += 1
    return counts


def send_expiry_reminders(rt: Runtime, tenant_id: str) -> dict[str, int]:
    """Scheduled with the lifecycle sweep: the reminders the contracts promise before an insurance certificate or a
    certification expires (PA-2.7 / CPA-2.4, PA-4.2 / CPA-4.2; `domain.partners.reminders`): `partner.expiry_reminder`
    for Customer Success or n8n to send, each recorded once on the partner and audited with its rule. Idempotent; a
    partner changed meanwhile is left to the next run."""
    policy, policy_version = _policy(rt, tenant_id)
    now = rt.clock.now_iso()
    day = parse_instant(now).date()
    sent = 0
    for seen in repository.every(rt.store, tenant_id):
        if not reminders.due(policy, seen, day):
            continue
        partner, version = repository.load(rt.store, tenant_id, seen["partner_id"])
        found = reminders.due(policy, partner, day)
        if not found:
            continue
        audit = [AuditEntry(actor=partners.STANDING_ACTOR, actor_role="system", action="partner.expiry_reminder",
                            subject=partner["partner_id"], outcome="reminded", policy_version=policy_version,
                            inputs=r.as_detail(), rule_ids=(r.rule_id,), clauses=(r.clause,)) for r in found]
        events = [_event("expiry_reminder", partner, **r.as_detail()) for r in found]
        moved = reminders.reminded(partner, found, now)
        try:
            rt.commit(tenant_id, Changes(puts=[repository.put(moved, version=version)], audit=audit, events=events))
        except StaleWrite:  # changed meanwhile: the next run looks again
            continue
        sent += len(found)
    return {"reminded": sent}


# --- entitlements ----------------------------------------------------------------------------
def entitlement(rt: Runtime, tenant_id: str, partner_id: str, name: str, at_iso: str) -> dict[str, Any]:
    """`{entitled, value, reason, rule_id, clause, …}` for one entitlement of a partner at `at_iso`."""
    partner, _ = repository.load(rt.store, tenant_id, partner_id)
    policy, policy_version = _policy(rt, tenant_id)
    return {
        "partner_id": partner_id,
        **partners.entitlement(policy, partner, name, at_iso),
        "policy_version": policy_version,
    }


def entitlements(rt: Runtime, tenant_id: str, partner_id: str, at_iso: str) -> dict[str, Any]:
    partner, _ = repository.load(rt.store, tenant_id, partner_id)
    policy, policy_version = _policy(rt, tenant_id)
    return {**partners.entitlements(policy, partner, at_iso), "policy_version": policy_version}
