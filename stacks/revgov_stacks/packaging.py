"""What the Lambda functions run: the code asset (copied from the repo at synth) and the dependency layer.

The code asset is prepared here in plain Python, offline and without Docker: `functions/app.py`, the `revgov`
package, `schemas/`, `events/` and the tenant folders the stack serves, copied into a build directory.

Dependencies are NOT installed at synth (that needs the network and the Lambda platform's wheels). They come as a
Lambda layer from `layer_dir`, built once per dependency change by `python stacks/build_layer.py`, which pip-installs
the runtime dependencies of pyproject.toml for the Lambda platform (manylinux, CPython 3.11, arm64). Synth refuses
to go on without that layer, or with one built from other requirements, rather than deploying functions that
cannot import.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

from aws_cdk import aws_lambda as lambda_

from .config import DeployConfig

LAYER_MANIFEST = "revgov-layer.json"
PYTHON_VERSION = "3.11"
ARCHITECTURE = "arm64"
PIP_PLATFORM = "manylinux2014_aarch64"
# Runtime dependencies the functions never import: the CLI's terminal tables. boto3 stays in (pinned, not the
# runtime's copy) because pynamodb and powertools are tested against the version pyproject.toml resolves.
NOT_IN_LAMBDA = frozenset({"rich"})
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".DS_Store")


class LayerNotBuilt(RuntimeError):
    """The dependency layer is missing or stale; the message says how to build it."""


def lambda_requirements(repo: Path) -> list[str]:
    """pyproject.toml's runtime dependencies, minus those only the CLI uses: one list for the layer and the check."""
    project = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [req for req in project["dependencies"] if _name(req) not in NOT_IN_LAMBDA]


def _name(requirement: str) -> str:
    for stop in "<>=!~;[ ":
        requirement = requirement.split(stop, 1)[0]
    return requirement.strip().lower()


def prepare_code(config: DeployConfig, name: str, tenant_ids: list[str]) -> Path:
    """Copy what the functions need into `build_dir/code-<name>`; only the tenant folders this stack serves."""
    repo = config.repo
    target = config.build_dir / f"code-{name}"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shutil.copy2(repo / "functions" / "app.py", target / "app.py")
    shutil.copytree(repo / "functions" / "revgov", target / "revgov", ignore=_IGNORE)
    for folder in ("schemas", "events"):
        shutil.copytree(repo / folder, target / folder, ignore=_IGNORE)
    (target / "tenants").mkdir()
    for tenant_id in tenant_ids:
        shutil.copytree(config.tenants_dir / tenant_id, target / "tenants" / tenant_id, ignore=_IGNORE)
    return target


def read_layer_manifest(layer_dir: Path) -> dict[str, object]:
    manifest = layer_dir / LAYER_MANIFEST
    if not (layer_dir / "python").is_dir() or not manifest.is_file():
        raise LayerNotBuilt(
            f"no dependency layer in {layer_dir}; build it first (needs PyPI, no Docker): "
            f"python stacks/build_layer.py --layer-dir {layer_dir}"
        )
    return dict(json.loads(manifest.read_text(encoding="utf-8")))


def layer_code(config: DeployConfig) -> tuple[lambda_.Code, bool]:
    """The layer asset and whether it is a test stub (tests synthesize with an empty stand-in layer)."""
    manifest = read_layer_manifest(config.layer_dir)
    wanted = lambda_requirements(config.repo)
    if manifest.get("requirements") != wanted or manifest.get("architecture") != ARCHITECTURE:
        raise LayerNotBuilt(
            f"the layer in {config.layer_dir} was built for {manifest.get('requirements')} "
            f"({manifest.get('architecture')}), not {wanted} ({ARCHITECTURE}); rebuild it: "
            f"python stacks/build_layer.py --layer-dir {config.layer_dir}"
        )
    return lambda_.Code.from_asset(str(config.layer_dir)), bool(manifest.get("stub"))
