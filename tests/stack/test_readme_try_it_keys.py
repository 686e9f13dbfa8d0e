"""README "Try it": each key the block reads from `.revgov/local.json` with `python3 -c '…'` is a working key of the
role the lines after it use it as, and each `curl` of the block answers 2xx with it.

README: "`make run` ... writes the keys to `.revgov/local.json`", then `KEY=` (northwind admin), `FIN=` (finance,
asking the copilot) and `PTR=` (the active partner, "PA-12.1: the partner's own records, masked"). A change to the
state file's layout, or a route the block names, breaks the block a new user pastes; this runs the block's own
snippets and paths against the test stack (the server's port stands in for 8000).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from support import ROOT

pytestmark = pytest.mark.stack

ROLES = {"KEY": "admin", "FIN": "finance", "PTR": "partner"}


def _try_it() -> str:
    return (ROOT / "README.md").read_text().split("### Try it", 1)[1].split("```sh", 1)[1].split("```", 1)[0]


def test_the_keys_and_curls_of_try_it_work_as_pasted(tmp_path: Path, stack: Any) -> None:
    (tmp_path / ".revgov").mkdir()
    (tmp_path / ".revgov" / "local.json").write_text(json.dumps(stack.info))  # what `make run` wrote
    block = _try_it()
    keys: dict[str, str] = {}
    for name, snippet in re.findall(r"^(\w+)=\$\(python3 -c '([^']+)'\)$", block, re.M):
        done = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (name, done.stderr)
        keys[name] = done.stdout.strip()
    assert set(keys) == set(ROLES), keys.keys()
    for name, role in ROLES.items():
        me = requests.get(f"{stack.base_url}/v1/me", headers={"Authorization": f"Bearer {keys[name]}"}, timeout=30)
        assert me.status_code == 200 and me.json()["role"] == role, (name, me.text)
    commands = [c for c in re.split(r"\n(?=curl )", block[block.index("curl -s"):]) if c.startswith("curl ")]
    assert len(commands) >= 6, commands  # health, keys, verify, mint, copilot, the partner's audit
    for line in commands:
        auth = re.search(r'Bearer \$(\w+)', line)
        data = re.search(r"-d '([^']+)'", line)
        path = re.search(r"localhost:8000(/\S+)", line)
        assert path, line
        headers = {"Authorization": f"Bearer {keys[auth.group(1)]}"} if auth else {}
        url = stack.base_url + path.group(1)
        answer = (requests.post(url, json=json.loads(data.group(1)), headers=headers, timeout=60) if data
                  else requests.get(url, headers=headers, timeout=60))  # fmt: skip
        assert 200 <= answer.status_code < 300, (line, answer.status_code, answer.text[:500])
