"""Build the Lambda dependency layer: `python stacks/build_layer.py [--layer-dir DIR]`.

Installs pyproject.toml's runtime dependencies (minus CLI-only ones) as Linux arm64 / CPython 3.11 wheels into
DIR/python, the layout Lambda layers use, and writes DIR/revgov-layer.json so synth can tell a stale layer.
Needs PyPI; needs no Docker (binary wheels only, never builds from source).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from revgov_stacks.config import STACKS_DIR
from revgov_stacks.packaging import (
    ARCHITECTURE,
    LAYER_MANIFEST,
    PIP_PLATFORM,
    PYTHON_VERSION,
    lambda_requirements,
)


def build(layer_dir: Path) -> dict[str, object]:
    requirements = lambda_requirements(STACKS_DIR.parent)
    staging = layer_dir.with_name(layer_dir.name + ".partial")
    if staging.exists():
        shutil.rmtree(staging)
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--target", str(staging / "python"),
        "--platform", PIP_PLATFORM, "--implementation", "cp", "--python-version", PYTHON_VERSION,
        "--only-binary=:all:", *requirements,
    ]
    subprocess.run(command, check=True)  # noqa: S603  (fixed argv, no shell)
    manifest = {"requirements": requirements, "architecture": ARCHITECTURE, "platform": PIP_PLATFORM,
                "python": PYTHON_VERSION}
    (staging / LAYER_MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    if layer_dir.exists():
        shutil.rmtree(layer_dir)
    staging.rename(layer_dir)
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer-dir", type=Path, default=STACKS_DIR / "build" / "layer")
    args = parser.parse_args()
    manifest = build(args.layer_dir.resolve())
    print(f"layer ready in {args.layer_dir}: {', '.join(manifest['requirements'])}")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
