"""An in-process DocumentStore (the port of revgov.ports) for service tests and benches that need thousands of
commits: the same conditional-write semantics (must_be_absent, expected_version, all or nothing), lookups, and a
sealed audit list. Not a chain: tests of the audit chain use the real adapters."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from revgov.adapters.system import RandomIds
from revgov.domain.access import PLATFORM, Principal, Role
from revgov.domain.audit import seal
from revgov.domain.errors import Conflict
from revgov.ports import Changes, Page, Stored
from revgov.runtime import Runtime
from revgov.services import tenants
from revgov.settings import settings
from revgov.tenant_files import load_tenant_file
from support import ROOT


class MemoryStore:
    def __init__(self) -> None:
        self.docs: dict[tuple[str, str, str], Stored] = {}
        self.index: dict[tuple[str, str], dict[str, str]] = {}  # (tenant, partition) -> sort key -> doc key
        self.audit: dict[str, list[dict[str, Any]]] = {}
        self.lock = threading.Lock()

    def get(self, tenant_id: str, collection: str, key: str) -> Stored | None:
        found = self.docs.get((tenant_id, collection, key))
        return None if found is None else Stored(found.key, copy.deepcopy(found.data), found.version)

    def get_many(self, refs: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], Stored]:
        return {ref: got for ref in refs if (got := self.get(*ref)) is not None}

    def _page(self, rows: list[tuple[str, Stored]], limit: int, cursor: str | None) -> Page:
        start = int(cursor or 0)
        chosen = rows[start : start + limit]
        more = start + limit < len(rows)
        return Page(
            [Stored(s.key, copy.deepcopy(s.data), s.version) for _, s in chosen], str(start + limit) if more else None
        )

    def query(
        self, tenant_id: str, collection: str, *, limit: int, cursor: str | None = None, prefix: str = ""
    ) -> Page:
        rows = sorted(
            (key, doc)
            for (t, c, key), doc in self.docs.items()
            if t == tenant_id and c == collection and key.startswith(prefix)
        )
        return self._page(rows, limit, cursor)

    def lookup(
        self, tenant_id: str, index_partition: str, *, limit: int, cursor: str | None = None, prefix: str = ""
    ) -> Page:
        collection = index_partition.split("#", 1)[0]
        entries = self.index.get((tenant_id, index_partition), {})
        rows = sorted(
            (sort, self.docs[(tenant_id, collection, key)])
            for sort, key in entries.items()
            if sort.startswith(prefix) and (tenant_id, collection, key) in self.docs
        )
        return self._page(rows, limit, cursor)

    def commit(self, tenant_id: str, changes: Changes) -> list[dict[str, Any]]:
        with self.lock:
            for put in changes.puts:
                ref = (put.tenant_id or tenant_id, put.collection, put.key)
                current = self.docs.get(ref)
                if put.must_be_absent and current is not None:
                    raise Conflict(put.conflict_detail)
                if put.expected_version is not None and (current is None or current.version != put.expected_version):
                    raise Conflict(put.conflict_detail)
            for put in changes.puts:
                ref = (put.tenant_id or tenant_id, put.collection, put.key)
                current = self.docs.get(ref)
                self.docs[ref] = Stored(put.key, copy.deepcopy(put.data), (current.version if current else 0) + 1)
                if put.lookup:
                    partition, sort = put.lookup
                    stale = [s for s, k in self.index.get((ref[0], partition), {}).items() if k == put.key]
                    for s in stale:
                        del self.index[(ref[0], partition)][s]
                    self.index.setdefault((ref[0], partition), {})[sort] = put.key
            for delete in changes.deletes:
                self.docs.pop((delete.tenant_id or tenant_id, delete.collection, delete.key), None)
            chain = self.audit.setdefault(tenant_id, [])
            sealed = []
            for entry in changes.audit:
                prev = chain[-1]["hash"] if chain else "0" * 64
                sealed.append(
                    seal(
                        entry,
                        tenant_id=tenant_id,
                        seq=len(chain) + 1,
                        record_id=f"aud{len(chain) + 1}",
                        at="2000-01-01T00:00:00Z",
                        prev_hash=prev,
                    )
                )
                chain.append(sealed[-1])
            return sealed

    def audit_records(self, tenant_id: str, *, after_seq: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        return [r for r in self.audit.get(tenant_id, []) if r["seq"] > after_seq][:limit]

    def iter_audit_records(self, tenant_id: str) -> Iterator[dict[str, Any]]:
        yield from self.audit.get(tenant_id, [])


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


def memory_runtime(at: str, *, tenant: str = "northwind") -> tuple[Runtime, FixedClock]:
    """A Runtime over the in-memory store with the tenant's repository configuration provisioned, at `at`."""
    clock = FixedClock(at)
    rt = Runtime(settings(), MemoryStore(), NoBus(), clock, RandomIds(clock))  # type: ignore[arg-type]
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

        self.rt.store.commit(self.tenant_id, Changes(puts=[Put("PARTNER", p["partner_id"], p) for p in partners]))

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

    def invoice(self, partner_id: str, period: str) -> dict[str, Any]:
        from revgov.services import billing

        pointer = self.rt.store.get(self.tenant_id, billing.INVOICE_KEYS, f"{partner_id}#{period}")
        assert pointer is not None, f"no invoice for {partner_id} {period}"
        return billing.get_invoice(self.rt, self.tenant_id, pointer.data["invoice_id"])

    def exceptions(self) -> list[dict[str, Any]]:
        from revgov.services import cases

        return [s.data for s in self.rt.store.query(self.tenant_id, cases.CASES, limit=1000).items]
