"""Red team, twelfth round: a value with a trailing line feed against every `pattern` of the request schemas.

JSON Schema 2020-12 (Validation §6.3.3): a `pattern` is "a regular expression, according to the ECMA-262 regular
expression dialect"; in ECMA-262 `$` without the multiline flag matches only at the end of the input. Python's `re`
lets `$` match before a final "\n" as well, so `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$` took `"CUST-1\n"`: a customer id,
partner id, tenant id, SKU or ERP reference one line feed longer than the form the schema describes. Two ids that
read the same then named two objects: a partner registering a deal for `"CUST-1\n"` was not in conflict with the
registration another partner holds for `CUST-1` (PA-5.2: "the first approved registration [...] is exclusive"). API.md:
bad input is a 400 problem naming the field, nothing changed. (`domain.ids.is_typed_id` and the path's tenant id
already compare with `fullmatch` for this reason; the request bodies did not.)
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import clock_support
from revgov import schemas
from revgov.domain.errors import MalformedRequest, RuleViolation
from revgov.tenant_files import load_tenant_file
from security_support import Party, make_party, offboard
from support import ROOT, assert_problem

PARTNER = "ptr_01JBNWPARTNER0000000000001"


def _refused_at(name: str, payload: Any) -> list[str]:
    with pytest.raises(MalformedRequest) as refused:
        schemas.validate(name, payload)
    return [e.path for e in refused.value.errors]


def _deal(partner_id: str, customer_id: str) -> dict[str, Any]:
    return {"partner_id": partner_id, "customer": {"id": customer_id, "name": "Probe Customer", "contact": "Dana"},
            "family": "networking", "estimated_value": "50000.00", "expected_close": "2027-02-01"}  # fmt: skip


@pytest.mark.parametrize("where", ["/customer/id", "/customer/name", "/partner_id", "/family", "/estimated_value"])
def test_a_trailing_line_feed_is_outside_every_deal_field_pattern(where: str) -> None:
    """`/customer/name` is a text.schema.json `line`: "One line [...]: no control character at all (no line break)"."""
    body = _deal(PARTNER, "CUST-1")
    holder, name = (body["customer"], where.rsplit("/", 1)[1]) if where.startswith("/customer/") else (body, where[1:])
    schemas.validate("api/deal-registration.schema.json", body)  # the value itself is of the form
    holder[name] = f"{holder[name]}\n"
    assert _refused_at("api/deal-registration.schema.json", body) == [where]


def test_a_tenant_id_with_a_line_feed_is_refused_at_provisioning() -> None:
    """tenant.schema.json: "lowercase letter first, then lowercase letters, digits or hyphens, 3 to 40 characters"."""
    config = load_tenant_file(Path(ROOT / "tenants" / "northwind" / "tenant.yaml"))
    config["tenant_id"] = "probe-tenant\n"
    assert _refused_at("tenant.schema.json", config) == ["/tenant_id"]


def test_an_erp_reference_with_a_line_feed_is_refused() -> None:
    """erp-event.schema.json `reference`: letters, digits, `._/-`, up to 64; a line feed is none of them."""
    event = {"id": "ERP-PROBE-1", "type": "shipment.confirmed", "occurred_at": "2026-12-01T10:00:00Z",
             "data": {"partner_id": PARTNER, "order_ref": "SO-1\n", "shipped_on": "2026-12-01",
                      "lines": [{"sku": "NW-SW-24P", "quantity": 1}]}}  # fmt: skip
    assert "/data/order_ref" in _refused_at("events/erp-event.schema.json", event)


def test_an_escaped_dollar_and_one_in_a_class_keep_their_meaning() -> None:
    """The ECMA reading changes only the end-of-input anchor: `\\$` and `[$]` are still the dollar sign."""
    from revgov.schema_check import ecma_search

    assert ecma_search(r"^[0-9]+\$$", "12$") and not ecma_search(r"^[0-9]+\$$", "12$\n")
    assert ecma_search(r"^a[$]b$", "a$b") and not ecma_search(r"^a[$]b$", "a$b\n")
    assert ecma_search(r"^(me|key_1)$", "me") and not ecma_search(r"^(me|key_1)$", "me\n")
    assert ecma_search(r"\d", "a1b")  # unanchored: still a search, as ECMA-262's test()


def test_a_history_row_with_a_line_feed_in_a_reference_or_amount_is_refused() -> None:
    """docs/history.md / history-import.schema.json: "Each row is checked (domain/history.py); any bad row refuses
    the file with a 422 naming each row"; a reference is "letters, digits, ._/-, up to 64", an amount a decimal."""
    from memory_store import Ledger
    from revgov.domain.access import Principal, Role
    from revgov.services import history as history_service

    ledger = Ledger("2026-10-01T08:00:00Z")
    finance = Principal("northwind", Role.FINANCE, "key_fin")
    row = {"partner_id": PARTNER, "invoice_ref": "INV-A100", "invoice_date": "2025-10-31", "line_ref": "A100-1",
           "sku": "NW-SW-24P", "quantity": "40", "amount": "50000.00"}  # fmt: skip
    for field, spelled in (("invoice_ref", "INV-A100\n"), ("line_ref", "A100-1\n"), ("amount", "50000.00\n"),
                           ("partner_id", f"{PARTNER}\n"), ("sku", "NW-SW-24P\n"), ("quantity", "40\n")):
        with pytest.raises(RuleViolation) as refused:
            history_service.import_history(ledger.rt, finance, {"lines": [{**row, field: spelled}]})
        assert f"/lines/0/{field}" in [e.path for e in refused.value.errors], field


# --- over HTTP: a partner key and the MSP operator key ----------------------------------------------------------
@pytest.fixture(scope="module")
def party(api: Any, operator: Any, stack: Any) -> Any:
    made = make_party(api, operator, stack, "northwind")
    yield made
    offboard(operator, made)


@pytest.mark.stack
def test_a_partner_cannot_register_a_line_feed_spelling_of_a_customer(party: Party) -> None:
    own = party.partners[0]
    key = party.partner_keys[own]
    family = next(f["family"] for f in party.policy["billing"]["price_list"] if f.get("family"))
    body = _deal(own, f"CUST-{uuid.uuid4().hex[:8]}\n")
    body["family"] = family
    body["expected_close"] = (clock_support.today() + timedelta(days=45)).isoformat()
    problem = assert_problem(key.post("/v1/deals", body), 400)
    assert [e["path"] for e in problem["errors"]] == ["/customer/id"]
    assert key.get("/v1/deals").json()["items"] == []  # nothing registered


@pytest.mark.stack
def test_the_operator_cannot_provision_a_tenant_id_with_a_line_feed(operator: Any) -> None:
    config = load_tenant_file(Path(ROOT / "tenants" / "northwind" / "tenant.yaml"))
    config["tenant_id"] = f"nort-{uuid.uuid4().hex[:10]}\n"
    problem = assert_problem(operator.post("/v1/tenants", config), 400)
    assert [e["path"] for e in problem["errors"]] == ["/tenant_id"]


def test_a_catalog_row_with_a_line_feed_after_its_sku_or_family_is_refused() -> None:
    """A quoted CSV field may hold a line feed: `"NW-SW-24P\\n"` was a second SKU beside NW-SW-24P on the price list
    (docs/pricing.md: a SKU is "uppercase letters, digits and hyphens"); the row is refused naming its column."""
    from revgov.domain.catalog import catalog_entries

    row = {"sku": "NW-SW-24P", "name": "Switch", "family": "networking", "billing": "shipment",
           "list_price": "1250.00", "unit_cost": "900.00", "currency": "USD",
           "effective_from": "2027-01-01"}  # fmt: skip
    entries, problems = catalog_entries([row], currency="USD", families=frozenset({"networking"}), clause="PA-6.1")
    assert entries and not problems
    for column in ("sku", "family"):
        _, problems = catalog_entries([{**row, column: f"{row[column]}\n"}], currency="USD",
                                      families=frozenset({"networking", "networking\n"}), clause="PA-6.1")
        assert [p.path for p in problems] == [f"/rows/0/{column}"], column
