"""Disputes: a partner (or staff for it) disputes a statement line within the window; finance decides it.

A dispute opens an approval in the finance queue. Deciding it, here or through /v1/approvals, applies
`apply_dispute_decision` (the `rebate.dispute` effect) in the decision's own commit: accepted, an adjustment the next
settlement run pays (PA-7.9); rejected, the reason. `resolve_dispute` hands the accepted amount and its reason to the
effect in the case's payload, so deciding is one commit.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ...domain import cases as case_rules
from ...domain.access import Principal, Role
from ...domain.audit import AuditEntry
from ...domain.calendar import BusinessCalendar
from ...domain.errors import Conflict, Forbidden, NotFound, RuleViolation
from ...domain.money import format_money, parse_money
from ...domain.policy import cited_clause
from ...domain.rebates import disputes as rules
from ...domain.rebates.policy import RebateBook
from ...domain.tenants import Tenant
from ...domain.time import instant
from ...ports import Changes, DomainEvent, Stored
from ...runtime import Runtime
from .. import cases
from ..approval_requests import cited, claim, commit_filed
from . import repository
from .book import SOURCE, book, today
from .dispute_payment import payment_of
from .repository import Adjustment, Dispute

EFFECT = "rebate.dispute"


def file_dispute(rt: Runtime, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """A partner (or staff for it) disputes a settlement line within the window, with evidence (PA-7.9)."""
    tenant, rebates = book(rt, who.tenant_id)
    partner_id, settlement_id, program_id = body["partner_id"], body["settlement_id"], body["program_id"]
    statement, header = _disputed_statement(rt, who, settlement_id, partner_id)
    amount = parse_money(body["amount"])
    lines = rules.disputed_lines(rebates, statement, program_id, amount, header["period"])
    line_key = f"{settlement_id}#{partner_id}#{program_id}"
    claimed = _open_dispute_on(rt, who.tenant_id, line_key)
    closes = rules.window_closes(rebates, header["settled_at"], today(rt))
    dispute: Dispute = {
        "dispute_id": rt.ids.new("dsp"),
        "settlement_id": settlement_id,
        "partner_id": partner_id,
        "period": header["period"],
        "program_id": program_id,
        "line_nos": [ln["line_no"] for ln in lines],
        "settled_amount": rules.settled_amount(lines),
        "amount": format_money(amount),
        "reason": body["reason"],
        "evidence": body["evidence"],
        "status": "open",
        "filed_at": rt.clock.now_iso(),
        "filed_by": who.actor,
        "window_closes_on": closes.isoformat(),
        "approval_id": None,
        "resolution": None,
        "rule_id": rebates.dispute_rule.rule_id,
        "clause": rebates.dispute_rule.clause,
    }
    dispute["acknowledged"] = None
    dispute["deadlines"] = _deadlines(rt, tenant, partner_id, dispute["filed_at"], None)
    changes = _filing(rt, who, tenant, rebates, dispute)
    changes.puts.append(repository.dispute_line_put(dispute, line_key, claimed))
    commit_filed(rt, who.tenant_id, changes, lambda: _open_dispute_on(rt, who.tenant_id, line_key))
    return dict(dispute)


def _disputed_statement(
    rt: Runtime, who: Principal, settlement_id: str, partner_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The partner's statement and the settlement's header. One answer for another partner's, another tenant's and
    a never-made settlement, and for one without a statement for this partner: a partner key must not learn which
    settlement ids exist."""
    unknown = NotFound(f"no settlement {settlement_id} for partner {partner_id}")
    if not who.sees_partner(partner_id):
        raise unknown
    statement = repository.statement(rt, who.tenant_id, settlement_id, partner_id)
    header = repository.find_settlement(rt, who.tenant_id, settlement_id) if statement is not None else None
    if statement is None or header is None or header["status"] != "settled":  # a run not approved is not issued
        raise unknown
    return statement, header


def _filing(rt: Runtime, who: Principal, tenant: Tenant, rebates: RebateBook, dispute: Dispute) -> Changes:
    """The dispute's approval opened, the dispute stored with it, audited and announced (its approval id set)."""
    case, changes = cases.open_case(
        rt,
        tenant.policy,
        kind="approval",
        subject_kind="rebate_dispute",
        subject_id=dispute["dispute_id"],
        requested_by=who,
        effect=EFFECT,
        policy_version=tenant.policy_version,
        **rules.approval_fields(rebates, dispute),
    )
    dispute["approval_id"] = case["case_id"]
    changes.puts.append(repository.dispute_put(dispute, None))
    filed = {k: dispute[k] for k in ("settlement_id", "partner_id", "program_id", "amount", "reason", "evidence")}
    changes.audit.insert(0, _audit(who, tenant, rebates, "filed", dispute, filed))
    changes.events.append(DomainEvent(SOURCE, "dispute.filed", _dispute_event(dispute)))
    return changes


def _audit(
    who: Principal, tenant: Tenant, rebates: RebateBook, step: str, dispute: Dispute, inputs: dict[str, Any]
) -> AuditEntry:
    """The audit record of a dispute filed (outcome open) or decided (accepted, rejected), citing the dispute rule."""
    action = f"rebate_dispute.{step}"
    return cited(who, action, dispute["dispute_id"], dispute["status"], inputs=inputs, tenant=tenant,
                 rules=[rebates.dispute_rule], partner_id=dispute["partner_id"])  # fmt: skip


def _deadlines(
    rt: Runtime, tenant: Tenant, partner_id: str, filed_at: str, acknowledged_at: str | None
) -> dict[str, Any] | None:
    """The dispute's acknowledge-by and decide-by instants on the business calendar of the partner's country."""
    country = (repository.partner(rt, tenant.tenant_id, partner_id) or {}).get("country")
    calendar = BusinessCalendar.from_policy(tenant.policy, country)
    acknowledged = instant(acknowledged_at) if acknowledged_at else None
    return rules.deadlines(tenant.policy["rebates"]["disputes"], calendar, instant(filed_at), acknowledged)


def acknowledge_dispute(rt: Runtime, who: Principal, dispute_id: str) -> dict[str, Any]:
    """Finance acknowledges an open dispute, once (PA-7.9 "Finance acknowledges a dispute within 2 business days";
    SOP-6.2 step 2): the decision is then due its business days after the acknowledgement (SOP-6.2 step 5)."""
    tenant, rebates = book(rt, who.tenant_id)
    if who.role is not Role.FINANCE:
        clause = cited_clause(tenant.policy, "rebates", "disputes", default="PA-7.9")
        raise Forbidden(f"finance acknowledges a rebate dispute ({clause})")
    dispute, version = _visible(rt, who, dispute_id)
    if dispute["status"] != "open" or dispute.get("acknowledged"):
        state = "acknowledged" if dispute["status"] == "open" else dispute["status"]
        extra = {"current_status": dispute["status"], "acknowledged": dispute.get("acknowledged")}
        raise Conflict(f"dispute {dispute_id} is already {state}", extra=extra)
    now = rt.clock.now_iso()
    due = _deadlines(rt, tenant, dispute["partner_id"], dispute["filed_at"], now)
    updated: Dispute = {**dispute, "acknowledged": {"by": who.actor, "at": now}, "deadlines": due}
    inputs = {"acknowledged_at": now, "deadlines": updated["deadlines"]}
    entry = _audit(who, tenant, rebates, "acknowledged", updated, inputs)
    rt.commit(who.tenant_id, Changes(puts=[repository.dispute_put(updated, version)], audit=[entry]))
    return dict(updated)


def _open_dispute_on(rt: Runtime, tenant_id: str, line_key: str) -> Stored | None:
    """The statement line's claim marker (None: never disputed); a Conflict naming the dispute while it is open:
    one open dispute per statement line, a second filing waits for the first to be decided."""
    still_open = "dispute {id} on this statement line is still open; add to it or wait for its decision"
    return claim(rt, tenant_id, repository.DISPUTE_LINES, repository.DISPUTES, line_key, still_open=still_open)


def _dispute_event(dispute: Dispute) -> dict[str, Any]:
    return {k: dispute[k] for k in ("dispute_id", "settlement_id", "partner_id", "program_id", "amount", "status")}


def get_dispute(rt: Runtime, who: Principal, dispute_id: str) -> tuple[dict[str, Any], int]:
    """A dispute and its version, if the caller sees its partner; an accepted one says where its amount stands."""
    dispute, version = _visible(rt, who, dispute_id)
    return _with_payment_status(rt, who.tenant_id, dict(dispute)), version


PAID_FIELDS = ("settled_in", "settled_at", "credited_at")


def _with_payment_status(rt: Runtime, tenant_id: str, dispute: dict[str, Any]) -> dict[str, Any]:
    """The accepted amount's `payment` with its `status` now (pending | credit_note | credited | settled) and where it
    was paid: PA-7.9 pays it "by adjustment in the next settlement, or by separate credit note"; a run that comes
    before the credit note is issued pays it and withdraws the note (dispute_payment.withdrawn), so the payment the
    decision stated is not always the one that paid it."""
    payment = (dispute.get("resolution") or {}).get("payment")
    if not payment:
        return dispute
    stored = rt.store.get(tenant_id, repository.ADJUSTMENTS, dispute["dispute_id"])
    if stored is None:
        return dispute
    paid = {"status": stored.data["status"], **{k: stored.data[k] for k in PAID_FIELDS if stored.data.get(k)}}
    return {**dispute, "resolution": {**dispute["resolution"], "payment": {**payment, **paid}}}


def _visible(rt: Runtime, who: Principal, dispute_id: str) -> tuple[Dispute, int]:
    found = repository.dispute(rt, who.tenant_id, dispute_id)
    if found is None or not who.sees_partner(found[0]["partner_id"]):
        raise NotFound(f"no dispute {dispute_id}")
    return found


def resolve_dispute(rt: Runtime, who: Principal, dispute_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Finance decides: accepted (all or part of the amount; paid by adjustment in the next run) or rejected with
    a reason. The dispute's approval is decided with it, in one commit, so the queue and the dispute never disagree:
    the accepted amount reaches the approval's effect in the case's payload."""
    dispute, _ = _visible(rt, who, dispute_id)
    if dispute["status"] != "open":
        raise Conflict(
            f"dispute {dispute_id} is already {dispute['status']}",
            extra={"current_status": dispute["status"], "allowed_next": []},
        )
    accepted = body["outcome"] == "accepted"
    amount = parse_money(body.get("amount", dispute["amount"])) if accepted else None
    if amount is not None and not Decimal(0) < amount <= Decimal(dispute["amount"]):
        raise RuleViolation(f"an accepted amount is more than 0.00 and at most the disputed {dispute['amount']}")
    _not_the_preparer(rt, who, dispute)
    approval_id = str(dispute["approval_id"])
    case, _ = cases.get_case(rt, who.tenant_id, "approval", approval_id)
    outcome = "approved" if accepted else "rejected"
    case_rules.decide(case, who, outcome, body["reason"], rt.clock.now_iso())  # queue, four eyes, reason: or raise
    payload = {"amount": None if amount is None else format_money(amount), "reason": body["reason"]}
    cases.decide_case(rt, who, "approval", approval_id, outcome, body["reason"], payload=payload)
    return get_dispute(rt, who, dispute_id)[0]


def _not_the_preparer(rt: Runtime, who: Principal, dispute: Dispute) -> None:
    """Whoever settled the statement may not decide a dispute about it (SOP-6.3, COP-6.2)."""
    if repository.settlement(rt, who.tenant_id, dispute["settlement_id"])["settled_by"] == who.actor:
        raise Forbidden("the person who prepared the settlement may not decide a dispute about it")


def apply_dispute_decision(rt: Runtime, case: dict[str, Any], who: Principal) -> Changes:
    """The dispute's approval was decided (here or through /v1/approvals): accepted → an adjustment for the next
    run; rejected → the reason. Effect of `rebate.dispute` (runtime.Registry.effects). `resolve_dispute` passes the
    accepted amount and the reason in `case["payload"]`; a decision through /v1/approvals accepts the disputed
    amount, with the approval's note as the reason."""
    tenant, rebates = book(rt, who.tenant_id)
    found = repository.dispute(rt, who.tenant_id, case["subject"]["id"])
    if found is None:
        raise NotFound(f"no dispute {case['subject']['id']}")
    dispute, version = found
    _not_the_preparer(rt, who, dispute)
    resolution = rules.resolution(dispute, case, who.actor, case.get("payload") or {})
    paying: tuple[Adjustment, Changes] | None = None
    if resolution["outcome"] == "accepted":  # PA-7.9: in the next settlement, or by separate credit note
        paying = payment_of(rt, who, tenant, rebates, dispute, resolution)
        resolution["payment"] = {**paying[0]["payment"], "credit_note_id": paying[0].get("credit_note_id")}
    resolved: Dispute = {**dispute, "status": resolution["outcome"], "resolution": resolution}
    decided = {
        "disputed": dispute["amount"],
        "settled_amount": dispute["settled_amount"],
        "accepted": resolution["amount"],
        "reason": resolution["reason"],
        "approval_id": case["case_id"],
    }
    entry = _audit(who, tenant, rebates, resolution["outcome"], resolved, decided)
    event = DomainEvent(SOURCE, "dispute.resolved", _dispute_event(resolved))
    changes = Changes(puts=[repository.dispute_put(resolved, version)], audit=[entry], events=[event])
    if paying is not None:
        changes.puts.append(repository.adjustment_put(paying[0], None))
        changes = changes.merge(paying[1])
    return changes
