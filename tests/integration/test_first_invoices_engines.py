"""PA-8.1 / CPA-8.1: the first invoice of each referred customer is kept the same way on every DocumentStore engine
(SQLite, in memory, DynamoDB on the emulator): written once, replaced only by an earlier day, read back per partner.

PA-8.1: "during the 12 months following the first invoice"; CPA-8.1: "for 12 months from the first invoice".
"""

from __future__ import annotations

import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from test_store_contract import dynamodb_endpoint, make_store  # noqa: F401 - the emulator fixture make_store asks for

from revgov.adapters.system import RandomIds, SystemClock
from revgov.domain.tenants import Tenant
from revgov.ports import Changes
from revgov.services.rebates import first_invoices
from revgov.services.tenant_repository import profile_put
from revgov.tenant_files import load_tenant_file

ROOT = Path(__file__).resolve().parents[2]
PARTNER, OTHER = "ptr_01JBNWPARTNER0000000000001", "ptr_01JBNWPARTNER0000000000002"


@pytest.fixture(params=["sqlite", "memory", "dynamodb"])
def rt(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    return SimpleNamespace(store=make_store(request.param, tmp_path, request, SystemClock(), RandomIds(SystemClock())))


def _line(partner: str, customer_id: str, day: str, invoice: str, channel: str = "referral") -> dict[str, Any]:
    return {"partner_id": partner, "customer_id": customer_id, "customer": customer_id.casefold(), "invoiced_on": day,
            "invoice_id": invoice, "line_id": f"{invoice}.1", "channel": channel}  # fmt: skip


def _provisioned(rt: Any) -> str:
    """A tenant with northwind's configuration (its profile: first invoices are written only into a live tenant)."""
    tenant = f"fi-{uuid.uuid4().hex[:8]}"
    config = {**load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml"), "tenant_id": tenant}
    rt.store.commit(tenant, Changes(puts=[profile_put(Tenant.from_config(config, created_at="2026-08-01T00:00:00Z"),
                                                      version=None, new=True)]))  # fmt: skip
    return tenant


def test_the_first_invoice_is_written_once_and_only_an_earlier_day_replaces_it(rt):
    tenant = _provisioned(rt)
    first_invoices.record(rt, tenant, [_line(PARTNER, "CUST-1", "2026-09-02", "inv_a"),
                                       _line(PARTNER, "cust-1", "2026-10-02", "inv_b"),  # the same customer, later
                                       _line(PARTNER, "CUST-2", "2026-10-02", "inv_b"),
                                       _line(OTHER, "CUST-1", "2026-11-03", "inv_c")])  # fmt: skip
    first_invoices.record(rt, tenant, [_line(PARTNER, "CUST-1", "2026-09-02", "inv_a")])  # redelivered
    first_invoices.record(rt, tenant, [_line(PARTNER, "CUST-2", "2026-12-02", "inv_d")])  # later: kept as is
    first_invoices.record(rt, tenant, [_line(PARTNER, "CUST-3", "2026-08-01", "inv_e", "resale")])  # not a referral
    assert first_invoices.of_partner(rt, tenant, PARTNER) == {"cust-1": "2026-09-02", "cust-2": "2026-10-02"}
    assert first_invoices.of_partner(rt, tenant, OTHER) == {"cust-1": "2026-11-03"}
    stored = rt.store.get(tenant, first_invoices.FIRST_INVOICES, f"{PARTNER}#cust-1")
    assert stored.version == 1 and stored.data["invoice_id"] == "inv_a"
    first_invoices.record(rt, tenant, [_line(PARTNER, "CUST-2", "2026-09-30", "inv_f")])  # an earlier one, found late
    assert first_invoices.of_partner(rt, tenant, PARTNER)["cust-2"] == "2026-09-30"


def test_nothing_is_written_into_a_tenant_that_is_gone(rt):
    gone = f"fi-{uuid.uuid4().hex[:8]}"  # offboarded while a projection ran: no profile
    first_invoices.record(rt, gone, [_line(PARTNER, "CUST-1", "2026-09-02", "inv_a")])
    assert first_invoices.of_partners(rt, gone) == {}
