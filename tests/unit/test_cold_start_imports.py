"""The brief: "Keep Lambda import time small." The API's cold start (`functions/app.py` imports `revgov.edge.api` and
`revgov.edge.handlers`) must not load numpy, the ONNX embedder, the rebate engine or the copilot: they are loaded by the
routes and handlers that compute with them. numpy alone is ~180 ms of import on this machine, the copilot's core
(`revgov.domain.copilot` and the readers, binders and slots it imports, the answerability model, the index and answerer
adapters) ~50-80 ms (python -X importtime); a request that never asks the copilot never loads it, the first question
does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support import ROOT

HEAVY = ("numpy", "onnxruntime", "revgov.domain.rebates.engine", "revgov.domain.equity")
# The copilot: its core and everything only it uses. `revgov.edge.routes.copilot` (the route table's entries) and
# `revgov.services.copilot_transcripts` (where the audit keeps a question's text) are not the copilot's work.
COPILOT = (
    "revgov.domain.copilot", "revgov.domain.copilot_binding", "revgov.domain.copilot_reader",
    "revgov.domain.copilot_acts", "revgov.domain.copilot_slots", "revgov.domain.copilot_units",
    "revgov.domain.copilot_answerability", "revgov.domain.copilot_evidence", "revgov.domain.copilot_own_data",
    "revgov.domain.explain", "revgov.services.copilot", "revgov.services.copilot_own_data",
    "revgov.services.clause_indexing", "revgov.services.explain_rebates", "revgov.services.explain_entitlements",
    "revgov.adapters.local_index", "revgov.adapters.opensearch_index", "revgov.adapters.answerers",
    "revgov.adapters.embeddings",
)  # fmt: skip
LOADED = "sorted(m for m in {names!r} if m in sys.modules)"


def _run(probe: str, env: dict[str, str] | None = None) -> list[list[str]]:
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT / "functions"), "PATH": "", **(env or {})})  # fmt: skip
    return [json.loads(line) for line in out.stdout.strip().splitlines() if line.startswith("[")]


def test_the_api_cold_start_loads_no_heavy_module() -> None:
    probe = f"import json, sys, revgov.edge.api; print(json.dumps({LOADED.format(names=HEAVY)}))"
    assert _run(probe) == [[]]


def test_the_lambda_entry_point_loads_neither_a_heavy_module_nor_the_copilot() -> None:
    probe = f"import json, sys; sys.path.insert(0, 'functions'); import app; " \
            f"print(json.dumps({LOADED.format(names=HEAVY + COPILOT)}))"  # fmt: skip
    assert _run(probe) == [[]]


def test_a_request_that_never_asks_the_copilot_never_loads_it_and_its_first_use_does(tmp_path: Path) -> None:
    """The runtime a request builds wires the copilot's index and answerer without loading them; an API key resolved
    (the authorizer's work for every request) leaves them unloaded; the index's first use loads them."""
    probe = (
        "import json, sys\n"
        "from revgov.bootstrap import runtime\n"
        "from revgov.domain.errors import RevgovError\n"
        "from revgov.services.keys import resolve_caller\n"
        "rt = runtime()\n"
        "try:\n"
        "    resolve_caller(rt, 'rvg_not_a_key')\n"
        "except RevgovError:\n"
        "    pass\n"
        f"print(json.dumps({LOADED.format(names=COPILOT)}))\n"
        "print(json.dumps([rt.clause_index is not None, rt.answerer is not None]))\n"
        "rt.clause_index.documents('northwind')\n"
        f"print(json.dumps({LOADED.format(names=COPILOT)}))\n"
    )
    env = {"REVGOV_BACKEND": "sqlite", "REVGOV_DATA_FILE": str(tmp_path / "revgov.sqlite"),
           "REVGOV_COPILOT_INDEX_PATH": str(tmp_path / "index.sqlite"), "REVGOV_EMBEDDING_CACHE": ""}  # fmt: skip
    before, wired, after = _run(probe, env)
    assert before == []
    assert wired == [True, True]
    assert {"revgov.adapters.local_index", "revgov.adapters.answerers", "revgov.domain.copilot"} <= set(after)
