"""The invoice SLA (PA-10.7, SOP-2.1): a billable event's line is due within the policy's hours of when it occurred."""

from __future__ import annotations

from ...domain import billing as core
from ...domain.billing import BillingPolicy
from ...domain.errors import Conflict
from ...domain.tenants import Tenant
from ...domain.time import instant
from ...ports import Delete, Put
from ...runtime import Runtime
from .. import erp, tenants
from ..toolkit import lookup_pages
from .exceptions import open_exception
from .posting import Outcome, Posting


def close_sla_watch(posting: Posting, outcome: Outcome) -> None:
    """A billable event's line is posted (or it will never be due): stop its SLA clock, and if the line came after
    the SLA, record the breach (once, even if the sweep found it first)."""
    if posting.detail_type not in core.SLA_TRACKED or not (outcome.posted or outcome.settles_sla):
        return
    watch = posting.get(erp.SLA_WATCH, posting.event_id)
    if watch is not None:
        posting.changes.deletes.append(Delete(erp.SLA_WATCH, posting.event_id))
    hours = posting.book.sla_hours
    due = core.sla_due(posting.occurred_at, hours, posting.data, posting.detail_type)
    if outcome.posted and posting.now > due:
        late_hours = hours + (instant(posting.now) - instant(due)).total_seconds() / 3600
        open_exception(
            posting,
            "invoice_sla_breach",
            f"{posting.detail_type} posted {late_hours:.1f} h after it occurred; the invoice SLA is "
            f"{posting.book.sla_hours} h",
            partner_id=posting.data.get("partner_id"),
            rules=(posting.book.sla,),
            context={"due_at": due, "posted_at": posting.now, "line_ids": [x["line_id"] for x in posting.lines]},
        )


def sweep_sla(rt: Runtime, tenant_id: str) -> int:
    """Open an invoice_sla_breach exception for each billable event still without a line past its due time."""
    now = rt.clock.now_iso()
    tenant, _ = tenants.load_tenant(rt, tenant_id)
    try:
        book = BillingPolicy.from_policy(tenant.policy)
    except (KeyError, ValueError):
        return 0
    opened = 0
    for item in lookup_pages(rt.store, tenant_id, f"{erp.SLA_WATCH}#open", page_size=100):
        if item.data["due_at"] >= now:
            break
        opened += _breach(rt, tenant, book, item.key, now)
    return opened


def _breach(rt: Runtime, tenant: Tenant, book: BillingPolicy, event_id: str, now: str) -> int:
    watch = rt.store.get(tenant.tenant_id, erp.SLA_WATCH, event_id)  # the index may lag: trust only the item
    if watch is None or watch.data["breached"]:
        return 0
    w = watch.data
    posting = Posting(rt, tenant, book, w["detail_type"], event_id, w["erp_event_id"], w["occurred_at"], {}, now)
    case_id = open_exception(
        posting,
        "invoice_sla_breach",
        f"{w['detail_type']} of {w['occurred_at']} has no invoice line {book.sla_hours} h later (due {w['due_at']})",
        partner_id=w["partner_id"],
        rules=(book.sla,),
        context={"due_at": w["due_at"]},
    )
    breached = {**w, "breached": True, "case_id": case_id}
    posting.changes.puts.append(
        Put(
            erp.SLA_WATCH,
            event_id,
            breached,
            expected_version=watch.version,
            lookup=(f"{erp.SLA_WATCH}#breached", f"{w['due_at']}#{event_id}"),
        )
    )
    try:
        rt.commit(tenant.tenant_id, posting.changes)
    except Conflict:  # the line was posted (or the breach recorded) meanwhile
        return 0
    return 1 if case_id else 0
