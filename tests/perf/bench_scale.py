"""`scale` section (#17 "invoices that scale"): what the 10,000th event of ONE partner-month costs against the first,
in the same run, on the product's SQLite engine and on the in-memory one.

Billing: 10,000 `shipment.confirmed` events of one partner, all shipped in the same month, each through
`bill_erp_event` (one line each, so the month's draft invoice reaches 10,000 lines). Per-event cost of events
9,901-10,000 against events 1-100: a draft invoice is a header plus lines stored on their own, so the ratio should
stay near 1 (goal <= 1.2).

Accrual: every event's lines projected into rebates (`project_event`), and the partner's quarter accrual refreshed
(`DueRefresh.run`) for the same two windows: the cost of keeping the running accrual up to date late in a period
against early in it.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

EVENTS = 10_000
WINDOW = 100
FULL_WINDOW = 20  # full re-ratings timed at each end (each late one reads the quarter's 10,000 lines)
PARTNER = "ptr_01JBNWPARTNER0000000000001"  # northwind's platinum partner (tests/scenarios/billing/erp-samples.json)


def _sqlite_ledger(folder: Path) -> Any:
    """The memory Ledger's tenant and partners, on a SQLite document store (the local product's engine)."""
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

    ledger = Ledger.__new__(Ledger)  # the Ledger helpers over another store
    clock = FixedClock("2026-10-05T12:00:00Z")
    ids = RandomIds(clock)
    rt = Runtime(
        settings(),
        SqliteDocumentStore(Database(folder / f"scale-{uuid.uuid4().hex[:8]}.sqlite"), clock, ids),
        NoBus(),
        clock,
        ids,
    )
    operator = Principal(tenant_id=PLATFORM, role=Role.OPERATOR, key_id="key_bench")
    tenants.create_tenant(rt, operator, load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml"))
    ledger.rt, ledger.clock, ledger.tenant_id, ledger._n = rt, clock, "northwind", 0
    ledger.partners = Ledger("2026-10-05T12:00:00Z").partners
    ledger.add_partners(ledger.partners)
    return ledger


def _lines_posted(ledger: Any) -> dict[str, Any]:
    """The `invoice.lines_posted` bus event billing published for the event (what the accrue rule receives)."""
    event = ledger.rt.publisher.published[-1]
    assert event["detail_type"] == "invoice.lines_posted", event
    return {"source": event["source"], "detail-type": event["detail_type"], "detail": event["detail"]}


def _full_rerating(ledger: Any) -> None:
    """The partner's quarter and month accruals re-rated from every line (what each event cost before #17)."""
    from revgov.domain.rebates.policy import Period
    from revgov.services import rebates
    from revgov.services.rebates.book import book

    tenant, programs = book(ledger.rt, ledger.tenant_id)
    for name in ("2026-Q4", "2026-10"):
        rebates.refresh_accrual(ledger.rt, tenant, programs, PARTNER, Period.parse(name))


def _accrual(ledger: Any) -> dict[str, Any]:
    from revgov.services.rebates import repository

    stored = repository.accrual(ledger.rt, ledger.tenant_id, "2026-Q4", PARTNER)
    assert stored is not None
    return {k: v for k, v in stored.data.items() if k != "as_of"}


def _run(ledger: Any) -> dict[str, list[float]]:
    """Bill EVENTS shipments of one partner-month; time each event's billing and its accrual update, and in the two
    windows a full re-rating of the same accruals."""
    from revgov.services import rebates

    times: dict[str, list[float]] = {"bill": [], "accrue": [], "full": []}
    for n in range(1, EVENTS + 1):
        data = {"partner_id": PARTNER, "order_ref": f"SO-SCALE-{n}", "shipped_on": "2026-10-05",
                "lines": [{"sku": "NW-SW-24P", "quantity": 1}]}  # fmt: skip
        started = time.perf_counter()
        ledger.bill("shipment.confirmed", data, occurred_at="2026-10-05T10:00:00Z")
        times["bill"].append(time.perf_counter() - started)
        event = _lines_posted(ledger)
        started = time.perf_counter()
        _, due = rebates.project_event(ledger.rt, event)
        for refresh in due:  # the first event (no running sums yet) re-rates in full
            refresh.run(ledger.rt)
        times["accrue"].append(time.perf_counter() - started)
        if n <= FULL_WINDOW or n > EVENTS - FULL_WINDOW:
            running = _accrual(ledger)
            started = time.perf_counter()
            _full_rerating(ledger)
            times["full"].append(time.perf_counter() - started)
            assert _accrual(ledger) == running, f"running accrual differs from the full re-rating at event {n}"
    return times


def _usage_run(ledger: Any) -> list[float]:
    """EVENTS `usage.reported` of one subscription's metric in one month: the month re-rated as a whole each time,
    its usage record and its line on next month's draft updated in place (SOP-3.4)."""
    ledger.bill("subscription.activated", {"partner_id": PARTNER, "subscription_id": "SUB-SCALE", "sku":
                "NW-CLOUD-PLATFORM", "quantity": 1, "activated_on": "2026-10-01", "order_ref": "SO-SCALE-SUB"},
                occurred_at="2026-10-01T09:00:00Z")  # fmt: skip
    times = []
    for _ in range(EVENTS):
        data = {"partner_id": PARTNER, "subscription_id": "SUB-SCALE", "metric": "cloud_compute", "quantity": "1",
                "usage_date": "2026-10-15"}  # fmt: skip
        started = time.perf_counter()
        ledger.bill("usage.reported", data, occurred_at="2026-10-15T23:30:00Z")
        times.append(time.perf_counter() - started)
    return times


def _row(metric: str, early: list[float], late: list[float]) -> dict[str, Any]:
    e, late_ms = statistics.median(early) * 1000, statistics.median(late) * 1000
    return {
        "metric": metric,
        "early_p50_ms": round(e, 3),
        "late_p50_ms": round(late_ms, 3),
        "late_mean_ms": round(statistics.fmean(late) * 1000, 3),
        "early_mean_ms": round(statistics.fmean(early) * 1000, 3),
        "ratio_late_vs_early": round(late_ms / e, 2),
        "goal": "<= 1.2",
    }


def _windows(samples: list[float]) -> tuple[list[float], list[float]]:
    return samples[:WINDOW], samples[-WINDOW:]


def scale_section() -> list[dict[str, Any]]:
    """Per-event cost of the 10,000th event of one partner-month vs the first (billing, accrual update)."""
    from memory_store import Ledger

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        runs: list[tuple[str, Callable[[], Any]]] = [
            ("SQLite", lambda: _sqlite_ledger(Path(folder))),
            ("in-memory", lambda: Ledger("2026-10-05T12:00:00Z")),
        ]
        engines = os.environ.get("SCALE_ENGINES")  # e.g. "SQLite": one engine per process
        runs = [run for run in runs if engines is None or run[0] in engines.split(",")]
        for engine, make in runs:
            times = _run(make())
            rows.append(_row(f"{engine}: shipment.confirmed, events 9,901-10,000 vs 1-100", *_windows(times["bill"])))
            usage = _usage_run(make())
            rows.append(_row(f"{engine}: usage.reported, one metric-month, 9,901-10,000 vs 1-100", *_windows(usage)))
            rows.append(_row(f"{engine}: accrual update per event (running sums)", *_windows(times["accrue"])))
            full = times["full"]
            rows.append(
                _row(f"{engine}: accrual full re-rating (before #17), 20 late vs 20 early", full[:FULL_WINDOW],
                     full[FULL_WINDOW:])
            )  # fmt: skip
    return rows
