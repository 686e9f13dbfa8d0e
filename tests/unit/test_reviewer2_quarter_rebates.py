"""Reviewer case: a gold partner crosses the 2% volume threshold mid-quarter, with a return and a credit note; the
quarter is settled, then credit notes against its invoices arrive in the next quarter (PA-7.10). The rebates are
computed by hand from PA-7.2 / PA-7.3 / PA-7.10, and the seed's "Net realized margin by partner tier" of both
quarters from its definition (docs/kpis.md).

PA-7.2: "The rebate is tiered and retroactive: the rate of the highest threshold reached applies to all Qualifying
Revenue of the Quarter, from the first dollar." (USD 100,000.00 - 249,999.99: 1.0%; 250,000.00 - 499,999.99: 2.0%.)
PA-1.2: "'Qualifying Revenue' for a period means Invoiced Revenue for invoices dated in that period, net of all credit
notes issued against those invoices, whenever issued".
PA-7.3: "a growth rebate of 2.0% of incremental Qualifying Revenue ... payable only where the Quarter's Qualifying
Revenue is at least 10% above the baseline".
PA-1.3: "rounded once, at line level, to two decimal places using round-half-to-even".
PA-7.10: "the rebates for that Quarter are recomputed ... The difference between the recomputed and the settled amount
adjusts the next settlement as a separate, referenced line. Settled Quarters are not reopened".
docs/kpis.md (net realized margin): "credits count negative, in the month of the invoice they are posted on";
"Rebates ... the amounts settled for a settled period".

By hand (NW-FW-200: list 3,400.00, cost 2,380.00; NW-SW-24P: 1,250.00, cost 900.00):
- baseline 2025-Q3: 200 x NW-SW-24P = 250,000.00; 2025-Q4: 80 x NW-SW-24P = 100,000.00.
- 2026-Q3: July 30 x NW-FW-200 = 102,000.00 (1%), August 50 more = 170,000.00 (cumulative 272,000.00: 2%);
  September a return of 2 July units (-6,800.00, their cost 4,760.00 back) and a goodwill credit of 999.50 against
  August. Qualifying Revenue 264,200.50: volume 2% = 5,284.01; growth: 5.68% above 250,000.00, under 10%: 0.00.
  Settled on 2026-10-10: 5,284.01.
- November: two billing-error credit notes of 8,000.00 against the July invoice. Q3 recomputed: 248,200.50 -> 1%:
  2,482.005 -> 2,482.00 (half to even); difference -2,802.01, carried by the next settlement (2026-Q4's).
- 2026-Q4: October 100 x NW-SW-24P = 125,000.00: volume 1% = 1,250.00; growth: baseline 100,000.00, +25%:
  2% x 25,000.00 = 500.00. The Q4 run pays 1,250.00 + 500.00 - 2,802.01 = -1,052.01.
KPI, read after the Q4 run:
- 2026-Q3: revenue 264,200.50, cost 190,400.00 - 4,760.00 = 185,640.00, rebates as settled for Q3 5,284.01 (the
  quarter is not reopened: its revenue is not reduced by the November credit notes either); net margin 73,276.49,
  27.74 %.
- 2026-Q4: revenue 125,000.00 - 16,000.00 = 109,000.00 (the November credits, posted in Q4), cost 90,000.00,
  rebates as the Q4 settlement settled them, -1,052.01 (its own 1,750.00 and the Q3 adjustment it carries); net margin
  109,000.00 - 90,000.00 + 1,052.01 = 20,052.01, 18.40 %.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from memory_store import Ledger
from rebate_runs import settle_approved
from revgov import schemas
from revgov.domain.access import Principal, Role
from revgov.services import analytics, billing, rebates

FINANCE = Principal("northwind", Role.FINANCE, "key_rv2_fin")
GOLD = "ptr_01JBNWPARTNER00000000000R3"
TAX = {"country": "US", "region": "US-WA", "postal_code": "98101"}


class _Quarters:
    def __init__(self) -> None:
        self.ledger = Ledger("2025-08-01T09:00:00Z")
        partner = copy.deepcopy(self.ledger.partners[0])
        partner.update(partner_id=GOLD, tier="gold", legal_name="Reviewer Two Gold LLC",
                       activated_at="2024-01-10T00:00:00.000Z")  # fmt: skip
        self.ledger.add_partners([partner])
        self.settlements: dict[str, dict[str, Any]] = {}

    def _deliver(self) -> None:
        """What the bus delivers: every published event to the KPI handler, the billing ones to the accruals."""
        for envelope in self.ledger.rt.publisher.published:  # type: ignore[attr-defined]
            event = {"source": envelope["source"], "detail-type": envelope["detail_type"], "detail": envelope["detail"]}
            analytics.record_fact(self.ledger.rt, event)
            if envelope["detail_type"] in ("invoice.lines_posted", "invoice.paid"):
                rebates.accrue_from_event(self.ledger.rt, event)
        self.ledger.rt.publisher.published.clear()  # type: ignore[attr-defined]

    def event(self, detail_type: str, data: dict[str, Any], day: str, hour: str = "10") -> None:
        self.ledger.clock.set(f"{day}T{hour}:30:00Z")
        answer = self.ledger.bill(detail_type, {"partner_id": GOLD, **data}, occurred_at=f"{day}T{hour}:00:00Z")
        assert answer["status"] == "processed", answer
        self._deliver()

    def ship(self, day: str, order: str, sku: str, quantity: int) -> None:
        self.event("shipment.confirmed", {"order_ref": order, "shipped_on": day, "tax_location": TAX,
                                          "lines": [{"sku": sku, "quantity": quantity}]}, day)  # fmt: skip

    def close(self, month: str, at: str) -> str:
        """Finance issues the month's invoice; the partner pays it the same day (nothing is withheld, PA-7.8)."""
        self.ledger.clock.set(at)
        invoice_id = str(self.ledger.invoice(GOLD, month)["invoice_id"])
        billing.finalize_invoice(self.ledger.rt, FINANCE, invoice_id)
        self._deliver()
        self.event("invoice.paid", {"invoice_id": invoice_id, "paid_on": at[:10], "payment_ref": f"RCPT-{month}"},
                   at[:10], "11")  # fmt: skip
        return invoice_id

    def credit(self, invoice_id: str, ref: str, reason: str, amount: str, day: str) -> None:
        self.event("credit_note.issued", {"credit_note_ref": ref, "invoice_id": invoice_id, "line_no": 1,
                                          "reason": reason, "amount": amount, "issued_on": day}, day)  # fmt: skip

    def settle(self, period: str, at: str) -> dict[str, Any]:
        self.ledger.clock.set(at)
        status, run = settle_approved(self.ledger.rt, FINANCE, {"period": period})
        assert status == 201 and run["status"] == "settled", run
        (self.settlements[period],) = run["partners"]
        return dict(run)

    def margin(self, period: str) -> dict[str, Any]:
        answer = analytics.kpis(self.ledger.rt, FINANCE, period, partner_id=None, tier=None)
        assert schemas.problems("api/responses/kpis.schema.json", answer) == []
        return dict(answer["net_realized_margin"])


@pytest.fixture(scope="module")
def quarters() -> _Quarters:
    q = _Quarters()
    q.ship("2025-08-12", "SO-RV2-B3", "NW-SW-24P", 200)
    q.close("2025-08", "2025-09-01T09:00:00Z")
    q.ship("2025-11-12", "SO-RV2-B4", "NW-SW-24P", 80)
    q.close("2025-11", "2025-12-01T09:00:00Z")
    q.ship("2026-07-10", "SO-RV2-JUL", "NW-FW-200", 30)
    july = q.close("2026-07", "2026-08-01T09:00:00Z")
    q.ship("2026-08-12", "SO-RV2-AUG", "NW-FW-200", 50)
    august = q.close("2026-08", "2026-09-01T09:00:00Z")
    q.event("return.received", {"rma_ref": "RMA-RV2", "invoice_id": july, "line_no": 1, "quantity": 2,
                                "returned_on": "2026-09-05"}, "2026-09-05")  # fmt: skip
    q.credit(august, "CN-RV2-GOODWILL", "goodwill", "999.50", "2026-09-20")
    q.close("2026-09", "2026-10-01T09:00:00Z")
    q.settle("2026-Q3", "2026-10-10T09:00:00Z")
    q.ship("2026-10-15", "SO-RV2-OCT", "NW-SW-24P", 100)
    q.credit(july, "CN-RV2-E1", "billing_error", "8000.00", "2026-11-03")
    q.credit(july, "CN-RV2-E2", "billing_error", "8000.00", "2026-11-04")
    q.close("2026-10", "2026-11-01T09:00:00Z")
    q.close("2026-11", "2026-12-01T09:00:00Z")
    q.settle("2026-Q4", "2027-01-10T09:00:00Z")
    return q


def test_the_settlements_pay_what_the_clauses_compute(quarters: _Quarters):
    q3, q4 = quarters.settlements["2026-Q3"], quarters.settlements["2026-Q4"]
    assert (q3["status"], q3["total"]) == ("payable", "5284.01")
    assert (q4["status"], q4["total"], q4["accrued"], q4["difference_from_accruals"]) == (
        "payable", "-1052.01", "1750.00", "-2802.01")


def test_a_settled_quarter_keeps_the_rebate_it_settled_and_the_next_carries_the_adjustment(quarters: _Quarters):
    q3 = quarters.margin("2026-Q3")
    assert (q3["revenue"], q3["margin_base_revenue"], q3["cost"]) == ("264200.50", "264200.50", "185640.00")
    assert (q3["rebates_deducted"], q3["net_margin"], q3["net_margin_percent"]) == ("5284.01", "73276.49", "27.74")
    q4 = quarters.margin("2026-Q4")
    assert (q4["revenue"], q4["margin_base_revenue"], q4["cost"]) == ("109000.00", "109000.00", "90000.00")
    assert (q4["rebates_deducted"], q4["net_margin"], q4["net_margin_percent"]) == ("-1052.01", "20052.01", "18.40")
    (gold,) = [row for row in q4["by_tier"] if row["tier"] == "gold"]
    assert (gold["rebates_deducted"], gold["net_margin"]) == ("-1052.01", "20052.01")
