"""EventBridge put failures, SQS redelivery and handlers that crash midway: no event is lost, none is billed twice.

ERP shipments for one partner each make one invoice line, so the partner's draft invoice counts them: every injected
event must end up as exactly one line, whatever failed on the way.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from billing_support import wait_until
from fault_support import Fault, mentions, writes_collection
from revgov.edge.handlers import HANDLERS, flush_outbox
from revgov.services import erp
from security_support import Party, shipment, write_figures

FIGURES: dict[str, Any] = {"events_injected": 0, "events_lost": 0, "events_billed_twice": 0, "faults_injected": 0}


# botocore-level faults on EventBridge, DynamoDB and powertools calls: the stack on the AWS engine
pytestmark = [pytest.mark.aws]


def _lines(party: Party, event_ids: list[str]) -> int:
    """Invoice lines made from these events (every line names the event it came from)."""
    finance = party.by_role["finance"]
    wanted = set(event_ids)
    lines = 0
    for invoice in finance.get("/v1/invoices", limit=200).json()["items"]:
        detail = finance.get(f"/v1/invoices/{invoice['invoice_id']}").json()
        lines += sum(1 for line in detail["lines"] for e in line.get("event_ids", []) if e in wanted)
    return lines


def _status(party: Party, event_id: str) -> str | None:
    answer = party.admin.get(f"/v1/events/{event_id}")
    return answer.json()["status"] if answer.status_code == 200 else None


def _send(party: Party, partner_id: str, n: int) -> list[str]:
    sent = party.erp.post({"events": [shipment(party, partner_id) for _ in range(n)]})
    assert sent.status_code == 202, sent.text
    FIGURES["events_injected"] += n
    return [r["event_id"] for r in sent.json()["results"]]


def _settle(party: Party, event_ids: list[str], expected_lines: int) -> None:
    """Wait until every event is processed, then count: each one line, no more, no less."""
    try:
        wait_until(lambda: all(_status(party, e) == "processed" for e in event_ids), 60, what=event_ids)
    finally:
        lines = _lines(party, event_ids)
        FIGURES["events_lost"] += max(0, expected_lines - lines)
        FIGURES["events_billed_twice"] += max(0, lines - expected_lines)
        write_figures("faults-events", FIGURES)
    assert lines == expected_lines


@pytest.fixture(scope="module")
def partner(party: Party) -> str:
    return party.partners[1]


def test_events_put_while_the_bus_is_down_wait_in_the_outbox_and_are_all_billed(party, partner, faults, stack):
    with faults.inject(Fault("PutEvents", mentions(party.tenant_id), code="ServiceUnavailable", times=None)) as fault:
        event_ids = _send(party, partner, 5)
        waiting = stack.runtime.store.query(party.tenant_id, "OUTBOX", limit=100).items
        assert {item.key for item in waiting} >= set(event_ids)
        assert all(_status(party, e) == "received" for e in event_ids)
    FIGURES["faults_injected"] += fault.hits
    assert flush_outbox({}, None)["published"] >= 5
    _settle(party, event_ids, 5)
    # the handlers that billed them emit events of their own (accrual.updated): each waits in the outbox only
    # between its commit and its publication, so the outbox drains (it would not if one had been lost there)
    wait_until(lambda: not stack.runtime.store.query(party.tenant_id, "OUTBOX", limit=100).items, 30, what="outbox")


def test_a_partly_failed_put_keeps_the_failed_entries_for_the_next_flush(party, partner, faults, stack):

    count = iter(range(1000))

    def half_fail(params: dict[str, Any], send: Any) -> dict[str, Any]:
        """Every other ERP entry (across calls: each accepted ERP event is published on its own) fails."""
        entries = params["Entries"]
        fails = [e["Source"] == "revgov.erp" and next(count) % 2 == 1 for e in entries]
        kept = [e for e, fail in zip(entries, fails, strict=True) if not fail]
        sent = iter(send({**params, "Entries": kept})["Entries"] if kept else [])
        failed = {"ErrorCode": "InternalFailure", "ErrorMessage": "injected"}
        return {"FailedEntryCount": sum(fails), "Entries": [failed if fail else next(sent) for fail in fails]}

    with faults.inject(Fault("PutEvents", mentions(party.tenant_id), respond=half_fail, times=None)) as fault:
        event_ids = _send(party, partner, 4)
    FIGURES["faults_injected"] += fault.hits
    left = {item.key for item in stack.runtime.store.query(party.tenant_id, "OUTBOX", limit=100).items}
    assert left & set(event_ids) == set(event_ids[1::2])
    flush_outbox({}, None)
    _settle(party, event_ids, 4)


def test_a_redelivered_event_is_billed_once(party, partner, stack):
    event_ids = _send(party, partner, 1)
    _settle(party, event_ids, 1)
    bus_event = stack.runtime.store.get(party.tenant_id, erp.INBOUND, event_ids[0]).data
    record = {"messageId": "redelivery", "receiptHandle": "x", "body": json.dumps(bus_event), "eventSource": "aws:sqs"}
    threads = [
        threading.Thread(target=HANDLERS["bill_erp_event"], args=({"Records": [record, record]}, None))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    HANDLERS["bill_erp_event"]({"Records": [record]}, None)
    _settle(party, event_ids, 1)


def test_a_handler_that_fails_midway_is_redelivered_and_bills_once(party, partner, faults):
    """The first billing commit for the event fails (as if the handler crashed before committing): the queue
    delivers the event again, and the second delivery bills it."""
    crash = Fault("TransactWriteItems", writes_collection(party.tenant_id, "BILLED"), code="InternalServerError")
    with faults.inject(crash) as fault:
        event_ids = _send(party, partner, 1)
        wait_until(lambda: fault.hits >= 1, 30, what="the first delivery")
    FIGURES["faults_injected"] += fault.hits
    _settle(party, event_ids, 1)


def _idempotency_records(stack: Any, tenant_id: str) -> dict[str, str]:
    """The tenant's powertools idempotency records: key -> status."""
    from engine_support import idempotency_records

    return idempotency_records(stack.runtime, tenant_id)


def test_a_crash_after_the_commit_expires_with_the_invocation_and_the_redelivery_completes_it(
    party, partner, faults, stack
):
    """As in Lambda, the local router's invocation has a deadline: the record a crashed run left in progress expires
    with it, so the queue's redelivery runs again (the bill's own guard makes that a no-op) and completes the record,
    with no replay and no dead letter."""
    tenant = party.tenant_id
    before = set(_idempotency_records(stack, tenant))

    def completes(params: dict[str, Any]) -> bool:
        text = json.dumps(params, default=str)
        return f"T#{tenant}#IDEMPOTENCY" in text and "COMPLETED" in text

    with faults.inject(Fault("UpdateItem", completes, code="InternalServerError", times=1)) as fault:
        event_ids = _send(party, partner, 1)
        wait_until(lambda: fault.hits >= 1, 30, what="the crash after the commit")
    FIGURES["faults_injected"] += fault.hits

    def mine() -> dict[str, str]:
        return {k: v for k, v in _idempotency_records(stack, tenant).items() if k not in before}

    wait_until(lambda: list(mine().values()) == ["COMPLETED"], 30, what=f"the record of {event_ids} completed")
    assert _status(party, event_ids[0]) == "processed"
    _settle(party, event_ids, 1)


def test_a_crash_after_the_commit_never_bills_twice_even_replayed(party, partner, faults, stack):
    """The bill is committed but every attempt to mark the idempotency record completed fails: redeliveries find the
    record expired with its invocation and run again, the bill's own guard makes them no-ops (or they are
    dead-lettered), and a replay finds the guard too. One line, whatever happens."""
    tenant = party.tenant_id

    def completes(params: dict[str, Any]) -> bool:
        text = json.dumps(params, default=str)
        return f"T#{tenant}#IDEMPOTENCY" in text and "COMPLETED" in text

    with faults.inject(Fault("UpdateItem", completes, code="InternalServerError", times=None)) as fault:
        event_ids = _send(party, partner, 1)
        wait_until(lambda: _status(party, event_ids[0]) in ("dead_lettered", "processed"), 60, what=event_ids)
    FIGURES["faults_injected"] += fault.hits
    assert _lines(party, event_ids) == 1
    erp.replay(stack.runtime, tenant, event_ids, "system:fault-suite")
    _settle(party, event_ids, 1)
