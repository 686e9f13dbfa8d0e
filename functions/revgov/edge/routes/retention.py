"""The tenant's data retention policy: read by staff, changed by an admin (docs/retention.md)."""

from __future__ import annotations

from typing import Any

from ...services import retention
from ..http import Call
from ..registry import ADMIN, STAFF, operation

_DESCRIPTION = (
    "Each class of record with the period the tenant chose, its floor and the floor's sources (the contract's "
    "record-keeping clause, PA-12.1 / CPA-12.1, and the law: US IRS record-keeping guidance, EU VAT Directive art. "
    "247; PA-14.1 / PA-14.2 for copilot text; PA-9.6 / CPA-9.8 portal access for the papers of a terminated "
    "partner), what it covers and whether the daily sweep purges it; the working records that expire on their own "
    "(TTL); the partners under legal hold (an open approval or exception: nothing of theirs is purged); the last "
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
