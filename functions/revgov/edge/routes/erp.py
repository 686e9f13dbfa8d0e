"""ERP webhooks: the signed inbound endpoint, and the operator's webhook secret rotation."""

from __future__ import annotations

from typing import Any

from ...domain.errors import UnsupportedMediaType
from ...services import erp
from ..http import Call, parse_json
from ..registry import OPERATOR, PUBLIC, HeaderParam, operation
from .platform import _tenant_id


@operation(
    "POST",
    "/v1/webhooks/erp",
    summary="Receive ERP events, signed: headers Revgov-Tenant and Revgov-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "
    "'{t}.{raw body}'> (300 s tolerance, several v1 accepted). Body: one event (schemas/events/erp-event.schema.json) "
    'or {"events": [...]} of up to 100. 202 with {event_id, duplicate} (a batch: per-event results); an id already '
    "received with another body is a 422 naming /id (in a batch: that event is rejected)",
    roles=PUBLIC,
    tag="events",
    status=202,
    raw_body=True,
    raw_body_schemas=("events/erp-event.schema.json", "api/erp-event-batch.schema.json"),
    example={"events": [
        {"id": "NW-ERP-SHP-100231", "type": "shipment.confirmed", "occurred_at": "2026-10-05T14:20:00Z",
         "data": {"partner_id": "ptr_01JBNWPARTNER0000000000001", "order_ref": "SO-2026-1001",
                  "shipped_on": "2026-10-05", "lines": [{"sku": "NW-SW-24P", "quantity": 4}],
                  "tax_location": {"country": "US", "region": "US-WA", "postal_code": "98101"}}},
        {"id": "NW-ERP-SUB-ACT-7001", "type": "subscription.activated", "occurred_at": "2026-10-10T09:00:00Z",
         "data": {"partner_id": "ptr_01JBNWPARTNER0000000000001", "subscription_id": "SUB-7001",
                  "sku": "NW-CLOUD-PLATFORM", "quantity": 1, "activated_on": "2026-10-10", "order_ref": "SO-2026-1002",
                  "tax_location": {"country": "US", "region": "US-WA", "postal_code": "98101"}}},
        {"id": "NW-ERP-USG-400977", "type": "usage.reported", "occurred_at": "2026-10-15T23:30:00Z",
         "data": {"partner_id": "ptr_01JBNWPARTNER0000000000001", "subscription_id": "SUB-7001",
                  "metric": "cloud_compute", "quantity": "12500", "usage_date": "2026-10-15",
                  "tax_location": {"country": "US", "region": "US-WA", "postal_code": "98101"}}},
    ]},
    description="Sign the exact bytes you send: `v1` is the hex HMAC-SHA256, with the tenant's webhook secret (shown "
    "once when the tenant is provisioned or the secret rotated), of the ASCII `t` value, a `.` and the raw body; a "
    "client that serializes the JSON again after signing (other spacing or key order) sends bytes the signature does "
    "not match (401). Each event is `{id, type, occurred_at, data}`: `id` is the ERP's own id, the idempotency key "
    "(36 days); `data` per type in `schemas/events/<type>.schema.json#/$defs/data`. The samples under "
    "`events/revgov.erp/` are the bus's envelopes (EventBridge), not this body. What each event becomes: "
    "docs/billing.md; `GET /v1/events/{event_id}` says what became of one.",
    response_schema="api/responses/erp-accepted.schema.json",
    headers=(
        HeaderParam("Revgov-Tenant", "the tenant whose webhook secret signed the body", r"[a-z][a-z0-9-]{2,39}", True),
        HeaderParam(
            "Revgov-Signature",
            "t=<unix seconds>,v1=<hex HMAC-SHA256 of '{t}.{raw body}' with the tenant's webhook secret> (300 s "
            "tolerance; several v1= accepted while a rotated secret is in its grace period)",
            None,
            True,
        ),
    ),
)
def receive_erp_events(call: Call) -> dict[str, Any]:
    # The signature is checked over the raw bytes before anything in the body is trusted or even parsed.
    tenant = erp.authenticate(
        call.runtime, call.headers.get("revgov-tenant"), call.headers.get("revgov-signature"), call.raw_body
    )
    content_type = (call.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise UnsupportedMediaType(f"send application/json, not {content_type or 'no content type'}")
    return erp.accept(call.runtime, tenant, parse_json(call.raw_body))


@operation(
    "POST",
    "/v1/tenants/{tenant_id}/webhook-secret/rotate",
    summary="Rotate a tenant's ERP webhook secret: the new one is shown once; the old ones work until the grace ends",
    roles=OPERATOR,
    tag="tenants",
    body_schema="api/webhook-secret-rotation.schema.json",
    example={"grace_seconds": 86400},
    response_schema="api/responses/webhook-secret-rotated.schema.json",
)
def rotate_webhook_secret(call: Call) -> dict[str, Any]:
    return erp.rotate_secret(call.runtime, call.who, _tenant_id(call), int(call.body.get("grace_seconds", 86400)))
