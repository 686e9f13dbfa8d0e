"""An auditor's case on what a Northwind deal registration must show, on the in-memory engine with a fixed clock.

PA-5.1: "A Partner may register an opportunity ... only where the Partner is actively engaged in a sales cycle with the
Customer, evidenced by a named Customer contact, an estimated deal value and an expected close date within 180
days." A registration without a named Customer contact is not evidenced and must be refused (a 4xx problem naming
`/customer/contact`), with nothing stored. (Contoso's CPA-5.1 asks for the legal entity, VAT or company number,
family, estimated value and close date, not a contact.)
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.domain.access import Principal, Role
from revgov.domain.errors import RevgovError
from revgov.ports import Changes, Put
from revgov.services import deals
from support import ROOT

SALES = Principal("northwind", Role.SALES, "key_01JX00000000000000000SALES")
PLATINUM = "ptr_01JBNWPARTNER0000000000001"  # certified in every family until 2027-05-31


def _register(customer: dict[str, Any]) -> dict[str, Any]:
    rt, _ = memory_runtime("2026-11-10T10:00:00.000Z")
    partners = json.loads((ROOT / "tests" / "scenarios" / "billing" / "erp-samples.json").read_text())["partners"]
    rt.store.commit("northwind", Changes(puts=[Put("PARTNER", p["partner_id"], p) for p in partners]))
    body = {"partner_id": PLATINUM, "customer": customer, "family": "networking", "estimated_value": "48000.00",
            "expected_close": "2027-02-15"}  # fmt: skip
    deal: dict[str, Any] = deals.register(rt, SALES, body)
    return deal


def test_pa_5_1_a_registration_with_a_named_contact_waits_for_channel_ops():
    deal = _register({"id": "CUST-EVID-1", "name": "Lakeside Clinic", "contact": "Dana Ortiz, IT director"})
    assert deal["status"] == "pending" and deal["approval_id"]


def test_pa_5_1_a_registration_without_a_named_customer_contact_is_refused():
    with pytest.raises(RevgovError) as refused:
        _register({"id": "CUST-EVID-2", "name": "Lakeside Clinic"})
    assert 400 <= refused.value.status < 500
    assert "/customer/contact" in [error.path for error in refused.value.errors]


def test_pa_5_1_a_blank_contact_is_no_named_contact_and_nothing_is_stored():
    with pytest.raises(RevgovError) as refused:
        _register({"id": "CUST-EVID-3", "name": "Lakeside Clinic", "contact": "   "})
    assert refused.value.extra["clause"] == "PA-5.1"
    assert "/customer/contact" in [error.path for error in refused.value.errors]
