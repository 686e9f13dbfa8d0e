"""A partner's request to be settled by bank transfer (PA-7.8 / CPA-7.8; services/rebates/bank_transfer.py)."""

from __future__ import annotations

from typing import Any

from ...domain.access import Role
from ...services.rebates import bank_transfer
from ..http import Call
from ..registry import TENANT, operation

# PA-7.8 "where the Partner ... requests it": the partner itself, or staff who deal with its settlement on its behalf
REQUESTERS = frozenset({Role.PARTNER, Role.FINANCE, Role.CHANNEL_OPS, Role.ADMIN})
_PARTNER = {"partner_id": "ptr"}
_PATH = "/v1/partners/{partner_id}/bank-transfer-request"
_RESPONSE = "api/responses/bank-transfer-request.schema.json"
_STANDING: dict[str, Any] = {"partner_id": "ptr_01JBNWPARTNER0000000000001", "status": "standing",
             "requested_at": "2026-10-02T10:00:00.000Z", "requested_by_role": "partner", "withdrawn_at": None,
             "withdrawn_by_role": None, "rule_id": "RBT-SETTLEMENT-METHOD", "clause": "PA-7.8", "history": [],
             "note": "please pay our rebates to the account finance has on file"}  # fmt: skip


@operation(
    "POST",
    _PATH,
    summary="Ask to be settled by bank transfer (PA-7.8 / CPA-7.8): a standing request, by the partner's own key or "
    "staff on its behalf; each rebate run then pays by bank transfer while it stands and the partner has no open "
    "balance, otherwise by credit note (the statement says which and why). No bank details are taken (the ERP "
    "holds them); a second request while one stands is 409",
    roles=REQUESTERS,
    tag="rebates",
    id_params=_PARTNER,
    status=201,
    body_schema="api/bank-transfer-request.schema.json",
    example={"note": "please pay our rebates to the account finance has on file"},
    response_schema=_RESPONSE,
    response_example=_STANDING,
)
def request_bank_transfer(call: Call) -> dict[str, Any]:
    return bank_transfer.request(call.runtime, call.who, call.params["partner_id"], call.body)


@operation(
    "POST",
    f"{_PATH}/withdraw",
    summary="Withdraw the partner's standing request for settlement by bank transfer: later runs settle by credit "
    "note (PA-7.8 / CPA-7.8); nothing standing is 409",
    roles=REQUESTERS,
    tag="rebates",
    id_params=_PARTNER,
    body_schema="api/bank-transfer-withdrawal.schema.json",
    example={"note": "we have an open invoice again: credit notes are fine"},
    response_schema=_RESPONSE,
    response_example={**_STANDING, "status": "withdrawn", "withdrawn_at": "2026-11-02T09:00:00.000Z",
                      "withdrawn_by_role": "finance"},
)
def withdraw_bank_transfer(call: Call) -> dict[str, Any]:
    return bank_transfer.withdraw(call.runtime, call.who, call.params["partner_id"], call.body)


@operation(
    "GET",
    _PATH,
    summary="The partner's request for settlement by bank transfer as it stands (none, standing or withdrawn) and "
    "the rule it is read under (a partner key: its own; another partner's is a 404)",
    roles=TENANT,
    tag="rebates",
    id_params=_PARTNER,
    response_schema=_RESPONSE,
    response_example=_STANDING,
)
def get_bank_transfer_request(call: Call) -> dict[str, Any]:
    return bank_transfer.get(call.runtime, call.who, call.params["partner_id"])
