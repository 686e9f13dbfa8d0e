"""The usage what-if (`POST /v1/policy/drafts/{draft_id}/usage-whatif`) reads the usage records of the months it is
asked about, through their month pointers, not every usage record the tenant ever stored.

SOP-3.2 (tenants/northwind/contracts/billing-sop.md): "Cloud-services usage is rated with the following graduated
tiers per Partner per Billing Month [...] first 1,000 | 0.12; next 9,000 | 0.10; next 40,000 | 0.08 [...] Example:
12,500 CUH are charged 1,000 x 0.12 + 9,000 x 0.10 + 2,500 x 0.08 = USD 1,220.00." A draft lowering band 3 to 0.07
charges October's 12,500 CUH 120.00 + 900.00 + 175.00 = 1,195.00. docs/policy.md: it rates "a month's (or a quarter's
three months') metered usage". Usage of other months is no part of it, and reading it is work that grows with the
tenant's history: the reads are counted (the team's standard: store calls, not time).
"""

from __future__ import annotations

import json
import re
from typing import Any

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.ports import Changes, Delete, Put
from revgov.services import policy_drafts
from revgov.services.billing.repository import USAGE
from revgov.services.policy_whatif_usage import whatif_usage
from revgov.services.usage_month_backfill import backfill_if_unfinished, backfill_usage_months
from revgov.services.usage_months import USAGE_MONTHS, USAGE_MONTHS_COMPLETE, usage_month_put
from store_counting import Counting

P1, P2 = "ptr_01JBNWPARTNER0000000000001", "ptr_01JBNWPARTNER0000000000002"
FINANCE = Principal("northwind", Role.FINANCE, "key_FINANCE0000000000000000000")
CHANNEL_OPS = Principal("northwind", Role.CHANNEL_OPS, "key_CHANNELOPS000000000000000")
BAND_3 = [{"op": "test", "path": "/billing/usage_rates/0/metric", "value": "cloud_compute"},
          {"op": "replace", "path": "/billing/usage_rates/0/bands/2/rate", "value": "0.07"}]


def _october(history: int) -> tuple[Ledger, str]:
    """P1's October: 12,500 CUH reported through billing; `history` earlier months of P2's usage, stored as billing
    stores a month's record (the record and its month pointer)."""
    ledger = Ledger("2026-10-20T12:00:00Z")
    ledger.bill("subscription.activated", {"partner_id": P1, "subscription_id": "SUB-W1", "sku": "NW-CLOUD-PLATFORM",
                "quantity": 1, "activated_on": "2026-10-01", "order_ref": "SO-W1"},
                occurred_at="2026-10-01T09:00:00Z")  # fmt: skip
    assert ledger.bill("usage.reported", {"partner_id": P1, "subscription_id": "SUB-W1", "metric": "cloud_compute",
                       "quantity": "12500", "usage_date": "2026-10-15"},
                       occurred_at="2026-10-15T23:30:00Z")["status"] == "processed"  # fmt: skip
    puts: list[Put] = []
    for k in range(history):
        month = f"{2020 + k // 12}-{k % 12 + 1:02d}"
        key = f"{P2}#cloud_compute#{month}"
        puts += [Put(USAGE, key, {"partner_id": P2, "metric": "cloud_compute", "period": month, "quantity": "900",
                                  "event_ids": ["evt_1"], "invoiced": []}), usage_month_put(key, month)]
    for start in range(0, len(puts), 50):
        ledger.rt.store.commit("northwind", Changes(puts=puts[start:start + 50]))
    draft = policy_drafts.create_draft(ledger.rt, CHANNEL_OPS, {"reason": "usage band 3"})
    policy_drafts.patch_policy(ledger.rt, CHANNEL_OPS, draft["draft_id"], {"operations": BAND_3})
    return ledger, str(draft["draft_id"])


def _whatif(ledger: Ledger, draft_id: str) -> tuple[dict[str, Any], Counting]:
    with Counting(ledger.rt.store) as counted:
        report = whatif_usage(ledger.rt, FINANCE, draft_id, {"period": "2026-10"})
    return report, counted


def _shown(report: dict[str, Any], draft_id: str) -> str:
    shown = json.dumps(report, sort_keys=True).replace(draft_id, "draft")
    return re.sub(r"inv_[0-9A-Z]+", "inv_P1_november", shown)  # ids differ ledger to ledger


def test_billing_writes_the_months_pointer_and_the_whatif_reads_the_same_whatever_the_history() -> None:
    answers, reads = [], []
    for history in (0, 40):
        ledger, draft_id = _october(history)
        assert ledger.rt.store.get("northwind", USAGE_MONTHS, f"2026-10#{P1}#cloud_compute#2026-10")  # by billing
        report, counted = _whatif(ledger, draft_id)
        assert [(r["partner_id"], r["metric"], r["quantity"], r["before"], r["after"]) for r in report["changed"]] == [
            (P1, "cloud_compute", "12500", "1220.00", "1195.00")]  # SOP-3.2's example; band 3 at 0.07
        assert report["amount"]["change"] == "-25.00"
        answers.append(_shown(report, draft_id))
        reads.append((dict(counted.calls), counted.documents))
    assert answers[0] == answers[1]
    assert reads[0] == reads[1], reads


def test_a_tenant_from_before_the_pointers_reads_every_record_until_backfilled_then_its_months() -> None:
    ledger, draft_id = _october(12)
    store = ledger.rt.store
    before, _ = _whatif(ledger, draft_id)
    pointers = [item.key for item in store.query("northwind", USAGE_MONTHS, limit=100).items]
    store.commit("northwind", Changes(deletes=[Delete(USAGE_MONTHS, key) for key in pointers]))  # as stored before
    old, scanned = _whatif(ledger, draft_id)
    assert _shown(old, draft_id) == _shown(before, draft_id)  # unmarked: every record read, the month's kept
    assert scanned.documents >= 13  # the whole history was read
    assert backfill_if_unfinished(ledger.rt, ["northwind"], actor="operator:test") == [
        {"tenant_id": "northwind", "scanned": 13, "backfilled": 13}]
    assert store.get("northwind", USAGE_MONTHS, USAGE_MONTHS_COMPLETE) is not None
    assert backfill_usage_months(ledger.rt, "northwind", actor="operator:test")["backfilled"] == 0  # idempotent
    assert backfill_if_unfinished(ledger.rt, ["northwind"], actor="operator:test") == []  # marked: not run again
    after, counted = _whatif(ledger, draft_id)
    assert _shown(after, draft_id) == _shown(before, draft_id)
    assert counted.documents < scanned.documents
    records = [e for e in store.audit_records("northwind") if e["action"] == "billing.usage_month_pointers_backfilled"]
    assert [len(e["inputs"]["usage_records"]) for e in records] == [13, 0]
