"""A partner's country of establishment (CPA-1.3: its business days skip its country's public holidays) is taken at
application as an ISO 3166-1 alpha-2 code; anything else is a 400 naming /country and creates no partner."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from support import assert_problem

pytestmark = pytest.mark.stack


def _application(country: Any) -> dict[str, Any]:
    name = f"Country Check {uuid.uuid4().hex[:6]}"
    return {
        "legal_name": name,
        "partner_type": "reseller",
        "requested_tier": "authorized",
        "contact": {"name": "Desk", "email": "desk@country.example"},
        "country": country,
    }


@pytest.mark.parametrize("country", ["ie", "IRL", "I", "", 353, None, "I3"])
def test_a_country_that_is_not_an_iso_alpha_2_code_is_a_400_and_creates_nothing(stack, api, country):
    sales = api.as_key(stack.info["tenants"]["contoso"]["keys"]["sales"])
    before = len(sales.get("/v1/partners", limit=200).json()["items"])
    problem = assert_problem(sales.post("/v1/partners", _application(country)), 400)
    assert any(e["path"] == "/country" for e in problem["errors"]), problem
    assert len(sales.get("/v1/partners", limit=200).json()["items"]) == before


def test_the_country_is_recorded_on_the_partner(stack, api):
    sales = api.as_key(stack.info["tenants"]["contoso"]["keys"]["sales"])
    created = sales.post("/v1/partners", _application("IE"))
    assert created.status_code == 201, created.text
    assert sales.get(f"/v1/partners/{created.json()['partner_id']}").json()["country"] == "IE"
