"""Settling a period as the contracts have it: finance prepares the run, a second member of the finance queue
approves it (SOP-7.2 / COP-7.2 "approved by a second member of the finance queue"), and only then are statements
issued. For tests that need an issued settlement: one call that does both, in process."""

from __future__ import annotations

from typing import Any

from revgov.domain.access import Principal, Role
from revgov.services import rebates

SECOND_KEY = "key_01JSECONDFINANCE000000000"  # a finance key nobody else in these tests holds


def second_finance(tenant_id: str) -> Principal:
    return Principal(tenant_id, Role.FINANCE, SECOND_KEY)


def settle_approved(rt: Any, finance: Principal, body: dict[str, Any],
                    approver: Principal | None = None) -> tuple[int, dict[str, Any]]:
    """Prepare the run (as `finance`) and approve it (as a second finance member); the settled run, with the
    preparation's `replayed`. A run approved before is answered as it is."""
    status, prepared = rebates.settle(rt, finance, body)
    if prepared["status"] != "prepared":
        return status, prepared
    approved = rebates.approve_settlement(rt, approver or second_finance(finance.tenant_id),
                                          prepared["settlement_id"], {})
    return status, {**approved, "replayed": prepared["replayed"]}
