"""Rebates and commissions: accruals, period settlements and their statements, disputes."""

from __future__ import annotations

from typing import Any

from ...domain.access import Role
from ...domain.rebates import settlement_run
from ...services import rebates
from ..http import Answer, Call
from ..registry import PERIOD_PATTERN, STAFF, QueryParam, operation
from .disputes import APPEAL_OPEN

FINANCE = frozenset({Role.FINANCE})
READERS = frozenset(STAFF | {Role.PARTNER})
DISPUTERS = frozenset({Role.PARTNER, Role.ADMIN, Role.CHANNEL_OPS, Role.FINANCE})
_PARTNER = QueryParam(
    "partner_id", "only this partner (a partner key: its own, else 404)", pattern=r"ptr_[0-9A-HJKMNP-TV-Z]{26}"
)


@operation(
    "GET",
    "/v1/rebates/accruals",
    summary="Accruals of a period per partner and program: tier reached, next tier and the volume still needed",
    roles=READERS,
    tag="rebates",
    paginated=True,
    query=(
        _PARTNER,
        QueryParam(
            "period", "a quarter (2026-Q4) or month (2026-10); default the running quarter", pattern=PERIOD_PATTERN
        ),
    ),
    response_schema="api/responses/accrual-page.schema.json",
)
def list_accruals(call: Call) -> dict[str, Any]:
    return rebates.accruals(
        call.runtime,
        call.who,
        partner_id=call.query.get("partner_id"),
        period=call.query.get("period"),
        limit=call.limit,
        cursor=call.cursor,
    )


_NOT_ISSUED = (
    "A state conflict: a run approved or prepared meanwhile with other figures; or `refusal: invoices_not_issued` "
    "while an invoice of the period is still a draft whose total is not 0.00 (PA-1.2 / CPA-1.2: Qualifying Revenue "
    "counts invoices dated in the period, dated when issued): `draft_count` and `draft_invoices` (at most 50) name "
    "them; nothing is prepared. Issue them (POST /v1/invoices/{invoice_id}/finalize), then prepare the run. The "
    "approval refuses the same way while a draft of the period is open."
)
_NOT_ISSUED_EXAMPLE = {
    "type": "https://revgov.dev/problems/conflict",
    "title": "State conflict",
    "status": 409,
    "detail": "2026-Q3 cannot be prepared: 1 invoice(s) of 2026-09 are still drafts; Qualifying Revenue counts "
    "invoices dated in the period, and an invoice is dated when it is issued (RBT-QUALIFYING-REVENUE, PA-1.2); issue "
    "them (POST /v1/invoices/{invoice_id}/finalize), then prepare the run",
    "instance": "/v1/rebates/settlements",
    "correlation_id": "3f1c9a52-7e4b-4d0e-9b6a-2c8d5e1f7a90",
    "refusal": "invoices_not_issued",
    "rule_id": "RBT-QUALIFYING-REVENUE",
    "clause": "PA-1.2",
    "period": "2026-Q3",
    "draft_count": 1,
    "draft_invoices": [{"invoice_id": "inv_01JX2R8Q6V3C0Y4W9T5N7K1M2Q", "partner_id": "ptr_01JBNWPARTNER0000000000001",
                        "period": "2026-09", "total": "36000.00"}],
}


_NOT_APPROVED = (
    "A state conflict: decided already (`current_status`); `refusal: figures_changed` (prepare the run again); or "
    "`refusal: invoices_not_issued` while an invoice of the period is a draft whose total is not 0.00, a late one "
    "opened since the preparation included (PA-1.2 / CPA-1.2, as the preparation's 409). Nothing is issued."
)
_NOT_APPROVED_EXAMPLE = {
    **_NOT_ISSUED_EXAMPLE,
    "detail": str(_NOT_ISSUED_EXAMPLE["detail"]).replace("be prepared", "be approved"),
    "instance": "/v1/rebates/settlements/set_01JX2R8Q6V3C0Y4W9T5N7K1M2R/approve",
}


@operation(
    "POST",
    "/v1/rebates/settlements",
    summary="Prepare a period's run (finance): statements traced to sales lines and rules, accrual differences, "
    "adjustments, frozen for a second finance member's approval; nothing is issued or shown to partners until then",
    roles=FINANCE,
    tag="rebates",
    status=201,
    body_schema="api/rebate-settlement.schema.json",
    example={"period": "2026-Q3", "run": 1},
    response_schema="api/responses/settlement.schema.json",
    problems=((409, _NOT_ISSUED, _NOT_ISSUED_EXAMPLE),),
)
def settle_period(call: Call) -> Answer:
    status, body = rebates.settle(call.runtime, call.who, call.body)
    return Answer(status, body)


@operation(
    "GET",
    "/v1/rebates/settlements",
    summary="Settlement runs, oldest first (a partner key: the issued runs with its own statement, its line only)",
    roles=READERS,
    tag="rebates",
    paginated=True,
    query=(
        QueryParam("period", "only runs of this period (2026-Q3 or 2026-10)", pattern=PERIOD_PATTERN),
        _PARTNER,
        QueryParam("status", "only runs in this state", enum=settlement_run.STATUSES),
    ),
    response_schema="api/responses/settlement-page.schema.json",
)
def list_settlements(call: Call) -> dict[str, Any]:
    return rebates.list_settlements(
        call.runtime,
        call.who,
        period=call.query.get("period"),
        partner_id=call.query.get("partner_id"),
        status=call.query.get("status"),
        limit=call.limit,
        cursor=call.cursor,
    )


@operation(
    "GET",
    "/v1/rebates/settlements/{settlement_id}",
    summary="A settlement; with partner_id (a partner key: its own) that partner's statement and every line trace",
    roles=READERS,
    tag="rebates",
    id_params={"settlement_id": "set"},
    query=(_PARTNER,),
    response_schema="api/responses/settlement.schema.json",
)
def get_settlement(call: Call) -> dict[str, Any]:
    return rebates.get_settlement(call.runtime, call.who, call.params["settlement_id"], call.query.get("partner_id"))


@operation(
    "POST",
    "/v1/rebates/settlements/{settlement_id}/approve",
    summary="Approve a prepared run (a second finance member, never its preparer): issues its statements, once",
    roles=FINANCE,
    tag="rebates",
    id_params={"settlement_id": "set"},
    body_schema="api/rebate-settlement-approval.schema.json",
    example={"note": "figures reviewed against the accruals and the disputes paid"},
    response_schema="api/responses/settlement.schema.json",
    problems=((409, _NOT_APPROVED, _NOT_APPROVED_EXAMPLE),),
)
def approve_settlement(call: Call) -> dict[str, Any]:
    return rebates.approve_settlement(call.runtime, call.who, call.params["settlement_id"], call.body)


@operation(
    "POST",
    "/v1/rebates/settlements/{settlement_id}/reject",
    summary="Send a prepared run back with a reason (never by its preparer); nothing is issued",
    roles=FINANCE,
    tag="rebates",
    id_params={"settlement_id": "set"},
    body_schema="api/rebate-settlement-rejection.schema.json",
    example={"reason": "the September credit notes of ptr_01JX0000000000000000000000 are missing"},
    response_schema="api/responses/settlement.schema.json",
)
def reject_settlement(call: Call) -> dict[str, Any]:
    return rebates.reject_settlement(call.runtime, call.who, call.params["settlement_id"], call.body)


@operation(
    "POST",
    "/v1/rebates/disputes",
    summary="Dispute a statement line with evidence, within the window; finance decides through the approvals queue",
    roles=DISPUTERS,
    tag="rebates",
    status=201,
    body_schema="api/rebate-dispute.schema.json",
    example={
        "settlement_id": "set_01JX0000000000000000000000",
        "partner_id": "ptr_01JX0000000000000000000000",
        "program_id": "RBT-VOLUME",
        "amount": "1250.00",
        "reason": "Invoice inv_01JX0000000000000000000001 of September is missing from the quarter's revenue",
        "evidence": [
            {"kind": "invoice", "reference": "inv_01JX0000000000000000000001"},
            {"kind": "calculation", "reference": "dms://partner/rebates/2026-Q3.xlsx", "note": "our calculation"},
        ],
    },
    response_schema="api/responses/rebate-dispute.schema.json",
    open_when_suspended="PA-7.9 'A Partner may dispute a settlement statement within 60 days of its date' (CPA-7.9): "
                        "a suspension stops new quotes, orders, registrations and incentive accrual (PA-13.2), not "
                        "the dispute, and the 60 days run during it",
)
def file_dispute(call: Call) -> dict[str, Any]:
    return rebates.file_dispute(call.runtime, call.who, call.body)


@operation(
    "GET",
    "/v1/rebates/disputes/{dispute_id}",
    summary="Read a dispute (a partner: its own)",
    roles=READERS,
    tag="rebates",
    id_params={"dispute_id": "dsp"},
    response_schema="api/responses/rebate-dispute.schema.json",
)
def get_dispute(call: Call) -> dict[str, Any]:
    return rebates.get_dispute(call.runtime, call.who, call.params["dispute_id"])[0]


@operation(
    "POST",
    "/v1/rebates/disputes/{dispute_id}/resolve",
    summary="Accept (all or part: paid in the next run, or by a separate credit note another finance member approves "
    "when that run is more than 30 days away, PA-7.9) or reject with a reason; never by the settlement's preparer",
    roles=FINANCE,
    tag="rebates",
    id_params={"dispute_id": "dsp"},
    body_schema="api/rebate-dispute-resolution.schema.json",
    example={"outcome": "accepted", "amount": "1250.00", "reason": "the invoice was missed; upheld under PA-7.9"},
    response_schema="api/responses/rebate-dispute.schema.json",
)
def resolve_dispute(call: Call) -> dict[str, Any]:
    return rebates.resolve_dispute(call.runtime, call.who, call.params["dispute_id"], call.body)


@operation(
    "POST",
    "/v1/rebates/disputes/{dispute_id}/acknowledge",
    summary="Finance acknowledges an open dispute, once (PA-7.9 / CPA-7.9 'within 2 business days'); its decide-by "
    "day is counted from the acknowledgement only where the policy's decide_from says so (PA-7.9 / CPA-7.9: from "
    "the filing)",
    roles=FINANCE,
    tag="rebates",
    id_params={"dispute_id": "dsp"},
    response_schema="api/responses/rebate-dispute.schema.json",
)
def acknowledge_dispute(call: Call) -> dict[str, Any]:
    return rebates.acknowledge_dispute(call.runtime, call.who, call.params["dispute_id"])


@operation(
    "POST",
    "/v1/rebates/disputes/{dispute_id}/appeal",
    summary="The partner appeals the decision on its own dispute, once, within 10 business days of it (SOP-6.3 / "
    "COP-6.3); the finance and legal queues decide it jointly through /v1/approvals",
    roles=frozenset({Role.PARTNER}),
    tag="rebates",
    id_params={"dispute_id": "dsp"},
    body_schema="api/rebate-dispute-appeal.schema.json",
    example={"reason": "SO-DSP-2 shipped on 2026-09-28: the delivery note is attached to the dispute"},
    response_schema="api/responses/rebate-dispute.schema.json",
    open_when_suspended=APPEAL_OPEN,
)
def appeal_dispute(call: Call) -> dict[str, Any]:
    return rebates.appeal_dispute(call.runtime, call.who, call.params["dispute_id"], call.body)
