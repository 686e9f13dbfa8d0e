"""The `revgov` command as a person or a script meets it: it finds the local product by itself (.revgov/local.json,
what `make run` writes), answers bad input with one line and an exit code, never a traceback, prints `--json` for
scripts and tables for people, keys whole, and its version.

Exit codes (revgov.cli_support): 1 the operation failed, 2 bad input, 3 the product cannot be reached.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import ROOT

pytestmark = pytest.mark.stack

REVGOV = [sys.executable, "-m", "revgov.cli"]


def _env() -> dict[str, str]:
    """A shell's environment: no AWS endpoint or table of the test process, so only the state file can guide it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "REVGOV_"))}
    env["PYTHONPATH"] = str(ROOT / "functions")
    env["COLUMNS"] = "80"
    return env


def revgov(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*REVGOV, *args], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def project(tmp_path_factory, stack) -> Path:
    """A folder where `make run` ran: .revgov/local.json names the running stack."""
    folder = tmp_path_factory.mktemp("project")
    (folder / ".revgov").mkdir()
    (folder / ".revgov" / "local.json").write_text(json.dumps(stack.info))
    return folder


def assert_user_error(done: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert done.returncode == code, (done.returncode, done.stdout[-1500:], done.stderr[-1500:])
    assert "Traceback" not in done.stderr + done.stdout, done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines, "an error says what went wrong"
    message = lines[-1]
    for word in words:
        assert word in message, message


def test_version(tmp_path):
    from revgov import __version__

    done = revgov("--version", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == f"revgov {__version__}"


def test_agents_and_replay_find_the_local_product_without_a_state_file(project):
    agents = revgov("agents", "run", "discount_drift", "--json", cwd=project)
    assert agents.returncode == 0, agents.stderr[-3000:]
    reports = [json.loads(line) for line in agents.stdout.splitlines()]
    assert {r["tenant_id"] for r in reports} >= {"northwind", "contoso"}
    table = revgov("agents", "run", "discount_drift", "--tenant", "northwind", cwd=project)
    assert table.returncode == 0 and "northwind" in table.stdout and not table.stdout.lstrip().startswith("{")
    replay = revgov("events", "replay", "--tenant", "northwind", "--json", cwd=project)
    assert replay.returncode == 0, replay.stderr[-3000:]
    assert json.loads(replay.stdout.splitlines()[-1]) == {"replayed": 0, "of": 0}


def test_catalog_and_history_find_the_local_product_without_a_state_file(project):
    """docs/local-stack.md: "The `revgov` command finds the local product by itself"; docs/pricing.md runs `revgov
    catalog diff
    --tenant T --from 1 --to 2` with no --state-file. It went to DynamoDB instead ("Unable to locate credentials")."""
    diff = revgov("catalog", "diff", "--tenant", "northwind", "--from", "0", "--to", "0", cwd=project)
    assert diff.returncode == 0, diff.stderr[-3000:]
    assert json.loads(diff.stdout) == {"from": 0, "to": 0, "added": [], "removed": [], "changed": []}


def test_without_a_local_product_the_commands_say_so(tmp_path):
    for args in (("agents", "run", "discount_drift"), ("events", "replay", "--tenant", "northwind"),
                 ("tenants", "operator-key"), ("catalog", "diff", "--tenant", "northwind", "--from", "0", "--to", "0"),
                 ("history", "import", "README.md", "--tenant", "northwind")):
        assert_user_error(revgov(*args, cwd=tmp_path), 3, "make run")


def test_the_table_the_environment_names_wins_over_the_local_state_file(project):
    """Issue: `revgov tenants operator-key` with REVGOV_TABLE set wrote to the local emulator when .revgov/local.json
    existed. With REVGOV_TABLE set and no endpoint, it goes to that table (here: unreachable, no credentials) and
    never to the local stack's."""
    env = {**_env(), "REVGOV_TABLE": "revgov-prod", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    done = subprocess.run([*REVGOV, "tenants", "operator-key", "--label", "x"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "operator key (shown once)" not in done.stdout
    assert "Traceback" not in done.stderr


BAD_INPUT = [
    # (argv, exit code, words the one-line error must contain)
    ((), 2, "required"),
    (("frobnicate",), 2, "invalid choice"),
    (("agents",), 2, "required"),
    (("agents", "run", "no_such_agent"), 2, "invalid choice"),
    (("agents", "run", "discount_drift", "--tenant", "no-such-tenant"), 2, "no-such-tenant"),
    (("agents", "run", "discount_drift", "--state-file", "/nonexistent/local.json"), 3, "/nonexistent"),
    (("events", "replay"), 2, "--tenant"),
    (("events", "replay", "--tenant", "no-such-tenant"), 2, "no-such-tenant"),
    (("events", "replay", "--tenant", "northwind", "--event-id", "../etc"), 2, "../etc"),
    (("events", "replay", "--tenant", "northwind", "--status", "lost"), 2, "invalid choice"),
    (("tenants", "provision", "/nonexistent/tenant.yaml"), 2, "/nonexistent"),
    (("tenants", "provision", "tenants/northwind/tenant.yaml", "--url", "http://127.0.0.1:9", "--operator-key", "k"),
     3, "cannot reach"),
    (("tenants", "provision", "tenants/northwind/tenant.yaml", "--url", "ftp://x", "--operator-key", "k"), 2, "--url"),
    (("tenants", "offboard", "no-such-tenant", "--operator-key", "rgk._platform.key_x.bad"), 1, "401"),
    (("tenants", "import", "/nonexistent.jsonl"), 2, "/nonexistent.jsonl"),
    (("tenants", "import", "README.md"), 2, "not an offboarding export"),
    (("tenants", "operator-key", "--state-file", "README.md"), 2, "not a Revgov state file"),
    (("copilot", "index", "--tenant", "no-such-tenant"), 2, "no-such-tenant"),
    (("history", "import", "README.md", "--tenant", "northwind"), 2, "not JSON"),
    (("catalog", "import", "README.md", "--tenant", "northwind"), 2, "not JSON"),
    # a catalog or history command's --state-file that is not one: one line, not "unexpected JSONDecodeError"
    (("catalog", "diff", "--tenant", "northwind", "--from", "1", "--to", "2", "--state-file", "README.md"), 2,
     "not a Revgov state file"),
    (("catalog", "diff", "--tenant", "northwind", "--from", "1", "--to", "2", "--state-file", "/nonexistent/l.json"),
     3, "/nonexistent"),
    (("history", "import", "README.md", "--tenant", "northwind", "--state-file", "README.md"), 2,
     "not a Revgov state file"),
    (("rebates", "settle", "--tenant", "northwind"), 2, "--period"),
    (("rebates", "settle", "--tenant", "northwind", "--period", "2026-Q5"), 2, "--period"),
    (("rebates", "settle", "--tenant", "northwind", "--period", "2026-07-01"), 2, "--period"),
    (("rebates", "settle", "--tenant", "northwind", "--period", "2026-Q1", "--run", "0"), 2, "--run"),
    (("rebates", "settle", "--tenant", "northwind", "--period", "2026-Q1", "--run", "x"), 2, "invalid int"),
    (("rebates", "settle", "--tenant", "no-such-tenant", "--period", "2026-Q1"), 2, "no-such-tenant"),
    (("rebates", "settle", "--tenant", "northwind", "--period", "2099-Q1"), 2, "has not ended"),
    (("dev", "--port", "not-a-port"), 2, "invalid int"),
    (("maintenance", "backfill-decisions"), 2, "--tenant"),
    (("maintenance", "backfill-decisions", "--tenant", "no-such-tenant"), 2, "no-such-tenant"),
    (("maintenance", "backfill-decisions", "--tenant", "northwind", "--state-file", "/nonexistent/local.json"), 3,
     "/nonexistent"),
    (("maintenance", "backfill-deal-pointers"), 2, "--tenant"),
    (("maintenance", "backfill-deal-pointers", "--tenant", "no-such-tenant"), 2, "no-such-tenant"),
    (("maintenance", "backfill-deal-pointers", "--tenant", "northwind", "--state-file", "/nonexistent/local.json"),
     3, "/nonexistent"),
    (("maintenance", "backfill-audit-pointers"), 2, "--tenant"),
    (("maintenance", "backfill-audit-pointers", "--tenant", "no-such-tenant"), 2, "no-such-tenant"),
    (("maintenance", "backfill-waiting-pointers"), 2, "--tenant"),
    (("maintenance", "backfill-waiting-pointers", "--tenant", "no-such-tenant"), 2, "no-such-tenant"),
    (("maintenance", "backfill-open-pointers"), 2, "--tenant"),
    (("maintenance", "backfill-open-pointers", "--tenant", "no-such-tenant"), 2, "no-such-tenant"),
]


@pytest.mark.parametrize(
    ("argv", "code", "words"), BAD_INPUT, ids=lambda v: " ".join(v) if isinstance(v, tuple) else ""
)
def test_bad_input_is_one_line_and_an_exit_code_never_a_traceback(project, argv, code, words):
    folder = project
    for name in ("tenants", "README.md"):
        target = folder / name
        if not target.exists():
            target.symlink_to(ROOT / name)
    done = revgov(*argv, cwd=folder)
    assert_user_error(done, code, words)


def test_keys_are_printed_whole_at_80_columns(stack):
    from rich.console import Console

    from revgov.cli_support import print_keys

    console = Console(width=80, record=True, force_terminal=False)
    print_keys(console, stack.info)
    text = console.export_text()
    for key in [stack.info["operator_key"], *stack.info["tenants"]["northwind"]["keys"].values()]:
        assert any(key in line for line in text.splitlines()), f"{key} is folded"
