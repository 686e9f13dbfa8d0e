"""Invoice-dispute acknowledgement (SOP-6.1 / COP-6.1) and appeals (SOP-6.3 / COP-6.3): finance acknowledges a filed
dispute; the partner appeals the rejection of its own dispute, which the finance and legal queues decide jointly
through /v1/approvals. (Filing and reading a dispute: routes/billing.py.)"""

from __future__ import annotations

from typing import Any

from ...domain.access import Role
from ...services import invoice_dispute_appeals, invoice_disputes
from ..http import Call
from ..registry import operation

# The last step of a dispute: its 10 business days run during a suspension, which does not name it (PA-13.2).
APPEAL_OPEN = ("SOP-6.3 'The Partner may appeal once, within 10 business days of the decision' (COP-6.3): a suspension "
               "stops new quotes, orders, registrations and incentive accrual (PA-13.2), not the appeal")


@operation(
    "POST",
    "/v1/invoice-disputes/{invoice_dispute_id}/appeal",
    summary="The partner appeals the rejection of its own invoice dispute, once, within 10 business days of it "
    "(SOP-6.3 / COP-6.3); the finance and legal queues decide it jointly through /v1/approvals, upheld the line is "
    "credited by the dispute's credit-note path (SOP-2.5 / COP-2.4)",
    roles=frozenset({Role.PARTNER}),
    tag="billing",
    id_params={"invoice_dispute_id": "ivd"},
    body_schema="api/invoice-dispute-appeal.schema.json",
    example={"reason": "Delivery note DN-1182 is signed for 4 switches, not 5: attached to the dispute"},
    response_schema="api/responses/invoice-dispute.schema.json",
    open_when_suspended=APPEAL_OPEN,
)
def appeal_invoice_dispute(call: Call) -> dict[str, Any]:
    return invoice_dispute_appeals.appeal_dispute(call.runtime, call.who, call.params["invoice_dispute_id"], call.body)


@operation(
    "POST",
    "/v1/invoice-disputes/{invoice_dispute_id}/acknowledge",
    summary="Finance acknowledges an open invoice dispute, once (SOP-6.1 / COP-6.1 'acknowledged within 1 business "
    "day'): kept with `late` when after `acknowledge_by`",
    roles=frozenset({Role.FINANCE}),
    tag="billing",
    id_params={"invoice_dispute_id": "ivd"},
    response_schema="api/responses/invoice-dispute.schema.json",
)
def acknowledge_invoice_dispute(call: Call) -> dict[str, Any]:
    return invoice_disputes.acknowledge_dispute(call.runtime, call.who, call.params["invoice_dispute_id"])
