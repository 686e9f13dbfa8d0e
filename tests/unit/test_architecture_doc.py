"""docs/architecture.md walks one request hop by hop, "each hop names one file and one function" (#21): every hop
must name a file that exists and a function defined in it, so the walk stays true to the code after a refactor."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "functions" / "revgov"


def _hops() -> list[tuple[str, str, str]]:
    walk = (ROOT / "docs" / "architecture.md").read_text().split("## One request, hop by hop", 1)[1]
    return re.findall(r"^\| (\d+[a-z]?) \| `([^`]+)` \| `([^`]+)` \|", walk, flags=re.MULTILINE)


def _defined(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ClassDef):
            names |= {f"{node.name}.{f.name}" for f in node.body if isinstance(f, ast.FunctionDef)}
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
            names |= {f"{node.name}.{f.name}" for f in node.body if isinstance(f, ast.FunctionDef)}
    return names


def test_every_hop_names_a_file_that_exists_and_a_function_defined_in_it():
    hops = _hops()
    assert len(hops) >= 10, hops
    for number, file, function in hops:
        path = PACKAGE / file
        assert path.is_file(), f"hop {number}: no {file}"
        assert function in _defined(path), f"hop {number}: {file} defines no {function}"


def test_the_walk_starts_at_the_route_the_table_declares():
    routes = (PACKAGE / "edge" / "routes" / "pricing.py").read_text()
    assert '"POST", "/v1/pricing/check"' in routes
    assert "`POST /v1/pricing/check`" in (ROOT / "docs" / "architecture.md").read_text()
