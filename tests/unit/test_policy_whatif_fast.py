"""Issue #19: the summed what-if reads only a few values of each stored decision and evaluates each distinct stored
input once; its figures must be those of replaying every decision of the window one by one.

The source of truth is the one-by-one replay itself (`GET …/whatif/{decision_id}`, services.policy_whatif
.whatif_decision: the whole stored decision loaded and evaluated under the draft). docs/policy.md: "`GET
…/whatif/{decision_id}` is the row the summary sums for one decision, so the figures can be checked one by one".
The draft below changes many rules at once, so every part of the evaluation is exercised:
- PA-6.3: "The Net Price of each quote line must preserve a gross margin of at least 12% over Line Cost" (raised).
- PA-6.2 tier caps, PA-6.4 stacking (mode and maximum), PA-6.6 finance threshold, PA-6.7 payment terms, a
  promotion's percent, and SOP-4.1's routing matrix (the margin category sent to another queue).
Edge cases: identical quotes (the same stored inputs, evaluated once), a decision stored in parts (its body too big
for one item), a decision of another kind, decisions on the day before and after the window and on its first and
last days; on the in-memory engine and on SQLite (whose values are extracted in the query). No test depends on
today's date: the clock is injected.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memory_store import FixedClock, NoBus
from revgov.adapters.memory_store import MemoryDocumentStore
from revgov.adapters.system import RandomIds
from revgov.domain import policy_whatif as domain
from revgov.domain.access import PLATFORM, Principal, Role
from revgov.ports import Changes, Put
from revgov.runtime import Runtime
from revgov.services import decisions, policy_drafts, policy_whatif, pricing, tenants
from revgov.settings import settings
from revgov.tenant_files import load_tenant_file
from support import ROOT

PLATINUM, REGISTERED = "ptr_01JBNWPARTNER0000000000001", "ptr_01JBNWPARTNER0000000000002"
FINANCE = Principal("northwind", Role.FINANCE, "key_FINANCE0000000000000000000")
CHANNEL_OPS = Principal("northwind", Role.CHANNEL_OPS, "key_CHANNELOPS000000000000000")
SALES = Principal("northwind", Role.SALES, "key_SALES00000000000000000000")
WINDOW = {"from": "2026-11-10", "to": "2026-11-13", "examples": 3}

MANY_RULES = [
    {"op": "replace", "path": "/pricing/margin_floor/percent", "value": "16"},
    {"op": "replace", "path": "/pricing/discount_caps/caps/platinum/networking", "value": "12"},
    {"op": "replace", "path": "/pricing/discount_caps/caps/registered/hardware", "value": "6"},
    {"op": "replace", "path": "/pricing/finance_approval/above_percent", "value": "18"},
    {"op": "replace", "path": "/pricing/stacking/max_combined_percent", "value": "24"},
    {"op": "replace", "path": "/pricing/stacking/mode", "value": "compounding"},
    {"op": "replace", "path": "/pricing/payment_terms/standard_days", "value": [30, 60]},
    {"op": "replace", "path": "/pricing/promotions/0/percent", "value": "5"},
    {"op": "replace", "path": "/exception_routing/categories/margin_below_floor/queue", "value": "legal"},
]


def _runtime(engine: str, tmp_path: Path) -> tuple[Runtime, FixedClock]:
    clock = FixedClock("2026-11-09T09:00:00.000Z")
    ids = RandomIds(clock)
    if engine == "sqlite":
        from revgov.adapters.sqlite_db import Database
        from revgov.adapters.sqlite_store import SqliteDocumentStore

        store: Any = SqliteDocumentStore(Database(tmp_path / "whatif.sqlite"), clock, ids)
    else:
        store = MemoryDocumentStore(clock, ids)
    rt = Runtime(settings(), store, NoBus(), clock, ids)
    tenants.create_tenant(rt, Principal(PLATFORM, Role.OPERATOR, "key_test"),
                          load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml"))
    partners = json.loads((ROOT / "tests" / "scenarios" / "billing" / "erp-samples.json").read_text())["partners"]
    rt.store.commit("northwind", Changes(puts=[Put("PARTNER", p["partner_id"], p) for p in partners]))
    return rt, clock


def _quote(rt: Runtime, n: int) -> str:
    """The n-th generated quote: two partner tiers, one or three lines of three families, nine discounts, promotions
    (one exclusive pair that is refused), standard and non-standard payment terms."""
    skus = ("NW-SW-24P", "NW-FW-200", "NW-SRV-R2")
    discounts = ("0", "2", "4", "7", "10", "13", "15", "18", "21")
    lines = [{"line_id": str(k), "sku": skus[(n + k) % 3], "quantity": 1 + (n * 7 + k) % 5,
              "discount_percent": discounts[(n * 5 + 3 * k) % len(discounts)]} for k in range(3 if n % 7 == 6 else 1)]
    quote: dict[str, Any] = {"partner_id": PLATINUM if n % 3 else REGISTERED,
                             "customer": {"id": f"CUST-{n % 4}", "name": "Lakeside"}, "lines": lines}
    promotions = ([], ["NET-REFRESH-26"], ["HW-CLEARANCE-Q4", "HW-ATTACH-26"], ["SEC-BUNDLE-26"], [], [])[n % 6]
    if promotions:
        quote["promotions"] = promotions
    if n % 5 == 4:
        quote["terms"] = {"payment_days": (45, 60)[n % 2]}
    return str(pricing.check(rt, SALES, quote)["decision_id"])


def _history(rt: Runtime, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Quotes from the day before the window to the day after it; the ids of the quote decisions made within it (by
    their stored `created_at`), in id order."""
    for day in ("09", "10", "11", "12", "13", "14"):
        clock.set(f"2026-11-{day}T08:00:00.000Z")
        for n in range(18):
            _quote(rt, n)
            if n in (3, 4):  # the same quote again at the same moment: identical stored inputs
                _quote(rt, n)
            clock.advance(minutes=37)
    clock.set("2026-11-12T18:00:00.000Z")
    with monkeypatch.context() as patch:  # a decision whose body is stored in parts (a head and its parts)
        patch.setattr(decisions, "BODY_INLINE_CHARS", 500)
        patch.setattr(decisions, "PART_CHARS", 700)
        parted = _quote(rt, 20)
    assert "body" in rt.store.get("northwind", decisions.DECISIONS, parted).data  # type: ignore[union-attr]
    other = rt.ids.new("dec")  # a decision of another kind in the window: not a quote decision, not replayed
    rt.store.commit("northwind", Changes(puts=[Put(decisions.DECISIONS, other, {
        "decision_id": other, "kind": "credit_note", "created_at": "2026-11-12T18:00:00.000Z"})]))
    inside = []
    for item in rt.store.query("northwind", decisions.DECISIONS, limit=1000).items:
        decision = decisions.load(rt, FINANCE, item.key)[0]
        if decision["kind"] == "pricing" and WINDOW["from"] <= decision["created_at"][:10] <= WINDOW["to"]:
            inside.append(item.key)
    return sorted(inside)


@pytest.mark.parametrize("engine", ["memory", "sqlite"])
def test_the_summed_whatif_equals_replaying_each_decision_one_by_one_under_a_draft_changing_many_rules(
        engine, tmp_path, monkeypatch):
    rt, clock = _runtime(engine, tmp_path)
    inside = _history(rt, clock, monkeypatch)
    clock.set("2026-11-20T09:00:00.000Z")
    draft = policy_drafts.create_draft(rt, CHANNEL_OPS, {"reason": "many rules at once"})
    policy_drafts.patch_policy(rt, CHANNEL_OPS, draft["draft_id"], {"operations": MANY_RULES})
    diff = policy_drafts.diff_draft(rt, FINANCE, draft["draft_id"])
    assert len(diff["changed"]) >= 7

    report = policy_whatif.whatif(rt, FINANCE, draft["draft_id"], WINDOW)
    one_by_one = [policy_whatif.whatif_decision(rt, FINANCE, draft["draft_id"], d) for d in inside]
    expected = domain.summarize(one_by_one, examples=3)
    assert {k: v for k, v in report.items() if k in expected} == expected
    # four days of 18 quotes and 2 repeats, and the one stored in parts
    assert report["decisions"] == len(inside) == 4 * (18 + 2) + 1
    # the draft changes outcomes and, with SOP-4.1's margin category sent to legal, the queues of unchanged outcomes
    assert report["outcome_changed"] > 0 and report["approvals_rerouted"]["count"] > 0
    assert len({(c["from"], c["to"]) for c in report["outcome_changes"]}) >= 2


def test_an_unchanged_draft_changes_nothing_on_either_path(tmp_path, monkeypatch):
    """A draft equal to the policy in force: every decision replays as it was made (SOP-7.3: decisions are never
    recalculated under a later version; a replay under the same policy is identical)."""
    rt, clock = _runtime("sqlite", tmp_path)
    inside = _history(rt, clock, monkeypatch)
    draft = policy_drafts.create_draft(rt, CHANNEL_OPS, {"reason": "no change"})
    report = policy_whatif.whatif(rt, FINANCE, draft["draft_id"], WINDOW)
    assert report["decisions"] == len(inside)
    assert report["outcome_changed"] == 0 and report["outcome_changes"] == []
    assert report["approvals_rerouted"]["count"] == 0
    assert report["net_total"]["change"] == report["margin"]["change"] == "0.00"
    assert all(q["change"] == 0 for q in report["approvals_by_queue"].values())


def test_the_evaluation_of_identical_inputs_is_made_once(tmp_path, monkeypatch):
    """Memoising is sound because the evaluation is pure: here it is made once per distinct stored inputs."""
    rt, clock = _runtime("memory", tmp_path)
    inside = _history(rt, clock, monkeypatch)
    draft = policy_drafts.create_draft(rt, CHANNEL_OPS, {"reason": "count"})
    calls = {"n": 0}
    original = policy_whatif.evaluate

    def counted(*args: Any) -> Any:
        calls["n"] += 1
        return original(*args)

    monkeypatch.setattr(policy_whatif, "evaluate", counted)
    report = policy_whatif.whatif(rt, FINANCE, draft["draft_id"], WINDOW)
    distinct = {json.dumps(decisions.load(rt, FINANCE, d)[0]["inputs"], sort_keys=True) for d in inside}
    assert report["decisions"] == len(inside) > len(distinct) == calls["n"]


def test_the_figures_are_the_same_when_the_reuse_is_full_or_off(tmp_path, monkeypatch):
    """The reuse is bounded (at most `_MEMO_MAX` inputs kept): past the bound every decision is evaluated on its own,
    with the same figures."""
    rt, clock = _runtime("sqlite", tmp_path)
    _history(rt, clock, monkeypatch)
    draft = policy_drafts.create_draft(rt, CHANNEL_OPS, {"reason": "bounded"})
    policy_drafts.patch_policy(rt, CHANNEL_OPS, draft["draft_id"], {"operations": MANY_RULES})
    reused = policy_whatif.whatif(rt, FINANCE, draft["draft_id"], WINDOW)
    for bound in (0, 2):
        monkeypatch.setattr(policy_whatif, "_MEMO_MAX", bound)
        assert policy_whatif.whatif(rt, FINANCE, draft["draft_id"], WINDOW) == reused
