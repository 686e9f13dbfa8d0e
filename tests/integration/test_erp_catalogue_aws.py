"""Every ERP event type of the catalogue, put on the bus of the AWS engine (EventBridge, SQS and DynamoDB on moto),
is routed by the erp-billing rule to `bill_erp_event` and taken by its use case: processed, or held for a person with
an exception (docs/billing.md: `failed` is "an event held with an open exception"), never left retrying.

API.md "Events on the bus": "`detail-type` names are listed in `events/` with one valid sample each"; events/rules.json
`erp-billing`: every `revgov.erp` event goes to the billing handler. The embedded engine's bus is tested by the stack
suites; this is the same path on the AWS engine, one sample of each type, as `aws events put-events` would send it.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from billing_support import wait_until
from engine_support import put_on_bus
from revgov.domain.ids import typed_id
from revgov.services.billing.repository import settled_event
from support import ROOT

pytestmark = [pytest.mark.aws]

SAMPLES = sorted((ROOT / "events" / "revgov.erp").glob("*.json"))


class Later:
    """What a wait reports when it times out, computed then."""

    def __init__(self, compute: Any) -> None:
        self._compute = compute

    def __str__(self) -> str:
        return str(self._compute())


def _logged(rt: Any, tenant_id: str, event_id: str) -> Any:
    """The event log's entry of an event (its status and reason), or None."""
    from revgov.services import events

    try:
        return {k: v for k, v in events.get(rt, tenant_id, event_id).items() if k in ("status", "reason")}
    except Exception as missing:
        return repr(missing)


def test_every_erp_event_type_is_routed_to_its_use_case_on_the_aws_engine(stack: Any) -> None:
    rt = stack.runtime
    assert stack.runtime.settings.backend == "dynamodb"
    tenant_id = json.loads(SAMPLES[0].read_text(encoding="utf-8"))["detail"]["tenant_id"]
    partner_id = next(p.data["partner_id"] for p in rt.store.query(tenant_id, "PARTNER", limit=100).items
                      if p.data.get("status") == "active")
    sent: dict[str, str] = {}
    event_ids: dict[str, str] = {}
    for n, path in enumerate(SAMPLES):
        sample = json.loads(path.read_text(encoding="utf-8"))
        erp_id = f"PARITY-{os.urandom(6).hex()}"
        data = {**sample["detail"]["data"], "partner_id": partner_id}
        detail = {**sample["detail"], "event_id": typed_id("evt", rt.clock.now_ms(), os.urandom(10)),
                  "erp_event_id": erp_id, "data": data}
        put_on_bus(rt, detail["tenant_id"], sample["source"], sample["detail-type"], detail)
        sent[erp_id] = f"{sample['detail-type']} ({n})"
        event_ids[erp_id] = detail["event_id"]

    def logged() -> dict[str, Any]:
        return {kind: _logged(rt, tenant_id, event_ids[erp_id]) for erp_id, kind in sent.items()}

    def taken() -> bool:
        return all(isinstance(e, dict) and e.get("status") in ("processed", "failed") for e in logged().values())

    wait_until(taken, 60, what=Later(logged))
    assert len(sent) == len(SAMPLES) >= 10
    processed = [kind for erp_id, kind in sent.items() if settled_event(rt, tenant_id, erp_id) is not None]
    assert any(kind.startswith("shipment.confirmed") for kind in processed), logged()
