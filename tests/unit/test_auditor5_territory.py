"""Auditor 5: a Regional Reseller's declared territory bounds its deal registrations, both tenants. Fixed clocks only.

PA-2.6: "a Regional Reseller must provide a territory declaration listing the states, provinces or countries in which
it is authorised to sell. Quotes, orders and deal registrations for Customers whose billing address is outside the
declared territory are rejected unless Channel Operations approves a written territory exception for the specific
opportunity before the quote is issued."
PA-5.1: "A Partner may register an opportunity only for a Product Family in which it holds a valid certification, only
for a Customer within its territory where it is a Regional Reseller, [...]"
CPA-2.5: "A Regional Reseller also declares the countries in which it may sell. Orders and opportunity registrations
for End Customers established outside those countries are rejected unless Channel Operations grants a written
territory exception for the specific opportunity before quoting."
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import RuleViolation
from revgov.domain.partners import territory, tiers_by_rank
from revgov.local.demo_partners import demo_application, onboard
from revgov.ports import Changes, Put
from revgov.services import deals as deal_service

T0 = "2026-11-02T09:00:00.000Z"
# (tenant, tier index whose entitlements include deal registration, family, certification it needs, clause)
SETUP = {
    "northwind": (1, "networking", "cert-network-core", "PA-2.6"),  # PA-5.1: Silver and up register deals
    "contoso": (0, "collaboration", None, "CPA-2.5"),  # CPA-5.1: Authorized, collaboration without certification
}


def _who(tenant: str, role: Role) -> Principal:
    return Principal(tenant, role, f"key_01JX0000000000000000{role.value[:6].upper():0<6}")


def _partner(rt: Any, tenant: str, partner_type: str, area: list[str] | None) -> str:
    rank, _, cert, _ = SETUP[tenant]
    policy = dict(rt.store.get(tenant, "TENANT", "PROFILE").data["config"]["policy"])
    application = demo_application(f"Aud5 {uuid.uuid4().hex[:6]}", partner_type, tiers_by_rank(policy)[rank])
    if area is not None:
        application["terms"]["territory"] = area
    created = onboard(rt, policy, application, "active", sales=_who(tenant, Role.SALES),
                      approver=_who(tenant, Role.CHANNEL_OPS))
    assert created["status"] == "active", created
    if cert:
        stored = rt.store.get(tenant, "PARTNER", created["partner_id"])
        held = {**stored.data.get("certifications", {}),
                cert: {"earned_at": "2025-06-01", "expires_at": "2027-12-31"}}
        rt.store.commit(tenant, Changes(puts=[Put("PARTNER", created["partner_id"],
                                                  {**stored.data, "certifications": held},
                                                  expected_version=stored.version)]))
    return str(created["partner_id"])


def _register(rt: Any, tenant: str, partner_id: str, country: str | None) -> dict[str, Any]:
    customer: dict[str, Any] = {"id": f"C-{uuid.uuid4().hex[:8]}", "name": "Harbor Logistics", "contact": "Dana Ortiz"}
    if country is not None:
        customer["country"] = country
    body = {"partner_id": partner_id, "customer": customer, "family": SETUP[tenant][1],
            "estimated_value": "84000.00", "expected_close": "2027-01-15"}
    return deal_service.register(rt, _who(tenant, Role.SALES), body)


def _deal_count(rt: Any, tenant: str) -> int:
    return len(deal_service.list_deals(rt, _who(tenant, Role.SALES), limit=100, cursor=None)["items"])


@pytest.mark.parametrize(("tenant", "area", "inside", "outside"), [
    ("northwind", ["US-WA", "US-OR"], ["US-WA", "US-OR"], ["US-CA", "CA-BC", "US"]),
    ("contoso", ["DE", "AT"], ["DE", "AT", "DE-BY"], ["FR", "CH", "NL-NH"]),
])
def test_a_regional_reseller_registers_only_inside_its_declared_territory(tenant, area, inside, outside):
    """Inside the declaration: a pending registration for channel ops. Outside it: refused (422) citing the clause,
    nothing stored. A territory of states does not cover a customer known only by its country (it may not be in any
    of them); a territory of countries covers their subdivisions."""
    rt, _ = memory_runtime(T0, tenant=tenant)
    clause = SETUP[tenant][3]
    partner_id = _partner(rt, tenant, "regional_reseller", area)
    for location in inside:
        assert _register(rt, tenant, partner_id, location)["status"] == "pending", location
    before = _deal_count(rt, tenant)
    for location in outside:
        with pytest.raises(RuleViolation) as refused:
            _register(rt, tenant, partner_id, location)
        reasons = refused.value.extra["reasons"]
        assert {"rule_id": "DR-TERRITORY", "clause": clause} in [
            {k: r[k] for k in ("rule_id", "clause")} for r in reasons], location
        assert any(location in r["message"] and "territory exception" in r["message"] for r in reasons)
    assert _deal_count(rt, tenant) == before


@pytest.mark.parametrize("tenant", ["northwind", "contoso"])
def test_a_regional_resellers_registration_states_where_the_customer_is(tenant):
    """Without the customer's location the territory cannot be checked: 422 naming /customer/country, nothing stored.
    Another partner type is not limited to a territory (PA-2.1 / CPA-2.1), so it is not asked."""
    rt, _ = memory_runtime(T0, tenant=tenant)
    regional = _partner(rt, tenant, "regional_reseller", ["GB"])
    with pytest.raises(RuleViolation) as refused:
        _register(rt, tenant, regional, None)
    assert [e.path for e in refused.value.errors] == ["/customer/country"]
    assert [(r["rule_id"], r["clause"]) for r in refused.value.extra["reasons"]] == [("DR-TERRITORY", SETUP[tenant][3])]
    assert _deal_count(rt, tenant) == 0
    reseller = _partner(rt, tenant, "reseller", None)
    assert _register(rt, tenant, reseller, None)["status"] == "pending"
    assert _register(rt, tenant, reseller, "JP")["status"] == "pending"


def test_territory_matching_by_country_and_subdivision():
    assert territory.within(("US-WA",), "US-WA") and territory.within(("US",), "US-WA")
    assert not territory.within(("US-WA",), "US") and not territory.within(("US-WA",), "US-WAX")
    assert not territory.within(("US-WA",), "US-OR") and not territory.within((), "US")


@pytest.mark.parametrize(("tenant", "area", "sku", "outside"), [
    ("northwind", ["US-WA"], "NW-SW-24P", "US-CA"),
    ("contoso", ["DE"], "CT-DEV-LAPTOP14", "FR"),
])
def test_a_regional_resellers_quote_for_a_customer_outside_its_territory_is_not_allowed(tenant, area, sku, outside):
    """PA-2.6: "Quotes [...] for Customers whose billing address is outside the declared territory are rejected unless
    Channel Operations approves a written territory exception for the specific opportunity before the quote is
    issued." CPA-2.5: "[...] unless Channel Operations grants a written territory exception for the specific
    opportunity before quoting." So the quote waits for that exception: approval_required in the territory_exception
    category (Channel Operations' queue), citing DR-TERRITORY and the clause; inside the territory it is allowed; a
    Regional Reseller's quote without the customer's location is refused naming /customer/country."""
    from revgov.services import pricing

    rt, _ = memory_runtime(T0, tenant=tenant)
    partner_id = _partner(rt, tenant, "regional_reseller", area)
    clause = SETUP[tenant][3]

    def quote(country: str | None) -> dict[str, Any]:
        customer = {"id": "C-OUT-1", "name": "Elsewhere Ltd"} | ({"country": country} if country else {})
        return {"partner_id": partner_id, "quote_ref": "Q-TERR-1", "customer": customer,
                "lines": [{"line_id": "1", "sku": sku, "quantity": 1, "discount_percent": "0"}]}

    answer = pricing.check(rt, _who(tenant, Role.SALES), quote(outside))
    assert answer["outcome"] == "approval_required", answer
    assert [(a["category"], a["queue"]) for a in answer["approvals"]] == [("territory_exception", "channel_ops")]
    cited = [r for r in answer["reasons"] if r["rule_id"] == "DR-TERRITORY"]
    assert [r["clause"] for r in cited] == [clause] and outside in cited[0]["message"]
    assert pricing.check(rt, _who(tenant, Role.SALES), quote(area[0]))["outcome"] == "allow"
    with pytest.raises(RuleViolation) as refused:
        pricing.check(rt, _who(tenant, Role.SALES), quote(None))
    assert [e.path for e in refused.value.errors] == ["/customer/country"]
    assert [(r["rule_id"], r["clause"]) for r in refused.value.extra["reasons"]] == [("DR-TERRITORY", clause)]


def test_a_reseller_not_bound_to_a_territory_quotes_without_a_location():
    """PA-2.6 binds only a Regional Reseller: another partner type's quote needs no customer.country."""
    from revgov.services import pricing

    rt, _ = memory_runtime(T0, tenant="northwind")
    partner_id = _partner(rt, "northwind", "reseller", None)
    body = {"partner_id": partner_id, "quote_ref": "Q-TERR-2", "customer": {"id": "C-ANY-1"},
            "lines": [{"line_id": "1", "sku": "NW-SW-24P", "quantity": 1, "discount_percent": "0"}]}
    answer = pricing.check(rt, _who("northwind", Role.SALES), body)
    assert answer["outcome"] == "allow" and "DR-TERRITORY" not in {r["rule_id"] for r in answer["reasons"]}
