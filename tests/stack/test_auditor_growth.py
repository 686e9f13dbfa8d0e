"""An auditor's growth-rebate and cap cases over HTTP, written from Northwind's clauses alone: last year's Quarter
comes in through the go-live history import, this year's through the signed ERP webhook.

PA-7.2: volume rebate, "tiered and retroactive" (USD 100,000.00 to 249,999.99: 1.0%; USD 1,000,000.00 and above: 4.0%).
PA-7.3: "a growth rebate of 2.0% of incremental Qualifying Revenue, where incremental Qualifying Revenue is the
Quarter's Qualifying Revenue less the baseline. The baseline is the Partner's Qualifying Revenue for the same Quarter of
the previous Program Year (for 2026-Q3 the baseline is 2025-Q3). The growth rebate is payable only where the Quarter's
Qualifying Revenue is at least 10% above the baseline".
PA-7.6: "The sum of the quarterly volume rebate and the growth rebate ... may not exceed the lower of (a) 5.0% of the
Partner's Qualifying Revenue for that Quarter and (b) USD 150,000.00. Where the cap applies, the growth rebate is
reduced first."
The partners (Silver) were approved on 2025-01-01, so for the entire 2025-Q3 (PA-7.4 does not apply).
"""

from __future__ import annotations

from typing import Any

import pytest
from test_rebates_api import tenant  # noqa: F401  (the throwaway rebate tenant fixture)

from revgov.ports import Changes, Put

pytestmark = pytest.mark.stack

APPROVED = "2025-01-01T00:00:00Z"


def _approved_since_2025(rebates: Any) -> None:
    puts = []
    for partner_id in rebates.partner_ids.values():
        stored = rebates.rt.store.get(rebates.tenant_id, "PARTNER", partner_id)
        history = [{**stored.data["history"][0], "at": APPROVED}, *stored.data["history"][1:]]
        puts.append(Put("PARTNER", partner_id, {**stored.data, "activated_at": APPROVED, "history": history}))
    rebates.rt.store.commit(rebates.tenant_id, Changes(puts=puts))


def _programs(rebates: Any, partner: str) -> dict[str, dict[str, Any]]:
    accrual = rebates.accrual(rebates.finance, partner, "2026-Q3")
    return {p["program_id"]: p for p in accrual["programs"]}


# A: baseline 200,000.00; Q3 176 x 1,250.00 = 220,000.00, exactly 10% above: growth 2.0% x 20,000.00 = 400.00;
#    volume 1.0% x 220,000.00 = 2,200.00; cap 5.0% x 220,000.00 = 11,000.00 does not bind. Total 2,600.00.
# B: baseline 200,000.00; Q3 175 x 1,250.00 = 218,750.00, 9.375% above: no growth rebate;
#    volume 1.0% x 218,750.00 = 2,187.50. Total 2,187.50.
# C: baseline 100,000.00; Q3 800 x 1,250.00 = 1,000,000.00: volume 4.0% = 40,000.00; growth 2.0% x 900,000.00 =
#    18,000.00; sum 58,000.00 > cap min(5.0% x 1,000,000.00 = 50,000.00, 150,000.00) = 50,000.00; the growth rebate
#    is reduced first: growth 10,000.00, volume 40,000.00. Total 50,000.00.
def test_pa_7_3_growth_at_the_10_percent_boundary_and_pa_7_6_cap_reduces_growth_first(tenant):  # noqa: F811
    _approved_since_2025(tenant)
    ids = tenant.partner_ids
    history = {
        "source": "auditor-go-live.json",
        "lines": [
            {"partner_id": ids[name], "invoice_ref": f"ERP-2025-{name}", "invoice_date": "2025-08-15",
             "line_ref": f"L-2025-{name}", "sku": "NW-SW-24P", "quantity": str(qty), "amount": amount}
            for name, qty, amount in (("A", 160, "200000.00"), ("B", 160, "200000.00"), ("C", 80, "100000.00"))
        ],
    }
    imported = tenant.finance.post("/v1/history/imports", history)
    assert imported.status_code in (200, 201), imported.text
    tenant.send([
        {"id": f"AUD-G-{name}", "type": "shipment.confirmed", "occurred_at": "2026-09-05T10:00:00Z",
         "data": {"partner": name, "order_ref": f"SO-AUD-G-{name}", "shipped_on": "2026-09-05",
                  "lines": [{"sku": "NW-SW-24P", "quantity": qty}]}}
        for name, qty in (("A", 176), ("B", 175), ("C", 800))
    ])
    a = tenant.wait_for_accrual("A", "2026-Q3", "2600.00")
    assert a["total"] == "2600.00"
    programs = _programs(tenant, "A")
    assert (programs["RBT-VOLUME"]["payable"], programs["RBT-GROWTH"]["payable"]) == ("2200.00", "400.00")
    b = tenant.wait_for_accrual("B", "2026-Q3", "2187.50")
    assert b["total"] == "2187.50" and _programs(tenant, "B")["RBT-GROWTH"]["payable"] == "0.00"
    c = tenant.wait_for_accrual("C", "2026-Q3", "50000.00")
    assert c["total"] == "50000.00"
    programs = _programs(tenant, "C")
    assert (programs["RBT-VOLUME"]["payable"], programs["RBT-GROWTH"]["payable"]) == ("40000.00", "10000.00")
