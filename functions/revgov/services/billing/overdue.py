"""Overdue invoices (PA-10.8 / CPA-10.7): a partner's overdue statement and the daily credit-hold sweep.

- `overdue_statement`: as of a day, the partner's issued invoices that were overdue by then, each with its days
  overdue, the late-payment interest accrued to that day (or to its payment) and the fixed compensation, and whether
  new orders are on credit hold. A partner key reads its own only. Interest and compensation are stated, never
  charged here: a charge is Finance's decision.
- `sweep_credit_holds` (scheduled daily, `credit_hold_sweep`): a partner with an invoice more than the policy's
  `credit_hold_days` overdue is placed on credit hold; paid (nothing overdue beyond the limit any more), the hold is
  lifted. Each change is one commit: the partner's CREDITHOLD record, an audit entry citing the rule and clause, and a
  `partner.credit_hold_placed` / `partner.credit_hold_lifted` event (source revgov.billing) that outbound webhooks
  carry to n8n and the ERP, which holds the partner's new orders. Idempotent: a run that finds nothing changed
  writes nothing; a record that moved meanwhile (a race) is left for the next run.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from ...domain.access import Principal, Role
from ...domain.audit import AuditEntry
from ...domain.billing import billed_to_customer
from ...domain.billing import overdue as core
from ...domain.billing import tax as tax_rules
from ...domain.errors import Conflict, FieldError, MalformedRequest, NotFound, RuleViolation
from ...domain.money import format_money
from ...domain.tenants import Tenant
from ...ports import Changes, DomainEvent, Stored
from ...runtime import Runtime
from .. import invoice_disputes, partner_repository, tenants
from ..toolkit import pages, put_over
from .repository import (
    DISPUTED_LINES,
    INVOICE_KEYS,
    INVOICES,
    issued_invoices,
    line_of,
    partner_issued_invoices,
)

CREDIT_HOLDS = "CREDITHOLD"  # partner id -> {partner_id, status: placed | lifted, hold, placed_at, lifted_at}
CHARGED = "LATEPAYINVOICE"  # invoice id -> what late-payment charges issued on it (overdue_charges writes it)
ACTOR = "system:credit_holds"
SOURCE = "revgov.billing"


def late_payment_of(tenant: Tenant) -> core.LatePayment:
    late = core.LatePayment.of(tenant.policy)
    if late is None:
        raise RuleViolation("the tenant's policy states no late-payment rule (billing.late_payment)")
    return late


def as_of_day(rt: Runtime, text: str | None, pointer: str = "/query/as_of") -> date:
    """The day asked about (its field at `pointer`): today (UTC) by default; a real calendar day, never after today."""
    today = date.fromisoformat(rt.clock.now_iso()[:10])
    if text is None:
        return today
    name = pointer.rsplit("/", 1)[-1]
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise MalformedRequest(
            f"{name} {text!r} is not a calendar day", errors=[FieldError(pointer, "a day, YYYY-MM-DD")]
        ) from None
    if day > today:
        raise MalformedRequest(
            f"{name} {text} is after today ({today.isoformat()}): interest is stated for days that have passed",
            errors=[FieldError(pointer, f"on or before {today.isoformat()}")],
        )
    return day


def _partner(rt: Runtime, who: Principal, partner_id: str | None) -> dict[str, Any]:
    """The partner asked about: a partner key's own (another partner's is one that does not exist)."""
    wanted = partner_id or (who.partner_id if who.role is Role.PARTNER else None)
    if wanted is None:
        raise MalformedRequest("name the partner: ?partner_id=", errors=[FieldError("/query/partner_id", "required")])
    record = partner_repository.record(rt.store, who.tenant_id, wanted) if who.sees_partner(wanted) else None
    if record is None:
        raise NotFound(f"no partner {wanted}")
    return record


def disputed_spans(
    rt: Runtime, tenant_id: str, invoice_id: str, invoice: Mapping[str, Any] | None = None
) -> list[core.DisputedSpan]:
    """What of the invoice was under dispute and when (SOP-6.1 / COP-6.1: no interest on it while open): a rejected
    dispute from its filing to its decision, an open or upheld one from its filing on (upheld, it was not owed).
    Given the `invoice` (its header), each span is its share of the amount due: a disputed line's VAT with it where
    the invoice is owed gross (COP-6.1 "the undisputed part of the invoice remains payable"); without it, the net."""
    markers = [item.data for item in pages(rt.store, tenant_id, DISPUTED_LINES, prefix=f"{invoice_id}#")]
    refs = [(tenant_id, invoice_disputes.DISPUTES, m["dispute_id"]) for m in markers if m.get("dispute_id")]
    disputes = [stored.data for stored in rt.store.get_many(refs).values()]
    due = core.amount_due(invoice) if invoice is not None and disputes else None
    rates = _vat_rates(rt, tenant_id, invoice, {int(d["line_no"]) for d in disputes}) if due else {}
    spans = []
    for dispute in disputes:
        decided = (dispute.get("resolution") or {}).get("at") if dispute["status"] == "rejected" else None
        amount = Decimal(dispute["amount"])
        spans.append(
            core.DisputedSpan(
                core.disputed_share(amount, rates.get(int(dispute["line_no"])), due) if due else amount,
                date.fromisoformat(dispute["filed_at"][:10]),
                date.fromisoformat(decided[:10]) if decided else None,
            )
        )
    return spans


def _vat_rates(
    rt: Runtime, tenant_id: str, invoice: Mapping[str, Any] | None, numbers: set[int]
) -> dict[int, str | None]:
    """The VAT rate (percent) each of the invoice's lines `numbers` charges under its treatment fixed at issue (None:
    reverse charge or no amount); empty where the invoice is not owed gross."""
    if invoice is None or core.amount_due(invoice).basis != core.GROSS:
        return {}
    tax = tax_rules.TaxPolicy.of(tenants.load_tenant(rt, tenant_id)[0].policy)
    if tax is None:
        return {}
    rates: dict[int, str | None] = {}
    for number in sorted(numbers):
        line = line_of(rt, tenant_id, invoice["invoice_id"], number)
        rates[number] = tax_rules.line_tax(tax, invoice["tax"], line.data)["rate"] if line else None
    return rates


def _row(
    rt: Runtime, tenant_id: str, late: core.LatePayment, invoice: Mapping[str, Any], terms: int, on: date
) -> dict[str, Any]:
    accrual = core.accrue(late, invoice, terms, on, disputed_spans(rt, tenant_id, invoice["invoice_id"], invoice))
    return {
        "invoice_id": invoice["invoice_id"],
        "period": invoice["period"],
        "total": invoice["total"],
        "issued_on": invoice["finalized_at"][:10],
        "due_on": accrual.due_on.isoformat(),
        "paid_on": invoice.get("paid_on"),
        "days_overdue": core.days_overdue(invoice, terms, on),
        "late_payment": accrual.as_dict(),
        "charged": _charged(rt, tenant_id, invoice["invoice_id"]),
    }


def _charged(rt: Runtime, tenant_id: str, invoice_id: str) -> dict[str, Any]:
    """What Finance issued on the invoice so far (interest, compensation), and the charge waiting for approval."""
    stored = rt.store.get(tenant_id, CHARGED, invoice_id)
    record = stored.data if stored else {}
    return {
        "interest": record.get("interest", "0.00"),
        "compensation_charged": bool(record.get("compensation_charged")),
        "charge_ids": list(record.get("charge_ids", [])),
        "open_charge_id": record.get("open_charge_id"),
    }


def _was_overdue(invoice: Mapping[str, Any], terms: int, on: date) -> bool:
    """Issued by `on` and, by then, past its due day without having been paid by the due day."""
    issued, due, paid = core.issued_on(invoice), core.due_on(invoice, terms), core.paid_on(invoice)
    return issued is not None and due is not None and issued <= on and due < on and (paid is None or paid > due)


def overdue_statement(rt: Runtime, who: Principal, *, partner_id: str | None, as_of: str | None) -> dict[str, Any]:
    """`GET /v1/billing/overdue`: the partner's invoices overdue by `as_of`, their interest and compensation, and its
    credit hold, each citing the rule and clause."""
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    late, on = late_payment_of(tenant), as_of_day(rt, as_of)
    partner = _partner(rt, who, partner_id)
    pid = partner["partner_id"]
    terms = core.terms_of(partner, late.standard_terms_days)
    mine = sorted(partner_issued_invoices(rt, who.tenant_id, pid), key=lambda i: i["invoice_id"])
    rows = [_row(rt, who.tenant_id, late, i, terms, on) for i in mine if _was_overdue(i, terms, on)]
    beyond = owing_beyond(rt, who.tenant_id, mine, {pid: terms}, late.standard_terms_days, on, late.credit_hold_days)
    stated = [r["late_payment"]["interest"] for r in rows]
    interest = None if None in stated else format_money(sum((Decimal(s) for s in stated), Decimal(0)))
    return {
        "partner_id": pid,
        "as_of": on.isoformat(),
        "currency": tenant.currency,
        "rule_id": late.rule.rule_id,
        "clause": late.rule.clause,
        "payment_terms_days": terms,
        "credit_hold": core.credit_hold(late, beyond.get(pid, []), on),
        "invoices": rows,
        "totals": {
            "interest": interest,
            "compensation": format_money(late.fixed_compensation * len(rows)),
        },
    }


def overdue_invoices(
    rt: Runtime, who: Principal, *, partner_id: str | None, as_of: str | None, limit: int, cursor: str | None
) -> dict[str, Any]:
    """`GET /v1/billing/overdue/invoices`: one page of the tenant's issued invoices, those overdue by `as_of` each with
    its partner and the row `overdue_statement` gives it (finance's tenant-wide list). With a partner (always, for a
    partner key: its own, another's a 404) only that partner's, read through its own invoice pointers. A page holds
    the overdue invoices among one store page of issued ones: it may hold fewer than `limit`; follow `next_cursor`."""
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    late, on = late_payment_of(tenant), as_of_day(rt, as_of)
    if partner_id is not None or who.role is Role.PARTNER:
        pid = _partner(rt, who, partner_id)["partner_id"]
        page = rt.store.query(who.tenant_id, INVOICE_KEYS, limit=limit, cursor=cursor, prefix=f"{pid}#")
    else:
        page = rt.store.lookup(who.tenant_id, f"{INVOICES}#finalized", limit=limit, cursor=cursor)
    refs = [(who.tenant_id, INVOICES, item.data["invoice_id"]) for item in page.items]
    found = rt.store.get_many(refs) if refs else {}
    issued = [found[ref].data for ref in refs if ref in found and found[ref].data["status"] == "finalized"]
    issued = [invoice for invoice in issued if not billed_to_customer(invoice)]
    partners = partner_repository.get_many(rt.store, who.tenant_id, sorted({i["partner_id"] for i in issued}))
    items = []
    for invoice in issued:
        terms = core.terms_of(partners.get(invoice["partner_id"], {}), late.standard_terms_days)
        if _was_overdue(invoice, terms, on):
            row = _row(rt, who.tenant_id, late, invoice, terms, on)
            items.append({"partner_id": invoice["partner_id"], "payment_terms_days": terms, "overdue": row})
    return {"as_of": on.isoformat(), "currency": tenant.currency, "rule_id": late.rule.rule_id,
            "clause": late.rule.clause, "items": items, "next_cursor": page.next_cursor}  # fmt: skip


# --- the daily sweep -----------------------------------------------------------------------------------------------
def sweep_credit_holds(rt: Runtime, tenant_id: str) -> dict[str, int]:
    """One pass for one tenant: {looked_at, placed, lifted, refreshed}."""
    counts = dict.fromkeys(("looked_at", "placed", "lifted", "refreshed"), 0)
    tenant, _ = tenants.load_tenant(rt, tenant_id)
    late = core.LatePayment.of(tenant.policy)
    if late is None:
        return counts
    on = date.fromisoformat(rt.clock.now_iso()[:10])
    unpaid = [i for i in issued_invoices(rt, tenant_id) if not i.get("paid_on")]
    owing = sorted({i["partner_id"] for i in unpaid})
    records = partner_repository.get_many(rt.store, tenant_id, owing)
    terms = {pid: core.terms_of(records.get(pid), late.standard_terms_days) for pid in owing}
    beyond = owing_beyond(rt, tenant_id, unpaid, terms, late.standard_terms_days, on, late.credit_hold_days)
    markers = {item.key: item for item in pages(rt.store, tenant_id, CREDIT_HOLDS)}
    for pid in sorted(set(beyond) | {k for k, m in markers.items() if m.data["status"] == "placed"}):
        counts["looked_at"] += 1
        hold = core.credit_hold(late, beyond.get(pid, []), on)
        step = _step(markers.get(pid), hold)
        if step and _commit(rt, tenant, pid, markers.get(pid), hold, step):
            counts[step] += 1
    return counts


def owing_beyond(
    rt: Runtime, tenant_id: str, invoices: list[dict[str, Any]], terms: Mapping[str, int], standard_days: int,
    on: date, more_than: int,
) -> dict[str, list[dict[str, Any]]]:
    """Per partner, its invoices more than `more_than` days overdue on `on` with an amount owed (billing's one notion
    of overdue: the credit hold, PA-10.8, and rebate withholding, PA-7.8): what is under an open (or upheld) dispute
    is not payable while it is (SOP-6.1 / COP-6.1); disputes are read only for the invoices overdue beyond the limit.
    `terms`: each partner's payment term in days (missing: `standard_days`)."""
    beyond = core.overdue_invoices(invoices, terms, standard_days, on, more_than)
    late_ids = {row["invoice_id"] for rows in beyond.values() for row in rows}
    spans = {i["invoice_id"]: disputed_spans(rt, tenant_id, i["invoice_id"], i) for i in invoices
             if i["invoice_id"] in late_ids}  # fmt: skip
    if not any(spans.values()):
        return beyond
    return core.overdue_invoices(invoices, terms, standard_days, on, more_than, spans)


def _step(marker: Stored | None, hold: dict[str, Any] | None) -> str:
    placed = marker is not None and marker.data["status"] == "placed"
    if hold is not None and not placed:
        return "placed"
    if hold is None and placed:
        return "lifted"
    if hold is not None and marker is not None and marker.data["hold"]["invoice_ids"] != hold["invoice_ids"]:
        return "refreshed"  # still on hold, for other invoices: the record follows, no new event
    return ""


def _told(step: str, cited: dict[str, Any]) -> str:
    if step == "placed":
        return str(cited["message"])
    return (
        f"the credit hold is lifted: no invoice is more than {cited['credit_hold_days']} days overdue any more "
        f"({cited['rule_id']}, {cited['clause']})"
    )


def _commit(
    rt: Runtime, tenant: Tenant, pid: str, marker: Stored | None, hold: dict[str, Any] | None, step: str
) -> bool:
    """One partner's step, one commit; a record that moved meanwhile is left for the next run."""
    now = rt.clock.now_iso()
    before = marker.data if marker else {}
    if step == "lifted":
        record = {**before, "status": "lifted", "lifted_at": now}
    else:
        placed_at = before.get("placed_at") if step == "refreshed" else now
        record = {"partner_id": pid, "status": "placed", "hold": hold, "placed_at": placed_at, "lifted_at": None}
    changes = Changes(puts=[put_over(CREDIT_HOLDS, pid, record, marker)])
    if step != "refreshed":
        cited = record["hold"]
        detail = {"partner_id": pid, "status": record["status"], "rule_id": cited["rule_id"], "clause": cited["clause"],
                  "invoice_ids": cited["invoice_ids"], "as_of": now[:10], "message": _told(step, cited)}  # fmt: skip
        changes.events.append(DomainEvent(SOURCE, f"partner.credit_hold_{step}", detail))
        changes.audit.append(
            AuditEntry(
                actor=ACTOR,
                action=f"partner.credit_hold_{step}",
                subject=pid,
                outcome=record["status"],
                inputs={"invoice_ids": cited["invoice_ids"], "as_of": cited["as_of"]},
                policy_version=tenant.policy_version,
                rule_ids=(cited["rule_id"],),
                clauses=(cited["clause"],),
            )
        )
    try:
        rt.commit(tenant.tenant_id, changes)
    except Conflict:
        return False
    return True
