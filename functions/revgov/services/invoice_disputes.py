"""Invoice-line disputes (SOP-6.1 / COP-6.1): a partner disputes a line of its issued invoice within the window.

The dispute is an approval routed by the policy's exception routing (category `invoice_dispute`: queue and SLA),
decided by that queue through /v1/approvals; upheld, the line is credited by a credit note (reason code
`dispute_outcome`, SOP-2.5 / COP-2.4) on the partner's next open invoice, referencing the line; rejected, the
reason is kept. One open dispute per invoice line: a second filing waits for the first decision.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ..domain import billing as core
from ..domain.access import Principal
from ..domain.audit import AuditEntry
from ..domain.billing import BillingPolicy
from ..domain.errors import Conflict, NotFound
from ..domain.money import format_money, parse_money
from ..ports import Changes, DomainEvent, Put, Stored
from ..runtime import Runtime
from . import billing, cases, credit_notes, tenants

DISPUTES = "INVOICEDISPUTE"  # dispute id -> the dispute
DISPUTED_LINES = billing.DISPUTED_LINES
EFFECT = "invoice.dispute"
SOURCE = "revgov.billing"


def _today(rt: Runtime) -> date:
    return date.fromisoformat(rt.clock.now_iso()[:10])


def _line_key(invoice_id: str, number: int) -> str:
    return f"{invoice_id}#{number:05d}"


def _dispute_put(dispute: dict[str, Any], version: int | None) -> Put:
    return Put(
        DISPUTES,
        dispute["dispute_id"],
        dispute,
        must_be_absent=version is None,
        expected_version=version,
        conflict_detail=f"dispute {dispute['dispute_id']} changed meanwhile; read it again",
    )


def _claim(rt: Runtime, tenant_id: str, line_key: str) -> Stored | None:
    """The line's marker (None: never disputed); a Conflict naming the dispute while one is open on it."""
    marker = rt.store.get(tenant_id, DISPUTED_LINES, line_key)
    if marker is None:
        return None
    current = rt.store.get(tenant_id, DISPUTES, marker.data["dispute_id"])
    if current is not None and current.data["status"] == "open":
        raise Conflict(
            f"dispute {marker.data['dispute_id']} on this invoice line is still open; wait for its decision",
            extra={"open_dispute_id": marker.data["dispute_id"]},
        )
    return marker


def file_dispute(rt: Runtime, who: Principal, invoice_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """A partner (or finance for it) disputes one line of an issued invoice within the window."""
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    book = BillingPolicy.from_policy(tenant.policy)
    rule = book.disputes
    invoice, _ = billing.load_invoice(rt, who.tenant_id, invoice_id)
    if not who.sees_partner(invoice["partner_id"]):
        raise NotFound(f"no invoice {invoice_id}")  # another partner's invoice is one that does not exist
    number = int(body["line_no"])
    stored = billing.line_of(rt, who.tenant_id, invoice_id, number)
    if stored is None:
        raise NotFound(f"invoice {invoice_id} has no line {number}")
    line = stored.data
    line_key = _line_key(invoice_id, number)
    marker = _claim(rt, who.tenant_id, line_key)
    credited = Decimal(marker.data["credited"]) if marker else Decimal(0)
    # what the ERP's credit notes and returns gave back of the line counts too: a line is never credited twice
    already = billing.credited_against(rt, who.tenant_id, invoice_id, number).amount
    amount = parse_money(body["amount"]) if body.get("amount") is not None else core.disputable_amount(line, already)
    core.check_dispute(invoice, line, amount, already, today=_today(rt), book=book)
    now = rt.clock.now_iso()
    dispute: dict[str, Any] = {
        "dispute_id": rt.ids.new("ivd"),
        "invoice_id": invoice_id,
        "partner_id": invoice["partner_id"],
        "period": invoice["period"],
        "line_no": number,
        "line_id": line["line_id"],
        "line_amount": line["amount"],
        "amount": format_money(amount),
        "reason": body["reason"],
        "status": "open",
        "filed_at": now,
        "filed_by": who.actor,
        "window_closes_on": core.dispute_window_closes(invoice, book.dispute_window_days).isoformat(),
        "rule_id": rule.rule_id,
        "clause": rule.clause,
        "resolution": None,
    }
    case, changes = cases.open_case(
        rt,
        tenant.policy,
        kind="approval",
        category=book.dispute_category,
        subject_kind="invoice_dispute",
        subject_id=dispute["dispute_id"],
        requested_by=who,
        reasons=[
            {
                **rule.as_dict(),
                "message": f"{invoice['partner_id']} disputes {dispute['amount']} of line {number} "
                f"of invoice {invoice_id}",
            }
        ],
        partner_id=invoice["partner_id"],
        effect=EFFECT,
        context={"invoice_id": invoice_id, "line_no": number, "amount": dispute["amount"]},
        policy_version=tenant.policy_version,
    )
    dispute.update(approval_id=case["case_id"], queue=case["queue"], due_at=case["due_at"])
    changes.puts += [
        _dispute_put(dispute, None),
        Put(
            DISPUTED_LINES,
            line_key,
            {
                "dispute_id": dispute["dispute_id"],
                "invoice_id": invoice_id,
                "line_no": number,
                "credited": format_money(credited),
            },
            must_be_absent=marker is None,
            expected_version=marker.version if marker else None,
            conflict_detail="a dispute was filed on this invoice line meanwhile",
        ),
    ]
    changes.audit.insert(
        0,
        AuditEntry(
            actor=who.actor,
            actor_role=who.role.value,
            action="invoice_dispute.filed",
            subject=dispute["dispute_id"],
            outcome="open",
            inputs={k: dispute[k] for k in ("invoice_id", "partner_id", "line_no", "line_id", "amount", "reason")},
            policy_version=tenant.policy_version,
            rule_ids=(rule.rule_id,),
            clauses=(rule.clause,),
        ),
    )
    changes.events.append(DomainEvent(SOURCE, "invoice_dispute.filed", _event(dispute)))
    try:
        rt.commit(who.tenant_id, changes)
    except Conflict:
        _claim(rt, who.tenant_id, line_key)  # names the dispute that won the race
        raise
    return dispute


def _event(dispute: dict[str, Any]) -> dict[str, Any]:
    return {k: dispute[k] for k in ("dispute_id", "invoice_id", "partner_id", "line_no", "amount", "status")}


def get_dispute(rt: Runtime, who: Principal, dispute_id: str) -> dict[str, Any]:
    stored = rt.store.get(who.tenant_id, DISPUTES, dispute_id)
    if stored is None or not who.sees_partner(stored.data["partner_id"]):
        raise NotFound(f"no invoice dispute {dispute_id}")
    return stored.data


def apply_decision(rt: Runtime, case: dict[str, Any], who: Principal) -> Changes:
    """The dispute's approval was decided by its queue: approved, the dispute is upheld and the disputed amount is
    credited by a credit note referencing the line (SOP-6.1 step 4, SOP-2.5); rejected, the reason is kept.
    Effect of `invoice.dispute` (runtime.Registry.effects)."""
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    book = BillingPolicy.from_policy(tenant.policy)
    stored = rt.store.get(who.tenant_id, DISPUTES, case["subject"]["id"])
    if stored is None:
        raise NotFound(f"no invoice dispute {case['subject']['id']}")
    dispute = stored.data
    upheld = case["status"] == "approved"
    decision = case["decision"]
    resolution: dict[str, Any] = {
        "outcome": "upheld" if upheld else "rejected",
        "reason": decision.get("note"),
        "by": who.actor,
        "at": decision["at"],
        "approval_id": case["case_id"],
        "credit_note_line_id": None,
    }
    changes = Changes()
    rules = (book.disputes, book.credit_notes)
    if upheld:
        line = billing.line_of(rt, who.tenant_id, dispute["invoice_id"], int(dispute["line_no"]))
        if line is None:  # pragma: no cover - issued lines are never deleted
            raise NotFound(f"invoice {dispute['invoice_id']} has no line {dispute['line_no']}")
        line_key = _line_key(dispute["invoice_id"], int(dispute["line_no"]))
        if core.credit_note_needs_approval(Decimal(dispute["amount"]), book):
            # SOP-2.5 / COP-2.4: above the limit, the credit note waits for a second finance member's approval;
            # whoever upheld the dispute prepared it and may not approve it
            entry, changes = credit_notes.hold(
                rt,
                tenant,
                book,
                partner_id=dispute["partner_id"],
                line=line.data,
                amount=Decimal(dispute["amount"]),
                reason="dispute_outcome",
                units=0,
                returned_on=None,
                detail={"dispute_id": dispute["dispute_id"]},
                preparer=who,
                prepared_by=None,
                source={"detail_type": "invoice_dispute", "dispute_id": dispute["dispute_id"]},
                reserved={"collection": DISPUTED_LINES, "key": line_key},
                requested_by=(dispute["filed_by"],),
            )
            resolution["credit_note_hold_id"] = entry["hold_id"]
            resolution["credit_note_approval_id"] = entry["approval_id"]
        else:
            draft = core.credit_note_draft(
                line.data,
                Decimal(dispute["amount"]),
                reason="dispute_outcome",
                rules=rules,
                detail={"dispute_id": dispute["dispute_id"]},
            )
            changes = billing.post_correction(
                rt, tenant, dispute["partner_id"], [draft], source_id=dispute["dispute_id"],
                detail_type="invoice_dispute",
            )  # fmt: skip
            posted = [p for p in changes.puts if p.collection == billing.LINES]
            resolution["credit_note_line_id"] = posted[0].data["line_id"]
        marker = rt.store.get(who.tenant_id, DISPUTED_LINES, line_key)
        if marker is not None:
            credited = Decimal(marker.data["credited"]) + Decimal(dispute["amount"])
            changes.puts.append(
                Put(
                    DISPUTED_LINES,
                    marker.key,
                    {**marker.data, "credited": format_money(credited)},
                    expected_version=marker.version,
                )
            )
    resolved = {**dispute, "status": resolution["outcome"], "resolution": resolution}
    changes.puts.append(_dispute_put(resolved, stored.version))
    changes.audit.append(
        AuditEntry(
            actor=who.actor,
            actor_role=who.role.value,
            action=f"invoice_dispute.{resolution['outcome']}",
            subject=dispute["dispute_id"],
            outcome=resolution["outcome"],
            inputs={
                "invoice_id": dispute["invoice_id"],
                "line_id": dispute["line_id"],
                "disputed": dispute["amount"],
                "credited": dispute["amount"] if upheld else "0.00",
                "credit_note_line_id": resolution["credit_note_line_id"],
                "credit_note_approval_id": resolution.get("credit_note_approval_id"),
                "reason": resolution["reason"],
                "approval_id": case["case_id"],
            },
            policy_version=tenant.policy_version,
            rule_ids=tuple(r.rule_id for r in rules),
            clauses=tuple(r.clause for r in rules),
        )
    )
    changes.events.append(DomainEvent(SOURCE, "invoice_dispute.resolved", _event(resolved)))
    return changes
