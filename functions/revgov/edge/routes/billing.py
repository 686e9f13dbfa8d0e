"""Invoices: monthly drafts per partner built from ERP events, read by staff, finalized by finance."""

from __future__ import annotations

import re
from typing import Any

from ...domain.access import Role
from ...domain.errors import NotFound
from ...services import billing, invoice_disputes, subscription_billing
from ...services.billing import recognition as billing_recognition
from ..http import Call
from ..registry import PERIOD_PATTERN, STAFF, QueryParam, operation

FINANCE = frozenset({Role.FINANCE})
# A partner key reads its own invoices and disputes their lines (SOP-6.1 "through the Partner Portal").
INVOICE_READERS = frozenset(STAFF | {Role.PARTNER})
DISPUTERS = frozenset({Role.PARTNER, Role.FINANCE, Role.ADMIN})


@operation(
    "GET",
    "/v1/invoices",
    summary="Invoices by status (draft by default), by month then partner, optionally one month or one partner "
    "(a partner key: its own)",
    roles=INVOICE_READERS,
    tag="billing",
    paginated=True,
    query=(
        QueryParam("status", "draft (default) or finalized", enum=("draft", "finalized")),
        QueryParam("period", "only this billing month, e.g. 2026-10", pattern=r"[0-9]{4}-(0[1-9]|1[0-2])"),
        QueryParam(
            "partner_id", "only this partner (a partner key: its own, else 404)", pattern=r"ptr_[0-9A-HJKMNP-TV-Z]{26}"
        ),
    ),
    response_schema="api/responses/invoice-page.schema.json",
)
def list_invoices(call: Call) -> Any:
    return billing.list_invoices_for(
        call.runtime,
        call.who,
        status=call.query.get("status", "draft"),
        period=call.query.get("period"),
        limit=call.limit,
        cursor=call.cursor,
        partner_id=call.query.get("partner_id"),
    )


@operation(
    "GET",
    "/v1/invoices/{invoice_id}",
    summary="An invoice with its lines: each with its event, service period, order reference, family, rules "
    "(a partner key: its own)",
    roles=INVOICE_READERS,
    tag="billing",
    id_params={"invoice_id": "inv"},
    response_schema="api/responses/invoice.schema.json",
)
def get_invoice(call: Call) -> dict[str, Any]:
    return billing.read_invoice(call.runtime, call.who, call.params["invoice_id"])


@operation(
    "POST",
    "/v1/invoices/{invoice_id}/disputes",
    summary="Dispute a line of an issued invoice within the window (SOP-6.1); the policy's queue decides it through "
    "the approvals; upheld, a credit note on the next invoice",
    roles=DISPUTERS,
    tag="billing",
    status=201,
    id_params={"invoice_id": "inv"},
    body_schema="api/invoice-dispute.schema.json",
    example={"line_no": 1, "amount": "250.00", "reason": "Shipped 4 switches, invoiced 5 (delivery note DN-1182)"},
    response_schema="api/responses/invoice-dispute.schema.json",
    open_when_suspended="SOP-6.1 'A Partner may dispute an invoice line within 30 days of the invoice date' (COP-6.1: "
                        "21): a suspension stops new quotes, orders, registrations and incentive accrual (PA-13.2), "
                        "not the dispute, and the days run during it",
)
def file_invoice_dispute(call: Call) -> dict[str, Any]:
    return invoice_disputes.file_dispute(call.runtime, call.who, call.params["invoice_id"], call.body)


@operation(
    "GET",
    "/v1/invoice-disputes/{invoice_dispute_id}",
    summary="An invoice-line dispute with its decision (a partner key: its own)",
    roles=INVOICE_READERS,
    tag="billing",
    id_params={"invoice_dispute_id": "ivd"},
    response_schema="api/responses/invoice-dispute.schema.json",
)
def get_invoice_dispute(call: Call) -> dict[str, Any]:
    return invoice_disputes.get_dispute(call.runtime, call.who, call.params["invoice_dispute_id"])


@operation(
    "POST",
    "/v1/invoices/{invoice_id}/finalize",
    summary="Finalize a draft invoice after its month has ended (finance); immutable afterwards",
    roles=FINANCE,
    tag="billing",
    id_params={"invoice_id": "inv"},
    response_schema="api/responses/invoice.schema.json",
)
def finalize_invoice(call: Call) -> dict[str, Any]:
    return billing.finalize_invoice(call.runtime, call.who, call.params["invoice_id"])


# Subscriptions as billing knows them (the ERP's subscription ids), not the outbound webhook subscriptions of
# /v1/subscriptions.
READERS = frozenset(STAFF | {Role.PARTNER})
_ERP_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")


@operation(
    "GET",
    "/v1/billing/subscriptions",
    summary="Subscriptions billed in advance each month, with what was charged and credited per month "
    "(a partner key: its own)",
    roles=READERS,
    tag="billing",
    paginated=True,
    query=(
        QueryParam(
            "partner_id", "only this partner (a partner key: its own, else 404)", pattern=r"ptr_[0-9A-HJKMNP-TV-Z]{26}"
        ),
    ),
    response_schema="api/responses/billing-subscription-page.schema.json",
)
def list_billing_subscriptions(call: Call) -> Any:
    return subscription_billing.list_subscriptions(
        call.runtime, call.who, partner_id=call.query.get("partner_id"), limit=call.limit, cursor=call.cursor
    )


@operation(
    "GET",
    "/v1/billing/subscriptions/{erp_subscription_id}",
    summary="One subscription (the ERP's id) with every month charged in advance, its credits and the net "
    "(a partner key: its own)",
    roles=READERS,
    tag="billing",
    response_schema="api/responses/billing-subscription.schema.json",
)
def get_billing_subscription(call: Call) -> dict[str, Any]:
    subscription_id = call.params["erp_subscription_id"]
    if not _ERP_REFERENCE.fullmatch(subscription_id):
        raise NotFound(f"no subscription {subscription_id}")
    return subscription_billing.get_subscription(call.runtime, call.who, subscription_id)


# Revenue recognition is the distributor's own books (its deferred revenue, what it has earned and when): finance and
# admin read it; a partner key never does (its invoices, GET /v1/invoices, are what it is billed, not how the
# distributor accounts for them), nor do other staff roles, which see no ledger figures beside the KPIs.
RECOGNITION_READERS = frozenset({Role.FINANCE, Role.ADMIN})


@operation(
    "GET",
    "/v1/revenue/recognition",
    summary="Revenue recognised in a month or quarter (IFRS 15 / ASC 606), what was billed, deferred and unbilled "
    "revenue at its opening and closing, and a page of the lines behind them (finance, admin)",
    roles=RECOGNITION_READERS,
    tag="billing",
    paginated=True,
    query=(
        QueryParam("period", "a billing month (2026-11) or a quarter (2026-Q4); required", pattern=PERIOD_PATTERN,
                   required=True),
        QueryParam("partner_id", "only this partner's invoices", pattern=r"ptr_[0-9A-HJKMNP-TV-Z]{26}"),
    ),
    description=billing_recognition.BASIS,
    response_schema="api/responses/revenue-recognition.schema.json",
)
def get_revenue_recognition(call: Call) -> dict[str, Any]:
    return billing_recognition.period_recognition(
        call.runtime,
        call.who.tenant_id,
        call.query.get("period"),
        partner_id=call.query.get("partner_id"),
        limit=call.limit,
        cursor=call.cursor,
    )


@operation(
    "GET",
    "/v1/invoices/{invoice_id}/recognition",
    summary="An invoice's revenue-recognition schedule: per line its method and, per month, what it recognises and "
    "the balance left deferred or unbilled (finance, admin)",
    roles=RECOGNITION_READERS,
    tag="billing",
    id_params={"invoice_id": "inv"},
    description=billing_recognition.BASIS,
    response_schema="api/responses/invoice-recognition.schema.json",
)
def get_invoice_recognition(call: Call) -> dict[str, Any]:
    return billing_recognition.invoice_recognition(call.runtime, call.who.tenant_id, call.params["invoice_id"])
