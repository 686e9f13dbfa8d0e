"""The commit of one ERP event: its lines, invoice headers, sales facts, exceptions, audit records, event-log entry
and the BILLED marker (written must_be_absent: what makes an event billed once) together."""

from __future__ import annotations

from typing import Any

from ...ports import Changes
from .. import events
from .lines import stage_invoices
from .posting import Outcome, Posting, became, log_put
from .repository import SettledEvent, billed_put
from .sla import close_sla_watch


def commit_posting(posting: Posting, outcome: Outcome) -> None:
    """The event's single commit: its SLA watch closed, the invoices it touched, the BILLED marker once it is settled
    for good, and its event-log entry."""
    changes = posting.changes
    close_sla_watch(posting, outcome)
    stage_invoices(posting)
    if outcome.done:
        settled: SettledEvent = {
            "erp_event_id": posting.erp_event_id,
            "event_id": posting.event_id,
            "detail_type": posting.detail_type,
            "reason": outcome.reason,
            "line_ids": [line["line_id"] for line in posting.lines],
            "case_ids": posting.case_ids,
            "settled_at": posting.now,
        }
        changes.puts.append(billed_put(settled))
    made = became((line["line_id"] for line in posting.lines), posting.case_ids)
    changes.puts.append(log_put(posting, outcome.status, outcome.reason, made))
    posting.rt.commit(posting.tenant_id, changes)


def answer_duplicate(posting: Posting, settled: SettledEvent) -> dict[str, Any]:
    """A settled event delivered again: answer what it became; make sure the event log says so."""
    current = posting.get(events.EVENTS, posting.event_id)
    if current is None or current.data.get("status") != "processed":
        made = became(settled["line_ids"], settled["case_ids"])
        entry = log_put(posting, "processed", settled["reason"], made)
        posting.rt.store.commit(posting.tenant_id, Changes(puts=[entry]))
    return {"event_id": posting.event_id, "status": "processed", "reason": settled["reason"], "duplicate": True}
