"""The handler's use case: validate the bus event, bill it under the tenant's policy exactly once, retrying a lost
race; one use case per ERP detail-type (`USE_CASES`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ... import schemas
from ...domain import billing as core
from ...domain.billing import BillingPolicy
from ...domain.errors import ConcurrentUpdate, MalformedRequest, RevgovError, RuleViolation, TenantOffboarded
from ...domain.tenants import Tenant
from ...domain.time import instant
from ...logs import logger
from ...runtime import Runtime
from .. import erp, events, tenants, toolkit
from ..catalog import imported_catalog
from .activation import release_parked, subscription_activated
from .cancellation import subscription_cancelled
from .credits import credit_note_issued, return_received
from .exceptions import fail
from .history_orders import invoiced_by_history
from .milestones import service_completed
from .onboarding_hold import held_before_onboarding
from .payment import invoice_paid
from .posting import ATTEMPTS, Outcome, Posting, load_partner, received_at
from .quantity_change import subscription_changed
from .renewal import subscription_renewed
from .repository import SettledEvent, settled_event
from .sales_tax_hold import held_for_location
from .screening_hold import held_for_screening
from .shipment import shipment_confirmed
from .support import support_logged
from .suspension_hold import held_for_suspension
from .unit_of_work import answer_duplicate, commit_posting
from .usage import usage_reported
from .vat_hold import held_for_vat


def bill_erp_event(rt: Runtime, bus_event: dict[str, Any]) -> dict[str, Any]:
    """The handler's use case. Business problems become exceptions; a poison event raises (retried, then DLQ)."""
    try:
        detail_type, detail = _validated(rt, bus_event)
        tenant, _ = tenants.load_tenant(rt, detail["tenant_id"])
        book = _billing_policy(tenant)  # its catalog is the policy's price list ...
        imported = imported_catalog(rt, tenant.tenant_id)
        if imported is not None:  # ... unless a catalog was imported
            book = replace(book, catalog=imported)
        posting, answer, settled = toolkit.retry_on_conflict(
            lambda: _bill(rt, tenant, book, detail_type, detail),
            attempts=ATTEMPTS,
            exhausted=lambda: ConcurrentUpdate(
                f"event {detail.get('event_id')} lost the race {ATTEMPTS} times; it will be retried"
            ),
        )
        if settled is not None:  # settled before: answered as a duplicate, outside the retry as it always was
            answer = answer_duplicate(posting, settled)
        if detail_type == "subscription.activated":
            release_parked(rt, tenant.tenant_id, detail["data"]["subscription_id"])
        return answer
    except TenantOffboarded:  # the tenant's offboarding began meanwhile: nothing more is written, its log included
        raise
    except Exception as exc:
        _record_failure(rt, bus_event, exc)
        raise


def _bill(
    rt: Runtime, tenant: Tenant, book: BillingPolicy, detail_type: str, detail: dict[str, Any]
) -> tuple[Posting, dict[str, Any], SettledEvent | None]:
    """One attempt: read, decide with the event's use case, commit; or what the event was settled as before."""
    now = rt.clock.now_iso()
    posting = Posting(
        rt,
        tenant,
        book,
        detail_type,
        detail["event_id"],
        detail["erp_event_id"],
        detail["occurred_at"],
        detail["data"],
        now,
        received_at=received_at(rt, tenant.tenant_id, detail, now),
    )
    settled = settled_event(rt, tenant.tenant_id, posting.erp_event_id)
    if settled is not None:
        return posting, {}, settled
    partner = load_partner(rt, tenant.tenant_id, posting.data["partner_id"])
    if partner is None:
        outcome = _unknown_partner(posting)
    else:
        outcome = (held_before_onboarding(posting, partner) or held_for_screening(posting, partner)
                   or held_for_vat(posting, partner) or held_for_suspension(posting, partner)
                   or _implausible(posting, partner) or held_for_location(posting, partner)
                   or invoiced_by_history(posting, partner) or USE_CASES[detail_type](posting, partner))
    commit_posting(posting, outcome)
    return posting, {"event_id": posting.event_id, "status": outcome.status, "reason": outcome.reason}, None


_POLICIES: dict[str, tuple[Tenant, BillingPolicy]] = {}  # tenant id -> (the shared Tenant, its billing policy)


def _billing_policy(tenant: Tenant) -> BillingPolicy:
    """The tenant's billing policy, built once per profile: `load_tenant` hands out one frozen Tenant while the stored
    profile is unchanged, so the same object means the same policy."""
    cached = _POLICIES.get(tenant.tenant_id)
    if cached is not None and cached[0] is tenant:
        return cached[1]
    try:
        book = BillingPolicy.from_policy(tenant.policy)
    except (KeyError, ValueError) as exc:
        raise RuleViolation(f"the tenant's billing policy cannot be used: {exc}") from exc
    _POLICIES[tenant.tenant_id] = (tenant, book)
    return book


def _validated(rt: Runtime, bus_event: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The event's detail-type and detail, validated against its bus schema unless it is, field for field, the event
    intake stored (`erp.INBOUND`) after verifying its signature and validating it: that one is validated once, where
    the untrusted input entered. Anything else on the bus (put there behind the webhook's back) is validated here."""
    detail_type = bus_event.get("detail-type")
    if bus_event.get("source") != erp.SOURCE or detail_type not in USE_CASES:
        raise MalformedRequest(f"not an ERP event this handler bills: {bus_event.get('source')} {detail_type}")
    if not _as_received(rt, bus_event):
        schemas.validate(f"events/{detail_type}.schema.json", bus_event, what=f"{detail_type} bus event")
    return str(detail_type), dict(bus_event["detail"])


def _as_received(rt: Runtime, bus_event: dict[str, Any]) -> bool:
    """The bus event is the one intake validated and stored under its tenant and event id (received or replayed)."""
    detail = bus_event.get("detail")
    if not isinstance(detail, dict):
        return False
    tenant_id, event_id = detail.get("tenant_id"), detail.get("event_id")
    if not (isinstance(tenant_id, str) and tenant_id and isinstance(event_id, str) and event_id):
        return False
    stored = rt.store.get(tenant_id, erp.INBOUND, event_id)
    return stored is not None and stored.data == {
        "source": bus_event.get("source"),
        "detail-type": bus_event.get("detail-type"),
        "detail": detail,
    }


def _record_failure(rt: Runtime, bus_event: dict[str, Any], exc: Exception) -> None:
    """The handler raised: the queue delivers the event again (dead-lettered after its last attempt), so its log entry
    reads `retrying` with the reason, never `failed`, which docs/billing.md keeps for an event held with an open
    exception (a client or test polling for a terminal status took a transient error for the end)."""
    reason = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, RevgovError):
        reason = "; ".join([exc.detail, *(f"{e.path}: {e.message}" for e in exc.errors[:5])])
    try:
        events.record(rt, bus_event, status=events.RETRYING, reason=reason[:1000])
    except Exception as error:  # the event log is best effort here; the redelivery will try again
        logger.warning(
            "could not record a failed ERP event in the event log",
            extra={"detail_type": bus_event.get("detail-type"), "failure": reason[:200], "error": str(error)},
        )


def _unknown_partner(posting: Posting) -> Outcome:
    problem = f"partner {posting.data['partner_id']} is not known in this tenant"
    return fail(posting, "unknown_partner_or_sku", problem, posting.book.invoicing)


def _implausible(posting: Posting, partner: dict[str, Any]) -> Outcome | None:
    """An event that cannot be true as sent is held as an exception for the policy's queue, not billed; it can be
    replayed once it has become true (the partner onboarded) or been corrected."""
    book = posting.book
    why = core.implausible(
        posting.detail_type,
        posting.occurred_at,
        posting.data,
        partner.get("status", "active"),
        now=instant(posting.now),
        tolerance=book.future_tolerance,
        quote_validity_days=book.quote_validity_days,
    )
    if why is None:
        return None
    problem = f"held, not billed: {why} ({book.plausibility.rule_id}, {book.plausibility.clause})"
    return fail(posting, book.implausible_category, problem, book.plausibility)


USE_CASES: dict[str, Callable[[Posting, dict[str, Any]], Outcome]] = {
    "shipment.confirmed": shipment_confirmed,
    "subscription.activated": subscription_activated,
    "subscription.cancelled": subscription_cancelled,
    "subscription.changed": subscription_changed,
    "subscription.renewed": subscription_renewed,
    "service.completed": service_completed,
    "usage.reported": usage_reported,
    "support.logged": support_logged,
    "invoice.paid": invoice_paid,
    "credit_note.issued": credit_note_issued,
    "return.received": return_received,
}
