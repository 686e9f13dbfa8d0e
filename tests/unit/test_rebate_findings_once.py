"""One exception per rebate finding (issue 24: "each settlement run opens a fresh rebate_leakage exception for the
same line"). PA-7.1: a suspended Partner "does not accrue incentives" for the time of its suspension; a line sold
then is leakage for finance (ROUTE-REBATE-LEAKAGE). A later run of the same period that finds the same lines
refreshes the open exception instead of opening another; once finance closed it, the same lines open nothing.
"""

from __future__ import annotations

from memory_store import Ledger
from rebate_runs import settle_approved
from revgov.domain.access import Principal, Role
from revgov.ports import Changes, Put
from revgov.services import cases

P1 = "ptr_01JBNWPARTNER0000000000001"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
CLOSER = Principal("northwind", Role.FINANCE, "key_fin2")


def _leaky_quarter() -> Ledger:
    ledger = Ledger("2026-09-05T12:00:00Z")
    answer = ledger.bill(
        "shipment.confirmed",
        {
            "partner_id": P1,
            "order_ref": "SO-1",
            "shipped_on": "2026-09-05",
            "lines": [{"sku": "NW-SRV-R2", "quantity": 30}],
        },
        occurred_at="2026-09-05T10:00:00Z",
    )
    assert answer["status"] == "processed"
    partner = ledger.rt.store.get("northwind", "PARTNER", P1)
    assert partner is not None
    history = [
        {"at": "2026-09-01T00:00:00Z", "from": "active", "to": "suspended"},
        {"at": "2026-09-21T00:00:00Z", "from": "suspended", "to": "active"},
    ]
    ledger.rt.store.commit("northwind", Changes(puts=[Put("PARTNER", P1, {**partner.data, "history": history})]))
    ledger.clock.set("2026-10-03T10:00:00Z")
    return ledger


def _leakage_cases(ledger: Ledger) -> list[dict]:
    return [c for c in ledger.exceptions() if c["category"] == "rebate_leakage"]


def test_a_later_run_refreshes_the_open_leakage_exception_instead_of_opening_another():
    ledger = _leaky_quarter()
    _, first = settle_approved(ledger.rt, FINANCE, {"period": "2026-Q3", "run": 1})
    (case,) = _leakage_cases(ledger)
    assert case["queue"] == "finance" and {r["clause"] for r in case["reasons"]} >= {"PA-7.1"}
    assert case["case_id"] in first["exceptions"]
    ledger.clock.set("2026-10-10T10:00:00Z")
    _, second = settle_approved(ledger.rt, FINANCE, {"period": "2026-Q3", "run": 2})
    (again,) = _leakage_cases(ledger)
    assert again["case_id"] == case["case_id"] and again["case_id"] in second["exceptions"]
    assert again["seen_count"] == 2
    assert again["context"]["settlement_ids"] == [first["settlement_id"], second["settlement_id"]]


def test_once_finance_closed_it_the_same_lines_open_nothing():
    ledger = _leaky_quarter()
    settle_approved(ledger.rt, FINANCE, {"period": "2026-Q3", "run": 1})
    (case,) = _leakage_cases(ledger)
    cases.decide_case(ledger.rt, CLOSER, "exception", case["case_id"], "resolved", "nothing was paid for it")
    ledger.clock.set("2026-10-10T10:00:00Z")
    _, second = settle_approved(ledger.rt, FINANCE, {"period": "2026-Q3", "run": 2})
    assert [c["case_id"] for c in _leakage_cases(ledger)] == [case["case_id"]]
    assert case["case_id"] not in second["exceptions"]
