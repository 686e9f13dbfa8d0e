"""Credit notes above the approval limit (SOP-2.5 / COP-2.4): held until finance approves them.

SOP-2.5: "Credit notes above USD 10,000.00 require approval by a member of the finance queue other than the
preparer." SOP-8.1 (automation): automated workflows "may not ... issue credit notes above USD 10,000.00" (COP-2.4
and COP-8.1: EUR 5,000.00). The limit is the policy's `billing.credit_notes.approval_above`.

A credit note above it, whoever prepares it (the ERP's `credit_note.issued` and `return.received`, an upheld invoice
dispute, a subscription's cancellation or quantity-reduction credit from `subscription.cancelled`,
`subscription.changed` or the monthly billing run), is not posted: it is kept as a hold with its preparer and
becomes an approval of the finance queue (category `credit_note_approval`). Only a finance key other than the
preparer decides it (services.cases: the queue's role, never the requester's key; a preparer the ERP names is
compared with the approver here); an automated workflow has no key and never decides. Approved, the credit note is
posted on the partner's open invoice; rejected, nothing is posted, the amount it reserved on the credited line is
released, and the reason is on the audit trail.

A subscription credit keeps the line it would have posted (`draft`) and is noted on the subscription record (`held`),
so the month's reconciliation (SOP-2.2) counts it as pending rather than as a mismatch, and the month's invoice is not
finalized as if it had posted. Approved, the line posts with its original service period on the month's invoice if
it is still open, else the next open one (SOP-2.5: "on the next open invoice with the original service period");
rejected, the month no longer expects it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from ..domain import billing as core
from ..domain.access import Principal
from ..domain.audit import AuditEntry
from ..domain.billing import BillingPolicy, LineDraft
from ..domain.errors import Conflict, Forbidden, NotFound
from ..domain.money import format_money
from ..domain.tenants import Tenant
from ..domain.time import period_of
from ..ports import Changes, Put
from ..runtime import Runtime
from . import billing, cases, tenants

HOLDS = "CREDITNOTEHOLD"  # hold id -> a credit note above the limit, waiting for its approval
EFFECT = "credit_note.approval"


def _hold_put(hold: dict[str, Any], version: int | None) -> Put:
    return Put(
        HOLDS,
        hold["hold_id"],
        hold,
        must_be_absent=version is None,
        expected_version=version,
        conflict_detail=f"credit note {hold['hold_id']} changed meanwhile; read it again",
    )


def hold(
    rt: Runtime,
    tenant: Tenant,
    book: BillingPolicy,
    *,
    partner_id: str,
    line: dict[str, Any],
    amount: Decimal,
    reason: str,
    units: int,
    returned_on: date | None,
    detail: dict[str, Any],
    preparer: Principal | str,
    prepared_by: str | None,
    source: dict[str, Any],
    reserved: dict[str, Any],
    requested_by: tuple[str, ...] = (),
    draft: LineDraft | None = None,
) -> tuple[dict[str, Any], Changes]:
    """A credit note above the limit, kept unposted, and its finance approval, as changes for the caller's commit.
    `reserved`: the marker (collection, key) whose credited amount (and units) already counts it, released when it
    is rejected, so the line is never credited twice while it waits. `draft`: the line to post once approved (a
    subscription credit); without it, a credit note of `amount` against `line`."""
    rule = book.credit_notes
    limit = format_money(book.credit_note_approval_above or Decimal(0))
    currency = tenant.currency
    actor = preparer.actor if isinstance(preparer, Principal) else preparer
    entry: dict[str, Any] = {
        "hold_id": rt.ids.new("cnh"),
        "status": "pending_approval",
        "partner_id": partner_id,
        "invoice_id": line["invoice_id"],
        "line_no": int(line["number"]),
        "line_id": line["line_id"],
        "amount": format_money(amount),
        "currency": currency,
        "approval_above": limit,
        "reason": reason,
        "units": units,
        "returned_on": returned_on.isoformat() if returned_on else None,
        "detail": detail,
        "prepared_by": prepared_by or actor,
        # who asked for it (the filer of the dispute it settles): no more an approver than the preparer (SOP-4.3)
        "requested_by": [r for r in requested_by if r],
        "submitted_by": actor,
        "source": source,
        "reserved": reserved,
        "held_at": rt.clock.now_iso(),
        "rule_id": rule.rule_id,
        "clause": rule.clause,
        "credit_note_line_id": None,
        "decision": None,
        "draft": core.draft_as_dict(draft) if draft else None,
    }
    case, changes = cases.open_case(
        rt,
        tenant.policy,
        kind="approval",
        category=book.credit_note_approval_category,
        subject_kind="credit_note",
        subject_id=entry["hold_id"],
        requested_by=preparer,
        reasons=[
            {
                **rule.as_dict(),
                "message": f"credit note of {currency} {entry['amount']} ({reason.replace('_', ' ')}) for line "
                f"{entry['line_no']} of {entry['invoice_id']} is above {currency} {limit}: a member of the finance "
                f"queue other than the preparer ({entry['prepared_by']}) approves it before it is issued",
            }
        ],
        partner_id=partner_id,
        effect=EFFECT,
        context={
            "invoice_id": entry["invoice_id"],
            "line_no": entry["line_no"],
            "amount": entry["amount"],
            "reason": reason,
            "prepared_by": entry["prepared_by"],
        },
        policy_version=tenant.policy_version,
    )
    entry.update(approval_id=case["case_id"], queue=case["queue"], due_at=case["due_at"])
    changes.puts.insert(0, _hold_put(entry, None))
    changes.audit.insert(
        0,
        AuditEntry(
            actor=actor,
            actor_role=preparer.role.value if isinstance(preparer, Principal) else None,
            action="credit_note.held",
            subject=entry["hold_id"],
            outcome="pending_approval",
            inputs={
                k: entry[k]
                for k in (
                    "partner_id",
                    "invoice_id",
                    "line_id",
                    "amount",
                    "approval_above",
                    "reason",
                    "prepared_by",
                    "source",
                )
            },
            policy_version=tenant.policy_version,
            rule_ids=(rule.rule_id,),
            clauses=(rule.clause,),
        ),
    )
    return entry, changes


def get_hold(rt: Runtime, who: Principal, hold_id: str) -> dict[str, Any]:
    stored = rt.store.get(who.tenant_id, HOLDS, hold_id)
    if stored is None or not who.sees_partner(stored.data["partner_id"]):
        raise NotFound(f"no credit note {hold_id}")
    return stored.data


def apply_decision(rt: Runtime, case: dict[str, Any], who: Principal) -> Changes:
    """The credit note's approval was decided by the finance queue: approved, it is posted on the partner's open
    invoice, referencing the line; rejected, nothing is posted and the line's reservation is released. Effect of
    `credit_note.approval` (runtime.Registry.effects)."""
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    book = BillingPolicy.from_policy(tenant.policy)
    rule = book.credit_notes
    stored = rt.store.get(who.tenant_id, HOLDS, case["subject"]["id"])
    if stored is None:
        raise NotFound(f"no credit note {case['subject']['id']}")
    entry = stored.data
    involved = {entry["prepared_by"], *entry.get("requested_by", [])}
    if who.actor in involved or who.key_id in involved:
        segregation = tenant.policy["exception_routing"].get("segregation_of_duties") or rule.as_dict()
        clause = segregation.get("clause", rule.clause)
        raise Forbidden(
            f"segregation of duties: {who.actor} prepared or asked for this credit note and cannot approve it "
            f"({rule.clause}, {clause})",
            extra={"refusal": "self_approval", "rule_id": segregation.get("id", rule.rule_id), "clause": clause},
        )
    approved = case["status"] == "approved"
    decision = {"outcome": case["status"], "by": who.actor, "at": case["decision"]["at"],
                "note": case["decision"].get("note"), "approval_id": case["case_id"]}  # fmt: skip
    changes = Changes()
    amount = Decimal(entry["amount"])
    approval = {"credit_note_approval_id": case["case_id"], "prepared_by": entry["prepared_by"],
                "approved_by": who.actor}  # fmt: skip
    if approved and entry.get("draft"):  # a subscription credit: the line it would have posted, as it was
        held_line = core.draft_from_dict(entry["draft"])
        draft = replace(held_line, detail={**held_line.detail, **approval, "credit_note_hold_id": entry["hold_id"]})
        period = period_of(draft.service_period.start)  # the month's invoice while open, else the next one
    elif approved:
        line = billing.line_of(rt, who.tenant_id, entry["invoice_id"], int(entry["line_no"]))
        if line is None:  # pragma: no cover - issued lines are never deleted
            raise NotFound(f"invoice {entry['invoice_id']} has no line {entry['line_no']}")
        rules = (book.disputes, rule) if entry["reason"] == "dispute_outcome" else (rule,)
        draft = core.credit_note_draft(
            line.data,
            amount,
            reason=entry["reason"],
            rules=rules,
            detail={**entry["detail"], **approval},
            units=int(entry["units"]),
            returned_on=date.fromisoformat(entry["returned_on"]) if entry["returned_on"] else None,
        )
        period = None
    if approved:
        changes = billing.post_correction(
            rt, tenant, entry["partner_id"], [draft], source_id=entry["hold_id"],
            detail_type=entry["source"]["detail_type"], period=period,
        )  # fmt: skip
        posted = [p.data for p in changes.puts if p.collection == billing.LINES]
        entry = {**entry, "status": "posted", "credit_note_line_id": posted[0]["line_id"]}
        if entry["reserved"]["collection"] == billing.SUBSCRIPTIONS:
            changes.puts.append(_settle_subscription(rt, who.tenant_id, entry, posted[0]))
    else:
        entry = {**entry, "status": "rejected"}
        changes.puts += _release(rt, who.tenant_id, entry)
    entry["decision"] = decision
    changes.puts.append(_hold_put(entry, stored.version))
    changes.audit.append(
        AuditEntry(
            actor=who.actor,
            actor_role=who.role.value,
            action=f"credit_note.{entry['status']}",
            subject=entry["hold_id"],
            outcome=entry["status"],
            inputs={
                "partner_id": entry["partner_id"],
                "invoice_id": entry["invoice_id"],
                "line_id": entry["line_id"],
                "amount": entry["amount"],
                "posted": entry["amount"] if approved else "0.00",
                "credit_note_line_id": entry["credit_note_line_id"],
                "prepared_by": entry["prepared_by"],
                "note": decision["note"],
                "approval_id": case["case_id"],
            },
            policy_version=tenant.policy_version,
            rule_ids=(rule.rule_id,),
            clauses=(rule.clause,),
        )
    )
    return changes


def _release(rt: Runtime, tenant_id: str, entry: dict[str, Any]) -> list[Put]:
    """A rejected credit note gives back what it reserved on the credited line's marker (a subscription credit: the
    month no longer expects it)."""
    reserved = entry["reserved"]
    if reserved["collection"] == billing.SUBSCRIPTIONS:
        return [_settle_subscription(rt, tenant_id, entry, None)]
    marker = rt.store.get(tenant_id, reserved["collection"], reserved["key"])
    if marker is None:  # pragma: no cover - the hold was committed with its marker
        return []
    data = {**marker.data, "credited": format_money(Decimal(marker.data["credited"]) - Decimal(entry["amount"]))}
    if "units" in data:
        data["units"] = int(data["units"]) - int(entry["units"])
    return [Put(reserved["collection"], marker.key, data, expected_version=marker.version,
                conflict_detail="the credited line changed meanwhile; decide again")]  # fmt: skip


# --- subscription credits (cancellations and quantity reductions, PA-10.4 / SOP-2.4) -------------------------------
def post_or_hold(
    posting: billing.Posting, subscription: dict[str, Any], draft: LineDraft, charge: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A subscription credit for a month already charged (`charge`: the charge entry it references): posted on the
    month's invoice, or above the limit (SOP-2.5; SOP-8.1: automated workflows "may not ... issue credit notes above
    USD 10,000.00") held for finance. Returns (the lines posted, the `held` entries for the subscription record)."""
    period = period_of(draft.service_period.start)
    if not core.credit_note_needs_approval(draft.amount, posting.book):
        return billing._post_lines(posting, subscription["partner_id"], period, [draft]), []
    invoice_id, number = charge["line_id"].rsplit(".", 1)
    entry, approval = hold(
        posting.rt,
        posting.tenant,
        posting.book,
        partner_id=subscription["partner_id"],
        line={"invoice_id": invoice_id, "number": int(number), "line_id": charge["line_id"]},
        amount=-draft.amount,
        reason="cancellation",  # SOP-2.5's reason code for a cancellation or a quantity reduction credit
        units=0,
        returned_on=None,
        detail={"subscription_id": subscription["subscription_id"], "month": period},
        preparer=billing.ACTOR,
        prepared_by=None,
        source={"detail_type": posting.detail_type, "event_id": posting.event_id, "erp_event_id": posting.erp_event_id},
        reserved={"collection": billing.SUBSCRIPTIONS, "key": subscription["subscription_id"]},
        draft=draft,
    )
    posting.changes.puts += approval.puts
    posting.changes.audit += approval.audit
    posting.changes.events += approval.events
    posting.case_ids.append(entry["approval_id"])
    held = {
        "hold_id": entry["hold_id"],
        "approval_id": entry["approval_id"],
        "month": period,
        "amount": format_money(draft.amount),
        "service_period": draft.service_period.as_dict(),
        "references_line": charge["line_id"],
        "quantity_change": draft.detail.get("quantity_change"),
        "status": "pending_approval",
    }
    return [], [held]


def held_note(held: list[dict[str, Any]]) -> str | None:
    """What an ERP event's outcome says of the credits it held."""
    if not held:
        return None
    named = ", ".join(f"{h['amount']} for {h['month']} (approval {h['approval_id']})" for h in held)
    return f"credit(s) above the approval limit held for finance: {named} (SOP-2.5)"


def _settle_subscription(rt: Runtime, tenant_id: str, entry: dict[str, Any], line: dict[str, Any] | None) -> Put:
    """The subscription record learns what became of its held credit: posted (with the line, among its credits) or
    rejected (released: the month no longer expects it)."""
    stored = rt.store.get(tenant_id, billing.SUBSCRIPTIONS, entry["reserved"]["key"])
    if stored is None:  # pragma: no cover - the hold was committed with the record
        raise NotFound(f"no subscription {entry['reserved']['key']}")
    sub = dict(stored.data)
    held = [
        {**h, "status": entry["status"], "line_id": line["line_id"] if line else None}
        if h["hold_id"] == entry["hold_id"] else h
        for h in sub.get("held") or []
    ]  # fmt: skip
    sub["held"] = held
    if line is not None:
        section = "adjusted" if line["detail"].get("quantity_change") else "credited"
        sub[section] = [*(sub.get(section) or []), billing.posted_against_entry(line)]
        if section == "credited":
            sub["credits"] = [*(sub.get("credits") or []), line["line_id"]]
    return billing._subscription_put(sub, stored)


def pending_for_month(rt: Runtime, tenant_id: str, partner_id: str, period: str) -> list[dict[str, Any]]:
    """The partner's subscription credits of `period` still waiting for their approval."""
    records, cursor = [], None
    while True:
        page = rt.store.lookup(tenant_id, f"{billing.SUBSCRIPTIONS}#{partner_id}", limit=200, cursor=cursor)
        records += [s.data for s in page.items if s.data.get("held")]
        cursor = page.next_cursor
        if not cursor:
            return core.pending_credits(records, period)


def refuse_finalizing_over_pending(rt: Runtime, tenant_id: str, invoice: dict[str, Any], book: BillingPolicy) -> None:
    """SOP-2.2: before issue, "subscription lines match the active subscription records"; a credit the records owe
    that waits for its approval (SOP-2.5) is not on the invoice yet, so the month's invoice is not issued as if it
    had posted: finance decides the credit first (its approval is in the finance queue)."""
    pending = pending_for_month(rt, tenant_id, invoice["partner_id"], invoice["period"])
    if pending:
        named = ", ".join(f"{p['subscription_id']} {p['amount']} (approval {p['approval_id']})" for p in pending)
        raise Conflict(
            f"invoice {invoice['invoice_id']} cannot be finalized while credits of {invoice['period']} wait for "
            f"approval: {named}; subscription lines must match the subscription records before issue "
            f"({book.reconciliation.clause}, {book.credit_notes.clause})",
            extra={"pending_credit_approvals": [p["approval_id"] for p in pending]},
        )
