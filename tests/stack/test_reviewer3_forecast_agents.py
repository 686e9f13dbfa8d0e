"""Reviewer round 3: the threshold-miss forecast and the agents' boundary over HTTP.

The seed: "A channel operations lead can query which partners are at risk of missing quarterly thresholds" and
"AI agents [...] should not operate as unsupervised decision-makers for material financial actions"; "AI agents can
monitor these signals and open tasks automatically". The API contract (`GET /v1/partners/{partner_id}/forecast`, the
same text as docs/kpis.md "Forecasts"): the naive rule beside the forecast is "distance to threshold": P(miss) =
max(0, threshold - to date) / threshold; a threshold already reached cannot be missed. PA-7.2's quarterly thresholds
(100,000.00 / 250,000.00 / 500,000.00 / 1,000,000.00) apply to a Silver partner (test_rebates_api's tenant fixture:
Silver resellers A, B, C of a throwaway tenant).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from test_rebates_api import tenant  # noqa: F401  (the throwaway tenant fixture)

from billing_support import erp_event, wait_until
from support import assert_problem

pytestmark = pytest.mark.stack


def _quarter(day: datetime) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _ship_now(tenant: Any, partner: str, quantity: int) -> datetime:  # noqa: F811
    now = datetime.fromisoformat(tenant.rt.clock.now_iso().replace("Z", "+00:00"))
    occurred = now - timedelta(minutes=10)
    body = erp_event("shipment.confirmed", {
        "partner_id": tenant.partner_ids[partner], "order_ref": f"SO-RV3-FC-{partner}",
        "shipped_on": occurred.date().isoformat(), "lines": [{"sku": "NW-SW-24P", "quantity": quantity}],
    }, occurred_at=occurred.strftime("%Y-%m-%dT%H:%M:%SZ"))
    answer = tenant.erp.post(body)
    assert answer.status_code == 202, answer.text
    event_id = answer.json()["event_id"]
    wait_until(lambda: tenant._status(event_id) == "processed", 60, what=event_id)
    return now


def test_the_naive_miss_probability_is_the_distance_to_each_quarterly_threshold(tenant):  # noqa: F811
    """A ships 100 x NW-SW-24P 10 minutes ago: 125,000.00 this Quarter. naive P(miss) = max(0, T - 125,000.00) / T:
    100,000.00 -> 0 (reached: the forecast's own P(miss) is 0 too); 250,000.00 -> 125,000 / 250,000 = 0.5;
    500,000.00 -> 375,000 / 500,000 = 0.75; 1,000,000.00 -> 875,000 / 1,000,000 = 0.875.
    The projection is revenue to date plus a non-negative remainder: projected and the interval's low end are at
    least 125,000.00. B's key asking for A's forecast: 404 (API.md: never confirm another partner's object)."""
    now = _ship_now(tenant, "A", 100)
    period = _quarter(now)
    if _quarter(now - timedelta(minutes=10)) != period:
        pytest.skip("the shipment fell in the previous Quarter's last minutes")

    def forecast() -> dict[str, Any]:
        got = tenant.channel_ops.get(f"/v1/partners/{tenant.partner_ids['A']}/forecast", period=period)
        assert got.status_code == 200, got.text
        return dict(got.json())

    wait_until(lambda: forecast()["to_date"] == "125000.00", 30, what=forecast)
    found = forecast()
    volume = {Decimal(t["threshold"]): t for t in found["thresholds"] if t["program_id"] == "RBT-VOLUME"}
    expected = {Decimal("100000.00"): 0.0, Decimal("250000.00"): 0.5, Decimal("500000.00"): 0.75,
                Decimal("1000000.00"): 0.875}
    assert {k: round(float(v["naive_p_miss"]), 4) for k, v in volume.items()} == expected, volume
    assert float(volume[Decimal("100000.00")]["p_miss"]) == 0.0, volume
    assert all(0.0 <= float(t["p_miss"]) <= 1.0 for t in found["thresholds"])
    assert Decimal(found["projected"]) >= Decimal("125000.00")
    if found["interval_80"]:
        assert Decimal(found["interval_80"]["low"]) >= Decimal("125000.00"), found["interval_80"]
    assert_problem(tenant.partner_keys["B"].get(f"/v1/partners/{tenant.partner_ids['A']}/forecast", period=period),
                   404)
    own = tenant.partner_keys["A"].get(f"/v1/partners/{tenant.partner_ids['A']}/forecast", period=period)
    assert own.status_code == 200 and own.json()["to_date"] == "125000.00", own.text


def test_agents_open_tasks_but_move_no_money(tenant):  # noqa: F811
    """Every agent run over a tenant with a billed shipment and an accrual: afterwards the invoices, the accruals and
    the settlements are exactly as before, and every audit record an agent wrote opens or escalates a task or an
    exception, nothing else (SOP-8.1: automation "may not approve exceptions, issue credit notes above USD 10,000.00
    or change the policy"; the seed: agents "execute within policy boundaries and escalate")."""
    from revgov.services import agents

    now = _ship_now(tenant, "A", 90)  # 112,500.00 this Quarter: 1.0% = 1,125.00 (PA-7.2)
    period = _quarter(now)

    def volume() -> str | None:  # the total also holds PA-7.4's growth rebate once the clock passed the partner's
        accrued = tenant.accrual(tenant.finance, "A", period) or {}  # first full Quarter (2% x 12,500.00 = 250.00)
        return next((p["amount"] for p in accrued.get("programs", []) if p["program_id"] == "RBT-VOLUME"), None)

    wait_until(lambda: volume() == "1125.00", 60, what=("A", period, "RBT-VOLUME 1125.00"))

    def money() -> tuple[Any, ...]:
        invoices = tenant.finance.get("/v1/invoices", limit=200).json()["items"]
        bodies = sorted((i["invoice_id"], i["status"], i["total"]) for i in invoices)
        accruals = tenant.finance.get("/v1/rebates/accruals", period=period).json()["items"]
        return bodies, sorted((a["partner_id"], a["total"]) for a in accruals)

    before = money()
    reports = [agents.run(tenant.rt, name, [tenant.tenant_id]) for name in agents.AGENTS]
    assert reports
    assert money() == before
    trail = tenant.admin.get("/v1/audit", limit=200).json()["items"]
    by_agents = [r for r in trail if str(r.get("actor", "")).startswith("agent:")]
    assert all(r["action"].split(".")[0] in ("task", "exception") and
               r["action"].split(".")[1] in ("opened", "escalated", "refreshed", "updated") for r in by_agents), \
        [r["action"] for r in by_agents]
    assert tenant.admin.get("/v1/audit/verify").json()["valid"] is True
