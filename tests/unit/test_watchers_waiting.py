"""A scheduled watcher's exception may wait on the partner, and every watcher reads it as still undecided.

SOP-1.3: "The clock is paused only while an item is in the status "waiting on partner" and restarts when the Partner
responds." COP-1.3: "The clock stops while an item waits for information from the Partner and resumes when the
Partner replies." An item waiting on the partner is not decided: a watcher that finds the same thing again refreshes
it (its context, `seen_count`), never opens a second one and never takes it for closed; its status, its pause and
its due time stay as they are. Watchers: the month-end close (SOP-2.1 / COP-2.1, services/month_close.py), the
certification-lapse registration holds (PA-4.3(d), services/deal_holds.py), the rebate run's Q+30 / Q+45 watch
(SOP-7.2, services/rebates/run_watch.py) and the settlement run's findings (PA-7.1 leakage,
services/rebates/findings.py). In-memory engine, fixed clock.
"""

from __future__ import annotations

from typing import Any, cast

import pytest

from memory_store import Ledger, memory_runtime
from rebate_runs import prepare, second_finance, settle_approved
from revgov.domain import sla_pause
from revgov.domain.access import Principal, Role
from revgov.domain.cases import Case
from revgov.domain.errors import RuleViolation
from revgov.domain.partners import tiers_by_rank
from revgov.local.demo_partners import demo_application, onboard
from revgov.ports import Changes, Put
from revgov.services import (
    case_repository,
    case_waiting,
    cases,
    deal_holds,
    deals,
    month_close,
    partner_departures,
    rebates,
)
from revgov.services.rebates import run_watch

P1 = "ptr_01JBNWPARTNER0000000000001"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
SALES = Principal("northwind", Role.SALES, "key_01JX00000000000000000SALES")
OPS = Principal("northwind", Role.CHANNEL_OPS, "key_01JX000000000000000000OPS0")
QUESTION = "Please confirm the delivery date of the October shipment"
WAITING = sla_pause.WAITING


def _case(rt: Any, case_id: str) -> dict[str, Any]:
    stored = cases.find(rt, "northwind", case_id)
    assert stored is not None
    return dict(stored.data)


def _ship(ledger: Ledger, on: str, sku: str, quantity: int) -> None:
    ledger.clock.set(f"{on}T12:00:00Z")
    data = {"partner_id": P1, "order_ref": f"SO-{on}-{sku}", "shipped_on": on,
            "lines": [{"sku": sku, "quantity": quantity}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at=f"{on}T10:00:00Z")["status"] == "processed"


def _wait_directly(rt: Any, case_id: str, at: str) -> None:
    """A case with no partner to ask (a period's or a run's finding) put in the waiting status as stored, to prove the
    watcher reads that status as undecided whatever put it there."""
    stored = cases.find(rt, "northwind", case_id)
    assert stored is not None
    asked = {"since": at, "asked_by": "finance:key_fin", "question": QUESTION}
    waiting = {**stored.data, "status": WAITING, "waiting": asked}
    rt.store.commit("northwind", Changes(puts=[case_repository.put(cast(Case, waiting), version=stored.version)]))


def test_sop_1_3_the_month_close_watchers_exception_waits_on_the_partner_and_is_refreshed_not_duplicated():
    ledger = Ledger("2026-10-12T10:00:00Z")
    _ship(ledger, "2026-10-12", "NW-SW-24P", 1)
    ledger.clock.set("2026-11-03T00:01:00Z")  # SOP-2.1: 48 h after the month's end passed, the draft is late
    assert month_close.watch(ledger.rt, "northwind")["opened"] == 1
    (case,) = [c for c in ledger.exceptions() if c["requested_by"] == month_close.ACTOR]
    ledger.clock.set("2026-11-03T02:00:00Z")
    asked = case_waiting.ask_partner(ledger.rt, FINANCE, "exception", case["case_id"], QUESTION)  # was a 409
    assert asked["status"] == WAITING
    ledger.clock.set("2026-11-03T06:01:00Z")
    assert month_close.watch(ledger.rt, "northwind") == {"opened": 0, "refreshed": 1, "looked_at": 1}
    again = _case(ledger.rt, case["case_id"])
    assert (again["status"], again["seen_count"], again["due_at"]) == (WAITING, 2, case["due_at"])  # clock paused
    assert again["waiting"]["since"] == asked["waiting"]["since"]
    assert len([c for c in ledger.exceptions() if c["requested_by"] == month_close.ACTOR]) == 1


def _registration(partner_id: str) -> dict[str, Any]:
    customer = {"id": "CUST-WAIT-1", "name": "Harbor", "contact": "D. Ortiz"}
    return {"partner_id": partner_id, "customer": customer, "family": "security", "estimated_value": "9000.00",
            "expected_close": "2026-06-30"}  # fmt: skip


def _suspended_registration() -> tuple[Any, Any, str]:
    """PA-4.3(d): an approved security registration suspended by the certification sweep (its only holder left)."""
    rt, clock = memory_runtime("2026-03-02T09:00:00.000Z")
    policy = rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]
    gold = next(t for t in tiers_by_rank(policy) if t["tier"] == "gold")
    partner = onboard(rt, policy, demo_application("Waiting Networks", "reseller", gold), "active", sales=SALES,
                      approver=OPS)  # fmt: skip
    clock.set("2026-05-04T10:00:00.000Z")
    approval_id = deals.register(rt, SALES, _registration(partner["partner_id"]))["approval_id"]
    cases.decide_case(rt, OPS, "approval", approval_id, "approved", "checked under PA-5.2")
    departure = {"certification_id": "cert-security-pro", "last_day": "2026-06-05"}  # its only holder
    clock.set("2026-06-08T10:00:00.000Z")
    partner_departures.record(rt, OPS, partner["partner_id"], departure)
    assert deal_holds.sweep(rt, "northwind")["opened"] == 1
    (case_id,) = [c.data["case_id"] for c in rt.store.query("northwind", "CASE", limit=500).items
                  if c.data["category"] == deal_holds.CATEGORY]  # fmt: skip
    return rt, clock, case_id


def test_sop_1_3_a_suspended_registrations_exception_waits_on_the_partner_and_the_sweep_keeps_watching_it():
    rt, clock, case_id = _suspended_registration()
    clock.set("2026-06-08T11:00:00.000Z")
    before = _case(rt, case_id)
    case_waiting.ask_partner(rt, OPS, "exception", case_id, "Has a new security professional been certified?")
    clock.set("2026-06-09T10:00:00.000Z")
    counts = deal_holds.sweep(rt, "northwind")
    assert (counts["opened"], counts["refreshed"]) == (0, 1)  # still suspended: the same exception, refreshed
    again = _case(rt, case_id)
    assert (again["status"], again["seen_count"], again["due_at"]) == (WAITING, 2, before["due_at"])
    marker = rt.store.get("northwind", deal_holds.HOLDS, again["subject"]["id"])
    assert marker is not None and marker.data["state"] == "open"  # still watched: lifted, the sweep closes it


def test_a_watcher_closing_a_waiting_exception_ends_its_pause_at_the_decision():
    """SOP-1.3: the clock "restarts when the Partner responds"; decided while it waits, the wait ends there."""
    case = {"case_id": "cas_1", "kind": "exception", "status": WAITING, "due_at": "2026-06-09T10:00:00.000Z",
            "waiting": {"since": "2026-06-08T11:00:00.000Z", "asked_by": "channel_ops:key_ops", "question": "?"},
            "queue": "channel_ops"}  # fmt: skip
    cite = {"rule_id": "DEAL-CERT-LAPSE", "clause": "PA-4.3"}
    put = cases.closed_by_watcher(case, 3, actor="system:deal_holds", note="lifted", rule=cite,
                                  at="2026-06-08T13:00:00.000Z")
    closed = put.data
    assert closed["status"] == "resolved" and "waiting" not in closed
    assert closed["pauses"][-1]["until"] == "2026-06-08T13:00:00.000Z" and closed["paused_seconds"] == 7200


def test_sop_7_2_the_late_rebate_run_exception_waiting_is_refreshed_not_duplicated():
    ledger = Ledger("2026-09-05T12:00:00Z")
    _ship(ledger, "2026-09-05", "NW-SRV-R2", 30)
    ledger.clock.set("2026-10-20T09:00:00Z")
    status, prepared = prepare(ledger.rt, FINANCE, {"period": "2026-Q3"})
    assert status == 201
    ledger.clock.set("2026-10-31T06:00:00Z")  # Q + 31: not approved by Q + 30
    assert run_watch.watch(ledger.rt, "northwind")["opened"] == 1
    (case,) = [c for c in ledger.exceptions() if c["category"] == "rebate_run_overdue"]
    with pytest.raises(RuleViolation):  # a period's finding concerns no partner: there is no one to ask (SOP-1.3)
        case_waiting.ask_partner(ledger.rt, FINANCE, "exception", case["case_id"], QUESTION)
    _wait_directly(ledger.rt, case["case_id"], "2026-10-31T07:00:00.000Z")
    ledger.clock.set("2026-11-15T06:00:00Z")  # Q + 46: the issue deadline missed too
    assert run_watch.watch(ledger.rt, "northwind") == {"opened": 0, "refreshed": 1, "looked_at": 1}
    (again,) = [c for c in ledger.exceptions() if c["category"] == "rebate_run_overdue"]
    assert (again["status"], again["context"]["overdue"]) == (WAITING, ["approval", "issue"])
    rebates.approve_settlement(ledger.rt, second_finance("northwind"), prepared["settlement_id"], {})


def test_pa_7_1_a_waiting_leakage_exception_is_refreshed_by_the_next_run_not_opened_again():
    ledger = Ledger("2026-09-05T12:00:00Z")
    _ship(ledger, "2026-09-05", "NW-SRV-R2", 30)
    partner = ledger.rt.store.get("northwind", "PARTNER", P1)
    assert partner is not None
    history = [{"at": "2026-09-01T00:00:00Z", "from": "active", "to": "suspended"},
               {"at": "2026-09-21T00:00:00Z", "from": "suspended", "to": "active"}]  # fmt: skip
    ledger.rt.store.commit("northwind", Changes(puts=[Put("PARTNER", P1, {**partner.data, "history": history})]))
    ledger.clock.set("2026-10-03T10:00:00Z")
    _, first = settle_approved(ledger.rt, FINANCE, {"period": "2026-Q3", "run": 1})
    (case,) = [c for c in ledger.exceptions() if c["category"] == "rebate_leakage"]
    _wait_directly(ledger.rt, case["case_id"], "2026-10-03T11:00:00.000Z")
    ledger.clock.set("2026-10-10T10:00:00Z")
    _, second = settle_approved(ledger.rt, FINANCE, {"period": "2026-Q3", "run": 2})
    (again,) = [c for c in ledger.exceptions() if c["category"] == "rebate_leakage"]
    assert again["case_id"] == case["case_id"] and again["case_id"] in second["exceptions"]
    assert (again["status"], again["seen_count"]) == (WAITING, 2)
    assert again["context"]["settlement_ids"] == [first["settlement_id"], second["settlement_id"]]

