"""Invoices: read and list them (a partner key only its own), post corrections, finalize a draft."""

from __future__ import annotations

from typing import Any

from ...domain import audience
from ...domain import billing as core
from ...domain.access import Principal, Role
from ...domain.billing import BillingPolicy, LineDraft
from ...domain.errors import NotFound
from ...domain.tenants import Tenant
from ...domain.time import instant, period_of
from ...ports import Changes, DomainEvent
from ...runtime import Runtime
from .. import credit_notes, partner_repository, tenants
from ..approval_requests import cited
from . import tax
from .lines import post_lines, stage_invoices
from .posting import Posting
from .repository import (
    INVOICE_KEYS,
    INVOICES,
    invoice_lines,
    invoice_put,
    list_invoices,
    load_invoice,
    sees_invoice,
)


def list_invoices_for(
    rt: Runtime,
    who: Principal,
    *,
    status: str,
    period: str | None,
    limit: int,
    cursor: str | None,
    partner_id: str | None = None,
) -> dict[str, Any]:
    """Staff: the tenant's invoices of a status by month then partner (or one partner's). A partner key: only its
    own, whatever partner_id it asks for, read through its partner#period pointers so no other invoice is read."""
    if who.role is Role.PARTNER:
        partner_id = who.partner_id
    if partner_id is None:
        listed = list_invoices(rt, who.tenant_id, status=status, period=period, limit=limit, cursor=cursor)
        return {"items": [item.data for item in listed.items], "next_cursor": listed.next_cursor}
    page = rt.store.query(
        who.tenant_id, INVOICE_KEYS, limit=limit, cursor=cursor, prefix=f"{partner_id}#{period or ''}"
    )
    refs = [(who.tenant_id, INVOICES, p.data["invoice_id"]) for p in page.items]
    found = rt.store.get_many(refs) if refs else {}
    items = [found[ref].data for ref in refs if ref in found and found[ref].data["status"] == status]
    return {"items": items, "next_cursor": page.next_cursor}


def get_invoice(rt: Runtime, tenant_id: str, invoice_id: str) -> dict[str, Any]:
    """An invoice with its lines, each with the tax it carries, and its net, tax and gross totals (billing/tax.py)."""
    header, _ = load_invoice(rt, tenant_id, invoice_id)
    tenant, _ = tenants.load_tenant(rt, tenant_id)
    return tax.presented(rt, tenant, {**issued_by(tenant, header), "lines": invoice_lines(rt, tenant_id, invoice_id)})


def issued_by(tenant: Tenant, header: dict[str, Any]) -> dict[str, Any]:
    """The invoice with its issuer: an issued one's as it was copied on the issue day (COP-2.2 "issued invoices are
    never changed"; null when issued before issuers were recorded), a draft's the tenant's now."""
    if header["status"] == "draft":
        return {**header, "issuer": tenant.issuer}
    return {**header, "issuer": header.get("issuer")}


def read_invoice(rt: Runtime, who: Principal, invoice_id: str) -> dict[str, Any]:
    """An invoice with its lines; a partner key reads only its own (another partner's answers like one that does
    not exist)."""
    header, _ = load_invoice(rt, who.tenant_id, invoice_id)
    if not sees_invoice(who, header):
        raise NotFound(f"no invoice {invoice_id}")
    invoice = get_invoice(rt, who.tenant_id, invoice_id)
    return audience.partner_invoice(invoice) if who.role is Role.PARTNER else invoice


def post_correction(
    rt: Runtime,
    tenant: Tenant,
    partner_id: str,
    drafts: list[LineDraft],
    *,
    source_id: str,
    detail_type: str,
    period: str | None = None,
) -> Changes:
    """Lines that correct issued invoices (credit notes, SOP-2.5) on the partner's open invoice for this month, or
    for `period` (a held subscription credit's month), or the next draft, with their sales facts, header and audit
    record, as changes for the caller's commit."""
    posting = Posting(
        rt=rt,
        tenant=tenant,
        book=BillingPolicy.from_policy(tenant.policy),
        detail_type=detail_type,
        event_id=source_id,
        erp_event_id=source_id,
        occurred_at=rt.clock.now_iso(),
        data={},
        now=rt.clock.now_iso(),
    )
    post_lines(posting, partner_id, period or period_of(instant(posting.now).date()), drafts)
    stage_invoices(posting)
    return posting.changes


def finalize_invoice(rt: Runtime, who: Principal, invoice_id: str) -> dict[str, Any]:
    """Finance issues a draft invoice once its month has ended; it is immutable from then on. Its lines' tax is fixed
    as of the issue day (COP-2.2: the VAT check is made "before issue"), re-treated and audited where it changed."""
    header, version = load_invoice(rt, who.tenant_id, invoice_id)
    tenant, _ = tenants.load_tenant(rt, who.tenant_id)
    book = BillingPolicy.from_policy(tenant.policy)
    rule = book.finalization
    final = {**core.finalize(header, actor=who.actor, at=rt.clock.now_iso(), rule=rule), "issuer": tenant.issuer}
    credit_notes.refuse_finalizing_over_pending(rt, who.tenant_id, header, book)
    lines = invoice_lines(rt, who.tenant_id, invoice_id)
    final, retreated = tax.fixed_at_issue(rt, who, tenant, final, lines)
    partner = partner_repository.record(rt.store, who.tenant_id, final["partner_id"])
    final = {**final, "customer": core.customer_of(final, partner)}
    inputs = {k: final[k] for k in ("partner_id", "period", "total", "line_count")}
    if final.get("tax"):
        inputs = {**inputs, "tax": final["tax"]["treatment"], "totals": final["totals"]}
    audit = cited(who, "invoice.finalized", invoice_id, "finalized", inputs=inputs, tenant=tenant, rules=[rule])
    finalized = DomainEvent(
        "revgov.billing",
        "invoice.finalized",
        {
            "invoice_id": invoice_id,
            "partner_id": final["partner_id"],
            "period": final["period"],
            "total": final["total"],
        },
    )
    changes = Changes(puts=[invoice_put(final, version)], audit=[*retreated, audit], events=[finalized])
    rt.commit(who.tenant_id, changes)
    return tax.presented(rt, tenant, {**final, "lines": lines})
