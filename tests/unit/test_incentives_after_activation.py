"""No incentive on sales before activation (issue 24, PA-2.2 / CPA-2.2), in every period rated.

PA-2.2: "Before the Partner may quote, order, register deals or accrue any incentive, the following must be received
and verified in the Partner Portal". PA-7.2: the volume rebate "is tiered and retroactive: the rate of the highest
threshold reached applies to all Qualifying Revenue of the Quarter" (100,000.00: 1.0%; 250,000.00: 2.0%).

A partner activated on 15 August 2026 with 30 rack servers (30 x 5,200.00 = 156,000.00) shipped on 10 August and
30 more on 5 September: only September's 156,000.00 qualifies, so the Q3 volume rebate is 1.0% x 156,000.00 =
1,560.00, not 2.0% x 312,000.00 = 6,240.00.
"""

from __future__ import annotations

from memory_store import Ledger
from rebate_runs import settle_approved
from revgov.domain.access import Principal, Role
from revgov.ports import Changes, Put
from revgov.services import rebates

P1 = "ptr_01JBNWPARTNER0000000000001"
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")


def _ship(ledger: Ledger, on: str, order: str) -> None:
    ledger.clock.set(f"{on}T12:00:00Z")
    answer = ledger.bill(
        "shipment.confirmed",
        {"partner_id": P1, "order_ref": order, "shipped_on": on, "lines": [{"sku": "NW-SRV-R2", "quantity": 30}]},
        occurred_at=f"{on}T10:00:00Z",
    )
    assert answer["status"] == "processed", answer


def _volume_line(activated_at: str) -> dict:
    ledger = Ledger("2026-08-10T12:00:00Z")
    _ship(ledger, "2026-08-10", "SO-AUG")
    _ship(ledger, "2026-09-05", "SO-SEP")
    partner = ledger.rt.store.get("northwind", "PARTNER", P1)
    assert partner is not None
    record = {**partner.data, "activated_at": activated_at}
    ledger.rt.store.commit("northwind", Changes(puts=[Put("PARTNER", P1, record)]))
    ledger.clock.set("2026-10-03T10:00:00Z")
    _, settled = settle_approved(ledger.rt, FINANCE, {"period": "2026-Q3", "run": 1})
    view = rebates.get_settlement(ledger.rt, FINANCE, settled["settlement_id"], P1)
    return next(ln for ln in view["statement"]["lines"] if ln["program_id"] == "RBT-VOLUME"), view


def test_sales_before_activation_earn_no_volume_rebate():
    line, view = _volume_line("2026-08-15T09:00:00Z")
    assert line["amount"] == "1560.00"  # 1.0% x 156,000.00 (September only)
    excluded = [p for p in view["statement"]["traces"] if p.get("rule_id") == "RBT-BEFORE-ACTIVATION"]
    assert excluded and excluded[0]["clause"] == "PA-2.2"


def test_a_partner_active_all_quarter_earns_on_both_months():
    line, _ = _volume_line("2025-01-10T09:00:00Z")
    assert line["amount"] == "6240.00"  # 2.0% x 312,000.00
