"""Overdue invoices: a partner's overdue statement, late-payment interest and credit hold (PA-10.8 / CPA-10.7)."""

from __future__ import annotations

from typing import Any

from ...domain.access import Role
from ...services.billing import overdue
from ..http import Call
from ..registry import STAFF, QueryParam, operation

# Staff read any partner's; a partner key reads its own (as its invoices, SOP-6.1 "through the Partner Portal").
READERS = frozenset(STAFF | {Role.PARTNER})


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
            "the partner (staff: required; a partner key: always itself)",
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
