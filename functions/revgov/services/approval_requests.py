"""What every request that waits for a queue's decision does the same way: open its approval case with the rule that
asks for it, keep the case's id, queue and due time on the request, audit each step citing the rules, and find the
request again when the case is decided.

Used by credit-note holds (SOP-2.5 / COP-2.4), invoice-line disputes (SOP-6.1 / COP-6.1), rebate disputes and
invoice finalization. An optimistic write (new, or over the version read) is `toolkit.put_over`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..domain.access import Principal
from ..domain.audit import AuditEntry
from ..domain.errors import Conflict, NotFound
from ..domain.rules import Rule
from ..domain.tenants import Tenant
from ..ports import Changes, Stored
from ..runtime import Runtime
from . import cases


@dataclass(frozen=True)
class Ask:
    """What a request asks its queue to decide: the case's category, the subject it is about, the rule that asks for
    the decision with the message the approver reads, and the effect that applies the decision."""

    category: str
    subject_kind: str
    subject_id: str
    rule: Rule
    message: str
    partner_id: str
    effect: str
    context: dict[str, Any] = field(default_factory=dict)


def cited(
    actor: Principal | str,
    action: str,
    subject: str,
    outcome: str,
    *,
    inputs: dict[str, Any],
    tenant: Tenant,
    rules: Iterable[Rule],
    partner_id: str | None = None,
) -> AuditEntry:
    """The audit entry of a step taken under the tenant's policy in force, citing `rules`. `actor`: the caller, or the
    name of an automated preparer (the ERP, the billing run), which has no role; `partner_id`: the partner the step
    concerns when neither the subject nor the inputs name it (PA-12.1, `domain.audit.partner_of`)."""
    rules = tuple(rules)
    rule_ids = tuple(r.rule_id for r in rules)
    clauses = tuple(r.clause for r in rules)
    if isinstance(actor, Principal):
        return AuditEntry.by(actor, action, subject, outcome, inputs=inputs, policy_version=tenant.policy_version,
                             rule_ids=rule_ids, clauses=clauses, partner_id=partner_id)  # fmt: skip
    return AuditEntry(actor=actor, action=action, subject=subject, outcome=outcome, inputs=inputs,
                      policy_version=tenant.policy_version, rule_ids=rule_ids, clauses=clauses,
                      partner_id=partner_id)  # fmt: skip


def open_request(
    rt: Runtime,
    tenant: Tenant,
    requester: Principal | str,
    request: dict[str, Any],
    ask: Ask,
    *,
    action: str,
    inputs: dict[str, Any],
) -> Changes:
    """The approval case for `request` (which learns its `approval_id`, `queue` and `due_at`) and the request's own
    audit entry (`action`, outcome its status) ahead of the case's, as changes for the caller's commit; the caller adds
    the request's document."""
    case, changes = cases.open_case(
        rt,
        tenant.policy,
        kind="approval",
        category=ask.category,
        subject_kind=ask.subject_kind,
        subject_id=ask.subject_id,
        requested_by=requester,
        reasons=[{**ask.rule.as_dict(), "message": ask.message}],
        partner_id=ask.partner_id,
        effect=ask.effect,
        context=ask.context,
        policy_version=tenant.policy_version,
    )
    request.update(approval_id=case["case_id"], queue=case["queue"], due_at=case["due_at"])
    entry = cited(requester, action, ask.subject_id, request["status"], inputs=inputs, tenant=tenant, rules=[ask.rule])
    changes.audit.insert(0, entry)
    return changes


def claim(rt: Runtime, tenant_id: str, markers: str, requests: str, key: str, *, still_open: str) -> Stored | None:
    """The marker that keeps one open request per subject (None: never claimed). While the request it names (in
    `requests`) is open, a 409 naming it: `still_open` with `{id}` replaced, and `open_dispute_id`."""
    marker = rt.store.get(tenant_id, markers, key)
    if marker is None:
        return None
    request_id = marker.data["dispute_id"]
    current = rt.store.get(tenant_id, requests, request_id)
    if current is not None and current.data["status"] == "open":
        raise Conflict(still_open.replace("{id}", request_id), extra={"open_dispute_id": request_id})
    return marker


def commit_filed(rt: Runtime, tenant_id: str, changes: Changes, name_winner: Callable[[], object]) -> None:
    """Commit a filed request. When another filing on the same subject committed first, `name_winner()` raises the 409
    that names it; otherwise the store's Conflict stands."""
    try:
        rt.commit(tenant_id, changes)
    except Conflict:
        name_winner()
        raise


def visible_request(rt: Runtime, who: Principal, collection: str, request_id: str, what: str) -> dict[str, Any]:
    """A request as the caller may read it: another partner's is one that does not exist (404 naming `what`)."""
    stored = rt.store.get(who.tenant_id, collection, request_id)
    if stored is None or not who.sees_partner(stored.data["partner_id"]):
        raise NotFound(f"no {what} {request_id}")
    return stored.data


def decided_request(rt: Runtime, tenant_id: str, collection: str, case: dict[str, Any], what: str) -> Stored:
    """The request a decided case is about (404 naming `what` when it is gone)."""
    stored = rt.store.get(tenant_id, collection, case["subject"]["id"])
    if stored is None:
        raise NotFound(f"no {what} {case['subject']['id']}")
    return stored
