"""The month-end close watcher (SOP-2.1 / COP-2.1): "The monthly invoice must be finalised and issued within 48
hours after the end of the Billing Month."

Scheduled (`month_close_watch`, events/schedules.json), per tenant:
- every draft invoice of an ended month still not issued `invoice_sla.hours` after the month's end (a draft of
  0.00 is never issued, SOP-2.2, so it is not late) becomes one `invoice_sla_breach` exception for finance citing
  the invoice SLA rule and clause;
- every event parked (waiting for a subscription's activation) longer than the same window after it occurred
  becomes one `subscription_mismatch` exception for finance: the activation it waits for may never come;
- every open invoice dispute not decided by its `decide_by` (SOP-6.1 / COP-6.1 "decides within 10 business days";
  each wait on the partner subtracted, SOP-1.3 / COP-1.3) becomes one exception in SOP-4.1 / COP-4.1's
  `invoice_dispute` category, routed to its queue (finance).
One exception per finding: a marker per invoice, event or dispute names its case; a later run refreshes the
undecided case (open or waiting on the partner: context, times seen) instead of opening another, and leaves a case
finance closed alone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ..domain.billing import BillingPolicy
from ..domain.errors import Conflict
from ..domain.rules import Rule
from ..domain.tenants import Tenant
from ..domain.time import instant, period_bounds
from ..ports import Changes, Put
from ..runtime import Runtime
from . import billing, cases, credit_notes, erp, events, invoice_disputes, tenants
from .toolkit import lookup_pages

FINDINGS = "MONTHCLOSE"  # invoice:<id> | parked:<event id> -> the exception opened for it
ACTOR = "system:month_close"
LATE_CATEGORY = "invoice_sla_breach"
PARKED_CATEGORY = "subscription_mismatch"


def issue_deadline(period: str, hours: int) -> datetime:
    """When the invoice of `period` must be issued: `hours` after the end of the month (00:00 UTC of the next)."""
    first_of_next = period_bounds(period)[1] + timedelta(days=1)
    return datetime(first_of_next.year, first_of_next.month, first_of_next.day, tzinfo=UTC) + timedelta(hours=hours)


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def watch(rt: Runtime, tenant_id: str) -> dict[str, int]:
    """One pass for one tenant: {opened, refreshed, looked_at}."""
    tenant, _ = tenants.load_tenant(rt, tenant_id)
    counts = {"opened": 0, "refreshed": 0, "looked_at": 0}
    if not tenant.policy.get("billing"):
        return counts
    book = BillingPolicy.from_policy(tenant.policy)
    now = instant(rt.clock.now_iso())
    for invoice in _all(rt, tenant_id, f"{billing.INVOICES}#draft"):
        counts["looked_at"] += 1
        _late_invoice(rt, tenant, book, invoice, now, counts)
    for entry in _all(rt, tenant_id, f"{events.EVENTS}#parked"):
        counts["looked_at"] += 1
        _parked_too_long(rt, tenant, book, entry, now, counts)
    for late in invoice_disputes.late_decisions(rt, tenant, now):
        counts["looked_at"] += 1
        _undecided_dispute(rt, tenant, book, late, now, counts)
    return counts


def _undecided_dispute(
    rt: Runtime, tenant: Tenant, book: BillingPolicy, late: dict[str, Any], now: datetime, counts: dict[str, int]
) -> None:
    """An invoice dispute not decided by its `decide_by` (the wait on the partner subtracted): reported in SOP-4.1 /
    COP-4.1's `invoice_dispute` category, routed to its queue (finance)."""
    dispute, decide_by = late["dispute"], late["decide_by"]
    hours_late = round((now - instant(decide_by)).total_seconds() / 3600, 1)
    context = {k: dispute[k] for k in ("dispute_id", "invoice_id", "line_no", "amount", "filed_at")}
    context.update({"approval_id": late["approval"]["case_id"], "decide_by": decide_by, "hours_late": hours_late,
                    "paused_seconds": int(late["approval"].get("paused_seconds", 0))})  # fmt: skip
    message = (
        f"invoice dispute {dispute['dispute_id']} (line {dispute['line_no']} of invoice {dispute['invoice_id']}) is "
        f"not decided {hours_late} h after its deadline {decide_by} ({book.disputes.clause}: Finance decides within "
        "the business days after filing; any wait on the partner subtracted)"
    )
    _report(rt, tenant, f"dispute:{dispute['dispute_id']}", book.dispute_category, message, (book.disputes,),
            subject=("invoice_dispute", dispute["dispute_id"]), partner_id=dispute["partner_id"], context=context,
            counts=counts)  # fmt: skip


def _late_invoice(
    rt: Runtime, tenant: Tenant, book: BillingPolicy, invoice: dict[str, Any], now: datetime, counts: dict[str, int]
) -> None:
    """A draft of an ended month still not issued the SLA's hours after the month's end (and not 0.00): reported."""
    due = issue_deadline(invoice["period"], book.sla_hours)
    if now <= due or invoice["total"] == "0.00":
        return
    hours_late = round((now - due).total_seconds() / 3600, 1)
    context: dict[str, Any] = {
        "invoice_id": invoice["invoice_id"],
        "period": invoice["period"],
        "total": invoice["total"],
        "line_count": invoice["line_count"],
        "issue_by": _iso(due),
        "hours_late": hours_late,
    }
    message = (
        f"invoice {invoice['invoice_id']} of {invoice['period']} is still a draft {hours_late} h after its "
        f"deadline {_iso(due)} ({book.sla_hours} h after the end of the month)"
    )
    waiting = credit_notes.pending_for_month(rt, tenant.tenant_id, invoice["partner_id"], invoice["period"])
    if waiting:  # it cannot be issued before they are decided (SOP-2.2 / SOP-2.5)
        context["pending_credit_approvals"] = [w["approval_id"] for w in waiting]
        message += (
            f"; it waits for the finance approval of {len(waiting)} credit(s) above the credit note limit "
            f"({', '.join(context['pending_credit_approvals'])}, {book.credit_notes.clause})"
        )
    _report(
        rt,
        tenant,
        f"invoice:{invoice['invoice_id']}",
        LATE_CATEGORY,
        message,
        (book.sla,),
        subject=("invoice", invoice["invoice_id"]),
        partner_id=invoice["partner_id"],
        context=context,
        counts=counts,
    )


def _parked_too_long(
    rt: Runtime, tenant: Tenant, book: BillingPolicy, entry: dict[str, Any], now: datetime, counts: dict[str, int]
) -> None:
    """An event parked for a subscription's activation longer than the SLA's hours after it occurred: reported."""
    occurred = instant(entry["occurred_at"])
    if now <= occurred + timedelta(hours=book.sla_hours):
        return
    inbound = rt.store.get(tenant.tenant_id, erp.INBOUND, entry["event_id"])
    data = (inbound.data.get("detail") or {}).get("data", {}) if inbound else {}
    hours = round((now - occurred).total_seconds() / 3600, 1)
    context = {
        "event_id": entry["event_id"],
        "detail_type": entry["detail_type"],
        "occurred_at": entry["occurred_at"],
        "subscription_id": data.get("subscription_id"),
        "parked_hours": hours,
        "reason": entry.get("reason"),
    }
    message = (
        f"{entry['detail_type']} {entry['event_id']} has waited {hours} h for the activation of subscription "
        f"{data.get('subscription_id')} (more than the {book.sla_hours} h invoice SLA): no such activation may come"
    )
    _report(
        rt,
        tenant,
        f"parked:{entry['event_id']}",
        PARKED_CATEGORY,
        message,
        (book.sla, book.reconciliation),
        subject=("erp_event", entry["event_id"]),
        partner_id=data.get("partner_id"),
        context=context,
        counts=counts,
    )


def _all(rt: Runtime, tenant_id: str, partition: str) -> list[dict[str, Any]]:
    """Documents listed under a status partition that still have that status (an index may lag its items)."""
    status = partition.rsplit("#", 1)[1]
    return [item.data for item in lookup_pages(rt.store, tenant_id, partition) if item.data.get("status") == status]


def _report(
    rt: Runtime,
    tenant: Tenant,
    key: str,
    category: str,
    message: str,
    rules: tuple[Rule, ...],
    *,
    subject: tuple[str, str],
    partner_id: str | None,
    context: dict[str, Any],
    counts: dict[str, int],
) -> None:
    """Open the finding's exception once; on a later run refresh it while it is open."""
    marker = rt.store.get(tenant.tenant_id, FINDINGS, key)
    now = rt.clock.now_iso()
    if marker is not None:
        stored = cases.find(rt, tenant.tenant_id, marker.data["case_id"])
        if stored is None or not cases.undecided(stored.data):
            return  # finance has dealt with it: one exception per finding
        try:
            rt.commit(
                tenant.tenant_id,
                Changes(puts=[cases.refresh_case(stored.data, stored.version, context=context, at=now)]),
            )
            counts["refreshed"] += 1
        except Conflict:  # decided meanwhile
            pass
        return
    case, changes = cases.open_case(
        rt,
        tenant.policy,
        kind="exception",
        category=category,
        subject_kind=subject[0],
        subject_id=subject[1],
        requested_by=ACTOR,
        reasons=[{**r.as_dict(), "message": message} for r in rules],
        partner_id=partner_id,
        context=context,
        policy_version=tenant.policy_version,
    )
    changes.puts.append(Put(FINDINGS, key, {"case_id": case["case_id"], "opened_at": now}, must_be_absent=True))
    try:
        rt.commit(tenant.tenant_id, changes)
        counts["opened"] += 1
    except Conflict:  # another run opened it meanwhile
        pass
