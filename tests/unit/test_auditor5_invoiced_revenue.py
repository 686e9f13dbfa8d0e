"""Auditor 5: what Invoiced Revenue can hold. PA-1.2: "Invoiced Revenue" means the amounts invoiced [...] for
Products and Services, excluding value added tax, sales tax, freight, insurance, duties and pass-through fees."
CPA-1.2: "excluding VAT and other indirect taxes, freight, environmental and recycling fees and other pass-through
charges". An ERP event cannot carry a freight, fee or tax amount onto a line: each line is a price-list SKU and a
quantity, so nothing the rebates and the tier commitment measure is a pass-through charge."""

from __future__ import annotations

import json
from typing import Any

import pytest

from revgov import schemas
from support import ROOT

SAMPLE = json.loads((ROOT / "events" / "revgov.erp" / "shipment.confirmed.json").read_text())


def _with(data: dict[str, Any], line: dict[str, Any] | None = None) -> dict[str, Any]:
    detail = SAMPLE["detail"]
    lines = [{**detail["data"]["lines"][0], **(line or {})}]
    return {**SAMPLE, "detail": {**detail, "data": {**detail["data"], **data, "lines": lines}}}


def test_the_sample_shipment_is_valid():
    assert schemas.problems("events/shipment.confirmed.schema.json", _with({})) == []


@pytest.mark.parametrize("field", ["freight", "recycling_fee", "environmental_fee", "insurance", "duties", "vat",
                                   "pass_through", "unit_price", "amount"])
def test_no_freight_fee_tax_or_price_rides_on_a_shipment_or_its_lines(field):
    assert schemas.problems("events/shipment.confirmed.schema.json", _with({field: "25.00"})), field
    assert schemas.problems("events/shipment.confirmed.schema.json", _with({}, {field: "25.00"})), field
