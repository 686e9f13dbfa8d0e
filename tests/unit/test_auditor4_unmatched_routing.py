"""Auditor 4: where a billing exception that matches no SOP-4.1 / COP-4.1 category goes.

SOP-4.1: "An item that matches no category goes to channel_ops for triage within 8 hours." COP-4.1: "Items matching no
category go to channel_ops for triage within 12 hours." Billing raises `unknown_partner_or_sku`, `rating_failure`,
`implausible_event`, `subscription_mismatch` and `milestone_beyond_sow`, none of which is a category of either matrix;
the tenant policies routed them to finance (8 h) citing SOP-2.2 / SOP-3.4 / PA-2.2 / PA-10.6, clauses that name no
queue or SLA for them. The clause wins: they now fall to the tenant's triage route.
"""

from __future__ import annotations

import pytest

from memory_store import Ledger

P1 = "ptr_01JBNWPARTNER0000000000001"


@pytest.mark.parametrize(("tenant", "hours"), [("northwind", 8), ("contoso", 12)])
def test_sop_4_1_an_unknown_sku_matches_no_category_and_goes_to_channel_ops_triage(tenant: str, hours: int) -> None:
    ledger = Ledger("2026-10-05T10:00:00Z", tenant=tenant)
    data = {"partner_id": P1, "order_ref": "SO-UNK", "shipped_on": "2026-10-05",
            "lines": [{"sku": "NO-SUCH-SKU", "quantity": 1}]}  # fmt: skip
    assert ledger.bill("shipment.confirmed", data, occurred_at="2026-10-05T09:00:00Z")["status"] == "failed"
    (case,) = ledger.exceptions()
    assert (case["queue"], case["sla_hours"]) == ("channel_ops", hours)
