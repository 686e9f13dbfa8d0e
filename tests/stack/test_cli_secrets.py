"""A key or secret the `revgov` command shows once is printed whole, on one line, whatever the output is.

docs/local-stack.md: "Demo keys are printed one per line, never folded"; API.md: keys are "shown once at creation".
Found by
following the README as a new user: `revgov tenants operator-key > key.txt` (stdout a file, so rich wrapped at 80
columns) printed the operator key split over two lines, and `revgov tenants provision` put the new tenant's admin
key and webhook secret in a table column that folded them; a key copied or read back from that output is broken,
and there is no second chance to see it. Each test reads the secret back from the output and uses it.
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path

import pytest
import requests
import yaml
from test_cli import project, revgov  # noqa: F401  (the fixture: a folder where `make run` ran)

from support import ROOT

pytestmark = pytest.mark.stack

KEY = r"rgk\.[A-Za-z0-9_-]+\.key_[0-9A-Z]{26}\.[A-Za-z0-9_-]{20,}"


def _shown_once(stdout: str, label: str, pattern: str) -> str:
    """The line `<label> (shown once): <secret>`; the secret is the whole rest of that one line."""
    lines = [line for line in stdout.splitlines() if line.startswith(f"{label} (shown once): ")]
    assert len(lines) == 1, stdout
    secret = lines[0].split(": ", 1)[1].strip()
    assert re.fullmatch(pattern, secret), (secret, stdout)
    return secret


def test_the_operator_key_is_printed_whole_when_stdout_is_not_a_terminal(project: Path, stack) -> None:  # noqa: F811
    done = revgov("tenants", "operator-key", "--label", "newuser2 bootstrap", cwd=project)  # COLUMNS=80, stdout a pipe
    assert done.returncode == 0, done.stderr[-2000:]
    key = _shown_once(done.stdout, "operator key", KEY)
    listed = requests.get(f"{stack.base_url}/v1/tenants", headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert listed.status_code == 200, listed.text  # the key as printed is the key


def test_provision_prints_the_admin_key_and_webhook_secret_whole(tmp_path: Path, project: Path, stack) -> None:  # noqa: F811
    tenant_id = f"cli-{uuid.uuid4().hex[:8]}"
    folder = tmp_path / tenant_id
    shutil.copytree(ROOT / "tenants" / "northwind" / "contracts", folder / "contracts")
    config = yaml.safe_load((ROOT / "tenants" / "northwind" / "tenant.yaml").read_text())
    (folder / "tenant.yaml").write_text(yaml.safe_dump({**config, "tenant_id": tenant_id}))
    done = revgov(
        "tenants", "provision", str(folder / "tenant.yaml"),
        "--url", stack.base_url, "--operator-key", stack.info["operator_key"], cwd=project,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    admin = _shown_once(done.stdout, "admin key", KEY)
    _shown_once(done.stdout, "webhook secret", r"\S{32,}")
    me = requests.get(f"{stack.base_url}/v1/me", headers={"Authorization": f"Bearer {admin}"}, timeout=30)
    assert me.status_code == 200, me.text
    assert me.json()["role"] == "admin"
