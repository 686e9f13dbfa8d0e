"""Invoices: monthly drafts per partner built from ERP events, read by staff, finalized by finance."""

from __future__ import annotations

from typing import Any

from ...domain.access import Role
from ...services import billing
from ..http import Call
from ..registry import STAFF, QueryParam, operation

FINANCE = frozenset({Role.FINANCE})


@operation(
    "GET",
    "/v1/invoices",
    summary="Invoices by status (draft by default), by month then partner, optionally one month",
    roles=STAFF,
    tag="billing",
    paginated=True,
    query=(
        QueryParam("status", "draft (default) or finalized", enum=("draft", "finalized")),
        QueryParam("period", "only this billing month, e.g. 2026-10", pattern=r"\d{4}-(0[1-9]|1[0-2])"),
    ),
)
def list_invoices(call: Call) -> Any:
    return billing.list_invoices(
        call.runtime,
        call.who.tenant_id,
        status=call.query.get("status", "draft"),
        period=call.query.get("period"),
        limit=call.limit,
        cursor=call.cursor,
    )


@operation(
    "GET",
    "/v1/invoices/{invoice_id}",
    summary="An invoice with its lines: each with its event, service period, order reference, family, rules",
    roles=STAFF,
    tag="billing",
    id_params={"invoice_id": "inv"},
)
def get_invoice(call: Call) -> dict[str, Any]:
    return billing.get_invoice(call.runtime, call.who.tenant_id, call.params["invoice_id"])


@operation(
    "POST",
    "/v1/invoices/{invoice_id}/finalize",
    summary="Finalize a draft invoice after its month has ended (finance); immutable afterwards",
    roles=FINANCE,
    tag="billing",
    id_params={"invoice_id": "inv"},
)
def finalize_invoice(call: Call) -> dict[str, Any]:
    return billing.finalize_invoice(call.runtime, call.who, call.params["invoice_id"])
