"""Outbound webhooks: subscriptions to Revgov's domain events (admin), and what became of a delivery."""

from __future__ import annotations

from typing import Any

from ...domain.errors import NotFound
from ...services import subscriptions
from ..http import Call
from ..registry import ADMIN, operation

_SUBSCRIPTION = {"subscription_id": "sub"}


@operation(
    "POST",
    "/v1/subscriptions",
    summary="Subscribe a URL to domain events (https, public addresses; loopback on a local stack only). Deliveries "
    "are POSTed with Revgov-Signature: t=<unix>,v1=<hex HMAC-SHA256 of '{t}.{raw body}'> made with the signing "
    "secret shown once in this answer, and retried until the subscriber answers 2xx",
    roles=ADMIN,
    tag="subscriptions",
    body_schema="api/subscription-create.schema.json",
    status=201,
    example={
        "url": "https://flows.reseller.example/webhook/revgov-events",
        "event_types": ["quote.approved", "quote.rejected", "exception.*"],
        "description": "n8n quote desk",
    },
    response_schema="api/responses/subscription-created.schema.json",
)
def create_subscription(call: Call) -> dict[str, Any]:
    return subscriptions.create(call.runtime, call.who, call.body)


@operation("GET", "/v1/subscriptions", summary="Subscriptions (never their secrets)", roles=ADMIN,
           tag="subscriptions", paginated=True, response_schema="api/responses/subscription-page.schema.json")
def list_subscriptions(call: Call) -> dict[str, Any]:
    return subscriptions.list_subscriptions(call.runtime, call.who.tenant_id, limit=call.limit, cursor=call.cursor)


@operation("GET", "/v1/subscriptions/{subscription_id}", summary="Read a subscription", roles=ADMIN,
           tag="subscriptions", id_params=_SUBSCRIPTION, response_schema="api/responses/subscription.schema.json")
def get_subscription(call: Call) -> dict[str, Any]:
    return subscriptions.get(call.runtime, call.who.tenant_id, call.params["subscription_id"])


@operation("DELETE", "/v1/subscriptions/{subscription_id}", summary="Delete a subscription: deliveries stop",
           roles=ADMIN, tag="subscriptions", id_params=_SUBSCRIPTION,
           response_schema="api/responses/subscription.schema.json")
def delete_subscription(call: Call) -> dict[str, Any]:
    return subscriptions.delete(call.runtime, call.who, call.params["subscription_id"])


@operation(
    "GET",
    "/v1/subscriptions/{subscription_id}/deliveries/{event_id}",
    summary="One event's delivery to this subscription: delivered, retrying or failed, attempts, last answer",
    roles=ADMIN,
    tag="subscriptions",
    id_params={**_SUBSCRIPTION, "event_id": "evt"},
    response_schema="api/responses/delivery.schema.json",
)
def get_delivery(call: Call) -> dict[str, Any]:
    subscription_id, event_id = call.params["subscription_id"], call.params["event_id"]
    subscriptions.get(call.runtime, call.who.tenant_id, subscription_id)
    for delivery in subscriptions.deliveries(call.runtime, call.who.tenant_id, event_id):  # an evt_ id (id_params)
        if delivery["subscription_id"] == subscription_id:
            return delivery
    raise NotFound(f"no delivery of {event_id} to {subscription_id}")
