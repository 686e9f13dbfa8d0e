"""PA-5.3 over HTTP: "A registration expires at the end of its exclusivity period unless an order has been accepted."
`POST /v1/deals/{deal_id}/order` (channel ops records the accepted order). Bad input gets a problem+json and changes
nothing; a partner key may not record an order (the Distributor accepts orders). Dates relative to the stack's clock.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from test_idempotency_api import close_date

from support import assert_problem, northwind_silver_partners

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def pair(stack: Any, api: Any) -> dict[str, Any]:
    return northwind_silver_partners(stack, api, ("Orderer", "Rival"), "Order")


def _instant(stack: Any, minutes: int) -> str:
    now = datetime.fromisoformat(stack.runtime.clock.now_iso().replace("Z", "+00:00"))
    return (now + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_channel_ops_records_the_accepted_order_once_and_bad_input_changes_nothing(pair, stack):
    partner_id, client = pair["partners"][0]
    ops = pair["roles"]["channel_ops"]
    customer = {"id": f"CUST-{uuid.uuid4().hex[:8]}", "name": "Harbor", "contact": "D. Ortiz"}
    body = {"partner_id": partner_id, "customer": customer,
            "family": "networking", "estimated_value": "84000.00", "expected_close": close_date(stack)}
    deal = client.post("/v1/deals", body).json()
    early = ops.post(f"/v1/deals/{deal['deal_id']}/order", {"order_ref": "SO-1", "accepted_at": _instant(stack, -1)})
    assert_problem(early, 409)  # pending: only an approved registration is kept by an order
    assert ops.post(f"/v1/approvals/{deal['approval_id']}/decision", {"outcome": "approved"}).status_code == 200
    path = f"/v1/deals/{deal['deal_id']}/order"
    bad = [
        ({"order_ref": "SO-1"}, 400),  # accepted_at missing
        ({"order_ref": "SO-1", "accepted_at": "2026-11-20T10:00:00+01:00"}, 400),  # not UTC Z
        ({"order_ref": "SO-1", "accepted_at": "２０２６-11-20T10:00:00Z"}, 400),  # full-width digits
        ({"order_ref": "", "accepted_at": _instant(stack, 0)}, 400),
        ({"order_ref": "SO-1", "accepted_at": _instant(stack, 0), "partner_id": partner_id}, 400),  # unknown field
        ({"order_ref": "SO-1", "accepted_at": _instant(stack, 60 * 24)}, 422),  # in the future
        ({"order_ref": "SO-1", "accepted_at": _instant(stack, -60 * 24)}, 422),  # before the approval
    ]
    for sent, status in bad:
        assert_problem(ops.post(path, sent), status)
    assert "order" not in ops.get(f"/v1/deals/{deal['deal_id']}").json()  # nothing changed
    assert client.post(path, {"order_ref": "SO-1", "accepted_at": _instant(stack, 0)}).status_code == 403
    kept = ops.post(path, {"order_ref": "SO-1", "accepted_at": _instant(stack, 0)})
    assert kept.status_code == 200, kept.text
    assert kept.json()["order"]["clause"] == "PA-5.3" and kept.json()["status"] == "approved"
    assert_problem(ops.post(path, {"order_ref": "SO-2", "accepted_at": _instant(stack, 0)}), 409)  # once
    assert client.get(f"/v1/deals/{deal['deal_id']}").json()["order"]["order_ref"] == "SO-1"
