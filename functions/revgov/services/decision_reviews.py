"""Human review of an automated decision (PA-14.2 / CPA-14.2): the partner (or channel operations on its behalf)
requests it within the window; a case of the owning queue is opened with the clause's business days; the reviewer
confirms the outcome or changes it, with a written reason, through /v1/approvals.

The rules (notification, window, what is automated, the result) are `domain.decision_review`'s. A stored decision
is a quote check (kind `pricing`): its review keeps on the decision and its case routes by the policy's
`human_review.category`, whose queue the SOP routing matrix gives the quote checks (channel operations, SOP-4.1 /
COP-4.1). The other automated decisions PA-14.2 lists (a rebate statement line, an invoice line, an entitlement
check: `automated_decisions`) are reviewed the same way, one review record `rvw_…` each, their cases routed by
`human_review.categories` (finance: rebates and invoicing; customer_success: entitlement checks; SOP-1.2 / COP-1.2).
The requester never decides the case (SOP-4.3 / COP-4.3 segregation of duties, `domain.cases`).
"""

from __future__ import annotations

from typing import Any

from ..domain import audience
from ..domain import decision_review as review_rules
from ..domain.access import Principal, Role
from ..domain.audit import AuditEntry
from ..domain.errors import NotFound, RuleViolation
from ..domain.tenants import Tenant
from ..domain.time import instant
from ..ports import Changes, DomainEvent
from ..runtime import Runtime
from . import (
    approval_requests,
    automated_decisions,
    billing,
    cases,
    decision_repository,
    decisions,
    invoice_disputes,
    tenants,
)

EFFECT = "decision.human_review"
SOURCE = "revgov.pricing"


def request_review(rt: Runtime, who: Principal, decision_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The partner asks for a person to review its own automated decision, with its reason (PA-14.2 / CPA-14.2). One
    approval case of the owning queue is opened, due in the clause's business days; the decision, as its reader may
    see it, is returned with its `human_review`."""
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    policy = _policy(tenant)
    stored = decisions.head(rt, who.tenant_id, decision_id)
    decision = stored.data
    if not who.sees_partner(decision.get("partner_id")):  # another partner's decision is one that does not exist
        raise NotFound(f"no decision {decision_id}")
    if decision.get("partner_id") is None:
        raise RuleViolation(f"decision {decision_id} concerns no partner: there is no one to request its review")
    review_rules.reviewable(decision, policy.rule)
    human_review, changes = _opened(
        rt, who, tenant, policy, review_kind="quote", subject_id=decision_id,
        partner_id=decision["partner_id"], notified_at=decision["created_at"], reason=body["reason"],
        message=f"the automated decision {decision_id} ({decision['outcome']})",
        context={"decision_id": decision_id, "kind": decision["kind"], "outcome": decision["outcome"]})  # fmt: skip
    updated = {**decision, "human_review": human_review}
    changes.puts.insert(0, decision_repository.put(updated, version=stored.version))
    changes.audit.insert(0, _audit(who, tenant, policy, "review_requested", updated, human_review))
    changes.events.append(DomainEvent(SOURCE, "quote.review_requested", _event(updated)))
    rt.commit(who.tenant_id, changes)
    return decisions.view(rt, who, decision_id)


def request_automated_review(rt: Runtime, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """The partner asks for a person to review one of its automated decisions other than a quote check (a rebate
    statement line, an invoice line, an entitlement check: `automated_decisions`), within the window counted from
    when it was notified of it. The same case as a quote check's review is opened (the queue of the kind's category),
    and the review record `rvw_…` is returned as its reader may see it."""
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    policy = _policy(tenant)
    decision = automated_decisions.named(rt, who, body)
    previous = automated_decisions.review_of(rt, who.tenant_id, decision)
    if previous is not None:
        review_rules.not_reviewed(f"this {decision.kind} (review {previous['review_id']})", previous["human_review"],
                                  policy.rule, review_id=previous["review_id"])  # fmt: skip
    review_id = rt.ids.new("rvw")
    human_review, changes = _opened(
        rt, who, tenant, policy, review_kind=decision.kind, subject_id=review_id,
        partner_id=decision.partner_id, notified_at=decision.notified_at, reason=body["reason"],
        message=f"the automated {decision.kind.replace('_', ' ')} {decision.key} ({decision.outcome})",
        context={"review_id": review_id, "kind": decision.kind, **decision.subject, "outcome": decision.outcome})
    one_open = automated_decisions.one_open_check(rt, who.tenant_id, decision, review_id, policy.rule)  # in time
    record = {"review_id": review_id, "kind": decision.kind, "subject": decision.subject,
              "partner_id": decision.partner_id, "notified_at": decision.notified_at, "outcome": decision.outcome,
              "decided": decision.decided, "created_at": human_review["requested_at"], "human_review": human_review}
    changes.puts[:0] = [*automated_decisions.new_puts(record, decision.key), *one_open]
    changes.audit.insert(0, _audit(who, tenant, policy, "review_requested", _subject_of(record), human_review))
    rt.commit(who.tenant_id, changes)
    return _as_read(who, record)  # fmt: skip


def read_automated_review(rt: Runtime, who: Principal, review_id: str) -> dict[str, Any]:
    """A review of an automated decision other than a quote check; a partner reads only its own (else 404)."""
    record, _ = automated_decisions.stored_review(rt, who.tenant_id, review_id)
    if not who.sees_partner(record["partner_id"]):
        raise NotFound(f"no review {review_id}")
    return _as_read(who, record)


def apply_review_decision(rt: Runtime, case: dict[str, Any], who: Principal) -> Changes:
    """The reviewer decided the review (through /v1/approvals) with a written reason: approved confirms the automated
    outcome, rejected changes it (a quote check's allow becomes a deny; a deny is never approved by a review: a 422
    naming its rules, `domain.decision_review.concluded`; another kind's review records the reviewer's finding, its
    correction made where that kind is corrected). Recorded on the decision (or its review record), audited and
    published. Effect of `decision.human_review` (runtime.Registry.effects)."""
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    policy = _policy(tenant)
    note = case["decision"].get("note")
    if not (isinstance(note, str) and note.strip()):
        raise RuleViolation(f"a human review states its reason: send a `note` ({policy.rule.clause})")
    if str(case["subject"]["id"]).startswith("rvw_"):
        return _concluded_automated(rt, case, who, tenant, policy, note)
    stored = decisions.head(rt, who.tenant_id, case["subject"]["id"])
    decision = stored.data
    review = dict(decision.get("human_review") or {})
    if review.get("status") != review_rules.OPEN or review.get("approval_id") != case["case_id"]:
        return Changes()
    result, outcome, status = review_rules.concluded(decision, case["status"], policy.rule)
    at = case["decision"]["at"]
    review.update(status=result, decided_by=who.actor, decided_at=at, note=note, previous_outcome=decision["outcome"],
                  late=at > review["due_at"])  # fmt: skip
    history = [*decision["history"], {"approval_id": case["case_id"], "outcome": f"review_{result}", "by": who.actor,
                                      "at": at}]  # fmt: skip
    updated = {**decision, "outcome": outcome, "status": status, "history": history, "human_review": review}
    changes = Changes(puts=[decision_repository.put(updated, version=stored.version)])
    changes.audit.append(_audit(who, tenant, policy, f"review_{result}", updated, review))
    if result == review_rules.CHANGED:  # a renewal quote now denied settles its renewal, as its approvals do
        changes.merge(billing.settle_decided(rt, who.tenant_id, decision, status, at, tenant.policy))
    changes.events.append(DomainEvent(SOURCE, "quote.reviewed", _event(updated)))
    return changes


def _opened(rt: Runtime, who: Principal, tenant: Tenant, policy: review_rules.ReviewPolicy, *,
            review_kind: str, subject_id: str, partner_id: str, notified_at: str, reason: str, message: str,
            context: dict[str, Any]) -> tuple[dict[str, Any], Changes]:  # fmt: skip
    """The review's case (in time, else a RuleViolation), of the queue of `review_kind`'s category and due in its
    business days on the partner's calendar, and the `human_review` it records."""
    now = rt.clock.now_iso()
    closes = review_rules.window(policy, instant(notified_at), instant(now))
    calendar = invoice_disputes.partner_calendar(rt, tenant, partner_id)
    case, changes = cases.open_case(
        rt, tenant.policy, kind="approval", category=policy.category_of(review_kind), subject_kind="decision_review",
        subject_id=subject_id, requested_by=who, partner_id=partner_id, effect=EFFECT,
        reasons=[{**policy.rule.as_dict(), "message": f"{partner_id} requests human review of {message}: {reason}"}],
        context=context, policy_version=tenant.policy_version, country=calendar.country,
    )  # fmt: skip
    human_review = {"status": review_rules.OPEN, "approval_id": case["case_id"], "reason": reason,
                    "requested_by": who.actor, "requested_at": now, "window_closes_at": closes,
                    "due_at": case["due_at"], "queue": case["queue"], "rule_id": policy.rule.rule_id,
                    "clause": policy.rule.clause}  # fmt: skip
    return human_review, changes


def _concluded_automated(rt: Runtime, case: dict[str, Any], who: Principal, tenant: Tenant,
                         policy: review_rules.ReviewPolicy, note: str) -> Changes:  # fmt: skip
    """The review of an automated decision other than a quote check, decided: confirmed or changed, with the note."""
    record, version = automated_decisions.stored_review(rt, who.tenant_id, case["subject"]["id"])
    review = dict(record["human_review"])
    if review.get("status") != review_rules.OPEN or review.get("approval_id") != case["case_id"]:
        return Changes()
    at = case["decision"]["at"]
    review.update(status=review_rules.RESULTS[case["status"]], decided_by=who.actor, decided_at=at, note=note,
                  late=at > review["due_at"])  # fmt: skip
    updated = {**record, "human_review": review}
    changes = Changes(puts=[automated_decisions.put(updated, version)])
    changes.audit.append(_audit(who, tenant, policy, f"review_{review['status']}", _subject_of(updated), review))
    return changes


def _subject_of(record: dict[str, Any]) -> dict[str, Any]:
    """A review record as `_audit` cites it: its id and outcome, for its partner."""
    return {"decision_id": record["review_id"], "outcome": record["outcome"], "partner_id": record["partner_id"]}


def _as_read(who: Principal, record: dict[str, Any]) -> dict[str, Any]:
    """Staff read the whole record; a partner reads the team for who requested and decided, never a key id."""
    return record if who.role is not Role.PARTNER else audience.actors_as_roles(record)


def _policy(tenant: Tenant) -> review_rules.ReviewPolicy:
    policy = review_rules.ReviewPolicy.of(tenant.policy)
    if policy is None:
        raise RuleViolation("this tenant's policy provides no human review of automated decisions")
    return policy


def _audit(who: Principal, tenant: Tenant, policy: review_rules.ReviewPolicy, step: str, decision: dict[str, Any],
           review: dict[str, Any]) -> AuditEntry:  # fmt: skip
    # PA-12.1 / CPA-12.1: the record relates to the decision's partner, whoever took the step
    kept = ("reason", "approval_id", "due_at", "note", "previous_outcome")
    inputs: dict[str, Any] = {k: review[k] for k in kept if k in review}
    return approval_requests.cited(who, f"decision.{step}", decision["decision_id"], decision["outcome"],
                                   inputs=inputs, tenant=tenant, rules=[policy.rule],
                                   partner_id=decision["partner_id"])  # fmt: skip


def _event(decision: dict[str, Any]) -> dict[str, Any]:
    """quote.review_requested / quote.reviewed: the decision, its outcome now and the review's status and case."""
    review = decision["human_review"]
    return {"decision_id": decision["decision_id"], "partner_id": decision["partner_id"],
            "outcome": decision["outcome"], "review": review["status"],
            "approvals": [review["approval_id"]]}  # fmt: skip

