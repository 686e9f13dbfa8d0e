"""Security incidents affecting the other party's data and their notice (PA-11.2 / CPA-11.2;
services/security_incidents.py)."""

from __future__ import annotations

from typing import Any

from ...domain.access import Role
from ...services import security_incidents
from ..http import Call
from ..registry import STAFF, QueryParam, operation

# PA-11.2 "Each party notifies the other": the partner reports through its own key; on the distributor's side legal
# (contract matters, SOP-1.2; "data protection requests", COP-1.2) or customer success (managed support, where the
# distributor processes the partner's customers' data, PA-11.2) record one affecting a partner and its notice
REPORTERS = frozenset({Role.PARTNER, Role.LEGAL, Role.CUSTOMER_SUCCESS})
NOTIFIERS = frozenset({Role.LEGAL, Role.CUSTOMER_SUCCESS})
READERS = frozenset(STAFF | {Role.PARTNER})


@operation(
    "POST",
    "/v1/security-incidents",
    summary="Record a security incident or personal-data breach affecting the other party's data: a partner key "
    "reports its own (the report is its notice); legal or customer success record one affecting a partner, with "
    "its notice if sent; due within 72 hours of becoming aware (PA-11.2; CPA-11.2: 48)",
    roles=REPORTERS,
    tag="partners",
    status=201,
    body_schema="api/security-incident.schema.json",
    example={
        "became_aware_at": "2026-12-01T08:00:00Z",
        "summary": "Phishing compromise of a support mailbox holding customer contact data",
    },
    response_schema="api/responses/security-incident.schema.json",
    open_when_suspended="PA-11.2 'Each party notifies the other [...] within 72 hours' (CPA-11.2: 48): a suspension "
                        "stops new quotes, orders, registrations and incentive accrual (PA-13.2), not the partner's "
                        "duty to notify; its report is its notice",
)
def record_security_incident(call: Call) -> dict[str, Any]:
    return security_incidents.record(call.runtime, call.who, call.body)


@operation(
    "GET",
    "/v1/security-incidents",
    summary="Security incidents with their notice state (a partner key: its own)",
    roles=READERS,
    tag="partners",
    paginated=True,
    query=(
        QueryParam(
            "partner_id",
            "staff: one partner's only (a partner key: its own, else 404)",
            pattern=r"ptr_[0-9A-HJKMNP-TV-Z]{26}",
        ),
    ),
    response_schema="api/responses/security-incidents.schema.json",
)
def list_security_incidents(call: Call) -> dict[str, Any]:
    return security_incidents.list_incidents(
        call.runtime, call.who, call.query.get("partner_id"), limit=call.limit, cursor=call.cursor
    )


@operation(
    "GET",
    "/v1/security-incidents/{incident_id}",
    summary="One security incident (a partner key: its own; another partner's is a 404)",
    roles=READERS,
    tag="partners",
    id_params={"incident_id": "sin"},
    response_schema="api/responses/security-incident.schema.json",
)
def get_security_incident(call: Call) -> dict[str, Any]:
    return security_incidents.get_incident(call.runtime, call.who, call.params["incident_id"])


@operation(
    "POST",
    "/v1/security-incidents/{incident_id}/notice",
    summary="Record when the distributor's notice of an incident affecting a partner's data was sent (legal or "
    "customer success); after the deadline it is late and the sweep opens an exception for legal",
    roles=NOTIFIERS,
    tag="partners",
    id_params={"incident_id": "sin"},
    body_schema="api/security-incident-notice.schema.json",
    example={"notified_at": "2026-12-02T08:00:00Z"},
    response_schema="api/responses/security-incident.schema.json",
)
def record_security_incident_notice(call: Call) -> dict[str, Any]:
    return security_incidents.record_notice(call.runtime, call.who, call.params["incident_id"], call.body)
