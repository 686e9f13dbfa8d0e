"""`revgov maintenance backfill-usage-months` and `backfill-held-credits` on the embedded engine (SQLite), as an
operator runs them: a tenant from before the usage month pointers and the held marks (its marks and pointers deleted
here to stand for it) gets them once; a second run writes nothing; an unknown tenant is a usage error naming it; each
run is audited as the operator. README: "one-off, idempotent, audited repairs of stored data"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from revgov.bootstrap import build_runtime
from revgov.domain.access import PLATFORM, Principal, Role
from revgov.ports import Changes, Delete, Put
from revgov.services import tenants
from revgov.services.billing.repository import USAGE
from revgov.services.credit_hold_marks import HELD_MARKS
from revgov.services.usage_months import USAGE_MONTHS, USAGE_MONTHS_COMPLETE
from revgov.settings import Settings
from revgov.tenant_files import load_tenant_file
from support import ROOT

P1 = "ptr_01JBNWPARTNER0000000000001"


def _older_tenant(tmp_path: Path) -> Any:
    files = {"REVGOV_DATA_FILE": str(tmp_path / "r.db"), "REVGOV_COPILOT_INDEX_PATH": str(tmp_path / "i.db")}
    rt = build_runtime(Settings.from_env({"REVGOV_BACKEND": "sqlite", **files}))
    tenants.create_tenant(rt, Principal(PLATFORM, Role.OPERATOR, "key_test"),
                          load_tenant_file(ROOT / "tenants" / "northwind" / "tenant.yaml"))  # fmt: skip
    record = {"partner_id": P1, "metric": "cloud_compute", "period": "2026-10", "quantity": "12500",
              "event_ids": ["evt_1"], "invoiced": []}  # fmt: skip
    rt.store.commit("northwind", Changes(puts=[Put(USAGE, f"{P1}#cloud_compute#2026-10", record)],
                                         deletes=[Delete(USAGE_MONTHS, USAGE_MONTHS_COMPLETE), Delete(*HELD_MARKS)]))
    return rt, files


def test_the_two_backfills_run_once_audited_from_the_cli(tmp_path: Path) -> None:
    rt, files = _older_tenant(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "REVGOV_"))}
    env.update(PYTHONPATH=str(ROOT / "functions"), REVGOV_BACKEND="sqlite", **files)

    def cli(command: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "revgov.cli", "maintenance", command, *args], env=env,
                              capture_output=True, text=True, timeout=120, cwd=tmp_path)  # fmt: skip

    def last(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    for command in ("backfill-usage-months", "backfill-held-credits"):
        refused = cli(command, "--tenant", "no-such-tenant", "--json")
        assert refused.returncode == 2 and "no-such-tenant" in refused.stderr and "Traceback" not in refused.stderr
    assert last(cli("backfill-usage-months", "--tenant", "northwind", "--json"))["backfilled"] == 1
    assert last(cli("backfill-usage-months", "--tenant", "northwind", "--json"))["backfilled"] == 0
    assert rt.store.get("northwind", USAGE_MONTHS, f"2026-10#{P1}#cloud_compute#2026-10") is not None
    assert rt.store.get("northwind", USAGE_MONTHS, USAGE_MONTHS_COMPLETE) is not None
    assert last(cli("backfill-held-credits", "--tenant", "northwind", "--json")) == {
        "tenant_id": "northwind", "scanned": 0, "backfilled": 0}  # no credit note waits: only the mark
    assert rt.store.get("northwind", *HELD_MARKS) is not None
    trail = [r for r in rt.store.audit_records("northwind")
             if r["action"] in ("billing.usage_month_pointers_backfilled", "credit_notes.held_marks_backfilled")]
    assert len(trail) == 3 and all(r["actor"].startswith("operator:cli-") for r in trail)


# The seven backfills and the service function each runs (the module docstring of revgov.cli_maintenance names them).
BACKFILLS = {
    "backfill-decisions": "revgov.services.decision_backfill",
    "backfill-deal-pointers": "revgov.services.deals.backfill",
    "backfill-audit-pointers": "revgov.services.audit_backfill",
    "backfill-waiting-pointers": "revgov.services.case_waiting_backfill",
    "backfill-open-pointers": "revgov.services.case_open_backfill",
    "backfill-usage-months": "revgov.services.usage_month_backfill",
    "backfill-held-credits": "revgov.services.credit_hold_backfill",
}


def test_revgov_help_lists_every_backfill_without_loading_one() -> None:
    """revgov.cli: "`revgov --help` and `revgov wait` start without loading the API, the engine and their
    dependencies": building the maintenance commands loads none of the backfills' services; each command's service
    function is found when it runs (here: resolved from the table, as the command resolves it)."""
    probe = (
        "import contextlib, io, json, sys\n"
        "from revgov import cli, cli_maintenance\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        "    cli.main(['maintenance', '--help'])\n"
        f"print(json.dumps(sorted(m for m in {sorted(BACKFILLS.values())!r} if m in sys.modules)))\n"
        "print(json.dumps(out.getvalue()))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT / "functions"), "PATH": ""})  # fmt: skip
    loaded, shown = (json.loads(line) for line in done.stdout.strip().splitlines()[-2:])
    assert loaded == []
    assert all(command in shown for command in BACKFILLS), shown
    from revgov import cli_maintenance

    for command, module in BACKFILLS.items():
        use_case = cli_maintenance.use_case_of(command)
        assert use_case.__module__ == module and callable(use_case), command
