"""`make run` stops within a few seconds of SIGINT/SIGTERM whatever it is doing (issue 24: "Once, after a long run,
`make run` ignored SIGTERM and SIGINT for 16 minutes and held its port").

`make run` is `revgov dev` on the SQLite engine: the test starts that command, keeps it busy (signed ERP batches being
billed by the router, API requests in flight), signals it, and asserts the process is gone within STOP_WITHIN
seconds and its port is free again. A signal while it is still starting (seeding) ends it at once too.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

import clock_support
from billing_support import ErpSender
from engine_support import spawn_dev, wait_dev

pytestmark = [pytest.mark.stack, pytest.mark.xdist_group("shutdown")]

STOP_WITHIN = 8.0  # seconds: the product's grace is 5 s (revgov.cli.STOP_GRACE_SECONDS), plus process teardown


def _spawn(where: Path) -> subprocess.Popen[bytes]:
    return spawn_dev(where)


def _ready(where: Path) -> dict:
    return wait_dev(where)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _load(state: dict, stop: threading.Event) -> None:
    """Busy: 20-event signed batches (billed by the router in the background) and API reads, until told to stop."""
    tenant = state["tenants"]["northwind"]
    partner_id = next(p["partner_id"] for p in tenant["partners"] if p["status"] == "active")
    erp = ErpSender(state["base_url"], "northwind", tenant["webhook_secret"])
    admin = requests.Session()
    admin.headers["Authorization"] = f"Bearer {tenant['admin_key']}"
    # dated today on the product's clock: the seeded demo partner was activated when the product started, and PA-2.2
    # holds an order dated before its partner's activation instead of billing it
    occurred_at, today = clock_support.now().strftime("%Y-%m-%dT%H:%M:%SZ"), clock_support.today().isoformat()
    while not stop.is_set():
        batch = [
            {
                "id": f"STOP-{uuid.uuid4().hex[:12]}",
                "type": "shipment.confirmed",
                "occurred_at": occurred_at,
                "data": {"partner_id": partner_id, "order_ref": f"SO-{uuid.uuid4().hex[:8]}",
                         "shipped_on": today, "lines": [{"sku": "NW-SW-24P", "quantity": 1}]},
            }
            for _ in range(20)
        ]  # fmt: skip
        try:
            erp.post({"events": batch})
            admin.get(f"{state['base_url']}/v1/invoices", params={"status": "draft", "limit": 100}, timeout=10)
        except requests.RequestException:
            return  # the process is gone


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_busy_local_product_stops_within_seconds_of_the_signal_and_frees_its_port(tmp_path, sig):
    process = _spawn(tmp_path)
    try:
        state = _ready(tmp_path)
        port = int(state["base_url"].rsplit(":", 1)[1])
        assert not _port_free(port)
        stop = threading.Event()
        loaders = [threading.Thread(target=_load, args=(state, stop), daemon=True) for _ in range(4)]
        for loader in loaders:
            loader.start()
        time.sleep(3.0)  # requests in flight, the router billing batches
        signalled = time.monotonic()
        process.send_signal(sig)
        process.wait(timeout=STOP_WITHIN + 30)  # fail below with the time taken, rather than hang here
        took = time.monotonic() - signalled
        stop.set()
        assert took <= STOP_WITHIN, f"stopped {took:.1f} s after {sig.name}"
        assert process.returncode in (0, -sig), process.returncode
        deadline = time.monotonic() + 2
        while not _port_free(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _port_free(port), f"port {port} still held after exit"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_while_it_is_still_starting_ends_it_at_once(tmp_path, sig):
    process = _spawn(tmp_path)
    try:
        time.sleep(1.5)  # importing, migrating, seeding: not ready yet
        assert process.poll() is None
        signalled = time.monotonic()
        process.send_signal(sig)
        process.wait(timeout=STOP_WITHIN + 30)
        assert time.monotonic() - signalled <= STOP_WITHIN
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
