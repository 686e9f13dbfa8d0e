"""A failed event's log line names the event a support person can look up.

Found as a support person (ninth new-user round): `GET /v1/events/{event_id}` answers `retrying` or `dead_lettered`
with the reason (docs/billing.md "The webhook"), and the README promises "structured JSON logs with `tenant_id` and
`correlation_id`" (Configuration, `POWERTOOLS_LOG_LEVEL`); but the handler's "event handling failed" line named only
the queue's `message_id`, which no answer of the API shows, so the traceback behind an event could not be found by its
id. The line now names the handler, the tenant, the event id (the `evt_…` the API answers), the ERP's id when there is
one, and the detail-type.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from revgov.edge import handlers
from support import for_this_thread


def _record(detail: dict[str, object], detail_type: str = "shipment.confirmed") -> dict[str, object]:
    bus = {"source": "revgov.erp", "detail-type": detail_type, "detail": detail}
    return {"messageId": "msg-1", "body": json.dumps(bus), "attributes": {}}


def _failure_lines(caplog: Any) -> list[dict[str, Any]]:
    """The structured fields of each "event handling failed" record (powertools puts `extra` on the record)."""
    return [vars(r) for r in caplog.records if r.getMessage() == "event handling failed"]


def test_a_failed_event_is_logged_with_its_tenant_event_id_and_handler(caplog, monkeypatch):
    for_this_thread(monkeypatch, handlers, "_tenant_gone", lambda _bus_event, _gone: False)  # no store needed
    detail = {"tenant_id": "northwind", "event_id": "evt_01JX0000000000000000000001", "erp_event_id": "NW-ERP-1",
              "data": {}}

    def boom(_bus_event: dict[str, object]) -> None:
        raise RuntimeError("the store was busy")

    with caplog.at_level(logging.ERROR):
        answer = handlers.drain([_record(detail)], boom, handler="bill_erp_event")
    assert answer == {"batchItemFailures": [{"itemIdentifier": "msg-1"}]}
    (line,) = _failure_lines(caplog)
    assert line["tenant_id"] == "northwind"
    assert line["event_id"] == "evt_01JX0000000000000000000001"
    assert line["erp_event_id"] == "NW-ERP-1"
    assert line["detail_type"] == "shipment.confirmed"
    assert line["handler"] == "bill_erp_event" and line["message_id"] == "msg-1"
    assert "the store was busy" in str(line["exc_info"][1])


def test_a_record_that_is_not_json_is_still_logged_with_its_message_id(caplog):
    with caplog.at_level(logging.ERROR):
        answer = handlers.drain([{"messageId": "msg-2", "body": "{oops", "attributes": {}}], lambda _e: None,
                                handler="bill_erp_event")
    assert answer == {"batchItemFailures": [{"itemIdentifier": "msg-2"}]}
    (line,) = _failure_lines(caplog)
    assert line["message_id"] == "msg-2" and line["handler"] == "bill_erp_event"
