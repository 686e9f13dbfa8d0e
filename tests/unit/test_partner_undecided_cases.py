"""A partner's undecided approvals and exceptions, read through its own pointers (`CASEOPEN`), not the tenant's cases.

docs/kpis.md, the performance summary (`GET /v1/partners/{id}/performance-summary`): it counts the partner's "open
disputes (rebate and invoice disputes and their appeals) and items waiting on the partner; for staff, the other open
exceptions and approvals". SOP-1.3: an item "waiting on partner" is still undecided. PA-11.1 / CPA-11.1: the
Distributor does not disclose one Partner's data to another, so a rival's cases are never counted. The team's
standard for per-request work: it grows with the partner's own cases, not the tenant's (counted store calls, not time).
The clock is fixed (2026-11-10); the tenant is Northwind with its demo partners.
"""

from __future__ import annotations

from memory_store import Ledger
from revgov.domain.access import Principal, Role
from revgov.ports import Changes, Delete
from revgov.services import case_open_backfill, case_repository, case_waiting, cases, performance_summary, tenants
from store_counting import Counting

P1 = "ptr_01JBNWPARTNER0000000000001"
P2 = "ptr_01JBNWPARTNER0000000000002"
OPS = Principal("northwind", Role.CHANNEL_OPS, "key_ops")
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")
SALES = Principal("northwind", Role.SALES, "key_sales")


def _open(ledger: Ledger, kind: str, category: str, partner_id: str, n: int) -> str:
    policy = tenants.load_tenant(ledger.rt, "northwind")[0].policy
    case, changes = cases.open_case(ledger.rt, policy, kind=kind, category=category, subject_kind="deal",
                                    subject_id=f"dl_probe{n:04d}", requested_by=SALES, partner_id=partner_id)
    ledger.rt.commit("northwind", changes)
    return case["case_id"]


def _tenant(rivals: int) -> tuple[Ledger, set[str]]:
    """Partner 1: an open exception, a pending approval and an exception waiting on it (SOP-1.3); partner 2: `rivals`
    open exceptions. Returns partner 1's case ids."""
    ledger = Ledger("2026-11-10T08:00:00Z")
    mine = {_open(ledger, "exception", "discount_above_tier_cap", P1, 1),
            _open(ledger, "approval", "discount_above_threshold", P1, 2)}
    waiting = _open(ledger, "exception", "discount_above_tier_cap", P1, 3)
    case_waiting.ask_partner(ledger.rt, OPS, "exception", waiting, "which end customer?")
    for n in range(rivals):
        _open(ledger, "exception", "discount_above_tier_cap", P2, 100 + n)
    return ledger, mine | {waiting}


def test_the_partners_undecided_cases_are_its_own_whatever_the_tenant_holds() -> None:
    ledger, mine = _tenant(rivals=3)
    found = case_repository.undecided_of(ledger.rt.store, "northwind", P1)
    assert {c["case_id"] for c in found} == mine
    assert {c["status"] for c in found} == {"open", "pending", "waiting_on_partner"}
    assert all(c["partner_id"] == P1 for c in found)
    assert len(case_repository.undecided_of(ledger.rt.store, "northwind", P2)) == 3


def test_the_reads_grow_with_the_partners_cases_not_the_tenants() -> None:
    """Three rival cases or forty: partner 1's undecided cases cost the same store calls and documents, and no
    kind/status list of the tenant (`CASE#exception#open`, `CASE#approval#pending`) is looked up."""
    reads = []
    for rivals in (3, 40):
        ledger, mine = _tenant(rivals)
        with Counting(ledger.rt.store) as counted:
            found = case_repository.undecided_of(ledger.rt.store, "northwind", P1)
        assert {c["case_id"] for c in found} == mine
        assert counted.partitions == []
        # the mark, one page of the partner's 3 pointers, its 3 cases in one batch
        assert dict(counted.calls) == {"get": 1, "query": 1, "get_many": 1}
        reads.append(counted.documents)
    assert reads == [1 + 3 + 3, 1 + 3 + 3]


def test_the_performance_summary_reads_no_tenant_wide_case_list_and_counts_as_before() -> None:
    ledger, _ = _tenant(rivals=40)
    with Counting(ledger.rt.store) as counted:
        staff = performance_summary.summary(ledger.rt, OPS, P1, "2026-Q4")
    assert not [p for p in counted.partitions if p.startswith(f"{case_repository.CASES}#")], counted.partitions
    values = {fact["fact_id"]: fact["value"] for fact in staff["facts"]}
    # staff: the open exception and the pending approval, and the one waiting on partner 1 (SOP-1.3); none of partner 2
    assert (values["cases.exceptions"], values["cases.approvals"], values["cases.waiting"]) == ("1", "1", "1")


def test_a_decided_case_leaves_the_partners_undecided_cases_with_its_pointer() -> None:
    ledger, mine = _tenant(rivals=0)
    approval = next(c for c in case_repository.undecided_of(ledger.rt.store, "northwind", P1)
                    if c["kind"] == "approval")  # fmt: skip
    cases.decide_case(ledger.rt, OPS, "approval", approval["case_id"], "rejected", "above the cap")
    assert {c["case_id"] for c in case_repository.undecided_of(ledger.rt.store, "northwind", P1)} == \
        mine - {approval["case_id"]}  # fmt: skip
    pointer = f"{P1}#{approval['case_id']}"
    assert ledger.rt.store.get("northwind", case_repository.UNDECIDED_POINTERS, pointer) is None


def test_a_tenant_whose_cases_came_before_the_pointers_reads_as_before_until_backfilled() -> None:
    """A tenant provisioned before the pointers: no mark and no pointer. Its summaries read the tenant's open and
    pending cases and filter them (the same answer); the backfill gives each case its pointer and the tenant its mark,
    audited; a second run writes no pointer."""
    ledger, mine = _tenant(rivals=3)
    store = ledger.rt.store
    pointers = [item.key for item in store.query("northwind", case_repository.UNDECIDED_POINTERS, limit=100).items]
    assert case_repository.POINTERS_COMPLETE in pointers and len(pointers) == 1 + 3 + 3
    store.commit("northwind", Changes(deletes=[Delete(case_repository.UNDECIDED_POINTERS, key) for key in pointers]))
    with Counting(store) as counted:
        before = case_repository.undecided_of(store, "northwind", P1)
    assert {c["case_id"] for c in before} == mine
    assert {"CASE#exception#open", "CASE#approval#pending"} <= set(counted.partitions)

    ran = case_open_backfill.backfill_open_pointers(ledger.rt, "northwind", actor="operator:cli-test")
    assert ran == {"tenant_id": "northwind", "scanned": 6, "backfilled": 6}
    with Counting(store) as counted:
        after = case_repository.undecided_of(store, "northwind", P1)
    assert {c["case_id"] for c in after} == mine and counted.partitions == []
    records = [r for r in store.audit_records("northwind") if r["action"] == case_open_backfill.ACTION]
    assert sorted(c["case_id"] for r in records for c in r["inputs"]["cases"]) == sorted(
        c["case_id"] for p in (P1, P2) for c in case_repository.undecided_of(store, "northwind", p))
    again = case_open_backfill.backfill_open_pointers(ledger.rt, "northwind", actor="operator:cli-test")
    assert again == {"tenant_id": "northwind", "scanned": 6, "backfilled": 0}
    # `revgov dev` at start: nothing to do for a tenant with the mark
    assert case_open_backfill.backfill_if_unfinished(ledger.rt, ["northwind"], actor="system:dev") == []


def test_revgov_dev_backfills_a_tenant_without_the_mark_once() -> None:
    ledger, mine = _tenant(rivals=1)
    store = ledger.rt.store
    store.commit("northwind", Changes(deletes=[
        Delete(case_repository.UNDECIDED_POINTERS, item.key)
        for item in store.query("northwind", case_repository.UNDECIDED_POINTERS, limit=100).items]))
    ran = case_open_backfill.backfill_if_unfinished(ledger.rt, ["northwind"], actor="system:dev")
    assert ran == [{"tenant_id": "northwind", "scanned": 4, "backfilled": 4}]
    assert case_open_backfill.backfill_if_unfinished(ledger.rt, ["northwind"], actor="system:dev") == []
    with Counting(store) as counted:
        assert {c["case_id"] for c in case_repository.undecided_of(store, "northwind", P1)} == mine
    assert counted.partitions == []


def test_the_cli_backfills_the_pointers_on_the_embedded_engine_once_audited(tmp_path) -> None:
    """`revgov maintenance backfill-open-pointers` on SQLite: the pointers and the mark of a tenant whose cases came
    before them (deleted here to stand for them), once; a second run writes no pointer; an unknown tenant is a usage
    error naming it."""
    import json
    import os
    import subprocess
    import sys

    from revgov.bootstrap import build_runtime
    from revgov.domain.access import PLATFORM
    from revgov.settings import Settings
    from revgov.tenant_files import load_tenant_file
    from support import ROOT

    rt = build_runtime(Settings.from_env({"REVGOV_BACKEND": "sqlite", "REVGOV_DATA_FILE": str(tmp_path / "r.db"),
                                          "REVGOV_COPILOT_INDEX_PATH": str(tmp_path / "i.db")}))  # fmt: skip
    tenants.create_tenant(rt, Principal(PLATFORM, Role.OPERATOR, "key_test"),
                          load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml"))  # fmt: skip
    policy = tenants.load_tenant(rt, "northwind")[0].policy
    case, changes = cases.open_case(rt, policy, kind="exception", category="discount_above_tier_cap",
                                    subject_kind="deal", subject_id="dl_cli", requested_by=SALES, partner_id=P1)
    rt.commit("northwind", changes)
    rt.store.commit("northwind", Changes(deletes=[
        Delete(case_repository.UNDECIDED_POINTERS, item.key)
        for item in rt.store.query("northwind", case_repository.UNDECIDED_POINTERS, limit=100).items]))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "REVGOV_"))}
    env.update(PYTHONPATH=str(ROOT / "functions"), REVGOV_BACKEND="sqlite", REVGOV_DATA_FILE=str(tmp_path / "r.db"),
               REVGOV_COPILOT_INDEX_PATH=str(tmp_path / "i.db"))  # fmt: skip

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "revgov.cli", "maintenance", "backfill-open-pointers", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)

    refused = cli("--tenant", "no-such-tenant", "--json")
    assert refused.returncode == 2 and "no-such-tenant" in refused.stderr and "Traceback" not in refused.stderr
    done = cli("--tenant", "northwind", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["backfilled"] == 1
    assert [c["case_id"] for c in case_repository.undecided_of(rt.store, "northwind", P1)] == [case["case_id"]]
    assert rt.store.get("northwind", case_repository.UNDECIDED_POINTERS, case_repository.POINTERS_COMPLETE)
    assert json.loads(cli("--tenant", "northwind", "--json").stdout.strip().splitlines()[-1])["backfilled"] == 0
    trail = [r for r in rt.store.audit_records("northwind") if r["action"] == case_open_backfill.ACTION]
    assert trail and all(r["actor"].startswith("operator:cli-") for r in trail)
