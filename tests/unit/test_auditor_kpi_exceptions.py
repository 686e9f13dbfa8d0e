"""An auditor's case on the seed's compliance KPI, on the in-memory engine with a fixed clock.

The seed's KPI table: "Compliance posture | Policy exceptions per 100 transactions | Measures governance discipline |
Strengthen controls and retrain approvers". What an exception is, the SOP says: SOP-4.1 "Exceptions are routed to a
queue with an SLA as follows: discount_above_tier_cap | channel_ops | 8, discount_above_finance_threshold ... |
finance | 16, margin_below_floor | finance | 16, non_standard_payment_terms | legal | 40, ..." and "An item that
matches more than one category is split into one exception per category" (COP-4.1 the same for Contoso).

Three quotes of an active Registered partner (networking cap 5%, PA-6.2): one at 4% (no exception); one at 8%
(discount_above_tier_cap: 1 exception); one at 8% on net 60 (discount_above_tier_cap and non_standard_payment_terms,
PA-6.6(a) and (d): 2 exceptions). 3 exceptions over 3 transactions (quotes checked, no ERP event billed): 100.00 per
100 transactions.
"""

from __future__ import annotations

import json
from typing import Any

from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.ports import Changes, Put
from revgov.services import analytics, pricing
from support import ROOT

REGISTERED = "ptr_01JBNWPARTNER0000000000002"


def _staff(role: str) -> Principal:
    return Principal("northwind", Role(role), f"key_{role.upper():0<26}"[:30])


def _quote(rt: Any, discount: str, payment_days: int) -> dict[str, Any]:
    checked: dict[str, Any] = pricing.check(rt, _staff("sales"), {
        "partner_id": REGISTERED, "customer": {"id": "CUST-KPI-1", "name": "Lakeside"},
        "lines": [{"line_id": "1", "sku": "NW-SW-24P", "quantity": 1, "discount_percent": discount}],
        "terms": {"payment_days": payment_days}})  # fmt: skip
    return checked


def test_seed_policy_exceptions_per_100_transactions_count_each_quote_exception_of_sop_4_1():
    rt, _ = memory_runtime("2026-11-10T10:00:00.000Z")
    partners = json.loads((ROOT / "tests" / "scenarios" / "billing" / "erp-samples.json").read_text())["partners"]
    rt.store.commit("northwind", Changes(puts=[Put("PARTNER", p["partner_id"], p) for p in partners]))
    checked = [_quote(rt, "4", 30), _quote(rt, "8", 30), _quote(rt, "8", 60)]
    assert [len(c["approvals"]) for c in checked] == [0, 1, 2]
    for published in list(rt.publisher.published):  # type: ignore[attr-defined]
        event = {"source": published["source"], "detail-type": published["detail_type"], "detail": published["detail"]}
        analytics.record_fact(rt, event)
    figures = analytics.kpis(rt, _staff("finance"), "2026-11", partner_id=None, tier=None)
    compliance = figures["policy_exceptions_per_100_transactions"]
    figures_now = (compliance["exceptions"], compliance["transactions"], compliance["per_100_transactions"])
    assert figures_now == (3, 3, "100.00")
