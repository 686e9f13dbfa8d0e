"""Go-live history import (issue 24): past invoice lines and payments per partner, checked row by row, audited,
idempotent per file, used by rebates as if they had arrived live. Expectations are computed by hand from the
clauses, quoted; the use cases run on the in-memory engine with a fixed clock.

PA-7.3: "Silver, Gold and Platinum Partners earn a growth rebate of 2.0% of incremental Qualifying Revenue, where
incremental Qualifying Revenue is the Quarter's Qualifying Revenue less the baseline. The baseline is the Partner's
Qualifying Revenue for the same Quarter of the previous Program Year ... The growth rebate is payable only where the
Quarter's Qualifying Revenue is at least 10% above the baseline ... Baseline revenue is recomputed for credit notes
issued against baseline invoices up to the date of calculation."
PA-1.2: Qualifying Revenue is "net of all credit notes issued against those invoices, whenever issued".
PA-7.2 (volume, tiered and retroactive): 100,000.00 -> 1.0%.
"""

from __future__ import annotations

from typing import Any

import pytest

from memory_store import Ledger
from rebate_runs import settle_approved
from revgov.domain.access import Principal, Role
from revgov.domain.errors import MalformedRequest, RuleViolation
from revgov.ports import Changes, Put
from revgov.services import billing, history, rebates

P1 = "ptr_01JBNWPARTNER0000000000001"  # platinum
P2 = "ptr_01JBNWPARTNER0000000000002"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
GO_LIVE = "2026-10-01T08:00:00Z"


def _line(ref: str, date: str, amount: str, quantity: str, **extra: str) -> dict[str, str]:
    return {"partner_id": P1, "invoice_ref": f"INV-{ref.split('-')[0]}", "invoice_date": date, "line_ref": ref,
            "sku": "NW-SW-24P", "quantity": quantity, "amount": amount, **extra}  # fmt: skip


# Q4 2025 of partner 1, as its ERP billed it: October 40 switches (50,000.00), November 32 (40,000.00), and in
# December a credit note of 5,000.00 against October's line (4 switches billed in error).
HISTORY: dict[str, Any] = {
    "source": "nw-history.csv",
    "lines": [
        _line("A100-1", "2025-10-31", "50000.00", "40", service_date="2025-10-14"),
        _line("A101-1", "2025-11-30", "40000.00", "32", service_date="2025-11-10"),
        {
            "partner_id": P1,
            "invoice_ref": "INV-C102",
            "invoice_date": "2025-12-15",
            "line_ref": "C102-1",
            "kind": "credit_note",
            "sku": "NW-SW-24P",
            "quantity": "4",
            "amount": "-5000.00",
            "credits_line_ref": "A100-1",
            "reason": "billing_error",
        },
    ],
    "payments": [
        {"partner_id": P1, "invoice_ref": "INV-A100", "paid_on": "2025-11-20", "payment_ref": "RCPT-1"},
    ],
}


def _ledger() -> Ledger:
    ledger = Ledger(GO_LIVE)
    partner = ledger.rt.store.get("northwind", "PARTNER", P1)
    assert partner is not None  # a partner of the distributor since 2024 (its activation, kept at go-live)
    ledger.rt.store.commit(
        "northwind", Changes(puts=[Put("PARTNER", P1, {**partner.data, "activated_at": "2024-01-10T09:00:00Z"})])
    )
    return ledger


def _count(ledger: Ledger, collection: str) -> int:
    return len(ledger.rt.store.query("northwind", collection, limit=1000).items)


def test_imported_history_becomes_finalized_monthly_invoices_with_their_payment_and_a_referenced_credit_note():
    ledger = _ledger()
    result = history.import_history(ledger.rt, FINANCE, HISTORY)
    assert (result["invoices"], result["lines"], result["payments"], result["replayed"]) == (3, 3, 1, False)
    october = ledger.invoice(P1, "2025-10")
    assert (october["status"], october["total"], october["paid_on"]) == ("finalized", "50000.00", "2025-11-20")
    assert october["lines"][0]["family"] == "networking" and october["lines"][0]["cost"] == "36000.00"  # 40 x 900
    assert ledger.invoice(P1, "2025-11")["paid_on"] is None  # no payment for it in the file
    (note,) = ledger.invoice(P1, "2025-12")["lines"]
    assert (note["kind"], note["amount"]) == ("credit_note", "-5000.00")
    assert note["references_line"] == october["lines"][0]["line_id"]  # SOP-2.5: referencing the original line
    fact = ledger.rt.store.get("northwind", billing.SALES_FACTS, note["line_id"])
    assert fact is not None and fact.data["net_amount"] == "-5000.00"
    trail = [r for r in ledger.rt.store.audit_records("northwind") if r["action"] == "history.imported"]
    assert len(trail) == 1 and trail[0]["subject"] == result["import_id"] and trail[0]["actor"] == FINANCE.actor


def test_the_same_file_again_is_the_same_import_and_writes_nothing():
    ledger = _ledger()
    first = history.import_history(ledger.rt, FINANCE, HISTORY)
    counts = {c: _count(ledger, c) for c in (billing.INVOICES, billing.LINES, billing.SALES_FACTS)}
    again = history.import_history(ledger.rt, FINANCE, {**HISTORY, "source": "renamed.csv"})
    assert again["replayed"] is True and again["import_id"] == first["import_id"]
    assert {c: _count(ledger, c) for c in counts} == counts
    assert len([r for r in ledger.rt.store.audit_records("northwind") if r["action"] == "history.imported"]) == 1


def test_a_crash_halfway_is_finished_by_importing_the_file_again():
    ledger = _ledger()
    writes = history._write_month
    calls = {"n": 0}

    def crash_on_second(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        writes(*args, **kwargs)

    history._write_month = crash_on_second  # type: ignore[assignment]
    try:
        with pytest.raises(RuntimeError):
            history.import_history(ledger.rt, FINANCE, HISTORY)
    finally:
        history._write_month = writes  # type: ignore[assignment]
    result = history.import_history(ledger.rt, FINANCE, HISTORY)
    assert result["replayed"] is False and _count(ledger, billing.INVOICES) == 3 and _count(ledger, billing.LINES) == 3


def test_an_imported_partners_growth_rebate_matches_the_hand_computation():
    # Baseline 2025-Q4 (PA-7.3 "same Quarter of the previous Program Year"), net of the December credit note against
    # the October invoice (PA-1.2 "whenever issued"): 50,000.00 + 40,000.00 - 5,000.00 = 85,000.00.
    # Live 2026-Q4: 100 switches shipped 12 Oct 2026 = 125,000.00. 10% above the baseline is 93,500.00: reached.
    # Growth rebate = 2.0% x (125,000.00 - 85,000.00) = 800.00. Volume rebate (PA-7.2) = 1.0% x 125,000.00 = 1,250.00.
    # Volume + growth 2,050.00 is below the PA-7.6 cap (5.0% of the volume rebate's basis: 6,250.00).
    ledger = _ledger()
    history.import_history(ledger.rt, FINANCE, HISTORY)
    ledger.clock.set("2026-10-12T12:00:00Z")
    answer = ledger.bill(
        "shipment.confirmed",
        {
            "partner_id": P1,
            "order_ref": "SO-LIVE",
            "shipped_on": "2026-10-12",
            "lines": [{"sku": "NW-SW-24P", "quantity": 100}],
        },
        occurred_at="2026-10-12T10:00:00Z",
    )
    assert answer["status"] == "processed", answer
    ledger.clock.set("2027-01-05T09:00:00Z")
    _, settled = settle_approved(ledger.rt, FINANCE, {"period": "2026-Q4", "run": 1})
    statement = rebates.get_settlement(ledger.rt, FINANCE, settled["settlement_id"], P1)["statement"]
    growth = next(ln for ln in statement["lines"] if ln["program_id"] == "RBT-GROWTH")
    volume = next(ln for ln in statement["lines"] if ln["program_id"] == "RBT-VOLUME")
    assert growth["amount"] == "800.00", growth
    assert volume["amount"] == "1250.00"


BAD_ROWS = [
    ({"partner_id": "ptr_01JBNWPARTNER000000000000Z"}, "/lines/0/partner_id"),
    ({"invoice_date": "2026-10-05"}, "/lines/0/invoice_date"),  # the go-live month has not ended
    ({"invoice_date": "2025-02-30"}, "/lines/0/invoice_date"),
    ({"amount": "12.345"}, "/lines/0/amount"),
    ({"amount": "-10.00"}, "/lines/0/amount"),  # only a credit note is negative
    ({"amount": 10}, None),  # not a string: the schema refuses it (400)
    ({"quantity": "-1"}, "/lines/0/quantity"),
    ({"sku": "NW-NOT-LISTED"}, "/lines/0/family"),  # neither on the price list nor given a family
    ({"family": "hardware"}, "/lines/0/family"),  # NW-SW-24P is networking
    ({"kind": "rebate"}, "/lines/0/kind"),
    ({"channel": "grey"}, "/lines/0/channel"),
    ({"line_ref": "../x"}, "/lines/0/line_ref"),
    ({"credits_line_ref": "A101-1"}, "/lines/0/credits_line_ref"),  # not a credit note
]


@pytest.mark.parametrize(("change", "pointer"), BAD_ROWS)
def test_a_bad_row_refuses_the_whole_file_naming_it_and_nothing_is_written(change, pointer):
    ledger = _ledger()
    body = {**HISTORY, "lines": [{**HISTORY["lines"][0], **change}, *HISTORY["lines"][1:]]}
    audit_before = len(ledger.rt.store.audit_records("northwind"))
    with pytest.raises((RuleViolation, MalformedRequest)) as refused:
        history.import_history(ledger.rt, FINANCE, body)
    if pointer is not None:
        assert isinstance(refused.value, RuleViolation)
        assert pointer in [e.path for e in refused.value.errors], refused.value.errors
    assert _count(ledger, billing.INVOICES) == 0 and _count(ledger, billing.LINES) == 0
    assert _count(ledger, history.HISTORY_LINES) == 0
    assert len(ledger.rt.store.audit_records("northwind")) == audit_before


@pytest.mark.parametrize("day", ["2026-13-01", "2025-02-30", "31/10/2025", ""])
def test_an_unreadable_invoice_date_is_named_once_not_as_a_family_or_service_date_fault(day):
    """API.md: "validation errors name the field in `path`". A row whose only fault is its invoice_date (service_date
    not given, the SKU on the price list) is refused naming invoice_date alone: no "not on the price list on None"
    about its family, no error about a service_date the row never gave (it defaults to the invoice date)."""
    ledger = _ledger()
    with pytest.raises(RuleViolation) as refused:
        history.import_history(ledger.rt, FINANCE, {"lines": [_line("E100-1", day, "1250.00", "1")]})
    assert [(e.path, e.message) for e in refused.value.errors] == [("/lines/0/invoice_date", "a day, YYYY-MM-DD")]
    assert _count(ledger, history.HISTORY_LINES) == 0


def test_every_bad_row_is_named_not_only_the_first():
    ledger = _ledger()
    lines = [
        {**HISTORY["lines"][0], "amount": "x"},
        HISTORY["lines"][1],
        {**HISTORY["lines"][1], "line_ref": "A101-1"},  # the same line twice
        {**HISTORY["lines"][2], "credits_line_ref": "NOPE-1"},
        {**HISTORY["lines"][2], "line_ref": "C103-1", "amount": "-45000.00", "credits_line_ref": "A101-1"},
    ]
    payments = [
        {"partner_id": P1, "invoice_ref": "INV-UNKNOWN", "paid_on": "2025-12-01"},
        {"partner_id": P1, "invoice_ref": "INV-A101", "paid_on": "2025-10-01"},  # before its invoice's month
    ]
    with pytest.raises(RuleViolation) as refused:
        history.import_history(ledger.rt, FINANCE, {"lines": lines, "payments": payments})
    paths = {e.path for e in refused.value.errors}
    assert {"/lines/0/amount", "/lines/2/line_ref", "/lines/3/credits_line_ref", "/lines/4/amount",
            "/payments/0/invoice_ref", "/payments/1/paid_on"} <= paths  # fmt: skip
    assert "/lines/1/amount" not in {p for p in paths if p.startswith("/lines/1/")}
    assert "5 row(s)" in refused.value.detail or "6 row(s)" in refused.value.detail


def test_history_cannot_overwrite_a_month_revgov_already_billed_nor_another_files_lines():
    ledger = _ledger()
    ledger.clock.set("2026-09-10T12:00:00Z")
    ledger.bill(
        "shipment.confirmed",
        {
            "partner_id": P1,
            "order_ref": "SO-SEP",
            "shipped_on": "2026-09-10",
            "lines": [{"sku": "NW-SW-24P", "quantity": 1}],
        },
        occurred_at="2026-09-10T10:00:00Z",
    )
    ledger.clock.set(GO_LIVE)
    # issued (SOP-2.2 "An issued invoice is immutable"): a month billed live and still open takes the rows of orders
    # it does not hold since 1.64.1 (tests/unit/test_history_vs_live_event.py); once issued, none
    september = ledger.invoice(P1, "2026-09")
    billing.finalize_invoice(ledger.rt, FINANCE, september["invoice_id"])
    with pytest.raises(RuleViolation) as refused:
        history.import_history(ledger.rt, FINANCE, {"lines": [_line("S1-1", "2026-09-30", "1250.00", "1")]})
    assert [e.path for e in refused.value.errors] == ["/lines/0/invoice_date"]
    history.import_history(ledger.rt, FINANCE, HISTORY)
    other_file = {"lines": [{**HISTORY["lines"][1], "invoice_date": "2025-09-30", "service_date": "2025-09-10"}]}
    with pytest.raises(RuleViolation) as again:
        history.import_history(ledger.rt, FINANCE, other_file)
    assert [e.path for e in again.value.errors] == ["/lines/0/line_ref"]


def test_kpi_rollups_and_the_forecast_read_imported_history_as_live_lines():
    # "forecasts and KPIs use it as if it had arrived live": the import announces each invoice's lines as billing
    # does (invoice.lines_posted), and the rollups fold them; the partner's monthly revenue before 2026-Q4 is the
    # imported one: October 2025 50,000.00, November 40,000.00, December -5,000.00 (the credit note's month).
    from revgov.services import analytics

    ledger = _ledger()
    history.import_history(ledger.rt, FINANCE, HISTORY)
    posted = [e for e in ledger.rt.publisher.published if e["detail_type"] == "invoice.lines_posted"]
    assert len(posted) == 3
    for envelope in posted:
        bus_event = {"source": envelope["source"], "detail-type": envelope["detail_type"], "detail": envelope["detail"]}
        assert analytics.record_fact(ledger.rt, bus_event) != "ignored"
    months, _ = analytics.partner_history(ledger.rt, "northwind", P1, analytics._period("2026-Q4"))
    assert {m: months[m] for m in ("2025-10", "2025-11", "2025-12")} == {
        "2025-10": 50000.0,
        "2025-11": 40000.0,
        "2025-12": -5000.0,
    }
    forecast = analytics.forecast(ledger.rt, FINANCE, P1, "2026-Q4")
    assert forecast["partner_id"] == P1


def _q4_2026_statement(with_history: bool) -> dict[str, dict[str, Any]]:
    ledger = _ledger()
    if with_history:
        history.import_history(ledger.rt, FINANCE, {"lines": [_line("B200-1", "2025-10-31", "1500000.00", "1200")]})
    ledger.clock.set("2026-10-12T12:00:00Z")
    ledger.bill(
        "shipment.confirmed",
        {
            "partner_id": P1,
            "order_ref": "SO-BIG",
            "shipped_on": "2026-10-12",
            "lines": [{"sku": "NW-SW-24P", "quantity": 1600}],
        },
        occurred_at="2026-10-12T10:00:00Z",
    )
    ledger.clock.set("2027-01-05T09:00:00Z")
    _, settled = settle_approved(ledger.rt, FINANCE, {"period": "2026-Q4", "run": 1})
    statement = rebates.get_settlement(ledger.rt, FINANCE, settled["settlement_id"], P1)["statement"]
    return {ln["program_id"]: ln for ln in statement["lines"]}


def test_with_its_history_an_imported_partners_cap_binds_only_as_the_contract_says():
    # PA-7.6: "The sum of the quarterly volume rebate and the growth rebate ... may not exceed the lower of (a) 5.0% of
    # the Partner's Qualifying Revenue for that Quarter and (b) USD 150,000.00. Where the cap applies, the growth
    # rebate is reduced first." 2026-Q4: 1,600 switches = 2,000,000.00 -> volume 4.0% (PA-7.2, from 1,000,000.00) =
    # 80,000.00; cap = min(5.0% x 2,000,000.00, 150,000.00) = 100,000.00.
    # Imported baseline 2025-Q4 = 1,500,000.00 (1,200 switches): 2,000,000.00 >= 1,650,000.00 (10% above), growth =
    # 2.0% x 500,000.00 = 10,000.00; 90,000.00 is under the cap: nothing reduced.
    lines = _q4_2026_statement(with_history=True)
    assert (lines["RBT-VOLUME"]["amount"], lines["RBT-GROWTH"]["amount"]) == ("80000.00", "10000.00")
    assert lines["RBT-GROWTH"]["cap_reduction"] == "0.00"
    # Without it (the "every partner starts from zero"): baseline 0.00, growth 2.0% x 2,000,000.00 = 40,000.00,
    # 120,000.00 > 100,000.00, so growth is reduced first, by 20,000.00, to 20,000.00.
    without = _q4_2026_statement(with_history=False)
    assert (without["RBT-GROWTH"]["amount"], without["RBT-GROWTH"]["cap_reduction"]) == ("20000.00", "20000.00")


def test_a_credit_note_without_a_sku_takes_the_family_of_the_line_it_credits():
    # ERP credit notes often carry only the amount and the line they credit (SOP-2.5 "referencing the original
    # invoice and lines"): the family (what rebates select lines by) is the credited line's, in this file or an
    # earlier import.
    ledger = _ledger()
    first = {"lines": [_line("D300-1", "2025-10-31", "2500.00", "2")]}
    history.import_history(ledger.rt, FINANCE, first)
    note = {"partner_id": P1, "invoice_ref": "INV-D301", "invoice_date": "2025-11-30", "line_ref": "D301-1",
            "kind": "credit_note", "amount": "-1250.00", "credits_line_ref": "D300-1"}  # fmt: skip
    history.import_history(ledger.rt, FINANCE, {"lines": [note]})
    (credit,) = ledger.invoice(P1, "2025-11")["lines"]
    assert (credit["family"], credit["amount"]) == ("networking", "-1250.00")
    assert credit["references_line"] == ledger.invoice(P1, "2025-10")["lines"][0]["line_id"]


def test_history_is_only_what_came_before_go_live():
    # docs/history.md: "A distributor going live brings each partner's past"; go-live is the day the tenant was
    # provisioned (docs/kpis.md: "the month or quarter ... that ended before the tenant went live (was
    # provisioned)"). Before the fix any ended month was accepted: in January 2027 one finance key could make
    # finalized, paid "history" invoices for November 2026, after go-live (1 October 2026), for a partner that had
    # no live billing that month. Bad inputs tried: a month after go-live (2026-11), go-live day itself
    # (2026-10-01); each 422 naming the row's invoice_date and the month, nothing written. A payment received after
    # go-live for an invoice from before it is history and stays accepted.
    ledger = _ledger()
    ledger.clock.set("2027-01-05T09:00:00Z")
    before = {c: _count(ledger, c) for c in (billing.INVOICES, billing.LINES, billing.SALES_FACTS)}
    for day in ("2026-11-20", "2026-10-01"):
        with pytest.raises(RuleViolation) as refused:
            history.import_history(ledger.rt, FINANCE, {"lines": [_line("P1-1", day, "1250.00", "1")]})
        assert [e.path for e in refused.value.errors] == ["/lines/0/invoice_date"]
        assert day[:7] in refused.value.errors[0].message and "go-live" in refused.value.errors[0].message
    assert {c: _count(ledger, c) for c in before} == before
    paid_late = {"lines": [_line("Q1-1", "2026-09-30", "1250.00", "1")],
                 "payments": [{"partner_id": P1, "invoice_ref": "INV-Q1", "paid_on": "2026-10-20",
                               "payment_ref": "RCPT-9"}]}
    imported = history.import_history(ledger.rt, FINANCE, paid_late)
    assert imported["periods"] == ["2026-09", "2026-09"]
    assert ledger.invoice(P1, "2026-09")["paid_on"] == "2026-10-20"


def test_a_repeat_monthly_order_imported_in_one_file_counts_every_month_once():
    # Found as a new finance controller: a partner ordering the same 40 switches (50,000.00) every month, three ERP
    # invoices each with its own line, imported in one file, had one month counted and two excluded as
    # RBT-NO-DOUBLE-COUNT ("repeats another line"): every imported line carried the import as its billing event.
    # docs/history.md: "The import turns that past into exactly what billing keeps for live events"; PA-7.7(d) "no
    # line may earn the same incentive twice" excludes a line earning twice, not three lines of three invoices.
    # PA-1.2 / PA-7.2: Qualifying Revenue of 2025-Q3 is 3 x 50,000.00 = 150,000.00, at "USD 100,000.00 to
    # 249,999.99 | 1.0%", "retroactive ... from the first dollar": 1,500.00.
    ledger = _ledger()
    monthly = [_line(f"M{m}-1", day, "50000.00", "40", service_date=day)
               for m, day in (("07", "2025-07-31"), ("08", "2025-08-31"), ("09", "2025-09-30"))]
    history.import_history(ledger.rt, FINANCE, {"source": "monthly.csv", "lines": monthly, "payments": []})
    _, settled = settle_approved(ledger.rt, FINANCE, {"period": "2025-Q3", "run": 1})
    statement = rebates.get_settlement(ledger.rt, FINANCE, settled["settlement_id"], P1)["statement"]
    volume = next(ln for ln in statement["lines"] if ln["program_id"] == "RBT-VOLUME")
    assert (volume["basis_revenue"], volume["amount"]) == ("150000.00", "1500.00"), volume
