"""`revgov maintenance backfill-deal-pointers` on the embedded SQLite engine: registrations stored before each
partner's `DEALBYPARTNER` pointers existed become visible in that partner's `GET /v1/deals` (PA-11.1: a partner
pages through its own pointers only), once, audited; `revgov dev`'s start-up call is one read when nothing is left.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from typing import Any

from revgov.bootstrap import build_runtime
from revgov.domain.access import PLATFORM, Principal, Role
from revgov.domain.partners import tiers_by_rank
from revgov.domain.time import parse_instant
from revgov.local.demo_partners import demo_application, onboard
from revgov.ports import Changes, Delete
from revgov.services import deals, tenants
from revgov.services.deals import backfill, repository
from revgov.settings import Settings
from revgov.tenant_files import load_tenant_file
from support import ROOT

SALES = Principal("northwind", Role.SALES, "key_01JX00000000000000000SALES")
OPS = Principal("northwind", Role.CHANNEL_OPS, "key_01JX000000000000000000OPS0")


def _world(tmp_path: Any) -> tuple[Any, str, list[str]]:
    """A SQLite store with one partner's three registrations, two of them as an earlier version stored them."""
    rt = build_runtime(Settings.from_env({"REVGOV_BACKEND": "sqlite", "REVGOV_DATA_FILE": str(tmp_path / "r.db")}))
    config = load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml")
    tenants.create_tenant(rt, Principal(PLATFORM, Role.OPERATOR, "key_test"), config)
    policy = rt.store.get("northwind", "TENANT", "PROFILE").data["config"]["policy"]
    application = demo_application(f"Pointers {uuid.uuid4().hex[:6]}", "reseller", tiers_by_rank(policy)[1])
    partner_id = str(onboard(rt, policy, application, "active", sales=SALES, approver=OPS)["partner_id"])
    close = (parse_instant(rt.clock.now_iso()) + timedelta(days=30)).date().isoformat()  # within PA-5.1's 180 days
    made = []
    for n in range(3):
        body = {"partner_id": partner_id, "customer": {"id": f"CUST-PTR-{n}", "name": "Harbor", "contact": "D. Ortiz"},
                "family": "networking", "estimated_value": "1000.00", "expected_close": close}
        made.append(deals.register(rt, SALES, body)["deal_id"])
    gone = [Delete(repository.BY_PARTNER, f"{partner_id}#{deal_id}") for deal_id in made[:2]]
    rt.store.commit("northwind", Changes(deletes=gone))
    return rt, partner_id, made


def _listed(rt: Any, partner_id: str) -> set[str]:
    who = Principal("northwind", Role.PARTNER, "key_partner", partner_id)
    return {d["deal_id"] for d in deals.list_deals(rt, who, limit=50, cursor=None)["items"]}


def test_the_cli_backfills_pointerless_registrations_once_audited(tmp_path):
    rt, partner_id, made = _world(tmp_path)
    assert _listed(rt, partner_id) == {made[2]}  # the defect: the partner's list misses two of its registrations
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "REVGOV_"))}
    env.update(PYTHONPATH=str(ROOT / "functions"), REVGOV_BACKEND="sqlite", REVGOV_DATA_FILE=str(tmp_path / "r.db"))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "revgov.cli", "maintenance", "backfill-deal-pointers", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)

    refused = cli("--tenant", "no-such-tenant", "--json")
    assert refused.returncode == 2 and "no-such-tenant" in refused.stderr and "Traceback" not in refused.stderr
    assert _listed(rt, partner_id) == {made[2]}  # nothing changed
    done = cli("--tenant", "northwind", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"tenant_id": "northwind", "scanned": 3,
                                                                "backfilled": 2}  # fmt: skip
    assert _listed(rt, partner_id) == set(made)
    trail = [r for r in rt.store.audit_records("northwind") if r["action"] == backfill.ACTION]
    assert len(trail) == 1 and trail[0]["actor"].startswith("operator:cli-")
    assert {r["deal_id"] for r in trail[0]["inputs"]["registrations"]} == set(made[:2])
    head = rt.store.audit_head("northwind")
    again = cli("--tenant", "northwind", "--json")
    assert json.loads(again.stdout.strip().splitlines()[-1])["backfilled"] == 0
    assert rt.store.audit_head("northwind") == head  # idempotent: nothing audited the second time
    assert backfill.backfill_if_unfinished(rt, ["northwind"], actor="system:revgov-dev") == []  # start-up: skipped


def test_dev_start_backfills_a_tenant_whose_backfill_never_ran(tmp_path):
    rt, partner_id, made = _world(tmp_path)
    (ran,) = backfill.backfill_if_unfinished(rt, ["northwind"], actor="system:revgov-dev")
    assert ran == {"tenant_id": "northwind", "scanned": 3, "backfilled": 2}
    assert _listed(rt, partner_id) == set(made)
