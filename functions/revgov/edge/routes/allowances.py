"""Sandboxes and exam vouchers (CPA-9.7): issued by Channel Operations up to the partner's entitlement; what remains
is on the entitlement answers (`remaining`)."""

from __future__ import annotations

from typing import Any

from ...domain.access import Role
from ...domain.partners import allowances
from ...services import partner_allowances
from ..http import Call
from ..registry import operation

ISSUERS = frozenset({Role.CHANNEL_OPS, Role.ADMIN})
_PARTNER = {"partner_id": "ptr"}
_ANSWER = "api/responses/partner-allowance.schema.json"


def _issue(name: str) -> Any:
    def handle(call: Call) -> dict[str, Any]:
        return partner_allowances.issue(call.runtime, call.who, call.params["partner_id"], name)
    return handle


for _path, _name, _summary, _example in (
    ("sandboxes", allowances.SANDBOXES, "Issue a non-production sandbox (CPA-9.7: up to the tier's number at a time; "
     "beyond it 409)", "partner-allowance-sandbox.json"),
    ("exam-vouchers", allowances.VOUCHERS, "Issue a certification exam voucher (CPA-9.7: up to the tier's number per "
     "Program Year, expiring at its end; beyond it 409)", "partner-allowance-voucher.json"),
):
    operation(
        "POST", f"/v1/partners/{{partner_id}}/{_path}", summary=_summary, roles=ISSUERS, tag="partners",
        name=f"issue_{_path.replace('-', '_')}", id_params=_PARTNER, status=201, response_schema=_ANSWER,
        response_example=_example,
    )(_issue(_name))


@operation(
    "POST",
    "/v1/partners/{partner_id}/sandboxes/{sandbox_id}/return",
    summary="A sandbox given back: no longer held, so another may be issued (CPA-9.7 \"at a time\")",
    roles=ISSUERS,
    tag="partners",
    id_params={"partner_id": "ptr", "sandbox_id": "sbx"},
    response_schema=_ANSWER,
    response_example="partner-allowance-return.json",
)
def return_sandbox(call: Call) -> dict[str, Any]:
    return partner_allowances.give_back(call.runtime, call.who, call.params["partner_id"], call.params["sandbox_id"])
