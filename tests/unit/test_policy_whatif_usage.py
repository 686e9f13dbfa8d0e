"""Issue #19: what-if of invoices under a draft, for the rules a policy sets in them: usage rate tables.

SOP-3.2 (tenants/northwind/contracts/billing-sop.md): "Cloud-services usage is rated with the following graduated
tiers per Partner per Billing Month. Each band is charged at its own rate [...] first 1,000 | 0.12; next 9,000 |
0.10; next 40,000 | 0.08; above 50,000 | 0.06. Example: 12,500 CUH are charged 1,000 x 0.12 + 9,000 x 0.10 + 2,500 x
0.08 = USD 1,220.00." SOP-3.3: "Security monitoring is rated with the following graduated tiers per Partner per Billing
Month: first 250 | 3.50; next 750 (251 to 1,000) | 3.00; above 1,000 | 2.50". A draft that lowers band 3 to 0.07
charges the same month 120.00 + 900.00 + 175.00 = 1,195.00.
The clock is injected; the usage records are billing's (one per partner, metric and month).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from memory_store import memory_runtime
from revgov import schemas
from revgov.domain.access import Principal, Role
from revgov.domain.errors import RuleViolation
from revgov.ports import Changes, Put
from revgov.services import audit, policy_drafts
from revgov.services.billing.repository import USAGE
from revgov.services.policy_whatif_usage import whatif_usage
from revgov.services.usage_months import usage_month_put
from support import ROOT

FINANCE = Principal("northwind", Role.FINANCE, "key_FINANCE0000000000000000000")
CHANNEL_OPS = Principal("northwind", Role.CHANNEL_OPS, "key_CHANNELOPS000000000000000")
PLATINUM = "ptr_01JBNWPARTNER0000000000001"
BAND_3 = [{"op": "test", "path": "/billing/usage_rates/0/metric", "value": "cloud_compute"},
          {"op": "replace", "path": "/billing/usage_rates/0/bands/2/rate", "value": "0.07"}]


def _usage(partner_id: str, metric: str, month: str, quantity: str, invoiced: list[dict[str, Any]]) -> list[Put]:
    """A month's usage record as billing stores it: the record and its month pointer (services/usage_months.py)."""
    key = f"{partner_id}#{metric}#{month}"
    return [Put(USAGE, key, {"partner_id": partner_id, "metric": metric, "period": month, "quantity": quantity,
                             "event_ids": ["evt_1"], "invoiced": invoiced}), usage_month_put(key, month)]


@pytest.fixture
def world() -> Any:
    rt, _ = memory_runtime("2026-11-10T10:00:00.000Z")
    partners = json.loads((ROOT / "tests" / "scenarios" / "billing" / "erp-samples.json").read_text())["partners"]
    entry = {"invoice_id": "inv_01JBNW0000000000000000TEST", "line_id": "inv_01JBNW0000000000000000TEST.3",
             "number": 1, "amount": "1220.00", "units": "12500", "cost": "375.00"}
    rt.store.commit("northwind", Changes(puts=[
        *(Put("PARTNER", p["partner_id"], p) for p in partners),
        *_usage(PLATINUM, "cloud_compute", "2026-10", "12500", [entry]),
        *_usage(PLATINUM, "security_monitoring", "2026-10", "300", []),
        *_usage(PLATINUM, "cloud_compute", "2026-09", "800", [])]))
    return rt


def _draft(rt: Any, operations: list[dict[str, Any]]) -> str:
    draft = policy_drafts.create_draft(rt, CHANNEL_OPS, {"reason": "usage"})
    policy_drafts.patch_policy(rt, CHANNEL_OPS, draft["draft_id"], {"operations": operations})
    return str(draft["draft_id"])


def test_a_lower_band_rate_charges_the_month_less_per_partner_with_the_invoice_that_carried_it(world):
    draft_id = _draft(world, BAND_3)
    chain = audit.verify_chain(world, "northwind")["records"]
    report = whatif_usage(world, FINANCE, draft_id, {"period": "2026-10"})
    schemas.validate("api/responses/policy-usage-whatif.schema.json", report)
    assert [(r["metric"], r["before"], r["after"]) for r in report["changed"]] == [
        ("cloud_compute", "1220.00", "1195.00")]
    row = report["changed"][0]
    assert (row["quantity"], row["invoiced"], row["segment"]) == ("12500", "1220.00", "platinum")
    assert row["invoices"] == [{"invoice_id": "inv_01JBNW0000000000000000TEST",
                                "line_id": "inv_01JBNW0000000000000000TEST.3", "amount": "1220.00",
                                "invoice": "/v1/invoices/inv_01JBNW0000000000000000TEST"}]
    assert report["unchanged"] == 1  # security monitoring (SOP-3.3) is rated as before; 2026-09 is not in the period
    assert report["by_partner"][0]["change"] == report["amount"]["change"] == "-25.00"
    assert report["by_segment"]["platinum"]["change"] == "-25.00"
    # docs/kpis.md, from the replayed figures: revenue and net realized margin move by the rating's change, in the
    # partner's tier; the cost (RATE-CLOUD-COMPUTE's unit cost 0.03 x 12,500 units = 375.00) is the same either way.
    kpis = report["kpis"]
    assert (kpis["revenue_change"], kpis["net_margin_change"]) == ("-25.00", "-25.00")
    assert kpis["by_tier"]["platinum"] == {"revenue_change": "-25.00", "net_margin_change": "-25.00"}
    assert {t: v["revenue_change"] for t, v in kpis["by_tier"].items() if t != "platinum"} == {
        "gold": "0.00", "silver": "0.00", "registered": "0.00"}
    assert audit.verify_chain(world, "northwind")["records"] == chain  # nothing written


def test_a_quarter_covers_its_three_months(world):
    report = whatif_usage(world, FINANCE, _draft(world, BAND_3), {"period": "2026-Q4", "examples": 0})
    assert report["months"] == ["2026-10", "2026-11", "2026-12"]
    assert report["changed"][0]["invoices"] == []
    report = whatif_usage(world, FINANCE, _draft(world, BAND_3), {"period": "2026-Q3"})
    assert report["changed"] == [] and report["unchanged"] == 1  # 800 CUH: all in band 1, unchanged


def test_a_metric_the_draft_no_longer_rates_shows_no_amount_after(world):
    report = whatif_usage(world, FINANCE, _draft(world, [{"op": "remove", "path": "/billing/usage_rates/1"}]),
                          {"period": "2026-10"})
    assert [(r["metric"], r["before"], r["after"]) for r in report["changed"]] == [
        ("security_monitoring", "1025.00", None)]  # SOP-3.3: 250 x 3.50 + 50 x 3.00


@pytest.mark.parametrize("period", ["2026-13", "2026-Q5", "26-10", "", "2026-1"])
def test_a_bad_period_is_refused_naming_the_field(world, period):
    with pytest.raises(RuleViolation) as refused:
        whatif_usage(world, FINANCE, _draft(world, BAND_3), {"period": period})
    assert [e.path for e in refused.value.errors] == ["/period"]
