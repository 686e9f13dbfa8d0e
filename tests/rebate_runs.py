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


class Issued:
    """The answer of a run prepared and approved over HTTP, shaped like the response the tests read."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.status_code = 201
        self.body = body
        self.text = str(body)
        self.headers = {"Content-Type": "application/json"}

    def json(self) -> dict[str, Any]:
        return self.body


def settle_over_http(preparer: Any, approver: Any, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    """POST /v1/rebates/settlements as `preparer`, then /approve as `approver` (a second finance key): the settled
    run with the preparation's `replayed` (201), or the preparation's own answer when it is not a prepared run (a
    problem, or a run approved before). A preparation replayed for a run approved since answers the settled run."""
    prepared = preparer.post("/v1/rebates/settlements", body, headers=headers)
    if prepared.status_code != 201 or prepared.json()["status"] != "prepared":
        return prepared
    settlement_id = prepared.json()["settlement_id"]
    approved = preparer.get(f"/v1/rebates/settlements/{settlement_id}")  # an Idempotency-Key replay: approved since?
    if approved.json()["status"] == "prepared":
        approved = approver.post(f"/v1/rebates/settlements/{settlement_id}/approve", {})
    assert approved.status_code == 200, approved.text
    return Issued({**approved.json(), "replayed": prepared.json()["replayed"]})
