"""An auditor's Contoso quote cases on the pure pricing core, written from the Contoso Channel Partner Agreement alone.

The partner is an active Advanced reseller certified in every family (CPA-3.3); the quote date 2026-11-27 lies inside
both campaigns of the tenant's policy (COLLAB-WINTER-26 3%, collaboration, 2026-11-01 to 2027-01-31; DEVICES-FLASH 6%,
devices, exclusive, 2026-09-01 to 2026-12-31), so nothing depends on today's date. Unit cost 50% of list (no margin
case) unless stated. Each expectation is computed by hand beside it.
"""

from __future__ import annotations

from typing import Any

import pytest

from revgov.domain.pricing import PartnerFacts, Registration, check_quote
from revgov.domain.tenants import policy_version
from revgov.tenant_files import load_tenant_file
from support import ROOT

POLICY = load_tenant_file(ROOT / "tenants" / "contoso" / "tenant.yaml")["policy"]
VERSION = policy_version(POLICY)
FAMILIES = frozenset({"collaboration", "data-platform", "security", "devices"})
ADVANCED = PartnerFacts("ptr_A", "active", "advanced", FAMILIES, frozenset())


def _check(family: str, discount: str, *, promotions: tuple[str, ...] = (), registered: bool = False,
           unit_cost: str = "500.00", payment_days: int = 30) -> dict[str, Any]:  # fmt: skip
    quote = {"quote_date": "2026-11-27", "customer_id": "cust-1", "terms": {"payment_days": payment_days},
             "promotions": list(promotions),
             "lines": [{"line_id": "1", "sku": "CT-X", "family": family, "quantity": 1, "list_price": "1000.00",
                        "unit_cost": unit_cost, "discount_percent": discount}]}  # fmt: skip
    registration = Registration("dl_1", "ptr_A", "cust-1", family, "2027-01-01T00:00:00Z")
    registrations = {family: registration} if registered else {}
    return check_quote(POLICY, VERSION, quote, ADVANCED, registrations, {})


@pytest.mark.parametrize(
    ("discount", "outcome", "categories"),
    [
        ("9.00", "allow", []),  # CPA-6.2 Advanced collaboration cap 9%: at the cap, not above it
        ("9.01", "approval_required", ["discount_above_tier_cap"]),  # CPA-6.6(a)
        ("22.00", "approval_required", ["discount_above_tier_cap"]),  # CPA-6.6(b) "exceeds 22%": 22% does not
        ("22.01", "approval_required", ["discount_above_finance_threshold", "discount_above_tier_cap"]),
        ("28.00", "approval_required", ["discount_above_finance_threshold", "discount_above_tier_cap"]),
        ("28.01", "deny", None),  # CPA-6.4 "may never exceed 28% of List Price; such a line cannot be approved"
    ],
)
def test_cpa_6_2_6_4_6_6_caps_and_thresholds_at_their_boundaries(discount, outcome, categories):
    result = _check("collaboration", discount)
    assert result["outcome"] == outcome, result["reasons"]
    if categories is not None:
        assert sorted(result["approval_categories"]) == categories
    assert all(r["clause"] for r in result["reasons"])


def test_cpa_5_5_6_4_the_registration_discount_adds_4_points_to_the_combined_discount():
    # CPA-5.5: "an additional discount of 4 percentage points"; CPA-6.4: "added together, not compounded". 5% + 4% =
    # 9% combined on collaboration (Advanced cap 9%): within the cap. Net 1,000.00 x (1 - 0.09) = 910.00.
    result = _check("collaboration", "5.00", registered=True)
    line = result["lines"][0]
    assert line["combined_discount_percent"] == "9.00" and line["net_total"] == "910.00"
    assert result["outcome"] == "allow", result["reasons"]


def test_cpa_6_5_an_exclusive_campaign_with_a_registration_discount_is_refused():
    # CPA-6.5: "A line combining an exclusive campaign with another campaign or a registration discount is refused."
    result = _check("devices", "0", promotions=("DEVICES-FLASH",), registered=True)
    assert result["outcome"] == "deny", result["reasons"]
    assert any(r["clause"] == "CPA-6.5" for r in result["reasons"])


def test_cpa_6_3_a_line_below_cost_cannot_be_approved_and_below_10_percent_margin_needs_finance():
    # CPA-6.3: "A line below 10% requires Finance approval, and a line below Line Cost cannot be approved."
    # Net 1,000.00 x 0.95 = 950.00. Cost 900.00: margin 50 / 950 = 5.26% -> finance. Cost 950.01: below cost -> deny.
    low = _check("collaboration", "5.00", unit_cost="900.00")
    assert low["outcome"] == "approval_required" and "margin_below_floor" in low["approval_categories"]
    assert _check("collaboration", "5.00", unit_cost="950.01")["outcome"] == "deny"


@pytest.mark.parametrize(("days", "outcome"), [(30, "allow"), (45, "approval_required"), (60, "approval_required"),
                                               (61, "deny")])  # fmt: skip
def test_cpa_6_7_payment_terms(days, outcome):
    # CPA-6.7: "The standard payment term is 30 days from the invoice date. Any other term, including longer terms ...
    # is non-standard and requires Legal approval before it is offered. Payment terms longer than 60 days are not
    # granted."
    result = _check("collaboration", "0", payment_days=days)
    assert result["outcome"] == outcome, result["reasons"]
    if outcome == "approval_required":
        assert result["approval_categories"] == ["non_standard_payment_terms"]
