"""The tenant's data retention policy: read by staff, changed by an admin; legal holds placed and lifted by legal
(docs/retention.md)."""

from __future__ import annotations

from typing import Any

from ...domain.access import Role
from ...services import retention
from ..http import Call
from ..registry import ADMIN, STAFF, operation

_DESCRIPTION = (
    "Each class of record with the period the tenant chose, its floor and the floor's sources (the contract's "
    "record-keeping clause, PA-12.1 / CPA-12.1, and the law: US IRS record-keeping guidance, EU VAT Directive art. "
    "247; PA-14.1 / PA-14.2 for copilot text; PA-9.6 / CPA-9.8 portal access for the papers of a terminated "
    "partner), what it covers and whether the daily sweep purges it; the working records that expire on their own "
    "(TTL); the partners under legal hold (an open approval or exception, or a hold legal placed by hand: nothing "
    "of theirs is purged); the last "
    "sweep. Financial records and the audit chain are never purged by the sweep, so `GET /v1/audit/verify` holds."
)


@operation("GET", "/v1/retention", summary="The tenant's data retention policy, legal holds and last sweep",
           roles=STAFF, tag="retention", description=_DESCRIPTION,
           response_schema="api/responses/retention-policy.schema.json")
def get_retention(call: Call) -> dict[str, Any]:
    return retention.policy_view(call.runtime, call.who.tenant_id)


@operation(
    "PUT", "/v1/retention", summary="Change the tenant's retention periods (admin; audited; never below a floor)",
    roles=ADMIN, tag="retention", body_schema="api/retention-policy.schema.json",
    example={"financial_records": {"years": 10}, "copilot_text": {"days": 90, "then": "erase"},
             "partner_documents": {"days": 365}, "webhook_deliveries": {"days": 30}},
    description="Replaces every class's period. A period below its floor is a 422 naming the field and the floor's "
    "sources, and nothing changes. Audited (`retention.policy_changed`, before and after). The contract's "
    "record-keeping rule (`record_keeping`) is the tenant's provisioning and not changed here.",
    response_schema="api/responses/retention-policy.schema.json",
)
def put_retention(call: Call) -> dict[str, Any]:
    return retention.set_policy(call.runtime, call.who, call.body)


LEGAL = frozenset({Role.LEGAL})


@operation(
    "POST", "/v1/retention/legal-holds",
    summary="Place a legal hold on a partner's records for a dispute or litigation outside any case (legal; audited): "
    "the retention sweep purges none of its transcripts or papers until legal lifts it",
    roles=LEGAL, tag="retention", status=201, body_schema="api/legal-hold.schema.json",
    example={"partner_id": "ptr_01JX0000000000000000000000", "matter": "litigation",
             "reason": "Claim filed by Lakeside Clinics, case 26-CV-1042: preserve the partner's records"},
    response_schema="api/responses/legal-hold.schema.json",
)
def place_legal_hold(call: Call) -> dict[str, Any]:
    return retention.place_hold(call.runtime, call.who, call.body)


@operation(
    "POST", "/v1/retention/legal-holds/{hold_id}/lift",
    summary="Lift a legal hold placed by hand, once, with a reason (legal; audited); the next sweep applies the "
    "retention policy to the partner's records again",
    roles=LEGAL, tag="retention", id_params={"hold_id": "lgh"}, body_schema="api/legal-hold-lift.schema.json",
    example={"reason": "The claim settled and the court closed the case"},
    response_schema="api/responses/legal-hold.schema.json",
)
def lift_legal_hold(call: Call) -> dict[str, Any]:
    return retention.lift_hold(call.runtime, call.who, call.params["hold_id"], call.body)
