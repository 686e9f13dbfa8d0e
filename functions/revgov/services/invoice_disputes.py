"""Invoice-line disputes (SOP-6.1 / COP-6.1): a partner disputes a line of its issued invoice within the window.

The dispute is an approval routed by the policy's exception routing (category `invoice_dispute`: queue and SLA),
decided by that queue through /v1/approvals; upheld, the line is credited by a credit note (reason code
`dispute_outcome`, SOP-2.5 / COP-2.4) on the partner's next open invoice, referencing the line; rejected, the
reason is kept. One open dispute per invoice line: a second filing waits for the first decision (and for its
appeal, services/invoice_dispute_appeals.py). The dispute carries its `acknowledge_by` / `decide_by` days in business
days of the partner's calendar (SOP-6.1 / COP-6.1: 1 and 10, `domain.invoice_dispute_deadlines`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..domain import billing as core
from ..domain import sla_pause
from ..domain.access import Principal, Role
from ..domain.billing import BillingPolicy
from ..domain.calendar import BusinessCalendar
from ..domain.credit_reservations import counted, with_held
from ..domain.errors import Conflict, Forbidden, NotFound, RuleViolation
from ..domain.invoice_dispute_deadlines import deadlines
from ..domain.money import format_money, parse_money
from ..domain.tenants import Tenant
from ..domain.time import instant, iso, parse_day
from ..ports import Changes, DomainEvent, Put, Stored
from ..runtime import Runtime
from . import approval_requests, billing, case_repository, cases, credit_notes, partner_repository, tenants
from .billing.repository import line_credits_put
from .toolkit import put_over

DISPUTES = "INVOICEDISPUTE"  # dispute id -> the dispute
DISPUTED_LINES = billing.DISPUTED_LINES
EFFECT = "invoice.dispute"
SOURCE = "revgov.billing"


def _line_key(invoice_id: str, number: int) -> str:
    return f"{invoice_id}#{number:05d}"


def dispute_put(dispute: dict[str, Any], version: int | None) -> Put:
    detail = f"dispute {dispute['dispute_id']} changed meanwhile; read it again"
    return put_over(DISPUTES, dispute["dispute_id"], dispute, version, conflict_detail=detail)


def _claim(rt: Runtime, tenant_id: str, line_key: str) -> Stored | None:
    """The line's marker (None: never disputed); a Conflict naming the dispute while one is open on it."""
    still_open = "dispute {id} on this invoice line is still open; wait for its decision"
    marker = approval_requests.claim(rt, tenant_id, DISPUTED_LINES, DISPUTES, line_key, still_open=still_open)
    last = rt.store.get(tenant_id, DISPUTES, marker.data["dispute_id"]) if marker else None
    if last is not None and last.data["status"] == "appealed":  # its appeal may still credit the line (SOP-6.3)
        raise Conflict(f"dispute {last.key} on this invoice line is under appeal; wait for the appeal's decision",
                       extra={"open_dispute_id": last.key})  # fmt: skip
    return marker


def file_dispute(rt: Runtime, who: Principal, invoice_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """A partner (or finance for it) disputes one line of an issued invoice within the window."""
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    book = BillingPolicy.from_policy(tenant.policy)
    invoice, _ = billing.load_invoice(rt, who.tenant_id, invoice_id)
    if not billing.sees_invoice(who, invoice):
        raise NotFound(f"no invoice {invoice_id}")  # another partner's invoice is one that does not exist
    number = int(body["line_no"])
    stored = billing.line_of(rt, who.tenant_id, invoice_id, number)
    if stored is None:
        raise NotFound(f"invoice {invoice_id} has no line {number}")
    line = stored.data
    line_key = _line_key(invoice_id, number)
    marker = _claim(rt, who.tenant_id, line_key)
    # what the ERP's credit notes and returns gave back of the line counts too: a line is never credited twice
    already = billing.credited_against(rt, who.tenant_id, invoice_id, number).amount
    amount = parse_money(body["amount"]) if body.get("amount") is not None else core.disputable_amount(line, already)
    core.check_dispute(invoice, line, amount, already, today=parse_day(rt.clock.now_iso()[:10]), book=book)
    claim = {"amount": format_money(amount), "reason": body["reason"]}
    dispute = _new_dispute(rt, who, tenant, book, invoice, line, claim)
    inputs = {k: dispute[k] for k in ("invoice_id", "partner_id", "line_no", "line_id", "amount", "reason")}
    changes = approval_requests.open_request(rt, tenant, who, dispute, _ask(dispute, book),
                                             action="invoice_dispute.filed", inputs=inputs)  # fmt: skip
    claimed = {
        "dispute_id": dispute["dispute_id"],
        "invoice_id": invoice_id,
        "line_no": number,
        "credited": format_money(Decimal(marker.data["credited"]) if marker else Decimal(0)),
    }
    changes.puts += [
        dispute_put(dispute, None),
        put_over(DISPUTED_LINES, line_key, claimed, marker,
                 conflict_detail="a dispute was filed on this invoice line meanwhile"),
    ]
    changes.events.append(DomainEvent(SOURCE, "invoice_dispute.filed", _event(dispute)))
    approval_requests.commit_filed(rt, who.tenant_id, changes, lambda: _claim(rt, who.tenant_id, line_key))
    return dispute


def _new_dispute(rt: Runtime, who: Principal, tenant: Tenant, book: BillingPolicy, invoice: dict[str, Any],
                 line: dict[str, Any], claim: dict[str, str]) -> dict[str, Any]:  # fmt: skip
    """The open dispute of `claim` (amount, reason) against one line of the invoice, with its days (SOP-6.1)."""
    filed_at = rt.clock.now_iso()
    return {
        "dispute_id": rt.ids.new("ivd"),
        "invoice_id": invoice["invoice_id"],
        "partner_id": invoice["partner_id"],
        "period": invoice["period"],
        "line_no": int(line["number"]),
        "line_id": line["line_id"],
        "line_amount": line["amount"],
        **claim,
        "status": "open",
        "filed_at": filed_at,
        "filed_by": who.actor,
        "window_closes_on": core.dispute_window_closes(invoice, book.dispute_window_days).isoformat(),
        **deadlines(rules(tenant), partner_calendar(rt, tenant, invoice["partner_id"]), instant(filed_at)),
        **book.disputes.as_dict(),
        "resolution": None,
    }


def acknowledge_dispute(rt: Runtime, who: Principal, dispute_id: str) -> dict[str, Any]:
    """Finance acknowledges an open dispute, once (SOP-6.1 / COP-6.1: "acknowledged within 1 business day"): the time
    is kept with `late` (after `acknowledge_by`, as moved by any wait on the partner), audited and published."""
    if who.role is not Role.FINANCE:
        raise Forbidden("finance acknowledges an invoice dispute (SOP-6.1 / COP-6.1)")
    stored = rt.store.get(who.tenant_id, DISPUTES, dispute_id)
    if stored is None:
        raise NotFound(f"no invoice dispute {dispute_id}")
    dispute = stored.data
    if dispute["status"] != "open" or dispute.get("acknowledged"):
        state = "acknowledged" if dispute["status"] == "open" else dispute["status"]
        raise Conflict(f"invoice dispute {dispute_id} is already {state}",
                       extra={"current_status": dispute["status"], "acknowledged": dispute.get("acknowledged")})
    now = rt.clock.now_iso()
    due = get_dispute(rt, who, dispute_id).get("acknowledge_by")
    acknowledged = {"by": who.actor, "at": now, "late": bool(due) and instant(now) > instant(str(due))}
    updated = {**dispute, "acknowledged": acknowledged}
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    book = BillingPolicy.from_policy(tenant.policy)
    inputs = {"acknowledged_at": now, "acknowledge_by": due, "late": acknowledged["late"]}
    entry = approval_requests.cited(who, "invoice_dispute.acknowledged", dispute_id, "open", inputs=inputs,
                                    tenant=tenant, rules=[book.disputes], partner_id=dispute["partner_id"])  # fmt: skip
    event = DomainEvent(SOURCE, "invoice_dispute.acknowledged", {**_event(updated), "late": acknowledged["late"]})
    rt.commit(who.tenant_id, Changes(puts=[dispute_put(updated, stored.version)], audit=[entry], events=[event]))
    return get_dispute(rt, who, dispute_id)


def rules(tenant: Tenant) -> dict[str, Any]:
    """The policy's `billing.invoice_disputes` (its days and its appeal); empty when the policy has none."""
    found: dict[str, Any] = (tenant.policy.get("billing") or {}).get("invoice_disputes") or {}
    return found


def partner_calendar(rt: Runtime, tenant: Tenant, partner_id: str) -> BusinessCalendar:
    """Business days of the partner's calendar (CPA-1.3: its country's holidays; PA-1.3: the program's)."""
    partner = partner_repository.record(rt.store, tenant.tenant_id, partner_id) or {}
    return BusinessCalendar.from_policy(tenant.policy, partner.get("country"))


def _ask(dispute: dict[str, Any], book: BillingPolicy) -> approval_requests.Ask:
    """The queue's decision on a filed dispute, as the policy's exception routing names it (SOP-6.1)."""
    number, invoice_id = dispute["line_no"], dispute["invoice_id"]
    message = f"{dispute['partner_id']} disputes {dispute['amount']} of line {number} of invoice {invoice_id}"
    context = {"invoice_id": invoice_id, "line_no": number, "amount": dispute["amount"]}
    return approval_requests.Ask(book.dispute_category, "invoice_dispute", dispute["dispute_id"], book.disputes,
                                 message, dispute["partner_id"], EFFECT, context)  # fmt: skip


def _event(dispute: dict[str, Any]) -> dict[str, Any]:
    return {k: dispute[k] for k in ("dispute_id", "invoice_id", "partner_id", "line_no", "amount", "status")}


def get_dispute(rt: Runtime, who: Principal, dispute_id: str) -> dict[str, Any]:
    """The dispute as the caller may read it, on its approval's SLA clock: while finance waits on the partner, the
    question (`waiting_on_partner`); its due time and business-day days moved by each wait (SOP-1.3 / COP-1.3)."""
    dispute = approval_requests.visible_request(rt, who, DISPUTES, dispute_id, "invoice dispute")
    case = cases.find(rt, who.tenant_id, dispute["approval_id"]) if dispute.get("approval_id") else None
    if case is None:
        return dispute
    waiting, pauses = case.data.get("waiting"), case.data.get("pauses") or []
    shown = {**dispute, "due_at": case.data["due_at"],
             "waiting_on_partner": {"since": waiting["since"], "question": waiting["question"]} if waiting else None}
    if pauses and (dispute.get("acknowledge_by") or dispute.get("decide_by")):
        tenant, _ = tenants.load_tenant(rt, who.tenant_id)
        shown.update(sla_pause.moved_days(dispute, ("acknowledge_by", "decide_by"), pauses,
                                          partner_calendar(rt, tenant, dispute["partner_id"])))  # fmt: skip
    return shown


def late_decisions(rt: Runtime, tenant: Tenant, now: datetime) -> list[dict[str, Any]]:
    """Open disputes still undecided after their `decide_by` (SOP-6.1 / COP-6.1 "decides within 10 business days"),
    moved by every wait on the partner (SOP-1.3 / COP-1.3; a wait under way counts up to `now`): each {dispute,
    approval (its case), decide_by}. Read from the undecided approvals of the dispute category, not every dispute."""
    late = []
    for dispute, case in _undecided(rt, tenant):
        if not dispute.get("decide_by"):
            continue
        decide_by = _decide_by(rt, tenant, dispute, case, now)
        if now > instant(decide_by):
            late.append({"dispute": dispute, "approval": case, "decide_by": decide_by})
    return late


def open_on(rt: Runtime, tenant: Tenant, months: Collection[str]) -> list[dict[str, Any]]:
    """The disputes still open (undecided, or waiting on the partner) on invoices of `months`, by month, partner,
    invoice and line: what a rebate run is told of (services.rebates.settlement, PA-1.2 / CPA-1.2)."""
    found = [dispute for dispute, _ in _undecided(rt, tenant) if dispute["period"] in months]
    return sorted(found, key=lambda d: (d["period"], d["partner_id"], d["invoice_id"], d["line_no"]))


def _undecided(rt: Runtime, tenant: Tenant) -> Iterator[tuple[dict[str, Any], Mapping[str, Any]]]:
    """Each open dispute with its undecided approval, read from the approvals of the dispute category."""
    book = BillingPolicy.from_policy(tenant.policy)
    for status in (sla_pause.OPEN["approval"], sla_pause.WAITING):
        for case in case_repository.by_status(rt.store, tenant.tenant_id, "approval", status):
            subject = case["subject"]
            if case["category"] != book.dispute_category or subject["kind"] != "invoice_dispute":
                continue
            stored = rt.store.get(tenant.tenant_id, DISPUTES, subject["id"])
            if stored is not None and stored.data["status"] == "open":
                yield stored.data, case


def _decide_by(rt: Runtime, tenant: Tenant, dispute: dict[str, Any], case: Mapping[str, Any], now: datetime) -> str:
    """The dispute's `decide_by` moved by each wait on the partner, the one under way counted up to `now`."""
    waiting = case.get("waiting")
    ongoing = [{"since": waiting["since"], "until": iso(now)}] if waiting else []
    pauses = [*(case.get("pauses") or []), *ongoing]
    calendar = partner_calendar(rt, tenant, dispute["partner_id"])
    return str(sla_pause.moved_days(dispute, ("decide_by",), pauses, calendar)["decide_by"])


def apply_decision(rt: Runtime, case: dict[str, Any], who: Principal) -> Changes:
    """The dispute's approval was decided by its queue: approved, the dispute is upheld and what is left of the
    disputed amount is credited by a credit note referencing the line (SOP-6.1 step 4, SOP-2.5); rejected, the
    reason is kept. A decision without a reason decides nothing (SOP-6.3 "Every decision states the reason").
    Effect of `invoice.dispute` (runtime.Registry.effects)."""
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    book = BillingPolicy.from_policy(tenant.policy)
    stored = approval_requests.decided_request(rt, who.tenant_id, DISPUTES, case, "invoice dispute")
    dispute = stored.data
    upheld = case["status"] == "approved"
    decision = case["decision"]
    resolution: dict[str, Any] = {
        "outcome": "upheld" if upheld else "rejected",
        "reason": _stated_reason(decision, book),
        "by": who.actor,
        "at": decision["at"],
        "approval_id": case["case_id"],
        "credit_note_line_id": None,
        "credited": "0.00",
    }
    changes = credit_upheld(rt, tenant, book, dispute, resolution, who) if upheld else Changes()
    resolved = {**dispute, "status": resolution["outcome"], "resolution": resolution}
    changes.puts.append(dispute_put(resolved, stored.version))
    inputs = {
        "invoice_id": dispute["invoice_id"],
        "line_id": dispute["line_id"],
        "disputed": dispute["amount"],
        "credited": resolution["credited"],
        "credit_note_line_id": resolution["credit_note_line_id"],
        "credit_note_approval_id": resolution.get("credit_note_approval_id"),
        "reason": resolution["reason"],
        "approval_id": case["case_id"],
    }
    outcome, rules = resolution["outcome"], (book.disputes, book.credit_notes)
    changes.audit.append(approval_requests.cited(who, f"invoice_dispute.{outcome}", dispute["dispute_id"], outcome,
                                                 inputs=inputs, tenant=tenant, rules=rules,
                                                 partner_id=dispute["partner_id"]))  # fmt: skip
    changes.events.append(DomainEvent(SOURCE, "invoice_dispute.resolved", _event(resolved)))
    return changes


def _stated_reason(decision: dict[str, Any], book: BillingPolicy) -> str:
    """The decision's note, its reason: SOP-6.3 "Every decision states the reason", and the approvals queue asks a
    note of a rejection only, so an approval without one is a RuleViolation (422) and decides nothing."""
    note = decision.get("note")
    if not (isinstance(note, str) and note.strip()):
        cite = f"{book.disputes.rule_id}, {book.disputes.clause}; SOP-6.3"
        raise RuleViolation(f"a decision on an invoice dispute states its reason: send a `note` ({cite})")
    return note


def credit_upheld(
    rt: Runtime,
    tenant: Tenant,
    book: BillingPolicy,
    dispute: dict[str, Any],
    resolution: dict[str, Any],
    who: Principal,
    requested_by: tuple[str, ...] = (),
) -> Changes:
    """An upheld dispute's credit note for what is left of the line now (what the ERP's credit notes and returns
    credited while the dispute was open is re-read: a line is never credited beyond what it charged, SOP-2.5), posted
    on the partner's next open invoice, or above the limit (SOP-2.5 / COP-2.4) held for a second finance member, since
    whoever upheld the dispute prepared it and may not approve it; nothing left, no credit note. The line's marker
    counts the amount either way, so the line is never credited twice. `resolution` learns which and how much.
    `requested_by`: who else may not approve the held credit note (an appeal's filer and deciders)."""
    line = billing.line_of(rt, who.tenant_id, dispute["invoice_id"], int(dispute["line_no"]))
    if line is None:  # pragma: no cover - issued lines are never deleted
        raise NotFound(f"invoice {dispute['invoice_id']} has no line {dispute['line_no']}")
    line_key = _line_key(dispute["invoice_id"], int(dispute["line_no"]))
    amount, guard, marker = _left_to_credit(rt, who.tenant_id, dispute, line.data, line_key)
    resolution["credited"] = format_money(amount)
    if amount <= 0:
        return Changes()
    held_id: str | None = None
    if core.credit_note_needs_approval(amount, book):
        entry, changes = credit_notes.hold(
            rt, tenant, book, partner_id=dispute["partner_id"], line=line.data, amount=amount,
            reason="dispute_outcome", units=0, returned_on=None, detail={"dispute_id": dispute["dispute_id"]},
            preparer=who, prepared_by=None,
            source={"detail_type": "invoice_dispute", "dispute_id": dispute["dispute_id"]},
            reserved={"collection": DISPUTED_LINES, "key": line_key}, requested_by=(dispute["filed_by"], *requested_by),
            requested_at=dispute["filed_at"],
        )  # fmt: skip
        resolution["credit_note_hold_id"] = held_id = entry["hold_id"]
        resolution["credit_note_approval_id"] = entry["approval_id"]
    else:
        draft = core.credit_note_draft(line.data, amount, reason="dispute_outcome",
                                       rules=(book.disputes, book.credit_notes),
                                       detail={"dispute_id": dispute["dispute_id"]})  # fmt: skip
        changes = billing.post_correction(rt, tenant, dispute["partner_id"], [draft],
                                          source_id=dispute["dispute_id"], detail_type="invoice_dispute")  # fmt: skip
        posted = [p for p in changes.puts if p.collection == billing.LINES]
        resolution["credit_note_line_id"] = posted[0].data["line_id"]
    changes.puts.append(guard)
    if marker is not None:
        marked = counted(marker.data, amount)
        if held_id is not None:  # reserved, not issued: the line still stands charged until it is approved
            marked = with_held(marked, amount, held_id)
        changes.puts.append(Put(DISPUTED_LINES, marker.key, marked, expected_version=marker.version))
    return changes


def _left_to_credit(
    rt: Runtime, tenant_id: str, dispute: dict[str, Any], line: dict[str, Any], line_key: str
) -> tuple[Decimal, Put, Stored | None]:
    """What the upheld dispute credits: its amount, but no more than what is left of the line once what the ERP's
    credit notes and returns and earlier upheld disputes credited (read now, not when it was filed) is taken off. With
    it, the ERP's line record written back over what was read, so an ERP credit committed meanwhile is a Conflict
    rather than a second credit of the same amount; and the line's dispute marker as read."""
    erp_at, marker_at = (tenant_id, billing.LINE_CREDITS, line_key), (tenant_id, DISPUTED_LINES, line_key)
    found = rt.store.get_many([erp_at, marker_at])
    erp_credits, marker = found.get(erp_at), found.get(marker_at)
    already = core.credited_of(erp_credits.data if erp_credits else None, marker.data if marker else None).amount
    amount = max(min(Decimal(dispute["amount"]), core.disputable_amount(line, already)), Decimal(0))
    record = erp_credits.data if erp_credits else core.new_line_credits(dispute["invoice_id"], int(dispute["line_no"]))
    return amount, line_credits_put(line_key, record, erp_credits, line["line_id"]), marker
