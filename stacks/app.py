#!/usr/bin/env python3
"""CDK entry point: the control plane plus one stack per silo tenant in tenants/.

`cdk synth|deploy` (run in stacks/) calls this with cdk.json's context and any `-c key=value`. Run directly
(`python stacks/app.py`), it reads cdk.json's context itself and writes the cloud assembly to stacks/cdk.out.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from revgov_stacks.stacks import build_app  # noqa: E402


def main() -> None:
    if "CDK_OUTDIR" in os.environ:  # the CDK CLI: context and output directory come from it
        app, _, _ = build_app()
    else:
        context = json.loads((HERE / "cdk.json").read_text(encoding="utf-8"))["context"]
        app, _, _ = build_app(context, outdir=str(HERE / "cdk.out"))
    app.synth()


if __name__ == "__main__":
    main()
