"""Backfill of the per-partner decision lookup (issue 20 follow-up).

API.md `GET /v1/decisions`: a partner key lists its own decisions, newest first, read through the per-partner
lookup that services.decisions writes. Decisions stored before that lookup existed ("old shape": no lookup) were
invisible to their partner. `revgov maintenance backfill-decisions` (services.decision_backfill) gives them their
lookup through the DocumentStore port, the same on every engine; a second run writes nothing; each write is audited.

Seeded by hand on the in-memory and the embedded SQLite engines (the DynamoDB adapter shares their base class and its
lookup index is the table's GSI: the same port calls).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from memory_store import memory_runtime
from revgov.domain.access import PLATFORM, Principal, Role
from revgov.domain.errors import NotFound
from revgov.ports import Changes, Put
from revgov.services import decision_repository, decisions, tenants
from revgov.services.decision_backfill import ACTION, backfill_partner_lookups
from support import ROOT

P1 = "ptr_01JBNWPARTNER0000000000001"
P2 = "ptr_01JBNWPARTNER0000000000002"
PARTNER1 = Principal("northwind", Role.PARTNER, "key_p1", P1)
PARTNER2 = Principal("northwind", Role.PARTNER, "key_p2", P2)
FINANCE = Principal("northwind", Role.FINANCE, "key_fin")


def _decision(decision_id: str, partner_id: str | None, at: str) -> dict[str, Any]:
    return {
        "decision_id": decision_id,
        "kind": "pricing",
        "subject": {"kind": "quote", "id": f"q-{decision_id[-4:]}"},
        "partner_id": partner_id,
        "policy_version": "v1",
        "inputs": {"lines": []},
        "result": {"outcome": "allowed", "totals": {"list": "100.00", "net": "90.00"}},
        "outcome": "allowed",
        "status": "final",
        "approvals": [],
        "decided_by": "sales:key_s",
        "created_at": at,
        "history": [],
    }


OLD_P1_EARLY = "dec_01J00000000000000000000001"
OLD_P1_LATE = "dec_01J00000000000000000000002"
OLD_P2 = "dec_01J00000000000000000000003"
OLD_NO_PARTNER = "dec_01J00000000000000000000004"
NEW_P1 = "dec_01J00000000000000000000005"


def _seed(rt: Any) -> None:
    """Four decisions stored the old way (no lookup) and one the new way (decision_put writes the lookup)."""
    old = [
        _decision(OLD_P1_EARLY, P1, "2026-03-01T10:00:00.000Z"),
        _decision(OLD_P1_LATE, P1, "2026-04-01T10:00:00.000Z"),
        _decision(OLD_P2, P2, "2026-04-02T10:00:00.000Z"),
        _decision(OLD_NO_PARTNER, None, "2026-04-03T10:00:00.000Z"),
    ]
    puts = [Put(decision_repository.DECISIONS, d["decision_id"], d, must_be_absent=True) for d in old]
    puts.append(decision_repository.put(_decision(NEW_P1, P1, "2026-05-01T10:00:00.000Z"), version=None))
    rt.store.commit("northwind", Changes(puts=puts))


def _listed(rt: Any, who: Principal) -> list[str]:
    return [d["decision_id"] for d in decisions.list_for(rt, who, partner_id=None, limit=50, cursor=None)["items"]]


def _memory() -> Any:
    rt, _ = memory_runtime("2026-06-01T09:00:00Z")
    return rt


def _sqlite(tmp_path: Any) -> Any:
    from revgov.bootstrap import build_runtime
    from revgov.settings import Settings

    rt = build_runtime(Settings.from_env({"REVGOV_BACKEND": "sqlite", "REVGOV_DATA_FILE": str(tmp_path / "r.db")}))
    from revgov.tenant_files import load_tenant_file

    config = load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml")
    tenants.create_tenant(rt, Principal(PLATFORM, Role.OPERATOR, "key_test"), config)
    return rt


@pytest.mark.parametrize("engine", ["memory", "sqlite"])
def test_old_decisions_become_visible_to_their_partner_once_and_audited(engine, tmp_path):
    rt = _memory() if engine == "memory" else _sqlite(tmp_path)
    _seed(rt)
    assert _listed(rt, PARTNER1) == [NEW_P1]  # the defect: the old ones are invisible to their partner
    assert _listed(rt, PARTNER2) == []
    before = {d: decision_repository.head(rt.store, "northwind", d).data for d in (OLD_P1_EARLY, OLD_P2, NEW_P1)}

    first = backfill_partner_lookups(rt, "northwind", actor="operator:cli-test")
    assert first == {"tenant_id": "northwind", "scanned": 5, "backfilled": 3}
    assert _listed(rt, PARTNER1) == [NEW_P1, OLD_P1_LATE, OLD_P1_EARLY]  # newest first
    assert _listed(rt, PARTNER2) == [OLD_P2]  # its own only
    for decision_id, data in before.items():  # the records themselves are unchanged
        assert rt.store.get("northwind", decision_repository.DECISIONS, decision_id).data == data
    trail = [r for r in rt.store.audit_records("northwind") if r["action"] == ACTION]
    assert len(trail) == 1 and trail[0]["actor"] == "operator:cli-test"
    assert {d["decision_id"] for d in trail[0]["inputs"]["decisions"]} == {OLD_P1_EARLY, OLD_P1_LATE, OLD_P2}

    head = rt.store.audit_head("northwind")
    again = backfill_partner_lookups(rt, "northwind", actor="operator:cli-test")
    assert again == {"tenant_id": "northwind", "scanned": 5, "backfilled": 0}
    assert rt.store.audit_head("northwind") == head  # idempotent: nothing written, nothing audited
    assert _listed(rt, PARTNER1) == [NEW_P1, OLD_P1_LATE, OLD_P1_EARLY]


def test_an_unknown_tenant_is_refused_and_nothing_is_written():
    rt = _memory()
    _seed(rt)
    head = rt.store.audit_head("northwind")
    with pytest.raises(NotFound):
        backfill_partner_lookups(rt, "no-such-tenant", actor="operator:cli-test")
    assert rt.store.audit_head("northwind") == head and _listed(rt, PARTNER1) == [NEW_P1]


def test_the_cli_backfills_a_sqlite_store_and_refuses_an_unknown_tenant_in_one_line(tmp_path):
    rt = _sqlite(tmp_path)
    _seed(rt)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "REVGOV_"))}
    env.update(PYTHONPATH=str(ROOT / "functions"), REVGOV_BACKEND="sqlite", REVGOV_DATA_FILE=str(tmp_path / "r.db"))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "revgov.cli", "maintenance", "backfill-decisions", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)

    refused = cli("--tenant", "no-such-tenant", "--json")
    assert refused.returncode == 2 and "no-such-tenant" in refused.stderr and "Traceback" not in refused.stderr
    assert _listed(rt, PARTNER1) == [NEW_P1]  # nothing changed
    done = cli("--tenant", "northwind", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"tenant_id": "northwind", "scanned": 5,
                                                                "backfilled": 3}  # fmt: skip
    assert _listed(rt, PARTNER1) == [NEW_P1, OLD_P1_LATE, OLD_P1_EARLY]
    again = cli("--tenant", "northwind", "--json")
    assert json.loads(again.stdout.strip().splitlines()[-1])["backfilled"] == 0
