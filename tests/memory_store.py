"""Service tests and benches that need thousands of commits run on the product's in-memory engine
(revgov.adapters.memory_store.MemoryDocumentStore): the commit protocol every backend shares (conditional writes,
all or nothing, lookups, the sealed audit chain), proven equivalent to SQLite and DynamoDB by
tests/integration/test_store_contract.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from revgov.adapters.memory_store import MemoryDocumentStore
from revgov.adapters.system import RandomIds
from revgov.domain.access import PLATFORM, Principal, Role
from revgov.ports import Changes, DocumentStore
from revgov.runtime import Runtime
from revgov.services import tenants
from revgov.settings import settings
from revgov.tenant_files import load_tenant_file
from support import ROOT


class NoBus:
    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, tenant_id: str, events: list[dict[str, Any]]) -> list[str]:
        self.published += events
        return []


class FixedClock:
    """A clock the test sets: no test depends on today's date."""

    def __init__(self, at: str) -> None:
        self.at = datetime.fromisoformat(at.replace("Z", "+00:00"))

    def set(self, at: str) -> None:
        self.at = datetime.fromisoformat(at.replace("Z", "+00:00"))

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)

    def now_ms(self) -> int:
        return int(self.at.timestamp() * 1000)

    def now_iso(self) -> str:
        return self.at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# The store a runtime gets: the in-memory one, unless a test runs the same scenarios on another engine
# (tests/integration/test_engine_parity.py sets this to a SQLite or a DynamoDB-on-moto store).
STORE_FACTORY: Callable[[Any, Any], DocumentStore] = MemoryDocumentStore


def memory_runtime(at: str, *, tenant: str = "northwind") -> tuple[Runtime, FixedClock]:
    """A Runtime over the in-memory store (or `STORE_FACTORY`'s) with the tenant's repository configuration
    provisioned, at `at`."""
    clock = FixedClock(at)
    ids = RandomIds(clock)
    rt = Runtime(settings(), STORE_FACTORY(clock, ids), NoBus(), clock, ids)
    config = load_tenant_file(ROOT / "tenants" / tenant / "tenant.yaml")
    operator = Principal(tenant_id=PLATFORM, role=Role.OPERATOR, key_id="key_test")
    tenants.create_tenant(rt, operator, config)
    return rt, clock


class Ledger:
    """A tenant on the in-memory runtime with partners, fed ERP events straight into the billing handler."""

    def __init__(self, at: str, *, tenant: str = "northwind") -> None:
        import json

        self.rt, self.clock = memory_runtime(at, tenant=tenant)
        self.tenant_id = tenant
        self.partners = json.loads((ROOT / "tests" / "scenarios" / "billing" / "erp-samples.json").read_text())[
            "partners"
        ]
        self.add_partners(self.partners)
        self._n = 0

    def add_partners(self, partners: list[dict[str, Any]]) -> None:
        from revgov.ports import Put

        # a tenant's commit holds at most 99 of its own items (the 100th checks the offboarding tombstone)
        for i in range(0, len(partners), 50):
            self.rt.store.commit(self.tenant_id, Changes(puts=[Put("PARTNER", p["partner_id"], p)
                                                               for p in partners[i:i + 50]]))

    def bill(self, detail_type: str, data: dict[str, Any], *, occurred_at: str, erp_id: str | None = None) -> dict:
        from revgov.domain.ids import typed_id
        from revgov.services import billing

        self._n += 1
        bus_event = {
            "source": "revgov.erp",
            "detail-type": detail_type,
            "detail": {
                "tenant_id": self.tenant_id,
                "event_id": typed_id("evt", self.clock.now_ms(), self._n.to_bytes(10, "big")),
                "occurred_at": occurred_at,
                "erp_event_id": erp_id or f"ERP-{self._n:08d}",
                "replay": 0,
                "data": data,
            },
        }
        return billing.bill_erp_event(self.rt, bus_event)

    def receive(self, detail_type: str, data: dict[str, Any], *, occurred_at: str, erp_id: str | None = None) -> dict:
        """As the webhook does: intake (`erp.accept`, on this clock: when Revgov received it), then the billing
        handler with the bus event intake stored; the handler's answer."""
        from revgov.services import billing, erp, tenants

        self._n += 1
        event = {"id": erp_id or f"ERP-{self._n:08d}", "type": detail_type, "occurred_at": occurred_at, "data": data}
        tenant, _ = tenants.load_tenant(self.rt, self.tenant_id)
        received = erp.accept(self.rt, tenant, event)
        assert received["status"] == "received", received
        bus_event = self.rt.store.get(self.tenant_id, erp.INBOUND, received["event_id"])
        assert bus_event is not None
        return billing.bill_erp_event(self.rt, bus_event.data)

    def invoice(self, partner_id: str, period: str) -> dict[str, Any]:
        from revgov.services import billing

        pointer = self.rt.store.get(self.tenant_id, billing.INVOICE_KEYS, f"{partner_id}#{period}")
        assert pointer is not None, f"no invoice for {partner_id} {period}"
        return billing.get_invoice(self.rt, self.tenant_id, pointer.data["invoice_id"])

    def direct_invoices(self, partner_id: str, period: str) -> list[dict[str, Any]]:
        """The Distributor's direct invoices of `period` to the customers `partner_id` referred (PA-8.1 / CPA-8.1)."""
        from revgov.services import billing

        pointers = self.rt.store.query(self.tenant_id, billing.INVOICE_KEYS, limit=1000, prefix=f"direct#{partner_id}#")
        return [billing.get_invoice(self.rt, self.tenant_id, p.data["invoice_id"])
                for p in pointers.items if p.data["period"] == period]  # fmt: skip

    def month_invoice_ids(self, partner_id: str, period: str) -> list[str]:
        """The partner's invoice of `period` (if any), then the Distributor's direct invoices of `period` to the
        customers it referred: what finance issues for the month."""
        from revgov.services import billing

        own = self.rt.store.get(self.tenant_id, billing.INVOICE_KEYS, f"{partner_id}#{period}")
        direct = [invoice["invoice_id"] for invoice in self.direct_invoices(partner_id, period)]
        return ([own.data["invoice_id"]] if own else []) + direct

    def exceptions(self) -> list[dict[str, Any]]:
        from revgov.services import case_repository

        return [s.data for s in self.rt.store.query(self.tenant_id, case_repository.CASES, limit=1000).items]
