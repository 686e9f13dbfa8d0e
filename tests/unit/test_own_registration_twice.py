"""PA-5.4: "Only one approved registration may exist for a given Customer and Product Family at any time across all
Partners." PA-5.3 allows a registration one 30-day extension, decided by channel ops.

Found as a new reseller: with its registration of a customer's networking opportunity approved, the same partner
registered the same customer and family again; channel ops approved the second as well, so two approved
registrations stood for one customer and family, the second exclusive 90 days from its own approval: an extension
PA-5.3 never granted. A rival was refused (PA-5.5) and a second *pending* one of the same partner was refused; an
approved one was not. The second is refused now: 409 naming the partner's own registration (its own, so naming it
reveals nothing) and when its exclusivity ends, nothing stored.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import Conflict
from revgov.ports import Changes, Put
from revgov.services import cases, deals
from support import ROOT

SALES = Principal("northwind", Role.SALES, "key_01JX00000000000000000SALES")
OPS = Principal("northwind", Role.CHANNEL_OPS, "key_01JX0000000000000000000OPS")
PLATINUM = "ptr_01JBNWPARTNER0000000000001"  # certified in every family until 2027-05-31
CUSTOMER = {"id": "CUST-TWICE-1", "name": "Harbor Logistics", "contact": "Morgan Lee, IT director"}


def _runtime() -> Any:
    rt, _ = memory_runtime("2026-11-10T10:00:00.000Z")
    partners = json.loads((ROOT / "tests" / "scenarios" / "billing" / "erp-samples.json").read_text())["partners"]
    rt.store.commit("northwind", Changes(puts=[Put("PARTNER", p["partner_id"], p) for p in partners]))
    return rt


def _body(family: str = "networking") -> dict[str, Any]:
    return {"partner_id": PLATINUM, "customer": CUSTOMER, "family": family, "estimated_value": "48000.00",
            "expected_close": "2027-02-15"}  # fmt: skip


def test_pa_5_4_a_partner_holding_the_approved_registration_cannot_register_the_opportunity_again():
    rt = _runtime()
    first = deals.register(rt, SALES, _body())
    cases.decide_case(rt, OPS, "approval", first["approval_id"], "approved", None)
    held = deals.get(rt, SALES, first["deal_id"])
    assert held["status"] == "approved"
    head = rt.store.audit_head("northwind")
    with pytest.raises(Conflict) as refused:
        deals.register(rt, SALES, _body())
    assert refused.value.extra["deal_id"] == first["deal_id"]
    assert held["expires_at"][:10] in refused.value.detail and "PA-5.4" in refused.value.detail
    assert rt.store.audit_head("northwind") == head  # nothing recorded
    # PA-5.4: "A Partner may hold registrations for the same Customer in different Product Families."
    assert deals.register(rt, SALES, _body("security"))["status"] == "pending"
