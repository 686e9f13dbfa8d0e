"""The retention policy on every engine (SQLite, in memory, DynamoDB on moto): copilot transcripts masked after the
tenant's days with the audit chain still verifying, and webhook delivery logs written with the tenant's TTL.

Seed whitepaper: "Where LLMs are used, prompts and outputs should be logged according to policy". PA-14.1: "Questions
and answers are logged with sensitive fields masked". tenants/northwind/tenant.yaml: `copilot_text: {days: 180,
then: mask}`, `webhook_deliveries: {days: 30}`. DESIGN.md: "verification walks the chain and names the first broken
record".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_store_contract import BACKENDS, dynamodb_endpoint, make_store  # noqa: F401  (the DynamoDB fixture)

from memory_store import FixedClock, NoBus
from revgov.adapters.system import RandomIds
from revgov.domain.access import PLATFORM, Principal, Role
from revgov.domain.audit import AuditEntry
from revgov.domain.partners import tiers_by_rank
from revgov.local.demo_partners import demo_application
from revgov.ports import Changes
from revgov.runtime import Runtime
from revgov.services import audit, copilot_transcripts, partners, retention, subscriptions, tenants
from revgov.settings import settings
from revgov.tenant_files import load_tenant_file
from support import ROOT

ADMIN = Principal("northwind", Role.ADMIN, "key_01JX0000000000000000ADMIN0")
PUBLIC = "93.184.216.34"


@pytest.fixture(params=BACKENDS)
def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Runtime, FixedClock]:
    clock = FixedClock("2026-01-05T09:00:00.000Z")
    ids = RandomIds(clock)
    rt = Runtime(settings(), make_store(request.param, tmp_path, request, clock, ids), NoBus(), clock, ids)
    tenants.create_tenant(rt, Principal(PLATFORM, Role.OPERATOR, "key_test"),
                          load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml"))
    return rt, clock


def _asked(rt: Runtime, question: str, partner_id: str | None = None) -> dict[str, Any]:
    """A copilot answer recorded as `copilot.ask` records it: the transcript apart, its digests sealed."""
    sealed, kept = copilot_transcripts.recorded(rt, question, "PA-10.4 answers it.", partner_id=partner_id,
                                                decision_id=None)  # fmt: skip
    entry = AuditEntry(actor=ADMIN.actor, actor_role="admin", action="copilot.asked", subject="copilot",
                       outcome="answered", inputs={**sealed, "partner_id": partner_id, "decision_id": None})
    (record,) = rt.commit("northwind", Changes(puts=[kept], audit=[entry]))
    return record


def test_transcripts_are_masked_after_180_days_and_the_chain_verifies_on_every_engine(runtime):
    rt, clock = runtime
    records = [_asked(rt, f"May I dispute invoice {n} of 2026-11 for 1,250.00?") for n in range(45)]  # two batches
    clock.advance(days=181)
    assert retention.sweep(rt, "northwind")["transcripts_masked"] == 45
    listed = copilot_transcripts.attach(rt.store, "northwind", records)
    assert {r["transcript"]["form"] for r in listed} == {"masked"}
    assert all("1,250" not in r["transcript"]["question"] for r in listed)
    assert rt.store.lookup("northwind", "COPILOTTEXT#full", limit=10).items == []
    assert len(rt.store.lookup("northwind", "COPILOTTEXT#masked", limit=100).items) == 45
    assert audit.verify_chain(rt, "northwind")["valid"]
    assert retention.sweep(rt, "northwind")["transcripts_masked"] == 0


def test_a_legal_hold_placed_by_legal_keeps_the_partners_transcripts_until_lifted_on_every_engine(runtime):
    """docs/retention.md "Legal hold": a hold legal places for litigation outside any case spares the partner's
    records from the sweep, read consistently from the holds' collection on each engine."""
    rt, clock = runtime
    policy = tenants.load_tenant(rt, "northwind")[0].policy
    sales, legal = Principal("northwind", Role.SALES, "key_sales"), Principal("northwind", Role.LEGAL, "key_legal")
    partner_id = partners.apply(rt, sales, demo_application("Held", "reseller", tiers_by_rank(policy)[0]))["partner_id"]
    record = _asked(rt, "What is my support allowance?", partner_id)
    hold = retention.place_hold(rt, legal, {"partner_id": partner_id, "matter": "litigation", "reason": "case 1042"})
    clock.advance(days=181)
    assert retention.sweep(rt, "northwind")["held"] == 1
    retention.lift_hold(rt, legal, hold["hold_id"], {"reason": "settled"})
    assert retention.sweep(rt, "northwind")["transcripts_masked"] == 1
    (listed,) = copilot_transcripts.attach(rt.store, "northwind", [record])
    assert listed["transcript"]["form"] == "masked"


def test_a_webhook_delivery_log_expires_after_the_tenants_days(runtime):
    rt, clock = runtime
    who = ADMIN
    made = subscriptions.create(rt, who, {"url": "https://hooks.example/x", "event_types": ["*"]},
                                resolver=lambda host: [PUBLIC])
    event = {"source": "revgov.probe", "detail-type": "probe.fired",
             "detail": {"tenant_id": "northwind", "event_id": "evt_01JX0000000000000000000001",
                        "occurred_at": "2026-01-05T09:00:00Z", "n": 1}}
    sent: list[str] = []
    assert subscriptions.deliver(rt, event, send=lambda url, addresses, body, headers: sent.append(url) or 200,
                                 resolver=lambda host: [PUBLIC]) == 1
    (row,) = [item for item in rt.store.export_tenant("northwind") if item["collection"] == subscriptions.DELIVERIES]
    assert row["key"] == f"evt_01JX0000000000000000000001#{made['subscription_id']}"
    assert row["expires_at"] == clock.now_ms() // 1000 + 30 * 24 * 3600  # tenant.yaml: webhook_deliveries 30 days
