"""Overdue invoices: a partner's overdue statement, late-payment interest and credit hold (PA-10.8 / CPA-10.7)."""

from __future__ import annotations

from typing import Any

from ...domain.access import Role
from ...services.billing import overdue, overdue_charges
from ..http import Call
from ..registry import STAFF, QueryParam, operation

# Staff read any partner's; a partner key reads its own (as its invoices, SOP-6.1 "through the Partner Portal").
READERS = frozenset(STAFF | {Role.PARTNER})
FINANCE = frozenset({Role.FINANCE})  # SOP-1.2: the finance queue invoices; an automated workflow has no key


@operation(
    "GET",
    "/v1/billing/overdue",
    summary="A partner's invoices overdue as of a day, with the late-payment interest accrued and the fixed "
    "compensation stated (not charged), and whether its new orders are on credit hold (PA-10.8 / CPA-10.7; a partner "
    "key: its own)",
    roles=READERS,
    tag="billing",
    query=(
        QueryParam(
            "partner_id",
            "the partner (staff: required; a partner key: its own, else 404)",
            pattern=r"ptr_[0-9A-HJKMNP-TV-Z]{26}",
        ),
        QueryParam(
            "as_of",
            "the day (UTC) asked about, YYYY-MM-DD, not after today; default today",
            pattern=r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
        ),
    ),
    response_schema="api/responses/overdue-statement.schema.json",
)
def get_overdue_statement(call: Call) -> dict[str, Any]:
    return overdue.overdue_statement(
        call.runtime, call.who, partner_id=call.query.get("partner_id"), as_of=call.query.get("as_of")
    )


@operation(
    "GET",
    "/v1/billing/overdue/invoices",
    summary="The tenant's invoices overdue as of a day, every partner's (finance's list), each with its partner and "
    "the late-payment interest accrued (PA-10.8 / CPA-10.7; a partner key: its own)",
    roles=READERS,
    tag="billing",
    paginated=True,
    query=(
        QueryParam(
            "partner_id",
            "only this partner's (a partner key: its own, else 404)",
            pattern=r"ptr_[0-9A-HJKMNP-TV-Z]{26}",
        ),
        QueryParam(
            "as_of",
            "the day (UTC) asked about, YYYY-MM-DD, not after today; default today",
            pattern=r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
        ),
    ),
    response_schema="api/responses/overdue-invoice-page.schema.json",
)
def list_overdue_invoices(call: Call) -> dict[str, Any]:
    return overdue.overdue_invoices(
        call.runtime, call.who, partner_id=call.query.get("partner_id"), as_of=call.query.get("as_of"),
        limit=call.limit, cursor=call.cursor,
    )  # fmt: skip


@operation(
    "POST",
    "/v1/billing/overdue/charges",
    summary="Prepare the late-payment charge of an overdue invoice through a day (interest less what was charged "
    "before, the fixed compensation once); it is issued only once another finance member approves it (PA-10.8 / "
    "CPA-10.7, SOP-4.3)",
    roles=FINANCE,
    tag="billing",
    status=201,
    body_schema="api/late-payment-charge.schema.json",
    example={"invoice_id": "inv_01JXA5V0000000000000000031", "through": "2026-06-15"},
    response_schema="api/responses/late-payment-charge.schema.json",
)
def prepare_late_payment_charge(call: Call) -> dict[str, Any]:
    return overdue_charges.prepare_charge(call.runtime, call.who, call.body)


@operation(
    "GET",
    "/v1/billing/overdue/charges/{charge_id}",
    summary="A late-payment charge with its decision (a partner key: its own)",
    roles=READERS,
    tag="billing",
    id_params={"charge_id": "lpc"},
    response_schema="api/responses/late-payment-charge.schema.json",
)
def get_late_payment_charge(call: Call) -> dict[str, Any]:
    return overdue_charges.get_charge(call.runtime, call.who, call.params["charge_id"])
