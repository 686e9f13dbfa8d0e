"""The ERP webhook's request example is one an ERP integrator can send as it stands.

Found as a new ERP integrator: `POST /v1/webhooks/erp` was the only body-taking operation of the OpenAPI document
without a request example (README: "The public contract is `GET /v1/openapi.json`"), and the samples under
`events/revgov.erp/` are the bus's EventBridge envelopes (`detail-type`, `detail.erp_event_id`), not the webhook's body
(docs/billing.md "The webhook": `{id, type, occurred_at, data}` or `{"events": [...]}`), so the first push was a guess.
The example is a batch the webhook validates and the billing handler bills (northwind's price list: NW-SW-24P USD
1,250.00, PA-6.1), for the billing samples' partner.
"""

from __future__ import annotations

from typing import Any

from memory_store import Ledger
from revgov import schemas
from revgov.edge import openapi


def _example() -> dict[str, Any]:
    post = openapi.document()["paths"]["/v1/webhooks/erp"]["post"]
    return post["requestBody"]["content"]["application/json"]["examples"]["default"]["value"]


def test_the_example_is_a_valid_batch_of_valid_events():
    example = _example()
    assert schemas.problems("api/erp-event-batch.schema.json", example) == []
    for event in example["events"]:
        assert schemas.problems("events/erp-event.schema.json", event) == [], event["type"]


def test_each_event_of_the_example_bills_a_line():
    example = _example()
    ledger = Ledger("2026-10-20T12:00:00Z")
    for event in example["events"]:
        answer = ledger.bill(event["type"], event["data"], occurred_at=event["occurred_at"], erp_id=event["id"])
        assert answer["status"] == "processed", (event["type"], answer)
    (shipment,) = [ln for ln in ledger.invoice(example["events"][0]["data"]["partner_id"], "2026-10")["lines"]
                   if ln["kind"] == "shipment"]  # fmt: skip
    assert (shipment["sku"], shipment["amount"]) == ("NW-SW-24P", "5000.00")  # 4 x 1,250.00 (PA-6.1)
