"""The `revgov` command: `revgov dev` serves the whole product locally."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path


def _dev(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from .local.stack import start_stack

    console = Console()
    state = Path(args.state_file)
    with console.status("Starting the AWS emulator, resources, event router and demo tenants…"):
        try:
            stack = start_stack(port=args.port, state_file=state)
        except OSError as exc:
            console.print(f"[red]Could not start: {exc}[/red] (is port {args.port} in use? try --port)")
            return 1
    table = Table(title=f"Revgov is serving on {stack.base_url}", show_lines=False)
    table.add_column("tenant")
    table.add_column("role")
    table.add_column("key")
    table.add_row("(platform)", "operator", stack.info["operator_key"])
    for tenant_id, tenant in stack.info["tenants"].items():
        for role, key in tenant["keys"].items():
            table.add_row(tenant_id, role, key)
    console.print(table)
    console.print(
        f"Keys and webhook secrets are in [bold]{state}[/bold]. State is in memory and re-seeded at every start."
    )
    console.print(f"Try: curl -s {stack.base_url}/v1/health   ·   Ctrl-C stops.")
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    stopped.wait()
    console.print("Stopping…")
    stack.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="revgov", description="Revgov: revenue governance for partner programs")
    commands = parser.add_subparsers(dest="command", required=True)
    dev = commands.add_parser("dev", help="serve the whole product locally with the demo tenants")
    dev.add_argument("--port", type=int, default=8000, help="API port on 127.0.0.1 (default 8000)")
    dev.add_argument("--state-file", default=".revgov/local.json", help="where to write the base URL and demo keys")
    dev.set_defaults(run=_dev)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
