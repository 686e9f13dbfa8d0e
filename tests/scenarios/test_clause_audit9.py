"""Clause audit, ninth round (auditor9): the leftovers of the earlier rounds. Where the product did something other
than the clause it cites, the clause won. Every figure is computed by hand from the clause quoted; fixed days only, no
wall clock.

The audit's record (each clause checked, where it is built, the verdict) is docs/clause-audit.md, "Ninth round
(auditor9)".
"""

from __future__ import annotations

from memory_store import Ledger

NW_PARTNER = "ptr_01JBNWPARTNER0000000000001"


def _northwind_cloud() -> Ledger:
    ledger = Ledger("2026-10-01T08:00:00Z")
    activation = {"partner_id": NW_PARTNER, "subscription_id": "SUB-A9-1", "sku": "NW-CLOUD-PLATFORM", "quantity": 1,
                  "activated_on": "2026-10-01", "order_ref": "SO-A9-1"}  # fmt: skip
    answer = ledger.receive("subscription.activated", activation, occurred_at="2026-10-01T07:00:00Z")
    assert answer["status"] == "processed", answer
    return ledger


def _cuh(ledger: Ledger, cuh: str, used_on: str, received_at: str) -> None:
    ledger.clock.set(received_at)
    data = {"partner_id": NW_PARTNER, "subscription_id": "SUB-A9-1", "metric": "cloud_compute", "quantity": cuh,
            "usage_date": used_on}  # fmt: skip
    answer = ledger.receive("usage.reported", data, occurred_at=f"{used_on}T23:00:00Z")
    assert answer["status"] == "processed", answer


def _usage_lines(ledger: Ledger, period: str) -> list[dict]:
    from revgov.services import billing

    if ledger.rt.store.get(ledger.tenant_id, billing.INVOICE_KEYS, f"{NW_PARTNER}#{period}") is None:
        return []  # no invoice for the month: no line either
    return [ln for ln in ledger.invoice(NW_PARTNER, period)["lines"] if ln["kind"] in ("usage", "usage_adjustment")]


def test_sop_3_1_a_months_only_usage_received_after_the_cut_off_is_an_adjustment_not_the_months_usage_line():
    """SOP-3.1: "Usage records received up to 5 calendar days after the end of the month are included in that month's
    rating; later records are rated in the next run as an adjustment carrying their original service period."
    SOP-3.2's example: "12,500 CUH are charged 1,000 x 0.12 + 9,000 x 0.10 + 2,500 x 0.08 = USD 1,220.00."
    SOP-3.4: "A usage adjustment for a previous month is rated as the difference between the re-rated total for that
    month and the total already invoiced". SOP-7.1: "on the 6th calendar day, usage for month M is rated and posted to
    the open invoice of the following month".

    October's only records (12,500 CUH) are received on 2026-11-06, after the 5 November cut-off: October's rating
    (posted to November's invoice) had none, so November carries no usage line. The record is rated by the next run
    (6 December, posted to December's invoice) as an adjustment with October's service period: 1,220.00 re-rated less
    0.00 invoiced = 1,220.00. Before, December carried it as kind `usage` (the month's own rating) because nothing had
    been invoiced for October before: the same figure under the label of an on-time rating, so an adjustment of a
    closed month read as a line of the rating run (SOP-2.2 "usage lines match the rating run")."""
    ledger = _northwind_cloud()
    _cuh(ledger, "10000", "2026-10-30", "2026-11-06T00:00:00Z")
    _cuh(ledger, "2500", "2026-10-31", "2026-11-20T10:00:00Z")
    assert _usage_lines(ledger, "2026-11") == []
    (line,) = _usage_lines(ledger, "2026-12")
    assert (line["kind"], line["amount"], line["quantity"]) == ("usage_adjustment", "1220.00", "12500")
    assert line["service_period"] == {"start": "2026-10-01", "end": "2026-10-31"}
    assert line["detail"]["invoiced_before"] == "0.00"
    assert "BILL-USAGE-CUTOFF" in line["rule_ids"] and "SOP-3.1" in line["clauses"]


def test_sop_3_1_usage_received_on_time_stays_the_months_usage_line():
    """SOP-3.1, the other side of the cut-off: 12,500 CUH of October received by 2026-11-05T23:59:59Z is "included in
    that month's rating": one `usage` line of 1,220.00 on November's invoice, no cut-off rule."""
    ledger = _northwind_cloud()
    _cuh(ledger, "12500", "2026-10-31", "2026-11-05T23:59:59Z")
    (line,) = _usage_lines(ledger, "2026-11")
    assert (line["kind"], line["amount"]) == ("usage", "1220.00")
    assert "BILL-USAGE-CUTOFF" not in line["rule_ids"]
