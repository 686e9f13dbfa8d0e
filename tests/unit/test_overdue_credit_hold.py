"""A partner's overdue statement and the daily credit-hold sweep, end to end on the in-memory engine.

PA-10.8: "Overdue amounts bear interest at 1.0% per month or the maximum lawful rate, if lower. Where any amount is
more than 30 days overdue, new orders are placed on credit hold".
PA-6.7: "Standard payment terms are net 30 days from the invoice date."

P1 ships 2 x NW-SRV-R2 (list 5,200.00: 10,400.00) on 2026-09-05; its September invoice is issued 2026-10-01, due
2026-10-31. On 2026-11-30 it is 30 days overdue (no hold); on 2026-12-01, 31 (hold). Interest on 2026-12-01: November
1..30 (30 of 30 days) and December 1 (1 of 31): 10,400.00 x 1% x (1 + 1/31) = 104.00 + 3.3548... = 107.3548... =
107.35 (worked by hand before the code).
"""

from __future__ import annotations

import pytest

from memory_store import Ledger
from overdue_support import AS_P1, AS_P2, FINANCE, P1, P2, published, september
from revgov.domain.errors import MalformedRequest, NotFound, RuleViolation
from revgov.ports import Changes, Put
from revgov.services import tenant_repository
from revgov.services.billing import overdue


def _pay(ledger: Ledger, invoice_id: str, on: str) -> None:
    ledger.clock.set(f"{on}T09:00:00Z")
    data = {"partner_id": P1, "invoice_id": invoice_id, "paid_on": on, "payment_ref": f"RCPT-{on}"}
    assert ledger.bill("invoice.paid", data, occurred_at=f"{on}T09:00:00Z")["status"] == "processed"


def test_pa_10_8_statement_states_days_overdue_interest_and_the_hold():
    ledger, invoice_id = september()
    ledger.clock.set("2026-12-01T08:00:00Z")
    statement = overdue.overdue_statement(ledger.rt, AS_P1, partner_id=None, as_of=None)
    assert (statement["partner_id"], statement["as_of"], statement["clause"]) == (P1, "2026-12-01", "PA-10.8")
    [row] = statement["invoices"]
    assert (row["invoice_id"], row["total"], row["due_on"], row["days_overdue"]) == (
        invoice_id, "10400.00", "2026-10-31", 31)  # fmt: skip
    assert row["late_payment"]["interest"] == "107.35" and statement["totals"]["interest"] == "107.35"
    hold = statement["credit_hold"]
    assert hold is not None and hold["invoice_ids"] == [invoice_id] and hold["clause"] == "PA-10.8"
    # a day earlier: 30 days overdue, not "more than 30": no hold; November 1..30 = 10,400.00 x 1% = 104.00
    earlier = overdue.overdue_statement(ledger.rt, FINANCE, partner_id=P1, as_of="2026-11-30")
    assert earlier["credit_hold"] is None and earlier["invoices"][0]["late_payment"]["interest"] == "104.00"


def test_a_partner_reads_its_own_statement_only():
    ledger, _ = september()
    ledger.clock.set("2026-12-01T08:00:00Z")
    with pytest.raises(NotFound):
        overdue.overdue_statement(ledger.rt, AS_P2, partner_id=P1, as_of=None)
    mine = overdue.overdue_statement(ledger.rt, AS_P2, partner_id=None, as_of=None)
    assert mine["partner_id"] == P2 and mine["invoices"] == [] and mine["credit_hold"] is None


@pytest.mark.parametrize(
    ("partner_id", "as_of", "error"),
    [
        (None, None, MalformedRequest),  # staff must name the partner
        ("ptr_01JBNWPARTNER0000000000009", None, NotFound),  # no such partner
        (P1, "2026-02-30", MalformedRequest),  # not a calendar day
        (P1, "2026-12-02", MalformedRequest),  # after today
    ],
)
def test_bad_inputs_are_refused_and_change_nothing(partner_id, as_of, error):
    ledger, _ = september()
    ledger.clock.set("2026-12-01T08:00:00Z")
    before = len(ledger.rt.store.audit_records("northwind"))
    with pytest.raises(error):
        overdue.overdue_statement(ledger.rt, FINANCE, partner_id=partner_id, as_of=as_of)
    assert len(ledger.rt.store.audit_records("northwind")) == before


def test_a_tenant_without_the_rule_is_told_so():
    ledger, _ = september()
    stored = tenant_repository.stored_profile(ledger.rt.store, "northwind")
    assert stored is not None
    config = stored.data["config"]
    billing_policy = {k: v for k, v in config["policy"]["billing"].items() if k != "late_payment"}
    config = {**config, "policy": {**config["policy"], "billing": billing_policy}}
    profile = Put(*tenant_repository.PROFILE, {**stored.data, "config": config}, expected_version=stored.version)
    ledger.rt.store.commit("northwind", Changes(puts=[profile]))
    with pytest.raises(RuleViolation):
        overdue.overdue_statement(ledger.rt, FINANCE, partner_id=P1, as_of=None)
    assert overdue.sweep_credit_holds(ledger.rt, "northwind") == {"looked_at": 0, "placed": 0, "lifted": 0,
                                                                  "refreshed": 0}  # fmt: skip


def test_pa_10_8_the_daily_sweep_places_the_hold_once_and_lifts_it_on_payment():
    ledger, invoice_id = september()
    ledger.clock.set("2026-11-30T02:00:00Z")
    assert overdue.sweep_credit_holds(ledger.rt, "northwind")["placed"] == 0  # 30 days: not yet
    ledger.clock.set("2026-12-01T02:00:00Z")
    assert overdue.sweep_credit_holds(ledger.rt, "northwind")["placed"] == 1
    assert overdue.sweep_credit_holds(ledger.rt, "northwind") == {
        "looked_at": 1,
        "placed": 0,
        "lifted": 0,
        "refreshed": 0,
    }  # fmt: skip  idempotent
    [placed] = published(ledger, "partner.credit_hold_placed")
    assert placed["detail"]["partner_id"] == P1 and placed["detail"]["clause"] == "PA-10.8"
    assert placed["detail"]["invoice_ids"] == [invoice_id]
    _pay(ledger, invoice_id, "2026-12-03")
    ledger.clock.set("2026-12-04T02:00:00Z")
    assert overdue.sweep_credit_holds(ledger.rt, "northwind")["lifted"] == 1
    assert overdue.sweep_credit_holds(ledger.rt, "northwind")["lifted"] == 0
    assert len(published(ledger, "partner.credit_hold_lifted")) == 1
    audit = [r for r in ledger.rt.store.audit_records("northwind") if r["action"].startswith("partner.credit_hold")]
    assert [(r["action"], r["subject"], r["clauses"]) for r in audit] == [
        ("partner.credit_hold_placed", P1, ["PA-10.8"]), ("partner.credit_hold_lifted", P1, ["PA-10.8"])]  # fmt: skip
    # paid on 2026-12-03: interest through that day, then no more: Nov 30/30 + Dec 3/31 =
    # 10,400.00 x 1% x (1 + 3/31) = 104.00 + 10.0645... = 114.06
    ledger.clock.set("2026-12-20T08:00:00Z")
    statement = overdue.overdue_statement(ledger.rt, FINANCE, partner_id=P1, as_of=None)
    assert statement["credit_hold"] is None and statement["invoices"][0]["days_overdue"] == 0
    assert statement["invoices"][0]["late_payment"]["interest"] == "114.06"
