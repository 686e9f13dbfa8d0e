"""Helpers for the KPI, forecast, agent and portal tests: a fresh tenant with northwind's policy and a key per role,
partners onboarded through the use cases, ERP events sent through the signed webhook, and rollups written in bulk."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import clock_support
from billing_support import ErpSender, erp_event, settle, ship_to_of, wait_until
from revgov.domain import kpis
from revgov.domain.access import Principal, Role
from revgov.domain.partners import tiers_by_rank
from revgov.local.demo_partners import demo_application, onboard
from revgov.ports import Changes, Put
from revgov.services import analytics
from revgov.services import keys as key_service
from revgov.tenant_files import load_tenant_file
from support import ROOT, Api

ROLES = ("finance", "channel_ops", "legal", "customer_success", "sales", "viewer")


@dataclass
class AnalyticsTenant:
    tenant_id: str
    policy: dict[str, Any]
    rt: Any
    api: Api
    roles: dict[str, Api]
    erp: ErpSender
    partners: dict[str, dict[str, Any]] = field(default_factory=dict)  # label -> partner
    partner_keys: dict[str, Api] = field(default_factory=dict)  # label -> partner-key client

    def onboard(self, label: str, tier_rank: int) -> dict[str, Any]:
        """An active partner at the tier of that rank index, through the onboarding use cases, with a partner key."""
        sales = Principal(self.tenant_id, Role.SALES, "key_01JX00000000000000000SALES")
        approver = Principal(self.tenant_id, Role.CHANNEL_OPS, "key_01JX000000000000000000OPS0")
        admin = Principal(self.tenant_id, Role.ADMIN, "key_01JX0000000000000000ADMIN0")
        tier = tiers_by_rank(self.policy)[tier_rank]
        application = demo_application(f"KPI {label} {uuid.uuid4().hex[:6]}", "reseller", tier)
        partner = onboard(self.rt, self.policy, application, "active", sales=sales, approver=approver)
        assert partner["status"] == "active" and partner["tier"] == tier["tier"], partner
        key = key_service.create_key(self.rt, admin, self.tenant_id, Role.PARTNER, partner["partner_id"], label)
        self.partners[label] = partner
        self.partner_keys[label] = self.api.as_key(key["key"])
        # the KPI handler learns of the partner from its partner.activated event, asynchronously (the router batches
        # such events for up to 0.1 s): a test that reads the partner directory must find it there
        wait_until(lambda: partner["partner_id"] in self._directory(), 20, what=f"{label} in the KPI directory")
        return partner

    def _directory(self) -> dict[str, Any]:
        stored = self.rt.store.get(self.tenant_id, analytics.ROLLUPS, analytics.DIRECTORY)
        return dict(stored.data["partners"]) if stored else {}

    def send(self, detail_type: str, data: dict[str, Any], *, hours_ago: float) -> str:
        at = clock_support.now() - timedelta(hours=hours_ago)
        body = erp_event(detail_type, data, occurred_at=at.strftime("%Y-%m-%dT%H:%M:%SZ"))
        response = self.erp.post(body)
        assert response.status_code == 202, response.text
        return str(response.json()["event_id"])

    def event_status(self, event_id: str) -> str | None:
        response = self.roles["admin"].get(f"/v1/events/{event_id}")
        return response.json().get("status") if response.status_code == 200 else None

    def wait_for(self, event_ids: list[str], statuses: tuple[str, ...] = ("processed",)) -> None:
        wait_until(lambda: all(self.event_status(e) in statuses for e in event_ids), 40, what=event_ids)

    def write_rollups(self, rollups: list[dict[str, Any]]) -> None:
        """Rollups straight into the store, 25 per commit (as a bulk load does)."""
        puts = [Put(analytics.ROLLUPS, analytics.rollup_key(r["period"], r["scope"]), r) for r in rollups]
        for start in range(0, len(puts), 25):
            self.rt.store.commit(self.tenant_id, Changes(puts=puts[start : start + 25]))


def monthly_revenue_rollups(partner_id: str, tier: str, revenue_by_month: dict[str, float]) -> list[dict[str, Any]]:
    """The partner-scope rollups of a history of monthly revenue (for forecasts and agents)."""
    made = []
    for month, revenue in revenue_by_month.items():
        rollup = kpis.empty(month, f"partner:{partner_id}")
        rollup["revenue_minor"] = round(revenue * 100)
        rollup["margin_revenue_minor"] = rollup["revenue_minor"]
        made.append(rollup)
    return made


def analytics_tenant_in(api: Api, operator: Api, stack: Any, **config_changes: Any) -> Iterator[AnalyticsTenant]:
    config = load_tenant_file(Path(ROOT / "tenants" / "northwind" / "tenant.yaml"))
    config["tenant_id"] = f"t-{uuid.uuid4().hex[:12]}"
    config.update(config_changes)
    created = operator.post("/v1/tenants", config)
    assert created.status_code == 201, created.text
    body = created.json()
    admin = api.as_key(body["admin_key"]["key"])
    roles = {"admin": admin}
    for role in ROLES:
        roles[role] = api.as_key(admin.post("/v1/keys", {"role": role, "label": role}).json()["key"])
    tenant = AnalyticsTenant(
        config["tenant_id"], config["policy"], stack.runtime, api, roles,
        ErpSender(api.base_url, config["tenant_id"], body["webhook_secret"], ship_to=ship_to_of(config)),
    )
    yield tenant
    rt = stack.runtime
    wait_until(lambda: not rt.store.lookup(tenant.tenant_id, "EVENT#received", limit=1).items, 30, what="handlers")
    settle(stack)
    operator.delete(f"/v1/tenants/{tenant.tenant_id}")
