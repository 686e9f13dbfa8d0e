"""`billing_run` section: the monthly subscription billing run for 10,000 active subscriptions, against billing the
same number of shipment events through the same use-case path, both on the in-process DocumentStore
(tests/memory_store.py), so the ratio measures Revgov's code rather than a database."""

from __future__ import annotations

import time
from typing import Any

SUBSCRIPTIONS = 10_000
PARTNERS = 100


def billing_run_section() -> list[dict[str, Any]]:
    """Billing run: 10,000 subscriptions charged for a month vs 10,000 shipment events (same path and store)."""
    from billing_year import partner_id
    from memory_store import Ledger
    from revgov.services import subscription_billing

    ledger = Ledger("2026-10-05T12:00:00Z")
    ledger.add_partners(
        [
            {"partner_id": partner_id(n), "legal_name": f"Bench {n}", "partner_type": "msp", "status": "active",
             "tier": "silver", "certifications": {}}
            for n in range(PARTNERS)
        ]
    )  # fmt: skip
    for i in range(SUBSCRIPTIONS):
        ledger.bill(
            "subscription.activated",
            {"partner_id": partner_id(i % PARTNERS), "subscription_id": f"SUB-B{i:05d}", "sku": "NW-NET-MGMT",
             "quantity": 1 + i % 3, "activated_on": "2026-10-05", "order_ref": f"SO-B{i}"},
            occurred_at="2026-10-05T09:00:00Z",
        )  # fmt: skip
    started = time.perf_counter()
    for i in range(SUBSCRIPTIONS):
        ledger.bill(
            "shipment.confirmed",
            {"partner_id": partner_id(i % PARTNERS), "order_ref": f"SO-S{i}", "shipped_on": "2026-10-05",
             "lines": [{"sku": "NW-SW-24P", "quantity": 1}]},
            occurred_at="2026-10-05T10:00:00Z",
        )  # fmt: skip
    baseline = time.perf_counter() - started
    ledger.clock.set("2026-11-01T00:05:00Z")
    started = time.perf_counter()
    result = subscription_billing.run(ledger.rt, ledger.tenant_id)
    run_s = time.perf_counter() - started
    started = time.perf_counter()
    again = subscription_billing.run(ledger.rt, ledger.tenant_id)
    rerun_s = time.perf_counter() - started
    assert result["charged"] == SUBSCRIPTIONS and again["charged"] == 0
    return [
        {"metric": "shipment.confirmed x 10,000 through bill_erp_event (baseline)", "seconds": round(baseline, 2),
         "per_item_ms": round(baseline / SUBSCRIPTIONS * 1000, 3), "ratio_to_baseline": 1.0},
        {"metric": "billing run: 10,000 subscriptions charged for 2026-11", "seconds": round(run_s, 2),
         "per_item_ms": round(run_s / SUBSCRIPTIONS * 1000, 3), "ratio_to_baseline": round(run_s / baseline, 2)},
        {"metric": "billing run again (idempotent: nothing charged)", "seconds": round(rerun_s, 2),
         "per_item_ms": round(rerun_s / SUBSCRIPTIONS * 1000, 3), "ratio_to_baseline": round(rerun_s / baseline, 2)},
    ]  # fmt: skip
