"""Market development funds (PA-9.5 / CPA-9.5): a partner's MDF ledger, activity pre-approval, claims and their
four-eyes payment by credit note (docs/mdf.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...domain.access import Principal, Role
from ...runtime import Runtime
from ...services import mdf, mdf_requests
from ..http import Call
from ..registry import STAFF, operation

READERS = frozenset(STAFF | {Role.PARTNER})  # staff read any partner's; a partner key its own (a rival's: 404)
REQUESTERS = frozenset({Role.PARTNER, Role.CHANNEL_OPS, Role.SALES, Role.ADMIN})
CHANNEL_OPS = frozenset({Role.CHANNEL_OPS})  # PA-9.5 "pre-approved by Channel Operations"
FINANCE = frozenset({Role.FINANCE})  # money movement: two finance members (SOP-4.3)
_PARTNER = {"partner_id": "ptr"}
_REASON = "api/mdf-decision.schema.json"


@operation(
    "GET",
    "/v1/partners/{partner_id}/mdf",
    summary="A partner's market development funds: per accrual Quarter the Qualifying Revenue of the previous "
    "Quarter, the tier's percent, accrued, reserved, paid, expired and available; its activities and claims "
    "(PA-9.5 / CPA-9.5; a partner key: its own)",
    roles=READERS,
    tag="mdf",
    id_params=_PARTNER,
    response_schema="api/responses/mdf-ledger.schema.json",
    response_example="mdf-ledger.json",
)
def get_partner_mdf(call: Call) -> dict[str, Any]:
    return mdf.ledger(call.runtime, call.who, call.params["partner_id"])


@operation(
    "POST",
    "/v1/partners/{partner_id}/mdf/activities",
    summary="Ask Channel Operations to pre-approve an MDF activity before it takes place (dates, planned amount)",
    roles=REQUESTERS,
    tag="mdf",
    id_params=_PARTNER,
    body_schema="api/mdf-activity.schema.json",
    status=201,
    example={"title": "Security roadshow, Denver", "starts_on": "2027-05-10", "ends_on": "2027-05-12",
             "planned_amount": "4500.00"},
    response_schema="api/responses/mdf-activity.schema.json", response_example="mdf-activity.json",
)
def request_mdf_activity(call: Call) -> dict[str, Any]:
    return mdf_requests.request_activity(call.runtime, call.who, call.params["partner_id"], call.body)


Decide = Callable[[Runtime, Principal, str, str, dict[str, Any], bool], dict[str, Any]]


def _decision(decide: Decide, id_param: str, approve: bool) -> Callable[[Call], dict[str, Any]]:
    """The handler of one approve / reject route."""
    def handle(call: Call) -> dict[str, Any]:
        return decide(call.runtime, call.who, call.params["partner_id"], call.params[id_param], call.body or {},
                      approve)
    return handle


@operation(
    "POST",
    "/v1/partners/{partner_id}/mdf/claims",
    summary="Claim MDF for a pre-approved activity after it ends, within the claim window, with proof of execution "
    "and third-party invoices; refused beyond the available accrual",
    roles=REQUESTERS,
    tag="mdf",
    id_params=_PARTNER,
    body_schema="api/mdf-claim.schema.json",
    status=201,
    example={"activity_id": "mdfa_01JX0000000000000000000000", "amount": "4200.00",
             "evidence": {"proof_of_execution": "dms://mdf/denver-roadshow/attendance.pdf",
                          "invoices": ["SUP-INV-2027-0042"]}},
    response_schema="api/responses/mdf-claim.schema.json", response_example="mdf-claim.json",
)
def submit_mdf_claim(call: Call) -> dict[str, Any]:
    return mdf_requests.submit_claim(call.runtime, call.who, call.params["partner_id"], call.body)


# (kind, verb, approve, roles, summary, example reason): the four decisions, each on its own route
_DECISIONS = (
    ("activity", "approve", True, CHANNEL_OPS,
     "Channel Operations pre-approves an MDF activity (before it starts; never its requester)",
     "within the partner's marketing plan"),
    ("activity", "reject", False, CHANNEL_OPS, "Channel Operations rejects an MDF activity request, with a reason",
     "not in the partner's marketing plan"),
    ("claim", "approve", True, FINANCE, "Finance approves an MDF claim: the second finance member's approval pays "
     "it by credit note (neither approver its submitter; neither while a screening match holds the partner, PA-2.8 / "
     "CPA-2.8: 422)", "evidence checked against the supplier invoice"),
    ("claim", "reject", False, FINANCE, "Finance rejects an MDF claim, with a reason: its draw on the accrual is "
     "given back", "supplier invoice does not match the activity"),
)
_PLURAL = {"activity": "activities", "claim": "claims"}
for _kind, _verb, _approve, _roles, _summary, _reason in _DECISIONS:
    operation(
        "POST", f"/v1/partners/{{partner_id}}/mdf/{_PLURAL[_kind]}/{{{_kind}_id}}/{_verb}", summary=_summary,
        roles=_roles, tag="mdf", name=f"{_verb}_mdf_{_kind}",
        id_params={"partner_id": "ptr", f"{_kind}_id": f"mdf{_kind[0]}"},
        body_schema=_REASON, example={"reason": _reason},
        response_schema=f"api/responses/mdf-{_kind}.schema.json", response_example=f"mdf-{_kind}.json",
    )(_decision(mdf_requests.decide_activity if _kind == "activity" else mdf_requests.decide_claim, f"{_kind}_id",
                _approve))
