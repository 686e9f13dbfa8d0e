"""Helpers for the ERP and billing tests: a tenant with northwind's billing policy, a signing ERP, partners, waits."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

import clock_support
from revgov.domain.webhooks import signature_header
from revgov.ports import Changes, Put
from revgov.tenant_files import load_tenant_file
from support import ROOT, Api

SAMPLES = ROOT / "events" / "revgov.erp"


def sample(detail_type: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{detail_type}.json").read_text())


def webhook_body(bus_event: dict[str, Any]) -> dict[str, Any]:
    """What the ERP posts for a bus event of the catalog: {id, type, occurred_at, data}."""
    detail = bus_event["detail"]
    return {
        "id": detail["erp_event_id"],
        "type": bus_event["detail-type"],
        "occurred_at": detail["occurred_at"],
        "data": detail["data"],
    }


def erp_event(detail_type: str, data: dict[str, Any], *, occurred_at: str, erp_id: str | None = None) -> dict:
    """An ERP event body with a fresh id (unless given)."""
    erp_id = erp_id or f"ERP-{uuid.uuid4().hex[:16]}"
    return {"id": erp_id, "type": detail_type, "occurred_at": occurred_at, "data": data}


# SOP-3.1: "Usage records received up to 5 calendar days after the end of the month are included in that month's
# rating; later records are rated in the next run as an adjustment carrying their original service period." SOP-7.1:
# "on the 5th calendar day, the late usage cut-off under SOP-3.1 applies; on the 6th calendar day, usage for month M is
# rated and posted to the open invoice of the following month" (COP-3.1 / COP-7.1: the 3rd and the 4th). PA-1.3: "a day
# runs from 00:00:00 to 23:59:59 UTC". "Received" is when Revgov received the record: the clock at the webhook.
USAGE_CUTOFF_DAYS = {"northwind": 5, "contoso": 3}


def month_after(month: str) -> str:
    year, number = (int(x) for x in month.split("-"))
    return f"{year + number // 12}-{number % 12 + 1:02d}"


def usage_invoice_month(service_month: str, received: str, tenant: str = "northwind") -> str:
    """The invoice month a usage record of `service_month` received at `received` (UTC ISO) goes on: the following
    month's when received by the cut-off day after its month's end; otherwise the next run's, which rates the month
    before its own and posts to its own month's invoice: a late record received by the cut-off day of a month goes on
    that month's invoice, one received later on the next month's."""
    cutoff, day = USAGE_CUTOFF_DAYS[tenant], received[:10]
    following = month_after(service_month)
    if day <= f"{following}-{cutoff:02d}":
        return following
    return day[:7] if int(day[8:10]) <= cutoff else month_after(day[:7])


def as_received_now(
    expected: dict[str, Any], lines: dict[str, list[dict[str, Any]]], tenant: str = "northwind"
) -> dict[str, Any]:
    """`expected` (by `partner#period`) with each invoice whose expected `lines` are all usage moved to the invoice
    its usage goes on when the test sends it now (`usage_invoice_month`): a scenario of fixed past dates sends usage
    whose cut-off has passed by the time the suite runs, rated by the next run with its original service period."""
    moved: dict[str, Any] = {}
    for key, value in expected.items():
        usage = lines.get(key) or []
        if usage and all(x["kind"] in ("usage", "usage_adjustment") for x in usage):
            partner, _ = key.split("#")
            service_month = usage[0]["service_period"]["start"][:7]
            month = usage_invoice_month(service_month, clock_support.now_iso(), tenant)
            key = f"{partner}#{month}"
            if month != month_after(service_month):  # every record late: "as an adjustment" (SOP-3.1 / COP-3.1)
                value = _as_adjustment(value)
        moved[key] = value
    return moved


def _as_adjustment(value: Any) -> Any:
    """Expected usage lines (a list, or an invoice holding `lines`) as the adjustment the next run rates them as."""
    if isinstance(value, dict) and "lines" in value:
        return {**value, "lines": _as_adjustment(value["lines"])}
    if isinstance(value, list):
        return [{**x, "kind": "usage_adjustment"} if x.get("kind") == "usage" else x for x in value]
    return value


# PA-10.1: "Taxes are calculated per line on the basis of the ship-to or service location"; docs/billing.md "Sales
# tax": from `billing.tax.calculated_from` (northwind 2027-01-01) an event of these kinds without a `tax_location` is
# held, not billed. A US distributor's ERP reports the ship-to, so the test ERP of a sales-tax tenant does too.
TAXABLE = frozenset({"shipment.confirmed", "subscription.activated", "service.completed", "usage.reported",
                     "support.logged"})  # fmt: skip
SHIP_TO = {"country": "US", "region": "US-TX", "postal_code": "75201"}  # Dallas: US-TX is in northwind's table


def ship_to_of(config: dict[str, Any]) -> dict[str, str] | None:
    """The ship-to the ERP of a tenant configured by `config` (a tenant.yaml) reports: a US one under a sales-tax
    regime (northwind), none otherwise (contoso's VAT needs none)."""
    tax = ((config.get("policy") or {}).get("billing") or {}).get("tax") or {}
    return dict(SHIP_TO) if tax.get("regime") == "sales_tax" else None


def _tenant_ship_to(tenant_id: str) -> dict[str, str] | None:
    path = ROOT / "tenants" / tenant_id / "tenant.yaml"
    return ship_to_of(load_tenant_file(path)) if path.is_file() else None


class ErpSender:
    """An ERP system: signs `{t}.{raw body}` with the tenant's webhook secret and posts to /v1/webhooks/erp.

    Like a US distributor's ERP it reports the ship-to (`ship_to`; by default a sales-tax tenant's `SHIP_TO`) on each
    taxable event that names none; `ship_to=None` is an ERP that sends none (a test of the missing-location hold)."""

    def __init__(self, base_url: str, tenant_id: str, secret: str, *, ship_to: Any = "tenant") -> None:
        self.base_url, self.tenant_id, self.secret = base_url, tenant_id, secret
        self.ship_to: dict[str, str] | None = _tenant_ship_to(tenant_id) if ship_to == "tenant" else ship_to

    def located(self, body: Any) -> Any:
        """`body` (an event or a batch `{"events": [...]}`) with the ERP's ship-to added to each taxable event that
        names no `tax_location` (a copy)."""
        if isinstance(body, dict) and isinstance(body.get("events"), list):
            return {**body, "events": [self.located(event) for event in body["events"]]}
        if not self.ship_to or not isinstance(body, dict) or body.get("type") not in TAXABLE:
            return body
        data = body.get("data")
        if not isinstance(data, dict) or "tax_location" in data:
            return body
        return {**body, "data": {**data, "tax_location": dict(self.ship_to)}}

    def post(
        self,
        body: Any = None,
        *,
        raw: bytes | None = None,
        at: int | None = None,
        secret: str | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        data = raw if raw is not None else json.dumps(self.located(body)).encode()
        stamp = clock_support.epoch_seconds() if at is None else at
        sent = {
            "Content-Type": "application/json",
            "Revgov-Tenant": self.tenant_id,
            "Revgov-Signature": signature or signature_header(secret or self.secret, stamp, data),
        }
        sent.update(headers or {})
        return requests.post(f"{self.base_url}/v1/webhooks/erp", data=data, headers=sent, timeout=30)


@dataclass
class BillingTenant:
    tenant_id: str
    admin: Api
    finance: Api
    channel_ops: Api
    erp: ErpSender
    rt: Any

    def add_partners(self, partners: list[dict[str, Any]]) -> None:
        """Partners as onboarding leaves them (status, tier, certifications), written straight to the store."""
        # a tenant's commit holds at most 99 of its own items (the 100th checks the offboarding tombstone)
        for i in range(0, len(partners), 50):
            self.rt.store.commit(self.tenant_id, Changes(puts=[Put("PARTNER", p["partner_id"], p)
                                                               for p in partners[i:i + 50]]))

    def send(self, body: Any) -> dict[str, Any]:
        response = self.erp.post(body)
        assert response.status_code == 202, response.text
        return dict(response.json())

    def event(self, event_id: str) -> dict[str, Any]:
        response = self.admin.get(f"/v1/events/{event_id}")
        return dict(response.json()) if response.status_code == 200 else {"status": None}

    def wait_for(self, event_ids: list[str], statuses: tuple[str, ...] = ("processed",), seconds: float = 30) -> None:
        wait_until(lambda: all(self.event(e)["status"] in statuses for e in event_ids), seconds, what=event_ids)

    def invoices(self, status: str = "draft") -> list[dict[str, Any]]:
        listed = self.finance.get("/v1/invoices", status=status, limit=200).json()["items"]
        return [self.finance.get(f"/v1/invoices/{i['invoice_id']}").json() for i in listed]

    def exceptions(self, status: str = "open") -> list[dict[str, Any]]:
        return list(self.admin.get("/v1/exceptions", status=status, limit=200).json()["items"])


# How much longer than its nominal bound a wait may take: the bounds are for an idle 2-core machine, and a wait
# returns as soon as its condition holds, so patience costs nothing when things go right.
PATIENCE = float(os.environ.get("REVGOV_TEST_PATIENCE", "3"))


def wait_until(check: Callable[[], bool], seconds: float = 30, *, what: Any = None, patience: float = PATIENCE) -> None:
    deadline = time.monotonic() + seconds * patience
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def settle(stack: Any, seconds: float = 30) -> None:
    """Let every rule's handler finish what is on its queue (the KPI rollups, outbound webhooks...), best effort:
    events of other tests still being retried may keep a queue busy longer."""
    try:
        wait_until(stack.router.idle, seconds, what="the event router's queues", patience=1)
    except AssertionError:
        pass


def billing_tenant_in(api: Api, operator: Api, stack: Any, policy_of: str = "northwind") -> Iterator[BillingTenant]:
    """A throwaway tenant with northwind's policy (or `policy_of`'s: its billing rules, tiers and routing),
    offboarded afterwards."""
    config = load_tenant_file(Path(ROOT / "tenants" / policy_of / "tenant.yaml"))
    config["tenant_id"] = f"t-{uuid.uuid4().hex[:12]}"
    created = operator.post("/v1/tenants", config)
    assert created.status_code == 201, created.text
    body = created.json()
    admin = api.as_key(body["admin_key"]["key"])
    by_role = {
        role: api.as_key(admin.post("/v1/keys", {"role": role, "label": role}).json()["key"])
        for role in ("finance", "channel_ops")
    }
    yield BillingTenant(
        config["tenant_id"],
        admin,
        by_role["finance"],
        by_role["channel_ops"],
        ErpSender(api.base_url, config["tenant_id"], body["webhook_secret"], ship_to=ship_to_of(config)),
        stack.runtime,
    )
    # let the handlers finish what the test sent, so nothing is written after the tenant is gone
    rt = stack.runtime
    wait_until(lambda: not rt.store.lookup(config["tenant_id"], "EVENT#received", limit=1).items, 30, what="handlers")
    settle(stack)
    offboarded = operator.delete(f"/v1/tenants/{config['tenant_id']}")  # idempotency records and all
    assert offboarded.status_code == 200, offboarded.text[:500]
    assert offboarded.json()["remaining_items"] == 0


def issued_october(tenant: BillingTenant, api: Api) -> tuple[dict[str, Any], Api, Api]:
    """The sample shipment billed (line 1: 4 x NW-SW-24P = 5,000.00) on October's invoice, issued by finance; a
    partner key for the sample's first partner and one for the second (its rival)."""
    partners = json.loads((ROOT / "tests/scenarios/billing/erp-samples.json").read_text())["partners"]
    tenant.add_partners(partners)
    tenant.wait_for([tenant.send(webhook_body(sample("shipment.confirmed")))["event_id"]])
    (october,) = [i for i in tenant.invoices() if i["period"] == "2026-10"]
    issued = tenant.finance.post(f"/v1/invoices/{october['invoice_id']}/finalize")
    assert issued.status_code == 200, issued.text
    keys = []
    for partner in partners:
        minted = tenant.admin.post("/v1/keys", {"role": "partner", "partner_id": partner["partner_id"], "label": "p"})
        assert minted.status_code == 201, minted.text
        keys.append(api.as_key(minted.json()["key"]))
    return issued.json(), keys[0], keys[1]
