"""The tenant's price catalog over HTTP: import a price list, list its versions, diff two, read a SKU on a day.

Staff only: the catalog carries the Distributor's unit costs (a partner's quote shows prices, never costs).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ...domain.access import Role
from ...domain.catalog import csv_rows
from ...domain.errors import FieldError, MalformedRequest
from ...services import catalog
from ...services.tenants import load_tenant
from ..http import Call
from ..registry import STAFF, QueryParam, operation

IMPORTERS = frozenset({Role.ADMIN, Role.FINANCE})
_DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_SEQ = r"^(0|[1-9][0-9]{0,8})$"
# The demo price list, with the switch's price rising from 2031 (a change dated ahead: today's quotes keep 1250.00)
_EXAMPLE_CSV = """sku,name,family,billing,list_price,unit_cost,currency,effective_from,effective_to
NW-SW-24P,24-port managed switch,networking,shipment,1250.00,900.00,USD,,2031-01-01
NW-SW-24P,24-port managed switch,networking,shipment,1300.00,910.00,USD,2031-01-01,
NW-RTR-EDGE,Edge router,networking,shipment,2100.00,1470.00,USD,,
NW-FW-200,Next-generation firewall appliance,security,shipment,3400.00,2380.00,USD,,
NW-SRV-R2,2U rack server,hardware,shipment,5200.00,4160.00,USD,,
NW-NET-MGMT,Cloud network management licence,networking,subscription,99.00,35.00,USD,,
NW-CLOUD-PLATFORM,Managed cloud platform,cloud-services,subscription,310.00,186.00,USD,,
NW-SEC-SUITE,Security operations suite,security,subscription,300.00,165.00,USD,,
"""


@operation(
    "POST", "/v1/catalog/imports",
    summary="Import a price list (CSV or JSON rows): the tenant's catalog becomes a new version",
    roles=IMPORTERS, tag="catalog", status=201, body_schema="api/catalog-import.schema.json",
    response_schema="api/responses/catalog-import.schema.json",
    example={"source": "northwind-price-list.csv", "csv": _EXAMPLE_CSV},
    description="Replaces the catalog with the rows given (every SKU-version in force or scheduled). Every bad row "
    "is named in one 422 (`errors[].path` = `/rows/<n>/<column>`) and nothing is imported. A price change dated "
    "ahead (`effective_from`) leaves quotes until that day untouched and prices them from it (PA-6.1); decisions "
    "keep the items they were priced from, so they replay identically afterwards. A List Price change (up or "
    "down) sooner than the policy's `pricing.price_change_notice` (PA-6.1 / CPA-6.1: 30 days' notice) after the "
    "import's day: 422 naming each such row (`/rows/<n>/list_price`) with `rule_id` and `clause`. Audited "
    "(`catalog.imported`) and announced on the bus (`revgov.catalog` / `catalog.imported`).",
)
def import_catalog(call: Call) -> dict[str, Any]:
    body = call.body
    rows = csv_rows(body["csv"]) if "csv" in body else body["rows"]
    return catalog.import_catalog(call.runtime, call.who, rows, source=body["source"])


@operation("GET", "/v1/catalog/versions", summary="The catalog's versions: 0 is the policy's price list, then one "
           "per import", roles=STAFF, tag="catalog",
           response_schema="api/responses/catalog-versions.schema.json")
def list_catalog_versions(call: Call) -> dict[str, Any]:
    return catalog.catalog_versions(call.runtime, call.who.tenant_id)


@operation(
    "GET", "/v1/catalog/diff", summary="What changed between two catalog versions (added, removed, changed fields)",
    roles=STAFF, tag="catalog",
    query=(QueryParam("from", "The earlier version's sequence number (0: the policy's price list)", _SEQ,
                      required=True),
           QueryParam("to", "The later version's sequence number", _SEQ, required=True)),
    response_schema="api/responses/catalog-diff.schema.json",
)
def diff_catalog(call: Call) -> dict[str, Any]:
    missing = [name for name in ("from", "to") if name not in call.query]
    if missing:
        raise MalformedRequest(f"give {' and '.join(missing)}",
                               errors=[FieldError(f"/query/{name}", "required") for name in missing])
    tenant, _ = load_tenant(call.runtime, call.who.tenant_id)
    return catalog.catalog_diff(call.runtime, call.who.tenant_id, tenant.policy, int(call.query["from"]),
                                int(call.query["to"]))


@operation(
    "GET", "/v1/catalog/skus/{sku}", summary="The version of a SKU in force on a day (default: today, UTC)",
    roles=STAFF, tag="catalog", query=(QueryParam("on", "The day (YYYY-MM-DD)", _DAY),),
    response_schema="api/responses/catalog-price.schema.json",
)
def get_catalog_price(call: Call) -> dict[str, Any]:
    on = call.query.get("on") or call.runtime.clock.now_iso()[:10]
    try:
        date.fromisoformat(on)
    except ValueError as bad:
        raise MalformedRequest(f"on={on} is not a date", errors=[FieldError("/query/on", "not a date")]) from bad
    tenant, _ = load_tenant(call.runtime, call.who.tenant_id)
    return catalog.price_on(call.runtime, call.who.tenant_id, tenant.policy, call.params["sku"], on)
