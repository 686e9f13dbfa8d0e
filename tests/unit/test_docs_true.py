"""The docs a new user reads first point only at things a clone has, and name what the code names."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", ROOT / "stacks" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_docs_never_send_readers_outside_the_repository():
    for doc in DOCS:
        text = doc.read_text()
        assert "../shared/" not in text, f"{doc.name} links outside the repository"
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            resolved = (doc.parent / target).resolve()
            assert resolved.is_relative_to(ROOT) and resolved.exists(), f"{doc.name}: {target}"


def test_every_n8n_credential_a_flow_uses_is_named_in_the_setup():
    readme = (ROOT / "docs" / "n8n.md").read_text()  # the setup moved from the README (README links it)
    for flow in sorted((ROOT / "n8n-workflows").glob("*.json")):
        for node in json.loads(flow.read_text()).get("nodes", []):
            for credential in (node.get("credentials") or {}).values():
                assert f"**{credential['name']}**" in readme, f"{flow.name} needs {credential['name']!r}"


def test_the_readme_never_reads_the_state_file_before_waiting_for_it():
    try_it = (ROOT / "README.md").read_text().split("### Try it", 1)[1].split("```", 2)[1]
    first_read = try_it.index("local.json\"))")
    assert "until " in try_it[:first_read], "wait until the product is up before reading its state file"


def test_make_run_installs_only_the_run_extra():
    makefile = (ROOT / "Makefile").read_text()
    run_recipe = makefile.split("$(RUN_STAMP): pyproject.toml", 1)[1].split("\n\n", 1)[0]
    assert "'.[run]'" in run_recipe and "[dev]" not in run_recipe.replace("revgov[dev]", "")
    assert re.search(r"^run: \$\(RUN_STAMP\)", makefile, re.M)
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^run = \["revgov\[local\]"\]', pyproject, re.M)
