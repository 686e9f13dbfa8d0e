"""One ERP event being billed (`Posting`), what deciding it came to (`Outcome`), and what it reads of its partner."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ...domain.audit import AuditEntry
from ...domain.billing import BillingPolicy
from ...domain.errors import NotFound
from ...domain.tenants import Tenant
from ...domain.time import instant
from ...ports import Changes, DomainEvent, Put, Stored
from ...runtime import Runtime
from .. import erp, events, partners

ACTOR = "system:billing"
ORDER_DAYS = {  # the ERP event kinds that are the partner ordering, and the field holding the order's day
    "shipment.confirmed": "shipped_on",
    "subscription.activated": "activated_on",
    "service.completed": "accepted_on",
    "usage.reported": "usage_date",
    "support.logged": "performed_on",
}
# A renewal is an order too, for a new term (PA-2.8 / PA-13.2, CPA-2.3 "new orders"): the screening and VAT holds
# hold it, dated by the day the ERP recorded it. It stays out of ORDER_DAYS: the onboarding hold (the subscription it
# renews was onboarded) and the sales-tax location hold (it posts no line itself) do not apply to it.
RENEWAL = "subscription.renewed"
# ERP events that place an order: their lines keep the time the ERP recorded (`event_at`), which PA-7.1 / CPA-7.1
# compare with a suspension's time ("orders placed while the Partner was suspended"), and which the suspension hold
# compares with it too (services/billing/suspension_hold.py).
ORDERS = frozenset({"shipment.confirmed", "subscription.activated"})
ATTEMPTS = 12  # an event that lost the race this often is retried by the queue (ConcurrentUpdate)


def order_time(detail_type: str, occurred_at: str, data: dict[str, Any]) -> str | None:
    """The order's time: the latest instant it can have been placed, or None for an event that places no order. The
    event's time, or where the ERP states the day the order was accepted (`order_accepted_on`), the end of that day if
    earlier: an order accepted before a suspension and shipped during it was not placed during it (PA-13.2 "Orders
    already accepted are fulfilled"), one accepted during it and shipped after the lift was (red team 11)."""
    if detail_type not in ORDERS or not occurred_at:
        return None
    accepted = data.get("order_accepted_on")
    if accepted and instant(f"{accepted}T23:59:59Z") < instant(occurred_at):
        return f"{accepted}T23:59:59Z"
    return occurred_at


def load_partner(rt: Runtime, tenant_id: str, partner_id: str) -> dict[str, Any] | None:
    try:
        return partners.load_partner(rt, tenant_id, partner_id)[0]
    except NotFound:
        return None


def entitlement(posting: Posting, partner_id: str, name: str, day: str) -> dict[str, Any]:
    """`{entitled, value, reason, rule_id, clause}` of the partner on that day (its tier, certifications, status):
    as at the day's start, or on the day it was activated as at its activation (the activation is an instant and
    the day it falls on counts as onboarded, as for its orders: `lifecycle.not_onboarded_on`; support logged on
    that day, SOP-5.2 "the date the work was performed", uses the tier's hours, PA-9.2)."""
    at = f"{day}T00:00:00Z"
    activated_at = str((load_partner(posting.rt, posting.tenant_id, partner_id) or {}).get("activated_at") or "")
    if activated_at[:10] == day and activated_at > at:
        at = activated_at
    try:
        return partners.entitlement(posting.rt, posting.tenant_id, partner_id, name, at)
    except NotFound:
        return {"entitled": False, "value": None, "reason": f"no tier grants {name}", "rule_id": None, "clause": None}


@dataclass
class Outcome:
    status: str  # processed | parked | failed
    reason: str | None = None
    done: bool = True  # write the BILLED guard: this event is settled for good
    posted: bool = False  # a line was posted for it (closes its invoice-SLA watch)
    settles_sla: bool = False  # no line will ever be due for it (e.g. out of scope)


@dataclass
class Posting:
    """One ERP event being billed: under which policy, what it reads, and what its commit will hold."""

    rt: Runtime
    tenant: Tenant
    book: BillingPolicy
    detail_type: str
    event_id: str
    erp_event_id: str
    occurred_at: str
    data: dict[str, Any]
    now: str
    changes: Changes = field(default_factory=Changes)
    invoices: dict[str, tuple[dict[str, Any], int | None]] = field(default_factory=dict)
    by_month: dict[str, str] = field(default_factory=dict)  # partner#period asked -> invoice id used
    touched: set[str] = field(default_factory=set)
    lines: list[dict[str, Any]] = field(default_factory=list)  # posted or re-rated, in order
    case_ids: list[str] = field(default_factory=list)
    # When Revgov received the ERP event (intake's clock, `received_at`), not when the source system recorded it;
    # set by the ERP event handler (intake), empty on a run's posting (no event was received).
    received_at: str = ""

    @property
    def tenant_id(self) -> str:
        return self.tenant.tenant_id

    def get(self, collection: str, key: str) -> Stored | None:
        return self.rt.store.get(self.tenant_id, collection, key)


def became(line_ids: Iterable[str], case_ids: Iterable[str]) -> dict[str, list[str]]:
    """What an ERP event became, for its log entry: the invoice lines it posted or re-rated, the exceptions it
    opened."""
    return {"invoice_lines": list(dict.fromkeys(line_ids)), "exceptions": list(dict.fromkeys(case_ids))}


def received_at(rt: Runtime, tenant_id: str, detail: dict[str, Any], now: str) -> str:
    """When Revgov received the ERP event: intake's clock, carried on the bus event; for an event received before it
    was carried, the receipt its deduplication record keeps; for one put on the bus behind the webhook's back, now
    (the handler is where Revgov received it)."""
    carried = detail.get("received_at")
    if isinstance(carried, str) and carried:
        return carried
    seen = rt.store.get(tenant_id, erp.DEDUPE, str(detail.get("erp_event_id")))
    if seen is not None and seen.data.get("event_id") == detail.get("event_id") and seen.data.get("received_at"):
        return str(seen.data["received_at"])
    return now


def log_put(posting: Posting, status: str, reason: str | None,
            outcome: dict[str, list[str]] | None = None) -> Put:  # fmt: skip
    """The event's log entry; `outcome`: what it became (`became`), known to the commit that settles it."""
    return events.entry_put(
        posting.rt,
        event_id=posting.event_id,
        source=erp.SOURCE,
        detail_type=posting.detail_type,
        occurred_at=posting.occurred_at,
        status=status,
        reason=reason,
        became=outcome,
    )


def record(
    posting: Posting,
    action: str,
    event_type: str,
    invoice: dict[str, Any],
    outcome: str,
    inputs: dict[str, Any],
    event: dict[str, Any],
    *,
    rule_ids: Iterable[str],
    clauses: Iterable[str],
) -> None:
    """What billing did to an invoice for the event, into its commit: an audit record (actor `system:billing`,
    naming the event) and the domain event `event_type` (naming the invoice and, in `event`, the event)."""
    posting.changes.audit.append(
        AuditEntry(
            actor=ACTOR,
            action=action,
            subject=invoice["invoice_id"],
            outcome=outcome,
            inputs={"event_id": posting.event_id, "erp_event_id": posting.erp_event_id, **inputs},
            policy_version=posting.tenant.policy_version,
            rule_ids=tuple(rule_ids),
            clauses=tuple(clauses),
        )
    )
    detail = {k: invoice[k] for k in ("invoice_id", "partner_id", "period", "total")}
    posting.changes.events.append(DomainEvent("revgov.billing", event_type, {**detail, **event}))
