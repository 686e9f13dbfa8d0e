"""Explanations grounded in stored records and quoted clauses, beyond decisions (`/v1/decisions/{id}/explain`):
a rebate settlement statement or one of its lines."""

from __future__ import annotations

from typing import Any

from ...domain.access import Role
from ...services import explain_rebates
from ..http import Call
from ..registry import STAFF, QueryParam, operation

READERS = frozenset(STAFF | {Role.PARTNER})


@operation(
    "GET",
    "/v1/rebates/settlements/{settlement_id}/explain",
    summary="Why a partner's rebate is what it is: each statement line's programme, clause, basis with the invoices "
    "and credit notes behind it, rate, tier, caps, accrual difference and withholding, quoting the clauses",
    roles=READERS,
    tag="rebates",
    id_params={"settlement_id": "set"},
    query=(
        QueryParam("partner_id", "whose statement (required for staff; a partner key: always itself)",
                   pattern=r"ptr_[0-9A-HJKMNP-TV-Z]{26}"),
        QueryParam("line", "only this statement line (its line_no)", pattern=r"[1-9][0-9]{0,3}"),
    ),
    response_schema="api/responses/statement-explanation.schema.json",
)
def explain_settlement(call: Call) -> dict[str, Any]:
    return explain_rebates.explain_settlement(
        call.runtime, call.who, call.params["settlement_id"], call.query.get("partner_id"), call.query.get("line")
    )
