"""The catalog answers "SKU X on day D" from effective-dated versions (PA-1.2, PA-6.1, CPA-6.1)."""

import copy
from decimal import Decimal
from pathlib import Path

import pytest

from revgov.domain.billing import BillingPolicy
from revgov.domain.catalog import PriceListCatalog, item_from_entry, policy_catalog
from revgov.domain.errors import RuleViolation
from revgov.services.catalog import price_lines
from revgov.tenant_files import load_tenant_file

NORTHWIND = load_tenant_file(Path(__file__).resolve().parents[2] / "tenants" / "northwind" / "tenant.yaml")["policy"]
SWITCH = {"id": "PRICE-NW-SW-24P", "clause": "PA-6.1", "sku": "NW-SW-24P", "name": "24-port managed switch",
          "family": "networking", "billing": "shipment", "list_price": "1250.00", "unit_cost": "900.00"}


def _versions(*changes):
    return PriceListCatalog([item_from_entry({**SWITCH, **c}) for c in changes], "cat_test")


# PA-6.1: "Products are quoted from the Distributor's price list in force on the quote date. The Distributor may
# change the price list with 30 days' notice".
def test_a_price_change_applies_from_its_effective_date_and_not_before():
    catalog = _versions(
        {"effective_to": "2027-01-01"},
        {"id": "PRICE-NW-SW-24P-2027", "effective_from": "2027-01-01", "list_price": "1300.00", "unit_cost": "910.00"},
    )
    assert catalog.item("NW-SW-24P", "2026-12-31").list_price == Decimal("1250.00")
    in_2027 = catalog.item("NW-SW-24P", "2027-01-01")
    assert (in_2027.list_price, in_2027.unit_cost, in_2027.rule.rule_id) == (
        Decimal("1300.00"), Decimal("910.00"), "PRICE-NW-SW-24P-2027"
    )


def test_a_sku_is_not_on_the_price_list_outside_its_versions_or_when_never_listed():
    catalog = _versions({"effective_from": "2026-06-01", "effective_to": "2026-07-01"})
    assert catalog.item("NW-SW-24P", "2026-05-31") is None
    assert catalog.item("NW-SW-24P", "2026-07-01") is None  # effective_to is exclusive
    assert catalog.item("NW-NOT-LISTED", "2026-06-15") is None


def test_overlapping_versions_of_one_sku_are_refused():
    with pytest.raises(ValueError, match="overlap"):
        _versions({"effective_to": "2027-02-01"}, {"id": "PRICE-2", "effective_from": "2027-01-01"})


def test_the_policy_price_list_is_the_first_source_and_billing_reads_the_same_catalog():
    catalog = policy_catalog(NORTHWIND)
    item = catalog.item("NW-SW-24P", "2026-11-27")
    assert (item.family, item.list_price, item.unit_cost) == ("networking", Decimal("1250.00"), Decimal("900.00"))
    assert BillingPolicy.from_policy(NORTHWIND).catalog is catalog
    changed = copy.deepcopy(NORTHWIND)
    changed["billing"]["price_list"][0]["list_price"] = "1275.00"
    assert policy_catalog(changed).version != catalog.version  # the version names the content


def test_every_quote_line_whose_sku_is_not_listed_is_named_in_one_422():
    lines = [{"line_id": "a", "sku": "NW-SW-24P"}, {"line_id": "b", "sku": "NO-SUCH"}, {"line_id": "c", "sku": "X-1"}]
    with pytest.raises(RuleViolation) as refused:
        price_lines(policy_catalog(NORTHWIND), lines, "2026-11-27")
    assert [e.path for e in refused.value.errors] == ["/lines/1/sku", "/lines/2/sku"]
    assert "line b" in refused.value.errors[0].message and "NO-SUCH" in refused.value.errors[0].message


def test_a_policy_whose_price_list_versions_overlap_or_run_backwards_is_refused():
    from revgov.domain.policy import policy_problems

    overlapping = copy.deepcopy(NORTHWIND)
    overlapping["billing"]["price_list"] += [
        {**SWITCH, "id": "PRICE-NW-SW-24P-NEXT", "effective_from": "2027-01-01", "list_price": "1300.00"}
    ]  # the first version is open-ended: both would be in force on 2027-01-01
    assert [p.path for p in policy_problems(overlapping)] == ["/policy/billing/price_list"]
    backwards = copy.deepcopy(NORTHWIND)
    backwards["billing"]["price_list"][0] |= {"effective_from": "2027-02-01", "effective_to": "2027-01-01"}
    assert [p.path for p in policy_problems(backwards)] == ["/policy/billing/price_list/0/effective_to"]
    assert policy_problems(NORTHWIND) == []
