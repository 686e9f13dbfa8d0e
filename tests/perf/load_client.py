"""The load test's client, run in a process of its own by `load.run`: threads sending a planned mix over plain HTTP.

Reads the plan as JSON on stdin (base URL, endpoints, the order in which they are sent, threads, deadline) and prints
each endpoint's latencies (ms) and statuses as JSON. Each thread keeps one keep-alive connection (`http.client`, the
least CPU a client can spend per request, so the client takes as little of the shared cores as it can); nothing is
checked against a schema and no product code runs here except the webhook signature (`revgov.domain.webhooks`, the
ERP's side of the protocol). Quote checks get a fresh quote reference and customer, shipments a fresh event id and
order, signed at send time on the product's clock (the plan gives its offset from this machine's).
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "functions"))

from revgov.domain.webhooks import signature_header  # functions/ is on the path only now


def _now(plan: dict[str, Any]) -> float:
    """Unix seconds on the product's clock."""
    return time.time() + float(plan["clock_offset_s"])


def _body(endpoint: dict[str, Any], plan: dict[str, Any]) -> tuple[bytes | None, dict[str, str]]:
    """The request's body and headers: the endpoint's, with what must be new on each request made new."""
    headers = {"Content-Type": "application/json"}
    if endpoint.get("key"):
        headers["Authorization"] = f"Bearer {endpoint['key']}"
    body = endpoint.get("body")
    fresh = endpoint.get("fresh")
    if fresh == "quote":
        body = {**body, "quote_ref": f"Q-{uuid.uuid4().hex[:8]}",
                "customer": {**body["customer"], "id": f"CUST-{uuid.uuid4().hex[:8]}"}}
    elif fresh == "shipment":
        at = datetime.fromtimestamp(_now(plan), UTC)
        shipped = {**body["data"], "order_ref": f"SO-{uuid.uuid4().hex[:8]}", "shipped_on": at.date().isoformat()}
        body = {**body, "id": f"ERP-{uuid.uuid4().hex[:16]}", "occurred_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "data": shipped}
    data = json.dumps(body).encode() if body is not None else None
    if fresh == "shipment":
        erp = endpoint["erp"]
        headers["Revgov-Tenant"] = erp["tenant_id"]
        headers["Revgov-Signature"] = signature_header(erp["secret"], int(_now(plan)), data or b"")
    return data, headers


class _Connection:
    """One keep-alive connection; opened again after a failure (the failed request counts as status 0)."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.conn: http.client.HTTPConnection | None = None

    def send(self, method: str, path: str, data: bytes | None, headers: dict[str, str]) -> int:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=90)
        try:
            self.conn.request(method, path, body=data, headers=headers)
            answer = self.conn.getresponse()
            answer.read()
            if answer.will_close:
                self.close()
            return int(answer.status)
        except (OSError, http.client.HTTPException):
            self.close()
            return 0

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def run(plan: dict[str, Any]) -> dict[str, Any]:
    endpoints = plan["endpoints"]
    order: list[int] = plan["order"]
    samples: list[list[float]] = [[] for _ in endpoints]
    statuses: list[dict[str, int]] = [{} for _ in endpoints]
    lock = threading.Lock()
    position = iter(range(len(order)))
    deadline = time.monotonic() + float(plan["seconds"])

    def worker() -> None:
        connection = _Connection(plan["base"])
        while time.monotonic() < deadline:
            with lock:
                index = next(position, None)
            if index is None:
                break
            number = order[index]
            endpoint = endpoints[number]
            path = endpoint["path"] + ("?" + urlencode(endpoint["query"]) if endpoint.get("query") else "")
            data, headers = _body(endpoint, plan)
            started = time.perf_counter()
            status = connection.send(endpoint["method"], path, data, headers)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                samples[number].append(elapsed)
                statuses[number][str(status)] = statuses[number].get(str(status), 0) + 1
        connection.close()

    threads = [threading.Thread(target=worker, name=f"client-{n}") for n in range(int(plan["threads"]))]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"seconds": time.monotonic() - started, "samples": samples, "statuses": statuses}


if __name__ == "__main__":
    print(json.dumps(run(json.load(sys.stdin))))
