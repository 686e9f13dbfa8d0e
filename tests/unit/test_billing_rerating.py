"""The usage re-rating and ERP-credit arithmetic that moved into the pure core (issue 21), checked against the clauses,
and the failure billing could not record in the event log, which is now logged (issue 21: it was swallowed).

SOP-3.3 (northwind): security monitoring is rated per Partner per Billing Month with graduated tiers: "first 250 |
3.50", "next 750 (251 to 1,000) | 3.00", "above 1,000 | 2.50". "Example: 1,200 endpoints are charged 250 x 3.50 +
750 x 3.00 + 200 x 2.50 = USD 3,625.00."
SOP-3.4: "A usage adjustment for a previous month is rated as the difference between the re-rated total for that month
and the total already invoiced, so that the graduated bands are applied to the corrected monthly quantity."
SOP-2.5: "An error is corrected by a credit note referencing the original invoice and lines".
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from memory_store import Ledger
from revgov.domain import billing as core
from revgov.domain.errors import MalformedRequest
from revgov.services import billing, events
from revgov.services.billing import intake
from support import for_this_thread

SECURITY = core.RateTable.from_policy(
    {
        "id": "RATE-SECURITY-MONITORING",
        "clause": "SOP-3.3",
        "metric": "security_monitoring",
        "unit": "endpoint-month",
        "sku": "NW-SEC-MON",
        "family": "security",
        "model": "graduated",
        "quantity_rounding": "up_to_whole_unit",
        "unit_cost": "1.10",
        "bands": [{"up_to": 250, "rate": "3.50"}, {"up_to": 1000, "rate": "3.00"}, {"up_to": None, "rate": "2.50"}],
    }
)
P1 = "ptr_01JBNWPARTNER0000000000001"


def _invoiced_once(quantity: str, invoice_id: str) -> dict:
    """The month's usage record after 1,000 endpoints were invoiced (3,125.00, cost 1.10 each) on `invoice_id`."""
    entry = {"invoice_id": invoice_id, "line_id": f"{invoice_id}.1", "number": 1, "amount": "3125.00", "units": "1000"}
    usage = core.new_usage(P1, "security_monitoring", "2026-10")
    return {**usage, "quantity": quantity, "invoiced": [{**entry, "cost": "1100.00"}]}


def _rerate(usage: dict, more: str, invoice_id: str) -> core.Rerated:
    return core.rerate_month(
        SECURITY,
        usage,
        Decimal(more),
        invoice_id=invoice_id,
        rules=(SECURITY.rule,),
        order_ref="sub-1",
        channel="resale",
    )


def test_a_month_first_rated_is_one_usage_line_for_its_whole_quantity():
    # 1,000 endpoints: 250 x 3.50 + 750 x 3.00 = 875.00 + 2,250.00 = 3,125.00 (SOP-3.3)
    rerated = _rerate(core.new_usage(P1, "security_monitoring", "2026-10"), "1000", "inv_B")
    assert rerated.draft.kind == "usage"
    assert rerated.draft.amount == Decimal("3125.00")
    assert rerated.draft.quantity == Decimal("1000")
    assert rerated.draft.cost == Decimal("1100.00")  # unit cost 1.10 x 1,000
    assert rerated.replaces is None and not rerated.unchanged


def test_more_usage_after_the_month_was_invoiced_is_the_difference_to_the_rerated_total():
    # invoiced 1,000 endpoints (3,125.00) on inv_A; 200 more arrive: the month re-rates to 3,625.00 (SOP-3.3's example)
    # and the adjustment is 3,625.00 - 3,125.00 = 500.00 for 200 endpoints (SOP-3.4), on the next invoice.
    usage = _invoiced_once("1000", "inv_A")
    rerated = _rerate(usage, "200", "inv_B")
    assert rerated.draft.kind == "usage_adjustment"
    assert rerated.draft.amount == Decimal("500.00")
    assert rerated.draft.quantity == Decimal("200")
    assert rerated.draft.cost == Decimal("220.00")  # 1.10 x 1,200 - 1,100.00
    assert rerated.draft.detail["month_total"] == "3625.00"
    assert rerated.draft.detail["invoiced_before"] == "3125.00"
    line = {
        "invoice_id": "inv_B",
        "line_id": "inv_B.4",
        "number": 4,
        "amount": "500.00",
        "quantity": "200",
        "cost": "220.00",
    }
    record = core.with_usage(usage, rerated, line, event_id="evt_2")
    assert record["quantity"] == "1200"
    assert record["event_ids"] == ["evt_2"]
    assert [x["invoice_id"] for x in record["invoiced"]] == ["inv_A", "inv_B"]


def test_more_usage_on_the_same_draft_rerates_its_line_to_the_month_total():
    usage = _invoiced_once("1000", "inv_B")
    rerated = _rerate(usage, "200", "inv_B")
    assert rerated.replaces == usage["invoiced"][0]
    assert rerated.draft.kind == "usage" and rerated.draft.amount == Decimal("3625.00")
    line = {
        "invoice_id": "inv_B",
        "line_id": "inv_B.1",
        "number": 1,
        "amount": "3625.00",
        "quantity": "1200",
        "cost": "1320.00",
    }
    assert core.with_usage(usage, rerated, line, event_id="evt_2")["invoiced"] == [
        {
            "invoice_id": "inv_B",
            "line_id": "inv_B.1",
            "number": 1,
            "amount": "3625.00",
            "units": "1200",
            "cost": "1320.00",
        }
    ]


def test_usage_that_leaves_the_rated_total_of_an_invoiced_month_unchanged_posts_nothing():
    # rounded up to whole endpoints: 999.2 and 999.6 are both 1,000 rated units, 3,125.00
    usage = _invoiced_once("999.2", "inv_A")
    rerated = _rerate(usage, "0.4", "inv_B")
    assert rerated.unchanged and rerated.draft.amount == 0
    assert core.with_usage(usage, rerated, None, event_id="evt_3")["invoiced"] == usage["invoiced"]


def test_what_was_credited_of_a_line_adds_the_erp_credits_and_upheld_disputes():
    assert core.credited_of(None, None) == core.Credited(Decimal("0.00"), 0)
    credited = core.credited_of({"credited": "120.00", "units": 2}, {"credited": "30.00"})
    assert credited == core.Credited(Decimal("150.00"), 2)


def test_each_erp_credit_adds_to_the_line_record_and_keeps_its_reference():
    record = core.new_line_credits("inv_A", 3)
    record = core.with_line_credit(record, Decimal("100.005"), 1, "CN-1")
    record = core.with_line_credit(record, Decimal("20.00"), 0, "CN-2")
    assert record == {"invoice_id": "inv_A", "line_no": 3, "credited": "120.00", "units": 1, "refs": ["CN-1", "CN-2"]}
    for n in range(250):
        record = core.with_line_credit(record, Decimal("0.01"), 0, f"R-{n}")
    assert len(record["refs"]) == 200 and record["refs"][-1] == "R-249"


def test_a_failure_billing_cannot_record_in_the_event_log_is_logged_not_swallowed(monkeypatch):
    ledger = Ledger("2026-10-15T12:00:00Z")
    warnings: list[tuple[str, dict]] = []

    ours, real_logger = threading.get_ident(), intake.logger

    class Spy:  # this test's warnings: the worker's stack bills in the background through the same module
        def warning(self, message: str, extra: dict) -> None:
            if threading.get_ident() == ours:
                warnings.append((message, extra))
            else:
                real_logger.warning(message, extra=extra)

    def unavailable(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("event log unavailable")

    monkeypatch.setattr(intake, "logger", Spy())
    for_this_thread(monkeypatch, events, "record", unavailable)
    with pytest.raises(MalformedRequest):  # the event itself still fails (retried, then DLQ)
        billing.bill_erp_event(ledger.rt, {"source": "someone.else", "detail-type": "shipment.confirmed"})
    assert len(warnings) == 1
    message, extra = warnings[0]
    assert "event log" in message
    assert extra["error"] == "event log unavailable" and extra["detail_type"] == "shipment.confirmed"


@pytest.mark.parametrize(
    ("case", "line_no", "why"),
    [("a line the invoice does not have", 9, "has no line 9"), ("a credit line", 2, "is a credit, not a charge")],
)
def test_a_credit_note_for_a_line_that_is_not_a_charge_of_the_invoice_is_a_rating_failure_and_posts_nothing(
    case, line_no, why
):
    # SOP-2.5: "An error is corrected by a credit note referencing the original invoice and lines": only a charged
    # line of the partner's own invoice can be credited.
    ledger = Ledger("2026-10-05T12:00:00Z")
    shipped = {
        "partner_id": P1,
        "order_ref": "SO-1",
        "shipped_on": "2026-10-05",
        "lines": [{"sku": "NW-SW-24P", "quantity": 2}],
    }
    assert ledger.bill("shipment.confirmed", shipped, occurred_at="2026-10-05T10:00:00Z")["status"] == "processed"
    invoice = ledger.invoice(P1, "2026-10")
    ledger.clock.set("2026-10-06T17:00:00Z")  # the credit notes come after the shipment, never from the future
    first = {
        "partner_id": P1,
        "credit_note_ref": "CN-1",
        "invoice_id": invoice["invoice_id"],
        "line_no": 1,
        "amount": "100.00",
        "reason": "goodwill",
        "issued_on": "2026-10-06",
    }
    assert ledger.bill("credit_note.issued", first, occurred_at="2026-10-06T10:00:00Z")["status"] == "processed"
    before = ledger.invoice(P1, "2026-10")
    note = {**first, "credit_note_ref": "CN-2", "line_no": line_no}
    answer = ledger.bill("credit_note.issued", note, occurred_at="2026-10-06T11:00:00Z")
    assert answer["status"] == "failed" and why in answer["reason"], case
    assert ledger.invoice(P1, "2026-10") == before
    (opened,) = [c for c in ledger.exceptions() if c["category"] == "rating_failure"]
    assert "SOP-2.5" in [r["clause"] for r in opened["reasons"]]


def test_an_event_whose_handler_raised_reads_retrying_until_a_delivery_settles_it(monkeypatch):
    """docs/billing.md: `GET /v1/events/{event_id}` reads `failed` "(with the reason; an exception is open)". A
    delivery that raised (a lost race, a busy store) is delivered again by its queue: the log said `failed` meanwhile,
    with no exception open, and a client polling for a terminal status stopped there (the credit-note red-team test's
    shipment "ended failed" in loaded parallel runs). It reads `retrying`; the next delivery bills it; a held event
    still reads `failed`."""
    from revgov.domain.errors import ConcurrentUpdate

    ledger = Ledger("2026-10-15T12:00:00Z")
    partner_id = next(p["partner_id"] for p in ledger.partners if p.get("status", "active") == "active")
    detail = {"tenant_id": ledger.tenant_id, "event_id": "evt_01JX0000000000000000000RTY", "replay": 0,
              "occurred_at": "2026-10-14T10:00:00Z", "erp_event_id": "ERP-RETRY",
              "data": {"partner_id": partner_id, "order_ref": "SO-RETRY", "shipped_on": "2026-10-14",
                       "lines": [{"sku": "NW-SW-24P", "quantity": 1}]}}  # fmt: skip
    bus_event = {"source": "revgov.erp", "detail-type": "shipment.confirmed", "detail": detail}
    real = intake._bill

    def lost_the_race(*_args: object) -> object:
        raise ConcurrentUpdate("event lost the race 12 times; it will be retried")

    for_this_thread(monkeypatch, intake, "_bill", lost_the_race)
    with pytest.raises(ConcurrentUpdate):  # the queue delivers it again
        billing.bill_erp_event(ledger.rt, bus_event)
    logged = events.get(ledger.rt, ledger.tenant_id, detail["event_id"])
    assert logged["status"] == "retrying" and "lost the race" in logged["reason"], logged
    monkeypatch.setattr(intake, "_bill", real)
    assert billing.bill_erp_event(ledger.rt, bus_event)["status"] == "processed"
    assert events.get(ledger.rt, ledger.tenant_id, detail["event_id"])["status"] == "processed"
    unknown = {**detail["data"], "partner_id": "ptr_01JX0000000000000000000ZZZ"}
    held = ledger.bill("shipment.confirmed", unknown, occurred_at="2026-10-14T10:00:00Z", erp_id="ERP-HELD")
    assert held["status"] == "failed" and "not known" in held["reason"], held
