"""An auditor's promotion-date cases, written from the two agreements (never from the code), on the pure quote check
with explicit quote dates (nothing depends on today's date).

PA-6.4: "A promotion applies only to lines of its eligible Product Families and only to quotes issued before its end
date." Northwind publishes NET-REFRESH-26 (networking, 3%) with the end date 2026-12-31, so a quote issued on
2026-12-31 is not issued before its end date and does not get it; one issued on 2026-12-30 does.

CPA-6.4: "A campaign applies only to its eligible Product Families and to quotes issued within its campaign dates."
Contoso's COLLAB-WINTER-26 (collaboration, 3%) runs 2026-11-01 to 2027-01-31: a quote issued on 2027-01-31 is within
its dates and gets it. The two clauses differ on purpose; each tenant's rule follows its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from revgov.domain.pricing import PartnerFacts, check_quote
from revgov.domain.tenants import policy_version
from revgov.tenant_files import load_tenant_file

ROOT = Path(__file__).resolve().parents[2]


def _policy(tenant: str) -> dict[str, Any]:
    return dict(load_tenant_file(ROOT / "tenants" / tenant / "tenant.yaml")["policy"])


NW, CT = _policy("northwind"), _policy("contoso")


def _line(policy: dict[str, Any], tenant: str, code: str, quote_date: str) -> dict[str, Any]:
    """One line of the price list's first item of the promotion's family, no discretionary discount."""
    promo = next(p for p in policy["pricing"]["promotions"] if p["code"] == code)
    item = next(i for i in policy["billing"]["price_list"] if i["family"] in promo["families"])
    tier = policy["partner_tiers"][-1]["tier"]  # the top tier: its cap leaves room for the promotion
    partner = PartnerFacts("ptr_A", "active", tier, frozenset({item["family"]}))
    quote = {
        "quote_date": quote_date,
        "customer_id": "cust-1",
        "terms": {"payment_days": 30},
        "promotions": [code],
        "lines": [{"line_id": "1", "sku": item["sku"], "family": item["family"], "quantity": 1,
                   "list_price": item["list_price"], "unit_cost": item["unit_cost"], "discount_percent": "0"}],
    }  # fmt: skip
    result = check_quote(policy, policy_version(policy), quote, partner, {}, {})
    line: dict[str, Any] = result["lines"][0]
    return line


def _applied(line: dict[str, Any]) -> list[str]:
    return [c["source"] for c in line["discount_components"] if c["source"].startswith("promotion:")]


@pytest.mark.parametrize(("quote_date", "applied"), [("2026-12-30", True), ("2026-12-31", False)])
def test_pa_6_4_a_promotion_applies_only_to_quotes_issued_before_its_end_date(quote_date, applied):
    promo = next(p for p in NW["pricing"]["promotions"] if p["code"] == "NET-REFRESH-26")
    assert promo["ends_on"] == "2026-12-31"  # the end date Northwind published
    line = _line(NW, "northwind", "NET-REFRESH-26", quote_date)
    assert _applied(line) == (["promotion:NET-REFRESH-26"] if applied else [])
    assert line["combined_discount_percent"] == ("3.00" if applied else "0.00")
    if not applied:
        (noted,) = line["findings"]
        assert (noted["clause"], noted["outcome"]) == ("PA-6.4", "allow")
        assert "before its end date" in noted["message"]


@pytest.mark.parametrize("quote_date", ["2026-11-01", "2027-01-31"])
def test_cpa_6_4_a_campaign_applies_to_quotes_issued_within_its_campaign_dates_both_included(quote_date):
    line = _line(CT, "contoso", "COLLAB-WINTER-26", quote_date)
    assert _applied(line) == ["promotion:COLLAB-WINTER-26"]
    assert line["combined_discount_percent"] == "3.00"


def test_cpa_6_4_a_campaign_does_not_apply_the_day_after_its_last_day():
    line = _line(CT, "contoso", "COLLAB-WINTER-26", "2027-02-01")
    assert _applied(line) == [] and line["combined_discount_percent"] == "0.00"
