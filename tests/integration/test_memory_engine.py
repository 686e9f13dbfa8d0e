"""The in-memory engine (REVGOV_BACKEND=memory): the same use cases and commit protocol with no file, no HTTP, no
thread and no sleep, for service-level tests. Here: the whole demo seed (two tenants provisioned, keys minted,
partners onboarded and approved through the use cases) and the event log fed by the bus the test drains itself."""

from __future__ import annotations

import json
from typing import Any

from revgov.local.seed import seed
from revgov.runtime import build_memory_runtime
from revgov.services import events as event_log
from revgov.services import keys
from revgov.services.audit import verify_chain
from revgov.settings import Settings


def test_the_demo_seed_runs_service_level_on_the_memory_engine():
    rt = build_memory_runtime(Settings.from_env({"REVGOV_BACKEND": "memory"}))
    info = seed(rt)
    assert set(info["tenants"]) == {"northwind", "contoso"}
    for tenant_id, tenant in info["tenants"].items():
        for role, key in tenant["keys"].items():
            principal = keys.authenticate(rt, f"Bearer {key}")
            assert principal.tenant_id == tenant_id and principal.role.value in (role, "partner")
        assert verify_chain(rt, tenant_id)["valid"] is True
    published: list[dict[str, Any]] = rt.publisher.published
    assert {"tenant.provisioned", "partner.activated"} <= {e["detail-type"] for e in published}

    def log_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
        for record in event["Records"]:
            event_log.accept(rt, json.loads(record["body"]))
        return {"batchItemFailures": []}

    handled = rt.publisher.deliver({"log_event": log_event})
    assert handled == sum(1 for e in published if not e["source"].startswith("revgov.erp"))
    activated = next(e for e in published if e["detail-type"] == "partner.activated")
    detail = activated["detail"]
    logged = rt.store.get(detail["tenant_id"], event_log.EVENTS, detail["event_id"])
    assert logged is not None and logged.data["status"] == "processed"
