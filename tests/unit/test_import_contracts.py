"""The layer contracts of issue #21 (`[tool.importlinter]` in pyproject.toml, run by `make test` as `lint-imports`).

Issue #21: "the domain imports nothing of the project outside itself, services import no adapter or edge module".
These tests prove the contracts bite: each plants one forbidden import in a copy of the package and expects
`lint-imports` to report that contract broken, and the package as it is to keep every contract.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(package_parent: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=package_parent, env=env, capture_output=True, text=True, timeout=300, check=False,
    )


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    parent = tmp_path_factory.mktemp("pkg")
    shutil.copytree(ROOT / "functions" / "revgov", parent / "revgov", ignore=shutil.ignore_patterns("__pycache__"))
    return parent


def _plant(copy: Path, module: str, line: str) -> str:
    path = copy / "revgov" / module
    original = path.read_text(encoding="utf-8")
    path.write_text(original + "\n" + line + "\n", encoding="utf-8")
    return original


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("domain/money.py", "from revgov.services import audit as _x  # noqa", "The domain imports nothing"),
        ("domain/money.py", "from revgov import settings as _x  # noqa", "The domain imports nothing"),
        ("services/audit.py", "from revgov.adapters import system as _x  # noqa", "Services import no adapter"),
        ("services/audit.py", "from revgov.edge import http as _x  # noqa", "Services import no adapter"),
        ("services/audit.py", "from revgov import cli as _x  # noqa", "Services import no adapter"),
        # the services receive a built Runtime: they never build one (revgov.bootstrap knows the adapters)
        ("services/audit.py", "from revgov import bootstrap as _x  # noqa", "Services import no adapter"),
        # runtime.py, which every service imports for `Runtime`, holds no adapter: the allowance it had is gone
        ("runtime.py", "from revgov.adapters import system as _x  # noqa", "Services import no adapter"),
        ("adapters/system.py", "from revgov.services import audit as _x  # noqa", "Adapters import no edge"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(copy: Path, module: str, line: str, contract: str) -> None:
    original = _plant(copy, module, line)
    try:
        result = _lint(copy)
    finally:
        (copy / "revgov" / module).write_text(original, encoding="utf-8")
    assert result.returncode == 1, result.stdout + result.stderr
    broken = [row.strip() for row in result.stdout.splitlines() if " BROKEN" in row]
    assert len(broken) == 1 and broken[0].startswith(contract), result.stdout


def test_the_package_keeps_every_contract() -> None:
    result = _lint(ROOT / "functions")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
