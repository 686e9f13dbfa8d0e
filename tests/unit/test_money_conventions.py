"""The contracts' money conventions, one test per clause, each expectation worked out by hand from the clause text.

Pricing, billing and rebates compute through one money module (`revgov.domain.money`); these tests reach each of
them through its own entry point, so a second arithmetic anywhere would show here.
"""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from revgov.domain import billing, money
from revgov.domain.billing import BillingPolicy
from revgov.domain.pricing import PartnerFacts, check_quote
from revgov.domain.rebates.base import percent_of as rebate_percent_of
from revgov.domain.tenants import policy_version
from revgov.services.pricing import evaluate
from revgov.tenant_files import load_tenant_file

TENANTS = Path(__file__).resolve().parents[2] / "tenants"
D = Decimal


def _policy(tenant):
    return load_tenant_file(TENANTS / tenant / "tenant.yaml")["policy"]


NORTHWIND, CONTOSO = _policy("northwind"), _policy("contoso")


def _priced_line(policy, sku, quantity, discount):
    item = next(p for p in policy["billing"]["price_list"] if p["sku"] == sku)
    return {
        "line_id": "1",
        "sku": sku,
        "quantity": quantity,
        "discount_percent": discount,
        "family": item["family"],
        "list_price": item["list_price"],
        "unit_cost": item["unit_cost"],
    }


def _quote_line(policy, sku, quantity, discount, tier="platinum"):
    line = _priced_line(policy, sku, quantity, discount)
    families = frozenset(p["family"] for p in policy["billing"]["price_list"])
    quote = {"quote_date": "2026-11-27", "customer_id": "c", "terms": {"payment_days": 30}, "lines": [line]}
    facts = PartnerFacts("ptr_A", "active", tier, families)
    return check_quote(policy, policy_version(policy), quote, facts, {}, {})["lines"][0]


# PA-1.3: "Monetary calculations are performed with exact decimal arithmetic and rounded once, at line level, to two
# decimal places using round-half-to-even. Percentages are applied to the unrounded base and the result is rounded
# at line level."
def test_pa_1_3_a_quote_line_applies_its_discount_to_the_unrounded_base_and_rounds_once():
    # NW-SW-24P lists at 1250.00 (PA-6.1 price list). 1250.00 x 2 = 2500.00; less 14.99%: 2500.00 x 0.8501 =
    # 2125.25 exactly. Rounding the unit first (1062.625 -> 1062.62, x 2) would give 2125.24: not the clause.
    line = _quote_line(NORTHWIND, "NW-SW-24P", 2, "14.99")
    assert line["net_total"] == "2125.25"
    assert D(line["net_unit_price"]) == D("1062.625")  # the exact Net Price, stated unrounded


def test_pa_1_3_the_line_is_rounded_half_to_even():
    # NW-NET-MGMT lists at 99.00. 99.00 x 5 = 495.00; less 0.05%: 495.00 x 0.9995 = 494.7525 -> 494.75.
    # 99.00 x 1 less 12.50%: 86.625 -> half-even to 86.62 (2 is even), not 86.63 (half-up).
    assert _quote_line(NORTHWIND, "NW-NET-MGMT", 5, "0.05")["net_total"] == "494.75"
    assert _quote_line(NORTHWIND, "NW-NET-MGMT", 1, "12.50")["net_total"] == "86.62"


def test_pa_1_3_a_shipment_invoice_line_rounds_once_at_line_level_like_the_quote():
    # The same line shipped: 2 x NW-SW-24P at 14.99% off is invoiced at 2125.25 (PA-1.3), as it was quoted.
    book = BillingPolicy.from_policy(NORTHWIND)
    data = {"order_ref": "SO-1", "shipped_on": "2026-10-06",
            "lines": [{"sku": "NW-SW-24P", "quantity": 2, "discount_percent": "14.99"}]}
    (draft,) = billing.shipment_drafts(book, data)
    assert draft.amount == D("2125.25")


# CPA-1.3: "All amounts are in euro (EUR). Calculations use exact decimal arithmetic and are rounded once per line
# to two decimal places, half to even."
def test_cpa_1_3_contoso_lines_are_rounded_once_per_line_half_to_even():
    # CT-DEV-DOCK lists at 210.00. 210.00 x 3 = 630.00; less 12.35%: 630.00 x 0.8765 = 552.195 -> 552.20 (half to
    # even: the 9 is odd, so the 5 rounds up). Rounding the unit first (184.065 -> 184.06, x 3) gives 552.18.
    assert _quote_line(CONTOSO, "CT-DEV-DOCK", 3, "12.35")["net_total"] == "552.20"
    # CT-DEV-LAPTOP14 lists at 1150.00; less 0.05%: 1149.425 -> 1149.42 (half to even keeps the 2).
    assert _quote_line(CONTOSO, "CT-DEV-LAPTOP14", 1, "0.05")["net_total"] == "1149.42"


# SOP-2.3: "The charge is computed as monthly price x remaining days / days in month with exact decimal arithmetic
# and rounded once to two places, half to even. Example: USD 99.00 per month activated on 2028-02-15 (a leap year,
# 29 days) is charged USD 99.00 x 15 / 29 = USD 51.21."
def test_sop_2_3_proration_is_exact_then_rounded_once():
    assert money.share_of(D("99.00"), 15, 29) == D("51.21")
    assert billing.prorate(D("99.00"), date(2028, 2, 15)).amount == D("51.21")


# SOP-2.4: "The credit is monthly price x unused full days / days in month, rounded once to two places, half to
# even". 10.05 x 14 / 28 = 5.025 -> 5.02 (half to even keeps the 2).
def test_sop_2_4_a_cancellation_credit_is_rounded_once_half_to_even():
    billed = billing.ServicePeriod.month("2026-02")
    credit = billing.cancellation_credit(D("10.05"), date(2026, 2, 14), billed)
    assert credit is not None and credit.days == 14 and credit.amount == D("5.02")


# COP-2.3: "Example: EUR 45.00 per month activated on 2026-06-11 (30 days) is charged 45.00 x 20 / 30 = EUR 30.00;
# the same subscription cancelled with effect from the end of 2026-06-25 is credited 45.00 x 5 / 30 = EUR 7.50."
def test_cop_2_3_contoso_proration_and_credit_example():
    charge = billing.prorate(D("45.00"), date(2026, 6, 11))
    assert charge.amount == D("30.00")
    credit = billing.cancellation_credit(D("45.00"), date(2026, 6, 25), charge.period)
    assert credit is not None and credit.amount == D("7.50")


# PA-1.3 for rebates: a rebate percentage of Qualifying Revenue is applied to the unrounded base, rounded once.
@pytest.mark.parametrize(
    ("cents", "percent", "amount"),
    [
        (10_000_050, D("2.5"), "2500.01"),  # 100000.50 x 2.5% = 2500.0125 -> 2500.01
        (10_000_100, D("2.5"), "2500.02"),  # 100001.00 x 2.5% = 2500.025 -> half to even 2500.02
        (10_000_300, D("2.5"), "2500.08"),  # 100003.00 x 2.5% = 2500.075 -> half to even 2500.08
    ],
)
def test_pa_1_3_a_rebate_percentage_is_rounded_once_half_to_even(cents, percent, amount):
    assert rebate_percent_of(cents, percent) == D(amount)
    assert money.percent_of(D(cents) / 100, percent) == D(amount)


def test_decisions_made_before_the_rounding_fix_replay_as_they_were_made():
    """A stored decision without `arithmetic` was computed with the unit price rounded first; its replay must still
    reproduce it (GET /v1/decisions/{id}/replay), while every new decision is computed per PA-1.3."""
    line = _priced_line(NORTHWIND, "NW-SW-24P", 2, "14.99")
    inputs = {
        "quote": {"quote_date": "2026-11-27", "customer_id": "c", "terms": {"payment_days": 30}, "lines": [line]},
        "partner": {"partner_id": "ptr_A", "status": "active", "tier": "platinum",
                    "certified_families": ["networking"]},
        "registration": None,
        "rivals": {},
    }
    old = evaluate(NORTHWIND, policy_version(NORTHWIND), inputs)
    assert old["lines"][0]["net_total"] == "2125.24"  # as it was stored then
    new = evaluate(NORTHWIND, policy_version(NORTHWIND), {**inputs, "arithmetic": "line"})
    assert new["lines"][0]["net_total"] == "2125.25"


# PA-1.3: the Net Price is exact ("Percentages are applied to the unrounded base and the result is rounded at line
# level"), and shown like the quote shows it (docs/pricing.md "Arithmetic": "`net_unit_price` is stated exactly,
# unrounded (`1062.625`)"): at least two places, no trailing zeros beyond them. Found as a new reseller reading an
# issued invoice: a firewall at 5% off (3,400.00 x 0.95) read "unit_price": "3230.0000".
@pytest.mark.parametrize(("sku", "discount", "unit_price"), [
    ("NW-FW-200", "5.00", "3230.00"),  # 3,400.00 x 95.00 / 100, exact
    ("NW-SW-24P", "14.99", "1062.625"),  # 1,250.00 x 85.01 / 100, exact
    ("NW-SW-24P", None, "1250.00"),  # no discount: the List Price
])  # fmt: skip
def test_pa_1_3_an_invoice_line_states_its_exact_unit_price_as_the_quote_does(sku, discount, unit_price):
    book = BillingPolicy.from_policy(NORTHWIND)
    line = {"sku": sku, "quantity": 1, **({"discount_percent": discount} if discount else {})}
    (draft,) = billing.shipment_drafts(book, {"order_ref": "SO-1", "shipped_on": "2026-10-06", "lines": [line]})
    invoice = {"invoice_id": "inv_01JX0000000000000000000000", "partner_id": "ptr_A", "status": "draft",
               "line_count": 0, "total": "0.00"}  # fmt: skip
    _, (posted,) = billing.add_lines(invoice, [draft], event_id="evt_1", erp_event_id="E-1",
                                     posted_at="2026-10-06T10:00:00Z")  # fmt: skip
    assert posted["unit_price"] == unit_price
    assert _quote_line(NORTHWIND, sku, 1, discount or "0")["net_unit_price"] == unit_price
