"""Quote checks, deal registration and stored decisions."""

from __future__ import annotations

from typing import Any

from ...domain.access import Role
from ...services import deals, decision_reviews, decisions, pricing
from ..http import Call
from ..registry import STAFF, QueryParam, operation

SELLERS = frozenset({Role.ADMIN, Role.SALES, Role.CHANNEL_OPS, Role.FINANCE, Role.PARTNER})
READERS = frozenset(STAFF | {Role.PARTNER})
_EXAMPLE_QUOTE = {
    "partner_id": "ptr_01JX0000000000000000000000",
    "quote_ref": "Q-2026-1042",
    "customer": {"id": "US-EIN-12-3456789", "name": "Lakeside Clinics"},
    "lines": [
        {"line_id": "1", "sku": "NW-SW-24P", "quantity": 12, "discount_percent": "8.00"},
    ],
    "promotions": [],
    "terms": {"payment_days": 30},
}


@operation(
    "POST", "/v1/pricing/check", summary="Check a quote: allow, approval_required (approvals opened) or deny",
    roles=SELLERS, tag="pricing", body_schema="api/pricing-check.schema.json", example=_EXAMPLE_QUOTE,
    response_schema="api/responses/pricing-decision.schema.json",
    open_when_suspended="answered by the pricing rules: PRC-PARTNER-ACTIVE denies a suspended partner's quote "
                        "(PA-13.2 / CPA-13.2 'suspend new quotes') with a recorded, cited decision",
)
def check_quote(call: Call) -> dict[str, Any]:
    return pricing.check(call.runtime, call.who, call.body)


@operation(
    "POST", "/v1/deals", summary="Register a deal (channel ops reviews; first approved registration wins)",
    roles=frozenset({Role.ADMIN, Role.SALES, Role.CHANNEL_OPS, Role.PARTNER}), tag="deals", status=201,
    body_schema="api/deal-registration.schema.json",
    example={
        "partner_id": "ptr_01JX0000000000000000000000",
        "customer": {"id": "US-EIN-98-7654321", "name": "Harbor Logistics", "contact": "Morgan Lee, IT director"},
        "family": "networking",
        "estimated_value": "84000.00",
        "expected_close": "2027-02-15",
    },
    response_schema="api/responses/deal.schema.json",
)
def register_deal(call: Call) -> dict[str, Any]:
    return deals.register(call.runtime, call.who, call.body)


@operation("GET", "/v1/deals", summary="Deal registrations (a partner sees its own)", roles=READERS, tag="deals",
           paginated=True, response_schema="api/responses/deal-page.schema.json")
def list_deals(call: Call) -> dict[str, Any]:
    return deals.list_deals(call.runtime, call.who, limit=call.limit, cursor=call.cursor)


@operation("GET", "/v1/deals/{deal_id}", summary="Read a deal registration", roles=READERS, tag="deals",
           id_params={"deal_id": "dl"}, response_schema="api/responses/deal.schema.json")
def get_deal(call: Call) -> dict[str, Any]:
    return dict(deals.get(call.runtime, call.who, call.params["deal_id"]))


@operation("POST", "/v1/deals/{deal_id}/withdraw", summary="Withdraw a registration (ends its exclusivity)",
           roles=frozenset({Role.ADMIN, Role.CHANNEL_OPS, Role.PARTNER}), tag="deals", id_params={"deal_id": "dl"},
           response_schema="api/responses/deal.schema.json")
def withdraw_deal(call: Call) -> dict[str, Any]:
    return deals.withdraw(call.runtime, call.who, call.params["deal_id"])


@operation("POST", "/v1/deals/{deal_id}/extension",
           summary="Ask for the one 30-day extension of an approved registration (PA-5.3; channel ops decides)",
           roles=frozenset({Role.ADMIN, Role.SALES, Role.CHANNEL_OPS, Role.PARTNER}), tag="deals", status=201,
           id_params={"deal_id": "dl"}, body_schema="api/deal-extension.schema.json",
           example={"proposal_reference": "PROP-2026-118", "proposal_date": "2026-12-01"},
           response_schema="api/responses/deal.schema.json")
def request_deal_extension(call: Call) -> dict[str, Any]:
    return dict(deals.request_extension(call.runtime, call.who, call.params["deal_id"], call.body))


@operation("POST", "/v1/deals/{deal_id}/order",
           summary="Record the order accepted for an approved registration within its period: it then does not "
           "expire at the period's end (PA-5.3 / CPA-5.2)",
           roles=frozenset({Role.ADMIN, Role.CHANNEL_OPS}), tag="deals", id_params={"deal_id": "dl"},
           body_schema="api/deal-order.schema.json",
           example={"order_ref": "SO-2026-5521", "accepted_at": "2026-12-01T10:00:00Z"},
           response_schema="api/responses/deal.schema.json")
def record_deal_order(call: Call) -> dict[str, Any]:
    return deals.record_order(call.runtime, call.who, call.params["deal_id"], call.body)


@operation(
    "GET",
    "/v1/decisions",
    summary="Decisions as summaries (kind, subject, outcome, status, totals): one partner's newest first, or the "
    "tenant's (a partner key: always its own)",
    roles=READERS,
    tag="decisions",
    paginated=True,
    query=(
        QueryParam(
            "partner_id", "only this partner (a partner key: its own, else 404)", pattern=r"ptr_[0-9A-HJKMNP-TV-Z]{26}"
        ),
    ),
    description="A summary carries no inputs, findings or cost: read one decision in full with "
    "GET /v1/decisions/{decision_id} (a partner key gets its own view).",
    response_schema="api/responses/decision-page.schema.json",
)
def list_decisions(call: Call) -> dict[str, Any]:
    return decisions.list_for(
        call.runtime, call.who, partner_id=call.query.get("partner_id"), limit=call.limit, cursor=call.cursor
    )


@operation("GET", "/v1/decisions/{decision_id}", summary="The full record of a decision", roles=READERS,
           tag="decisions", id_params={"decision_id": "dec"}, response_schema="api/responses/decision.schema.json")
def get_decision(call: Call) -> dict[str, Any]:
    return decisions.view(call.runtime, call.who, call.params["decision_id"])


@operation("GET", "/v1/decisions/{decision_id}/replay",
           summary="Re-evaluate a decision as of its policy version; `identical` must be true",
           roles=STAFF, tag="decisions", id_params={"decision_id": "dec"},
           response_schema="api/responses/decision-replay.schema.json")
def replay_decision(call: Call) -> dict[str, Any]:
    return decisions.replay(call.runtime, call.who, call.params["decision_id"])


_REVIEW_OPEN = ("PA-14.2 'A Partner may request human review of any automated decision within 30 days of being "
                "notified of it' (CPA-14.2): a suspension stops new quotes, orders, registrations and incentive "
                "accrual (PA-13.2 / CPA-13.2), not this request, and the 30 days run during it")


@operation(
    "POST",
    "/v1/decisions/{decision_id}/review-requests",
    summary="The partner requests human review of its own automated decision within 30 days of being notified of it "
    "(PA-14.2 / CPA-14.2); channel operations may file it on the partner's behalf. A case of the owning queue is "
    "opened, due in 10 (PA-14.2) / 15 (CPA-14.2) business days; the reviewer confirms (approved) the outcome or "
    "changes (rejected) an allow into a deny, with a written reason, through /v1/approvals; a deny is never approved "
    "by a review (PA-6.3 / PA-6.4 'cannot be approved': a 422)",
    roles=frozenset({Role.PARTNER, Role.CHANNEL_OPS}),
    tag="decisions",
    id_params={"decision_id": "dec"},
    body_schema="api/decision-review-request.schema.json",
    example={"reason": "The quote was denied for an uncertified family, but our SecOps certification was renewed"},
    response_schema="api/responses/decision.schema.json",
    open_when_suspended=_REVIEW_OPEN,
)
def request_decision_review(call: Call) -> dict[str, Any]:
    return decision_reviews.request_review(call.runtime, call.who, call.params["decision_id"], call.body)


@operation(
    "POST",
    "/v1/review-requests",
    summary="The partner requests human review of its own automated rebate calculation (a statement line of an issued "
    "run), invoice validation (a line of an issued invoice) or entitlement check within 30 days of being notified of "
    "it (PA-14.2 / CPA-14.2); channel operations may file it on the partner's behalf. A case of the owning queue "
    "(finance; customer_success for entitlements) is opened, due in 10 / 15 business days; the reviewer confirms "
    "(approved) or changes (rejected) it with a written reason through /v1/approvals. One entitlement-check review "
    "is open per partner and entitlement: a second, at any instant, is a 409 naming the open one",
    roles=frozenset({Role.PARTNER, Role.CHANNEL_OPS}),
    tag="decisions",
    status=201,
    body_schema="api/automated-review-request.schema.json",
    example={"kind": "invoice_line", "invoice_id": "inv_01JX0000000000000000000000", "line_no": 2,
             "reason": "The switch was delivered in December, not November"},
    response_schema="api/responses/automated-review.schema.json",
    open_when_suspended=_REVIEW_OPEN,
)
def request_automated_review(call: Call) -> dict[str, Any]:
    return decision_reviews.request_automated_review(call.runtime, call.who, call.body)


@operation("GET", "/v1/review-requests/{review_id}",
           summary="A human review of an automated decision other than a quote check, with the decision it reviews "
           "(a partner key: its own)", roles=READERS, tag="decisions", id_params={"review_id": "rvw"},
           response_schema="api/responses/automated-review.schema.json")
def get_automated_review(call: Call) -> dict[str, Any]:
    return decision_reviews.read_automated_review(call.runtime, call.who, call.params["review_id"])
