"""The catalog as its own versioned store (issue #19, first bullet): imports validated row by row, one item per
SKU-version, the price in force on a date, a diff between versions, and decisions that keep their prices.

PA-6.1: "Products are quoted from the Distributor's price list in force on the quote date. The Distributor may
change the price list with 30 days' notice in the Partner Portal". Dates are relative to the stack's clock, so no
test depends on the calendar.
"""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

import clock_support
from billing_support import wait_until
from revgov import cli
from revgov.domain.access import Principal, Role
from revgov.domain.errors import RuleViolation
from revgov.services import catalog
from security_support import make_party, offboard, shipment

pytestmark = pytest.mark.xdist_group("catalog-store")  # one tenant whose catalog versions build on each other

@pytest.fixture(scope="module")
def days() -> SimpleNamespace:
    """Today and the effective day of a scheduled price change, read from the clock when the module's first test runs
    (not at collection: an earlier test of the session may have moved the stack's clock forward, `forward_to`, and an
    import dated from a stale today had less than PA-6.1's 30 days' notice). One day more than 30, because a run may
    cross midnight between this read and the import."""
    today = clock_support.today()
    return SimpleNamespace(today=today, next_month=(today + timedelta(days=31)).isoformat())


def _row(sku: str, list_price: str, unit_cost: str, **more: str) -> dict[str, str]:
    names = {"NW-SW-24P": "24-port managed switch", "NW-SW-48P": "48-port managed switch"}
    return {"sku": sku, "name": names.get(sku, sku), "family": "networking", "billing": "shipment",
            "list_price": list_price, "unit_cost": unit_cost, "currency": "USD", **more}


@pytest.fixture(scope="module")
def party(api: Any, operator: Any, stack: Any) -> Any:
    made = make_party(api, operator, stack, "northwind")
    yield made
    offboard(operator, made)


def _admin(party: Any) -> Principal:
    return Principal(party.tenant_id, Role.ADMIN, party.key_ids["admin"])


def _quote(party: Any, sku: str) -> Any:
    partner = party.partners[0]
    return party.partner_keys[partner].post("/v1/pricing/check", {
        "partner_id": partner, "customer": {"id": "CUST-CATALOG", "name": "Catalog Co"},
        "lines": [{"line_id": "1", "sku": sku, "quantity": 2}],
    })


def test_every_bad_row_is_named_and_nothing_is_imported(party):
    rows = [
        _row("NW-SW-24P", "1250.00", "900.00"),
        _row("nw-lower", "10.00", "5.00"),  # row 2: SKU
        _row("NW-X-1", "12.5", "1.999", currency="EUR"),  # row 3: unit_cost, currency
        _row("NW-X-2", "10.00", "5.00", family="garden", effective_from="2027-02-30"),  # row 4: family, date
        _row("NW-SW-24P", "1300.00", "900.00"),  # row 5: the same SKU-version again
    ]
    with pytest.raises(RuleViolation) as refused:
        catalog.import_catalog(party.rt, _admin(party), rows, source="bad.json")
    paths = [e.path for e in refused.value.errors]
    assert paths == ["/rows/1/sku", "/rows/2/unit_cost", "/rows/2/currency", "/rows/3/family",
                     "/rows/3/effective_from", "/rows/4/sku"]
    assert all(e.message.startswith(f"row {int(e.path.split('/')[2]) + 1}:") for e in refused.value.errors)
    assert party.rt.store.get(party.tenant_id, *catalog.HEAD) is None


def test_an_import_prices_quotes_from_its_effective_date_and_old_decisions_keep_their_prices(party, tmp_path, days):
    before = _quote(party, "NW-SW-24P").json()  # priced from the policy's price list: 1250.00
    assert before["lines"][0]["list_price"] == "1250.00"
    assert _quote(party, "NW-SW-48P").status_code == 422  # not on the policy's price list

    rows = [
        _row("NW-SW-24P", "1250.00", "900.00", effective_to=days.next_month),
        _row("NW-SW-24P", "1300.00", "910.00", effective_from=days.next_month),
        _row("NW-SW-48P", "1450.00", "980.00"),
    ]
    path = tmp_path / "catalog.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*rows[0].keys(), "effective_from"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    assert cli.main(["catalog", "import", str(path), "--tenant", party.tenant_id]) == 0

    now = catalog.tenant_catalog(party.rt, party.tenant_id, party.policy)
    assert now.version.startswith("cat_")
    assert now.item("NW-SW-24P", days.today.isoformat()).list_price == 1250  # today's quotes untouched
    assert now.item("NW-SW-24P", days.next_month).list_price == 1300  # the change applies from its effective date
    assert now.item("NW-NET-MGMT", days.today.isoformat()) is None  # not in the import: off the catalog

    added = _quote(party, "NW-SW-48P").json()
    assert added["lines"][0]["list_price"] == "1450.00"
    staff = party.by_role["finance"]
    assert staff.get(f"/v1/decisions/{added['decision_id']}").json()["inputs"]["catalog"]["version"] == now.version
    assert _quote(party, "NW-NET-MGMT").status_code == 422

    # billing reads the same catalog: a shipment of the imported SKU is invoiced at its imported list price
    event = shipment(party, party.partners[0])
    event["data"]["lines"] = [{"sku": "NW-SW-48P", "quantity": 1}]
    assert party.erp.post({"events": [event]}).status_code == 202

    def billed() -> list[dict[str, Any]]:
        invoices = staff.get("/v1/invoices", limit=50).json()["items"]
        lines = [ln for inv in invoices for ln in staff.get(f"/v1/invoices/{inv['invoice_id']}").json()["lines"]]
        return [ln for ln in lines if ln.get("sku") == "NW-SW-48P"]

    wait_until(lambda: bool(billed()), 40, what="the shipment of NW-SW-48P on an invoice")
    assert billed()[0]["amount"] == "1450.00"
    replayed = staff.get(f"/v1/decisions/{before['decision_id']}/replay").json()
    assert replayed["identical"] is True  # a quote dated before the import replays identically afterwards
    trail = party.admin.get("/v1/audit", subject=now.version).json()["items"]
    assert trail[0]["action"] == "catalog.imported" and trail[0]["clauses"] == ["PA-6.1"]


@pytest.fixture
def own_party(api: Any, operator: Any, stack: Any) -> Any:
    """A tenant of the diff test's own: its versions do not depend on which other test ran first."""
    made = make_party(api, operator, stack, "northwind")
    yield made
    offboard(operator, made)


def test_the_diff_between_versions_names_what_was_added_removed_and_changed(own_party, days):
    party = own_party
    first = [
        _row("NW-SW-24P", "1250.00", "900.00", effective_to=days.next_month),
        _row("NW-SW-24P", "1300.00", "910.00", effective_from=days.next_month),
        _row("NW-SW-48P", "1450.00", "980.00"),
    ]
    catalog.import_catalog(party.rt, _admin(party), first, source="first.json")
    rows = [
        _row("NW-SW-24P", "1250.00", "900.00", effective_to=days.next_month),
        _row("NW-SW-24P", "1325.00", "910.00", effective_from=days.next_month),  # the scheduled price changed
        _row("NW-RTR-EDGE", "2100.00", "1470.00"),  # added; NW-SW-48P removed
    ]
    summary = catalog.import_catalog(party.rt, _admin(party), rows, source="second.json")
    assert (summary["added"], summary["removed"], summary["changed"]) == (1, 1, 1)
    changes = catalog.catalog_diff(party.rt, party.tenant_id, party.policy, summary["seq"] - 1, summary["seq"])
    assert [e["sku"] for e in changes["added"]] == ["NW-RTR-EDGE"]
    assert [e["sku"] for e in changes["removed"]] == ["NW-SW-48P"]
    assert changes["changed"] == [{"key": f"NW-SW-24P#{days.next_month}",
                                   "fields": {"list_price": {"from": "1300.00", "to": "1325.00"}}}]
    from_policy = catalog.catalog_diff(party.rt, party.tenant_id, party.policy, 0, summary["seq"])
    assert "NW-NET-MGMT" in json.dumps(from_policy["removed"])
    with pytest.raises(Exception, match="no catalog import"):
        catalog.catalog_diff(party.rt, party.tenant_id, party.policy, 0, summary["seq"] + 1)
