"""The brief: "Keep Lambda import time small." The API's cold start (`functions/app.py` imports `revgov.edge.api`)
must not load numpy, the ONNX embedder or the rebate engine: they are loaded by the routes and handlers that compute
with them. numpy alone is ~180 ms of import on this machine (python -X importtime)."""

from __future__ import annotations

import json
import subprocess
import sys

from support import ROOT

HEAVY = ("numpy", "onnxruntime", "revgov.domain.rebates.engine", "revgov.domain.equity")


def test_the_api_cold_start_loads_no_heavy_module() -> None:
    probe = f"import json, sys, revgov.edge.api; print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         cwd=ROOT, env={"PYTHONPATH": str(ROOT / "functions"), "PATH": ""})  # fmt: skip
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
