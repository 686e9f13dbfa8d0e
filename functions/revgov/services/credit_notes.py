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

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from ..domain import billing as core
from ..domain import subscription_renewals
from ..domain.access import Principal
from ..domain.billing import BillingPolicy, LineDraft
from ..domain.credit_reservations import counted, with_held
from ..domain.errors import Conflict, Forbidden, NotFound
from ..domain.money import format_money
from ..domain.rules import Rule
from ..domain.tenants import Tenant
from ..domain.time import parse_day, period_of
from ..ports import Changes, Put
from ..runtime import Runtime
from . import approval_requests, billing, erp, key_lineage, tenants
from .billing.repository import CREDIT_NOTE_HOLDS
from .toolkit import put_over

HOLDS = CREDIT_NOTE_HOLDS  # hold id -> a credit note above the limit, waiting for its approval
EFFECT = "credit_note.approval"


def _hold_put(hold: dict[str, Any], version: int | None) -> Put:
    detail = f"credit note {hold['hold_id']} changed meanwhile; read it again"
    return put_over(HOLDS, hold["hold_id"], hold, version, conflict_detail=detail)


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
    requested_at: str | None = None,
    draft: LineDraft | None = None,
    held_by: Rule | None = None,
) -> tuple[dict[str, Any], Changes]:
    """A credit note above the limit (or held by `held_by`: a committed term's credit, PA-10.4 / CPA-10.3), kept
    unposted with its finance approval, as changes to commit. `reserved`: the marker already counting it, released on
    rejection (never credited twice); `draft`: the line to post once approved, else `amount` against `line`."""
    rule = held_by or book.credit_notes
    actor = preparer.actor if isinstance(preparer, Principal) else preparer
    entry: dict[str, Any] = {
        "hold_id": rt.ids.new("cnh"),
        "status": "pending_approval",
        "partner_id": partner_id,
        "invoice_id": line["invoice_id"],
        "line_no": int(line["number"]),
        "line_id": line["line_id"],
        "amount": format_money(amount),
        "currency": tenant.currency,
        "approval_above": format_money(book.credit_note_approval_above or Decimal(0)),
        "reason": reason,
        "units": units,
        "returned_on": returned_on.isoformat() if returned_on else None,
        "detail": detail,
        "prepared_by": prepared_by or actor,
        # who asked for it (the filer of the dispute it settles): no more an approver than the preparer (SOP-4.3)
        "requested_by": [r for r in requested_by if r],
        "requested_at": requested_at,  # when they asked (a key they minted since is theirs: key_lineage)
        "submitted_by": actor,
        "source": source,
        "reserved": reserved,
        "held_at": rt.clock.now_iso(),
        **rule.as_dict(),
        "credit_note_line_id": None,
        "decision": None,
        "draft": core.draft_as_dict(draft) if draft else None,
        "held_for": COMMITTED_TERM if held_by else ABOVE_LIMIT,
    }
    inputs = {k: entry[k] for k in _HELD_INPUTS}
    changes = approval_requests.open_request(
        rt, tenant, preparer, entry, _ask(entry, book), action="credit_note.held", inputs=inputs
    )
    changes.puts.insert(0, _hold_put(entry, None))
    return entry, changes


_HELD_INPUTS = ("partner_id", "invoice_id", "line_id", "amount", "approval_above", "reason", "prepared_by", "source")
ABOVE_LIMIT, COMMITTED_TERM = core.HELD_ABOVE_LIMIT, core.HELD_COMMITTED_TERM  # why a credit note waits (`held_for`)


def _held_rule(entry: dict[str, Any], book: BillingPolicy) -> Rule:
    """The rule the held credit note cites: a committed term's (as stored with it), else the credit note limit's."""
    if entry.get("held_for") == COMMITTED_TERM:
        return Rule(entry["rule_id"], entry["clause"])
    return book.credit_notes


def _ask(entry: dict[str, Any], book: BillingPolicy) -> approval_requests.Ask:
    """The finance queue's approval of a held credit note: who may approve it, and why it waits (SOP-2.5)."""
    currency, reason = entry["currency"], entry["reason"]
    why = (
        f"falls in a committed term, credited only as the order allows ({entry['clause']})"
        if entry.get("held_for") == COMMITTED_TERM
        else f"is above {currency} {entry['approval_above']}"
    )
    message = (
        f"credit note of {currency} {entry['amount']} ({reason.replace('_', ' ')}) for line {entry['line_no']} of "
        f"{entry['invoice_id']} {why}: a member of the finance queue other than the preparer ({entry['prepared_by']}) "
        f"approves it before it is issued"
    )
    context = {k: entry[k] for k in ("invoice_id", "line_no", "amount", "reason", "prepared_by")}
    return approval_requests.Ask(book.credit_note_approval_category, "credit_note", entry["hold_id"],
                                 _held_rule(entry, book), message, entry["partner_id"], EFFECT, context)  # fmt: skip


def get_hold(rt: Runtime, who: Principal, hold_id: str) -> dict[str, Any]:
    return approval_requests.visible_request(rt, who, HOLDS, hold_id, "credit note")


def apply_decision(rt: Runtime, case: dict[str, Any], who: Principal) -> Changes:
    """The credit note's approval was decided by the finance queue: approved, it is posted on the partner's open
    invoice, referencing the line; rejected, nothing is posted and the line's reservation is released. Effect of
    `credit_note.approval` (runtime.Registry.effects)."""
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    book = BillingPolicy.from_policy(tenant.policy)
    stored = approval_requests.decided_request(rt, who.tenant_id, HOLDS, case, "credit note")
    entry = stored.data
    _refuse_self_approval(rt, tenant, book, entry, who)
    approved = case["status"] == "approved"
    decision = {"outcome": case["status"], "by": who.actor, "at": case["decision"]["at"],
                "note": case["decision"].get("note"), "approval_id": case["case_id"]}  # fmt: skip
    if approved:
        changes, entry = _post(rt, tenant, book, entry, case["case_id"], who)
        changes.puts += _issued(rt, who.tenant_id, entry)
        _reapply_parked(rt, who.tenant_id, entry, changes)
    else:
        entry = {**entry, "status": "rejected"}
        changes = Changes(puts=_release(rt, who.tenant_id, entry))
    entry["decision"] = decision
    changes.puts.append(_hold_put(entry, stored.version))
    inputs = {
        **{k: entry[k] for k in ("partner_id", "invoice_id", "line_id", "amount")},
        "posted": entry["amount"] if approved else "0.00",
        **{k: entry[k] for k in ("credit_note_line_id", "prepared_by")},
        "note": decision["note"],
        "approval_id": case["case_id"],
    }
    status, held_by = entry["status"], _held_rule(entry, book)
    changes.audit.append(approval_requests.cited(who, f"credit_note.{status}", entry["hold_id"], status,
                                                 inputs=inputs, tenant=tenant, rules=[held_by]))  # fmt: skip
    return changes


def _refuse_self_approval(
    rt: Runtime, tenant: Tenant, book: BillingPolicy, entry: dict[str, Any], who: Principal
) -> None:
    """SOP-2.5: approved "by a member of the finance queue other than the preparer"; whoever asked for the credit (the
    dispute's filer) is no more its approver (SOP-4.3), nor is a key one of them minted after asking for it
    (services/key_lineage.py: that key is in their hands)."""
    rule = book.credit_notes
    involved = {entry["prepared_by"], *entry.get("requested_by", [])}
    since = min(str(entry.get("requested_at") or entry["held_at"]), str(entry["held_at"]))
    held_by = key_lineage.holders(rt, tenant.tenant_id, who.key_id, since=since)
    involved_keys = {actor.partition(":")[2] for actor in involved} | involved
    if who.actor in involved or held_by & involved_keys:
        segregation = tenant.policy["exception_routing"].get("segregation_of_duties") or rule.as_dict()
        clause = segregation.get("clause", rule.clause)
        raise Forbidden(
            f"segregation of duties: {who.actor} prepared or asked for this credit note and cannot approve it "
            f"({rule.clause}, {clause})",
            extra={"refusal": "self_approval", "rule_id": segregation.get("id", rule.rule_id), "clause": clause},
        )


def _post(
    rt: Runtime, tenant: Tenant, book: BillingPolicy, entry: dict[str, Any], approval_id: str, who: Principal
) -> tuple[Changes, dict[str, Any]]:
    """An approved credit note posted: a subscription credit as the line it would have posted (on the month's invoice
    while open, else the next one), any other against the credited line; the hold becomes `posted`."""
    approval = {"credit_note_approval_id": approval_id, "prepared_by": entry["prepared_by"], "approved_by": who.actor}
    period: str | None = None
    if entry.get("draft"):  # a subscription credit: the line it would have posted, as it was
        held_line = core.draft_from_dict(entry["draft"])
        draft = replace(held_line, detail={**held_line.detail, **approval, "credit_note_hold_id": entry["hold_id"]})
        period = period_of(draft.service_period.start)
    else:
        draft = _credit_note_draft(rt, who.tenant_id, book, entry, approval)
    changes = billing.post_correction(
        rt, tenant, entry["partner_id"], [draft], source_id=entry["hold_id"],
        detail_type=entry["source"]["detail_type"], period=period,
    )  # fmt: skip
    posted = [p.data for p in changes.puts if p.collection == billing.LINES]
    entry = {**entry, "status": "posted", "credit_note_line_id": posted[0]["line_id"]}
    if entry["reserved"]["collection"] == billing.SUBSCRIPTIONS:
        changes.puts.append(_settle_subscription(rt, who.tenant_id, entry, posted[0]))
    return changes, entry


def _credit_note_draft(
    rt: Runtime, tenant_id: str, book: BillingPolicy, entry: dict[str, Any], approval: dict[str, Any]
) -> LineDraft:
    """The credit note of the held amount against the credited line, citing the dispute rule too when it settles an
    upheld dispute."""
    line = billing.line_of(rt, tenant_id, entry["invoice_id"], int(entry["line_no"]))
    if line is None:  # pragma: no cover - issued lines are never deleted
        raise NotFound(f"invoice {entry['invoice_id']} has no line {entry['line_no']}")
    rule = book.credit_notes
    rules = (book.disputes, rule) if entry["reason"] == "dispute_outcome" else (rule,)
    return core.credit_note_draft(
        line.data,
        Decimal(entry["amount"]),
        reason=entry["reason"],
        rules=rules,
        detail={**entry["detail"], **approval},
        units=int(entry["units"]),
        returned_on=parse_day(entry["returned_on"]) if entry["returned_on"] else None,
    )


def _release(rt: Runtime, tenant_id: str, entry: dict[str, Any]) -> list[Put]:
    """A rejected credit note gives back what it reserved on the credited line's marker (a subscription credit: the
    month no longer expects it)."""
    if entry["reserved"]["collection"] == billing.SUBSCRIPTIONS:
        return [_settle_subscription(rt, tenant_id, entry, None)]
    amount = Decimal(entry["amount"])
    return _marked(rt, tenant_id, entry, lambda m: counted(m, -amount, -int(entry["units"])))


def _issued(rt: Runtime, tenant_id: str, entry: dict[str, Any]) -> list[Put]:
    """An approved credit note is issued: the credited line's marker still counts it, no more as held (SOP-2.5), so
    the line no longer stands charged for it (a shipment's corrected charge may follow, PA-10.1). A subscription
    credit's record learns it in `_settle_subscription`."""
    if entry["reserved"]["collection"] == billing.SUBSCRIPTIONS:
        return []
    return _marked(rt, tenant_id, entry, lambda m: m)


def _reapply_parked(rt: Runtime, tenant_id: str, entry: dict[str, Any], changes: Changes) -> None:
    """Events that waited for the approved credit note (a shipment's corrected charge, PA-10.1: the shipment stood
    billed while the credit was held) go back on the bus in the approval's own commit, so none is lost; their handler
    finds the credit issued and bills them, or holds them again while another credit of the shipment waits."""
    for event_id in entry.get("parked_events") or []:
        try:
            changes.merge(erp.republish(rt, tenant_id, event_id, f"re-applied after credit note {entry['hold_id']}"))
        except NotFound:  # kept for replay no longer (36 days): its exception stays open for finance
            continue


def _marked(
    rt: Runtime, tenant_id: str, entry: dict[str, Any], change: Callable[[dict[str, Any]], dict[str, Any]]
) -> list[Put]:
    """The credited line's marker changed by `change`, the decided hold no more held on it, over what was read."""
    reserved = entry["reserved"]
    marker = rt.store.get(tenant_id, reserved["collection"], reserved["key"])
    if marker is None:  # pragma: no cover - the hold was committed with its marker
        return []
    data = with_held(change(dict(marker.data)), -Decimal(entry["amount"]), entry["hold_id"])
    return [Put(reserved["collection"], marker.key, data, expected_version=marker.version,
                conflict_detail="the credited line changed meanwhile; decide again")]  # fmt: skip


# --- subscription credits (cancellations and quantity reductions, PA-10.4 / SOP-2.4) -------------------------------
def post_or_hold(
    posting: billing.Posting, subscription: dict[str, Any], draft: LineDraft, charge: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A subscription credit for a month already charged (`charge`: the charge entry it references): posted on the
    month's invoice, or held for finance above the limit (SOP-2.5; SOP-8.1: automated workflows "may not ... issue
    credit notes above USD 10,000.00") or, whatever its amount, when its first credited day lies in an approved
    renewal's committed term (PA-10.4: "Subscriptions with a committed term may be cancelled for credit only as
    permitted in the order"; CPA-10.3). A charge (a quantity increase, PA-10.3) is no credit note and always posts.
    Returns (the lines posted, the `held` entries for the subscription record)."""
    period = period_of(draft.service_period.start)
    committed = posting.book.committed_term_credit
    if committed is not None and not subscription_renewals.committed_on(subscription, draft.service_period.start):
        committed = None
    if draft.amount >= 0 or (committed is None and not core.credit_note_needs_approval(draft.amount, posting.book)):
        return billing.post_lines(posting, subscription["partner_id"], period, [draft]), []
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
        held_by=committed,
    )
    posting.changes.merge(approval)
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
        "held_for": entry["held_for"],
    }
    return [], [held]


def held_note(held: list[dict[str, Any]], book: BillingPolicy) -> str | None:
    """What an ERP event's outcome says of the credits it held, citing the tenant's own clauses."""
    committed = book.committed_term_credit
    reasons = (
        (ABOVE_LIMIT, f"above the approval limit ({book.credit_notes.clause})"),
        (
            COMMITTED_TERM,
            f"in a committed term, credited only as the order allows ({committed.clause if committed else ''})",
        ),
    )
    parts = []
    for why, said in reasons:
        named = ", ".join(
            f"{h['amount']} for {h['month']} (approval {h['approval_id']})"
            for h in held
            if h.get("held_for", ABOVE_LIMIT) == why
        )
        if named:
            parts.append(f"credit(s) {said} held for finance: {named}")
    return "; ".join(parts) or None


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
    return billing.subscription_put(sub, stored)


def pending_for_month(rt: Runtime, tenant_id: str, partner_id: str, period: str) -> list[dict[str, Any]]:
    """The partner's subscription credits of `period` still waiting for their approval."""
    listed = billing.partner_subscriptions(rt, tenant_id, partner_id)
    return core.pending_credits([s.data for s in listed if s.data.get("held")], period)


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
