"""Durability of `make run` (issue #17): the local product is a real one, not an emulator that forgets.

"A test streams 1,000 signed events, kills the local process with SIGKILL mid-stream, restarts it, and finds every
event that got a 202 billed exactly once, the audit chain valid, and no event lost or duplicated; a restart keeps
tenants, keys and data." The ERP does what an ERP does after an outage: it re-sends what got no 202 (the webhook
answers a duplicate with 202 and the first event id).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

import clock_support
from billing_support import ErpSender
from engine_support import spawn_dev, wait_dev

pytestmark = [pytest.mark.stack, pytest.mark.xdist_group("durability")]

EVENTS, BATCH, KILL_AFTER = 1000, 10, 400


def _start(where: Path, *extra: str) -> subprocess.Popen[bytes]:
    (where / "local.json").unlink(missing_ok=True)
    process = spawn_dev(where, *extra)
    wait_dev(where)
    return process


def _events(partner_id: str) -> list[dict[str, Any]]:
    """Shipments dated today on the product's clock: the seeded demo partner was activated when `make run` started,
    and PA-2.2 holds an order dated before its partner's activation instead of billing it."""
    run = uuid.uuid4().hex[:8]
    occurred_at, today = clock_support.now().strftime("%Y-%m-%dT%H:%M:%SZ"), clock_support.today().isoformat()
    return [
        {
            "id": f"DUR-{run}-{n:04d}",
            "type": "shipment.confirmed",
            "occurred_at": occurred_at,
            "data": {"partner_id": partner_id, "order_ref": f"SO-DUR-{n:04d}", "shipped_on": today,
                     "lines": [{"sku": "NW-SW-24P", "quantity": 1}]},
        }
        for n in range(EVENTS)
    ]


def _stream(erp: ErpSender, batches: list[list[dict[str, Any]]], accepted: dict[str, str],
            on_accepted: Any = None) -> list[list[dict[str, Any]]]:
    """Post each batch; returns the batches that got no 202 (the process was gone)."""
    unanswered = []
    for batch in batches:
        try:
            response = erp.post({"events": batch})
        except requests.RequestException:
            unanswered.append(batch)
            continue
        assert response.status_code == 202, response.text
        for sent, result in zip(batch, response.json()["results"], strict=True):
            accepted[sent["id"]] = result["event_id"]
        if on_accepted is not None:
            on_accepted(len(accepted))
    return unanswered


def test_sigkill_mid_stream_loses_nothing_bills_each_accepted_event_once_and_keeps_tenants_and_keys(tmp_path):
    first = _start(tmp_path)
    before = json.loads((tmp_path / "local.json").read_text())
    tenant = before["tenants"]["northwind"]
    partner_id = next(p["partner_id"] for p in tenant["partners"] if p["status"] == "active")
    events = _events(partner_id)
    batches = [events[i : i + BATCH] for i in range(0, EVENTS, BATCH)]
    accepted: dict[str, str] = {}  # ERP id -> the Revgov event id its 202 answered
    killed = threading.Event()

    def kill_when(count: int) -> None:
        if count >= KILL_AFTER and not killed.is_set():
            killed.set()
            threading.Timer(0.05, lambda: os.kill(first.pid, signal.SIGKILL)).start()  # while requests fly

    erp = ErpSender(before["base_url"], "northwind", tenant["webhook_secret"])
    unanswered = _stream(erp, batches, accepted, kill_when)
    first.wait(timeout=30)
    assert killed.is_set() and first.returncode == -signal.SIGKILL
    assert KILL_AFTER <= len(accepted) < EVENTS and unanswered  # it died mid-stream

    second = _start(tmp_path)
    try:
        after = json.loads((tmp_path / "local.json").read_text())
        # a restart keeps tenants and keys: the same ones, and they work
        assert {k: v for k, v in after.items() if k != "base_url"} == {
            k: v for k, v in before.items() if k != "base_url"
        }
        admin = requests.Session()
        admin.headers["Authorization"] = f"Bearer {tenant['admin_key']}"
        base = after["base_url"]
        assert admin.get(f"{base}/v1/keys", timeout=30).status_code == 200
        accepted_before_kill = dict(accepted)
        erp = ErpSender(base, "northwind", tenant["webhook_secret"])
        assert _stream(erp, unanswered, accepted) == []  # the ERP re-sends what got no answer
        assert len(accepted) == EVENTS
        for erp_id, event_id in accepted_before_kill.items():
            assert accepted[erp_id] == event_id  # an event accepted before the kill keeps its id

        def billed() -> dict[str, int]:
            counts: dict[str, int] = {}
            listed = admin.get(f"{base}/v1/invoices", params={"status": "draft", "limit": 200}, timeout=30).json()
            for summary in listed["items"]:
                invoice = admin.get(f"{base}/v1/invoices/{summary['invoice_id']}", timeout=30).json()
                for line in invoice["lines"]:
                    for event_id in line["event_ids"]:  # the events a line bills
                        if event_id in wanted:
                            counts[event_id] = counts.get(event_id, 0) + 1
            return counts

        wanted = set(accepted.values())
        deadline = time.monotonic() + 240
        counts = billed()
        while set(counts) != wanted and time.monotonic() < deadline:
            time.sleep(1)
            counts = billed()
        assert set(counts) == wanted, f"{len(wanted - set(counts))} accepted events not billed"
        assert all(n == 1 for n in counts.values()), {e: n for e, n in counts.items() if n != 1}
        verdict = admin.get(f"{base}/v1/audit/verify", timeout=120).json()
        assert verdict["valid"] is True and verdict["first_invalid"] is None, verdict
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)


def test_reset_starts_over_with_new_keys_and_the_old_ones_stop_working(tmp_path):
    """`revgov dev --reset` starts over: a new database, seeded again, new keys; the old keys are unknown to it."""
    first = _start(tmp_path)
    before = json.loads((tmp_path / "local.json").read_text())
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=60) == 0
    assert oct((tmp_path / "local.json").stat().st_mode & 0o777) == "0o600"
    second = _start(tmp_path, "--reset")
    try:
        after = json.loads((tmp_path / "local.json").read_text())
        old_key, new_key = before["tenants"]["northwind"]["admin_key"], after["tenants"]["northwind"]["admin_key"]
        assert old_key != new_key and before["operator_key"] != after["operator_key"]
        keys_url = f"{after['base_url']}/v1/keys"
        assert requests.get(keys_url, headers={"Authorization": f"Bearer {new_key}"}, timeout=30).status_code == 200
        refused = requests.get(keys_url, headers={"Authorization": f"Bearer {old_key}"}, timeout=30)
        assert refused.status_code == 401 and refused.headers["Content-Type"].startswith("application/problem+json")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=60)
