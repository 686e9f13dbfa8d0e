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
from dataclasses import replace
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
from revgov.services import decisions, policy_drafts, policy_whatif, policy_whatif_workers, pricing, tenants
from revgov.services.decision_repository import DECISIONS
from revgov.settings import Settings, settings
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
        patch.setattr("revgov.services.decision_repository.BODY_INLINE_CHARS", 500)
        patch.setattr("revgov.services.decision_repository.PART_CHARS", 700)
        parted = _quote(rt, 20)
    assert "body" in rt.store.get("northwind", DECISIONS, parted).data  # type: ignore[union-attr]
    other = rt.ids.new("dec")  # a decision of another kind in the window: not a quote decision, not replayed
    rt.store.commit("northwind", Changes(puts=[Put(DECISIONS, other, {
        "decision_id": other, "kind": "credit_note", "created_at": "2026-11-12T18:00:00.000Z"})]))
    inside = []
    for item in rt.store.query("northwind", DECISIONS, limit=1000).items:
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
    draft = policy_drafts.create_draft(rt, CHANNEL_OPS, {"reason": "count"})  # changes rules the evaluation reads
    policy_drafts.patch_policy(rt, CHANNEL_OPS, draft["draft_id"], {"operations": MANY_RULES})
    calls = {"n": 0}
    original = policy_whatif.evaluate

    def counted(*args: Any) -> Any:
        calls["n"] += 1
        return original(*args)

    monkeypatch.setattr(policy_whatif, "evaluate", counted)  # every evaluation the what-if makes goes through it
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


# --- what the changed rules can reach, and worker processes ----------------------------------------------------------
# docs/policy.md: the summed what-if is "the sum of the rows `GET …/whatif/{decision_id}` makes one by one", and that
# one-by-one replay always evaluates the decision under the draft. The summed what-if may skip the evaluation of a
# decision the draft cannot reach (no rule the evaluation reads changed) and may evaluate in worker processes; in
# every case its figures must be those of the one-by-one replay.

# Changes a draft may make: rules the quote evaluation reads (pricing), the approval routing (read after it), and
# sections no quote evaluation reads.
_REACHING = [*MANY_RULES[:-1], {"op": "replace", "path": "/pricing/margin_floor/percent", "value": "8"}]
_NOT_REACHING = [
    {"op": "replace", "path": "/exception_routing/categories/margin_below_floor/queue", "value": "legal"},
    {"op": "replace", "path": "/exception_routing/triage/queue", "value": "finance"},
]
_UNREAD = [  # a stored decision carries the catalog items and partner facts it was priced from (services.pricing)
    {"op": "replace", "path": "/billing/price_list/0/list_price", "value": "1300.00"},
    {"op": "replace", "path": "/deal_registration/exclusivity/days", "value": 120},
    {"op": "replace", "path": "/rebates/margin_floor/percent", "value": "10"},
    {"op": "replace", "path": "/billing/invoice_disputes/window_days", "value": 20},
]


def _one_by_one(rt: Runtime, draft_id: str, inside: list[str]) -> dict[str, Any]:
    return domain.summarize([policy_whatif.whatif_decision(rt, FINANCE, draft_id, d) for d in inside], examples=3)


def test_a_decision_the_changed_rules_cannot_reach_keeps_its_outcome_as_a_full_replay_says(tmp_path, monkeypatch):
    """Random drafts (seeded): each mixes rules the evaluation reads, routing, and sections it never reads; the
    summed what-if (skipping what the draft cannot reach) equals replaying every decision one by one."""
    import random

    rt, clock = _runtime("sqlite", tmp_path)
    inside = _history(rt, clock, monkeypatch)
    assert not {op["path"].split("/")[1] for op in _UNREAD} & set(domain.EVALUATED_SECTIONS)
    chance = random.Random(19)
    for n in range(8):
        operations = chance.sample(_NOT_REACHING, chance.randint(0, 2))
        operations += chance.sample(_UNREAD, chance.randint(1, 2))
        if n % 2:  # every other draft also changes rules the evaluation reads
            operations += chance.sample(_REACHING, chance.randint(1, 3))
        draft = policy_drafts.create_draft(rt, CHANNEL_OPS, {"reason": f"random draft {n}"})
        policy_drafts.patch_policy(rt, CHANNEL_OPS, draft["draft_id"], {"operations": operations})
        report = policy_whatif.whatif(rt, FINANCE, draft["draft_id"], WINDOW)
        expected = _one_by_one(rt, draft["draft_id"], inside)
        assert {k: v for k, v in report.items() if k in expected} == expected, operations
        if not n % 2:  # nothing the evaluation reads changed: no outcome changes, whatever the routing does
            assert report["outcome_changed"] == 0


def test_a_draft_that_changes_only_routing_evaluates_no_decision_and_reroutes_as_a_full_replay(tmp_path, monkeypatch):
    """SOP-4.1's routing matrix sends the margin category to legal: approvals move queue, no outcome changes, and no
    decision is evaluated again (the stored result stands)."""
    rt, clock = _runtime("memory", tmp_path)
    inside = _history(rt, clock, monkeypatch)
    draft = policy_drafts.create_draft(rt, CHANNEL_OPS, {"reason": "routing"})
    policy_drafts.patch_policy(rt, CHANNEL_OPS, draft["draft_id"], {"operations": _NOT_REACHING[:1]})
    calls = {"n": 0}

    def counted(*args: Any) -> Any:
        calls["n"] += 1
        return pricing.evaluate(*args)

    monkeypatch.setattr(policy_whatif, "evaluate", counted)
    report = policy_whatif.whatif(rt, FINANCE, draft["draft_id"], WINDOW)
    assert calls["n"] == 0
    assert report["outcome_changed"] == 0 and report["approvals_rerouted"]["count"] > 0
    assert {k: v for k, v in report.items() if k in (e := _one_by_one(rt, draft["draft_id"], inside))} == e


def test_the_quote_evaluation_reads_only_the_sections_the_reach_analysis_names(tmp_path, monkeypatch):
    """The reach analysis is sound only if the evaluation reads no other section: every stored decision evaluates
    the same under a policy holding the evaluated sections alone."""
    rt, clock = _runtime("memory", tmp_path)
    inside = _history(rt, clock, monkeypatch)
    tenant = tenants.load_tenant(rt, "northwind")[0]
    alone = {s: tenant.policy[s] for s in domain.EVALUATED_SECTIONS if s in tenant.policy}
    for decision_id in inside:
        inputs = decisions.load(rt, FINANCE, decision_id)[0]["inputs"]
        assert (pricing.evaluate(alone, "sections-alone", inputs)
                == pricing.evaluate(tenant.policy, tenant.policy_version, inputs))


@pytest.mark.parametrize("engine", ["memory", "sqlite"])
def test_evaluating_in_worker_processes_gives_the_figures_and_examples_of_one_process(engine, tmp_path, monkeypatch):
    """Past POOL_AFTER evaluations the remaining shares of the window go to worker processes, each reading its own
    shares; their tallies are merged in read order, so the example ids, the counts and the sums are those of one
    process and of the one-by-one replay."""
    rt, clock = _runtime(engine, tmp_path)
    inside = _history(rt, clock, monkeypatch)
    draft = policy_drafts.create_draft(rt, CHANNEL_OPS, {"reason": "workers"})
    policy_drafts.patch_policy(rt, CHANNEL_OPS, draft["draft_id"], {"operations": MANY_RULES})
    monkeypatch.setattr(policy_whatif, "_MEMO_MAX", 0)  # every decision evaluated
    one = policy_whatif.whatif(rt, FINANCE, draft["draft_id"], WINDOW)
    monkeypatch.setattr(policy_whatif_workers, "POOL_AFTER", 5)
    pools, started = [], policy_whatif_workers._started
    monkeypatch.setattr(policy_whatif_workers, "_started",
                        lambda replayer: pools.append(started(replayer)) or pools[-1])
    two = policy_whatif.whatif(replace(rt, settings=replace(rt.settings, whatif_workers=2)), FINANCE,
                               draft["draft_id"], WINDOW)
    assert len(pools) == 1 and pools[0] is not None  # the workers did read and evaluate shares
    assert two == one
    assert {k: v for k, v in two.items() if k in (e := _one_by_one(rt, draft["draft_id"], inside))} == e


def test_without_a_process_pool_the_whatif_evaluates_in_its_own_process(tmp_path, monkeypatch):
    """Where no process pool can start (a Lambda function has no /dev/shm), the figures are the same."""
    rt, clock = _runtime("memory", tmp_path)
    _history(rt, clock, monkeypatch)
    draft = policy_drafts.create_draft(rt, CHANNEL_OPS, {"reason": "no pool"})
    policy_drafts.patch_policy(rt, CHANNEL_OPS, draft["draft_id"], {"operations": MANY_RULES})
    one = policy_whatif.whatif(rt, FINANCE, draft["draft_id"], WINDOW)

    def no_pool(*args: Any, **kwargs: Any) -> Any:
        raise OSError("[Errno 38] Function not implemented")

    monkeypatch.setattr(policy_whatif_workers, "ProcessPoolExecutor", no_pool)
    monkeypatch.setattr(policy_whatif_workers, "POOL_AFTER", 3)
    monkeypatch.setattr(policy_whatif, "_MEMO_MAX", 0)
    two = policy_whatif.whatif(replace(rt, settings=replace(rt.settings, whatif_workers=2)), FINANCE,
                               draft["draft_id"], WINDOW)
    assert two == one


@pytest.mark.parametrize(("env", "workers"), [
    ({}, 1), ({"REVGOV_BACKEND": "dynamodb"}, 1), ({"REVGOV_BACKEND": "sqlite"}, 2),
    ({"REVGOV_BACKEND": "sqlite", "REVGOV_WHATIF_WORKERS": "1"}, 1), ({"REVGOV_WHATIF_WORKERS": "3"}, 3),
    ({"REVGOV_WHATIF_WORKERS": "0"}, 1)])
def test_whatif_workers_come_from_the_environment(env, workers):
    assert Settings.from_env(env).whatif_workers == workers


@pytest.mark.parametrize(("window", "pointer"), [
    ({"from": "2026-02-30", "to": "2026-03-01"}, "/from"),  # no such day
    ({"from": "2026-03-01", "to": "2026-13-01"}, "/to"),
    ({"from": "2026-03-02", "to": "2026-03-01"}, "/to"),  # ends before it starts
    ({"from": "2026-01-01", "to": "2027-01-02"}, "/to"),  # 367 days: "a what-if window is at most 366 days"
])
def test_a_bad_window_is_refused_naming_the_field(window, pointer):
    from revgov.domain.errors import RuleViolation

    with pytest.raises(RuleViolation) as refused:
        policy_whatif._window(window)
    assert [e.path for e in refused.value.errors] == [pointer]
