"""`history_import` section: a go-live import of two years of history for 300 partners (issue 24: "takes <= 60 s
locally") on the embedded SQLite engine `make run` uses, against billing live shipment events through the same
engine in the same run (the baseline, per line)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

PARTNERS, MONTHS, BASELINE_EVENTS = 300, 24, 1_000


def _sqlite_ledger(where: Path) -> Any:
    """tests/memory_store.Ledger on a SQLite file instead of memory: the same tenant, partners and billing path."""
    from memory_store import FixedClock, Ledger, NoBus
    from revgov.adapters.sqlite_db import Database
    from revgov.adapters.sqlite_store import SqliteDocumentStore
    from revgov.adapters.system import RandomIds
    from revgov.domain.access import PLATFORM, Principal, Role
    from revgov.runtime import Runtime
    from revgov.services import tenants
    from revgov.settings import settings
    from revgov.tenant_files import load_tenant_file
    from support import ROOT

    ledger = Ledger.__new__(Ledger)
    clock = FixedClock("2026-10-01T08:00:00Z")
    ids = RandomIds(clock)
    ledger.rt = Runtime(
        settings(), SqliteDocumentStore(Database(where / "bench.sqlite"), clock, ids), NoBus(), clock, ids
    )
    ledger.clock, ledger.tenant_id, ledger._n = clock, "northwind", 0
    tenants.create_tenant(
        ledger.rt,
        Principal(PLATFORM, Role.OPERATOR, "key_bench"),
        load_tenant_file(ROOT / "tenants/northwind/tenant.yaml"),
    )
    return ledger


def _history(partner_ids: list[str]) -> dict[str, Any]:
    """Per partner and month of 2024-09 .. 2026-08: an ERP invoice with two shipment lines, a credit note every
    sixth month against the first line of the month before, and the invoice's payment."""
    lines, payments = [], []
    for p, partner in enumerate(partner_ids):
        for m in range(MONTHS):
            year, month = 2024 + (8 + m) // 12, (8 + m) % 12 + 1
            day = f"{year:04d}-{month:02d}-28"
            invoice = f"INV-{p:03d}-{year}{month:02d}"
            lines += [
                {"partner_id": partner, "invoice_ref": invoice, "invoice_date": day, "line_ref": f"{invoice}-1",
                 "sku": "NW-SW-24P", "quantity": str(2 + (p + m) % 5), "amount": f"{1250 * (2 + (p + m) % 5)}.00"},
                {"partner_id": partner, "invoice_ref": invoice, "invoice_date": day, "line_ref": f"{invoice}-2",
                 "sku": "NW-SRV-R2", "quantity": "1", "amount": "5200.00"},
            ]  # fmt: skip
            if m % 6 == 5:
                before = f"INV-{p:03d}-{2024 + (7 + m) // 12}{(7 + m) % 12 + 1:02d}-1"
                lines.append({"partner_id": partner, "invoice_ref": invoice, "invoice_date": day,
                              "line_ref": f"{invoice}-3", "kind": "credit_note", "sku": "NW-SW-24P",
                              "quantity": "1", "amount": "-1250.00", "credits_line_ref": before})  # fmt: skip
            payments.append({"partner_id": partner, "invoice_ref": invoice, "paid_on": f"{day[:8]}28"})
    return {"source": "bench-history.json", "lines": lines, "payments": payments}


def history_import_section() -> list[dict[str, Any]]:
    """History import: 2 years x 300 partners on the SQLite engine vs live shipment billing per line (same run)."""
    from billing_year import partner_id
    from revgov.domain.access import Principal, Role
    from revgov.services import history

    finance = Principal("northwind", Role.FINANCE, "key_bench_fin")
    with tempfile.TemporaryDirectory() as where:
        ledger = _sqlite_ledger(Path(where))
        partners = [partner_id(n) for n in range(PARTNERS)]
        records = [
            {"partner_id": pid, "legal_name": f"Bench {n}", "partner_type": "msp", "status": "active",
             "tier": "silver", "certifications": {}, "activated_at": "2023-01-10T09:00:00Z"}
            for n, pid in enumerate(partners)
        ]  # fmt: skip
        for start in range(0, len(records), 100):
            ledger.add_partners(records[start : start + 100])
        ledger.clock.set("2026-09-01T12:00:00Z")  # the baseline: live events of the month before go-live
        started = time.perf_counter()
        for i in range(BASELINE_EVENTS):
            ledger.bill(
                "shipment.confirmed",
                {"partner_id": partners[i % PARTNERS], "order_ref": f"SO-B{i}", "shipped_on": "2026-09-01",
                 "lines": [{"sku": "NW-SW-24P", "quantity": 1}]},
                occurred_at="2026-09-01T10:00:00Z",
            )  # fmt: skip
        live_per_line = (time.perf_counter() - started) / BASELINE_EVENTS
        body = _history(partners[:PARTNERS])
        assert all(row["invoice_date"] < "2026-09" for row in body["lines"])  # before the month billed live
        ledger.clock.set("2026-10-01T08:00:00Z")
        started = time.perf_counter()
        result = history.import_history(ledger.rt, finance, body)
        took = time.perf_counter() - started
        started = time.perf_counter()
        again = history.import_history(ledger.rt, finance, body)
        replay = time.perf_counter() - started
        assert result["replayed"] is False and again["replayed"] is True
        per_line = took / len(body["lines"])
    return [
        {"metric": f"live shipment.confirmed x {BASELINE_EVENTS:,} through bill_erp_event (baseline, per line)",
         "seconds": round(live_per_line * BASELINE_EVENTS, 2), "per_line_ms": round(live_per_line * 1000, 3),
         "ratio_to_baseline": 1.0},
        {"metric": f"history import: {PARTNERS} partners x {MONTHS} months, {len(body['lines']):,} lines, "
                   f"{len(body['payments']):,} payments, {result['invoices']:,} invoices (goal <= 60 s)",
         "seconds": round(took, 2), "per_line_ms": round(per_line * 1000, 3),
         "ratio_to_baseline": round(per_line / live_per_line, 3)},
        {"metric": "the same file again (idempotent: replayed, nothing written)", "seconds": round(replay, 2),
         "per_line_ms": round(replay / len(body["lines"]) * 1000, 4),
         "ratio_to_baseline": round(replay / len(body["lines"]) / live_per_line, 4)},
    ]  # fmt: skip
