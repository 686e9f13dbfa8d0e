"""Synthesize the CDK app once per test session (per xdist worker), offline, with a dummy account and region."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
STACKS = REPO / "stacks"
sys.path.insert(0, str(STACKS))
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")  # Node 20 works; the banner is noise

ACCOUNT = "111122223333"
REGION = "eu-west-1"
STAGE = "test"
MODELS = ["anthropic.claude-3-5-haiku-20241022-v1:0", "eu.anthropic.claude-3-7-sonnet-20250219-v1:0",
          "amazon.titan-embed-text-v2:0"]


@dataclass
class Synth:
    app: Any
    control_plane: Any
    silos: list[Any]
    outdir: Path
    templates: dict[str, dict[str, Any]]  # stack name -> template
    report: dict[str, Any]
    seconds: float
    context: dict[str, Any]


def stub_layer(directory: Path) -> Path:
    """An empty stand-in for the dependency layer (the real one is built with network by build_layer.py)."""
    from revgov_stacks.packaging import ARCHITECTURE, LAYER_MANIFEST, lambda_requirements

    (directory / "python").mkdir(parents=True, exist_ok=True)
    manifest = {"requirements": lambda_requirements(REPO), "architecture": ARCHITECTURE, "stub": True}
    (directory / LAYER_MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return directory


def make_context(tmp: Path) -> dict[str, Any]:
    context = dict(json.loads((STACKS / "cdk.json").read_text(encoding="utf-8"))["context"])  # as the CLI would
    context.update(
        stage=STAGE, account=ACCOUNT, region=REGION, bedrock_model_ids=MODELS,
        layer_dir=str(stub_layer(tmp / "layer")), build_dir=str(tmp / "build"), tenants_dir=str(REPO / "tenants"),
    )
    return context


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    from revgov_stacks.stacks import build_app

    tmp = tmp_path_factory.mktemp("cdk")
    context = make_context(tmp)
    started = time.perf_counter()
    app, control_plane, silos = build_app(context, outdir=str(tmp / "cdk.out"), env={})
    assembly = app.synth()  # raises if any cdk-nag finding is not acknowledged
    seconds = time.perf_counter() - started
    outdir = Path(assembly.directory)
    templates = {
        stack.stack_name: json.loads((outdir / stack.template_file).read_text(encoding="utf-8"))
        for stack in [control_plane, *silos]
    }
    report_file = outdir / "validation-report.json"
    report = json.loads(report_file.read_text(encoding="utf-8")) if report_file.exists() else {"pluginReports": []}
    return Synth(app, control_plane, silos, outdir, templates, report, seconds, context)
