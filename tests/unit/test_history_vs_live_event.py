"""A pre-go-live month brought by the history import and a live ERP event of an order of that month: billed once, in
either order.

SOP-2.2: "Billable events are posted to the open invoice for the month in which they occurred. [...] An issued
invoice is immutable; corrections are made only under SOP-2.5." SOP-2.5: "Issued invoices are never edited. An error
is corrected by a credit note referencing the original invoice and lines". PA-10.1: the Partner is invoiced monthly,
one invoice per partner and month. docs/history.md: history is what came before go-live, "one finalized invoice per
partner and month"; a month "Revgov already billed" was refused whole.

Reading (which wins): the invoice that holds the order first stands. The ERP's order is one billable event: the later
report of it, live event or history row, is the same order and bills nothing again (SOP-2.2: posted once to the
month it occurred; an issued invoice is never edited). Import then event: the history's finalized invoice holds the
order, the event bills nothing (before: a second charge on the next draft as a late event). Event then import: the
live line holds the order, the history row of it is recorded as billed live, and the month's other rows go onto
that same open invoice (before: the whole month was refused, its other history lost). Either way the partner's
month holds each order once with the same amounts. Go-live 2026-12-07 (the tenant's provisioning, as history reads
it); in-memory engine, fixed clock.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.domain.errors import RuleViolation
from revgov.ports import Changes, Delete
from revgov.services import billing, history

P1 = "ptr_01JBNWPARTNER0000000000001"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
GO_LIVE = "2026-12-07T09:00:00Z"
ORDER = {"partner_id": P1, "order_ref": "SO-NOV-1", "shipped_on": "2026-11-20",
         "lines": [{"sku": "NW-SW-24P", "quantity": 10}]}  # fmt: skip


def _event(ledger: Ledger) -> dict[str, Any]:
    return ledger.bill("shipment.confirmed", ORDER, occurred_at="2026-11-20T10:00:00Z", erp_id="NW-ERP-NOV-1")


def _rows(amount: str) -> list[dict[str, str]]:
    """The ERP's November invoice: the same order (the amount it was invoiced at) and another one."""
    return [
        {"partner_id": P1, "invoice_ref": "INV-NOV-7", "invoice_date": "2026-11-30", "line_ref": "INV-NOV-7-1",
         "sku": "NW-SW-24P", "quantity": "10", "amount": amount, "service_date": "2026-11-20",
         "order_ref": "so-nov-1"},  # the ERP's export spells it in lower case: one reference (erp_reference)
        {"partner_id": P1, "invoice_ref": "INV-NOV-7", "invoice_date": "2026-11-30", "line_ref": "INV-NOV-7-2",
         "sku": "NW-SW-24P", "quantity": "2", "amount": "2000.00", "service_date": "2026-11-25",
         "order_ref": "SO-NOV-2"},
    ]  # fmt: skip


def _invoiced_at() -> str:
    """What the order is invoiced at (the price list on its day): the ERP invoiced it at the same."""
    scratch = Ledger(GO_LIVE)
    _event(scratch)
    (line,) = scratch.invoice(P1, "2026-11")["lines"]
    return str(line["amount"])


def _november(ledger: Ledger) -> tuple[Counter[tuple[str, str, str, str]], str]:
    lines = ledger.invoice(P1, "2026-11")["lines"]
    billed = Counter((str(ln.get("order_ref")).upper(), ln["sku"], str(ln["quantity"]), ln["amount"]) for ln in lines)
    return billed, ledger.invoice(P1, "2026-11")["total"]


def _facts(ledger: Ledger) -> int:
    """Sales facts of the month (what rebates and KPIs count)."""
    return len([f for f in ledger.rt.store.query("northwind", billing.SALES_FACTS, limit=1000).items
                if f.data["partner_id"] == P1 and f.data["period"] == "2026-11"])  # fmt: skip


def test_import_then_event_and_event_then_import_bill_the_order_once_alike() -> None:
    amount = _invoiced_at()
    first = Ledger(GO_LIVE)  # import, then the live event
    history.import_history(first.rt, FINANCE, {"source": "nov.csv", "lines": _rows(amount), "payments": []})
    answer = _event(first)
    assert answer["status"] == "processed" and "history import" in answer["reason"], answer
    assert "SOP-2.2" in answer["reason"], answer
    second = Ledger(GO_LIVE)  # the live event, then the import
    assert _event(second)["status"] == "processed"
    summary = history.import_history(second.rt, FINANCE, {"source": "nov.csv", "lines": _rows(amount),
                                                          "payments": []})  # fmt: skip
    assert summary["lines"] == 2 and summary["billed_live"] == 1, summary
    expected = Counter({("SO-NOV-1", "NW-SW-24P", "10", amount): 1, ("SO-NOV-2", "NW-SW-24P", "2", "2000.00"): 1})
    assert _november(first)[0] == expected == _november(second)[0]
    assert _november(first)[1] == _november(second)[1]
    assert _facts(first) == _facts(second) == 2  # each order line counted once by rebates and KPIs
    # nothing billed anywhere else: no December line for the order in either
    for ledger in (first, second):
        pointer = ledger.rt.store.get("northwind", billing.INVOICE_KEYS, f"{P1}#2026-12")
        assert pointer is None, pointer


def test_an_event_of_an_order_the_history_does_not_hold_is_still_billed_as_a_late_event() -> None:
    """SOP-2.5: a charge missing from an issued invoice is "a corrected charge on the next open invoice with the
    original service period": an order the imported month does not hold bills as before."""
    ledger = Ledger(GO_LIVE)
    rows = [{**_rows("2000.00")[1]}]
    history.import_history(ledger.rt, FINANCE, {"source": "nov.csv", "lines": rows, "payments": []})
    answer = _event(ledger)
    assert answer["status"] == "processed" and "history import" not in (answer["reason"] or ""), answer
    december = ledger.invoice(P1, "2026-12")["lines"]
    assert [(ln["order_ref"], ln["service_period"]["start"]) for ln in december] == [("SO-NOV-1", "2026-11-20")]


def test_a_month_billed_live_and_already_issued_is_still_refused_whole() -> None:
    """SOP-2.2 "An issued invoice is immutable": a live month already finalized takes no history row."""
    ledger = Ledger(GO_LIVE)
    _event(ledger)
    invoice = ledger.invoice(P1, "2026-11")
    billing.finalize_invoice(ledger.rt, FINANCE, invoice["invoice_id"])
    with pytest.raises(RuleViolation) as refused:
        history.import_history(ledger.rt, FINANCE, {"source": "nov.csv", "lines": _rows("1.00"), "payments": []})
    assert {e.path for e in refused.value.errors} == {"/lines/0/invoice_date", "/lines/1/invoice_date"}
    assert all("2026-11" in e.message for e in refused.value.errors)


def test_the_same_file_again_after_it_was_cut_short_posts_nothing_twice_on_the_open_invoice() -> None:
    """docs/history.md: "A file interrupted halfway keeps its claims: the same file again finishes it". Cut short
    after the open month was written (its summary, written last, missing), the file again adds no line to it."""
    amount = _invoiced_at()
    ledger = Ledger(GO_LIVE)
    _event(ledger)
    rows = [*_rows(amount), {**_rows(amount)[1], "line_ref": "INV-NOV-7-3", "order_ref": "", "quantity": "1",
                             "amount": "1000.00"}]  # a row without an order  # fmt: skip
    done = history.import_history(ledger.rt, FINANCE, {"source": "nov.csv", "lines": rows, "payments": []})
    before = _november(ledger)
    ledger.rt.store.commit("northwind", Changes(deletes=[Delete(history.IMPORTS, done["import_id"])]))
    again = history.import_history(ledger.rt, FINANCE, {"source": "nov.csv", "lines": rows, "payments": []})
    assert again["replayed"] is False and again["import_id"] == done["import_id"]
    assert _november(ledger) == before
