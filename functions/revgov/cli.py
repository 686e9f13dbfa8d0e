"""The `revgov` command: `revgov dev` serves the whole product locally."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any


def _dev(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from .adapters.sqlite_db import SchemaTooNew
    from .local.seed import PartialSeed
    from .local.stack import start_stack

    console = Console()
    state = Path(args.state_file)
    if args.backend == "dynamodb" and not os.environ.get("AWS_ENDPOINT_URL"):
        console.print("--backend dynamodb talks to AWS itself (real credentials) or to AWS_ENDPOINT_URL when set")
    with console.status(f"Starting Revgov on the {args.backend} engine: queues, event router, tenants, API…"):
        try:
            stack = start_stack(
                port=args.port,
                state_file=state,
                backend=args.backend,
                data_file=Path(args.data_file) if args.data_file else None,
                reset=args.reset,
            )
        except OSError as exc:
            console.print(f"[red]Could not start: {exc}[/red] (is port {args.port} in use? try --port)")
            return 1
        except (PartialSeed, SchemaTooNew) as exc:
            console.print(f"[red]{exc}[/red]")
            return 1
    table = Table(title=f"Revgov on {stack.base_url}", show_lines=False)
    table.add_column("tenant")
    table.add_column("role")
    table.add_column("key", overflow="fold")
    table.add_row("(platform)", "operator", stack.info["operator_key"] or "(the table had tenants: keys not known)")
    for tenant_id, tenant in stack.info["tenants"].items():
        for role, key in tenant["keys"].items():
            table.add_row(tenant_id, role, key)
    console.print(table)
    if args.backend == "sqlite":
        kept = "seeded the demo tenants into a new database" if stack.seeded else "kept from the last run"
        console.print(f"Data in [bold]{stack.info['data_file']}[/bold] ({kept}; `revgov dev --reset` starts over).")
    console.print(f"Keys and webhook secrets are in [bold]{state}[/bold] (mode 600).   Ctrl-C stops.")
    # The ready line: scripts wait for it (or run `revgov wait`), then read the state file.
    print(f"revgov ready: {stack.base_url} backend={args.backend} state={state}", flush=True)
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    stopped.wait()
    console.print("Stopping…")
    stack.stop()
    return 0


def _wait(args: argparse.Namespace) -> int:
    """Return when the local product answers: the state file names its base URL, `GET /v1/health` answers 200 and
    the state file was rewritten by the process that answers (its keys are the ones that work now)."""
    import json
    import time
    import urllib.request

    state = Path(args.state_file)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        try:
            info = json.loads(state.read_text(encoding="utf-8"))
            with urllib.request.urlopen(f"{info['base_url']}/v1/health", timeout=2) as answer:  # noqa: S310 - local
                if answer.status == 200 and json.loads(state.read_text(encoding="utf-8")) == info:
                    print(f"revgov ready: {info['base_url']}")
                    return 0
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    print(f"revgov is not answering after {args.timeout:g}s (is `make run` running? see {state})", file=sys.stderr)
    return 1


def _local_engine(state_file: str | None) -> None:
    """Point this process at the engine of the `revgov dev` whose state file is given (its SQLite file, or the
    AWS endpoint it used)."""
    import json

    if not state_file:
        return
    info = json.loads(Path(state_file).read_text(encoding="utf-8"))
    if info.get("backend", "sqlite") == "sqlite" and info.get("data_file"):
        os.environ.update({"REVGOV_BACKEND": "sqlite", "REVGOV_DATA_FILE": info["data_file"]})
    elif info.get("aws_endpoint_url"):
        os.environ.update({"REVGOV_BACKEND": "dynamodb", "AWS_ENDPOINT_URL": info["aws_endpoint_url"]})


def _replay(args: argparse.Namespace) -> int:
    """Re-publish a tenant's dead-lettered or failed ERP events (or the ones named) after their cause is fixed."""
    import getpass
    import json

    _local_engine(args.state_file)
    from .runtime import runtime
    from .services import erp

    rt = runtime()
    event_ids = args.event_id or erp.replayable(rt, args.tenant, tuple(args.status))
    results = erp.replay(rt, args.tenant, event_ids, actor=f"cli:{getpass.getuser()}")
    for result in results:
        print(json.dumps(result))
    print(json.dumps({"replayed": sum(r["status"] == "replayed" for r in results), "of": len(results)}))
    return 0 if all(r["status"] == "replayed" for r in results) else 1


def _agents_run(args: argparse.Namespace) -> int:
    """Run one bounded agent now, for the named tenants or every active one; prints one JSON report per tenant."""
    import json

    _local_engine(args.state_file)
    from .runtime import runtime
    from .services import agents

    try:
        reports = agents.run(runtime(), args.name, args.tenant)
    except LookupError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    for report in reports:
        print(json.dumps(report))
    return 0


def _copilot_index(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .runtime import build_copilot
    from .services.copilot import contract_files, index_tenant
    from .settings import settings

    config = settings()
    index, _ = build_copilot(config)
    tenants = args.tenant or sorted(p.parent.name for p in config.tenants_dir.glob("*/tenant.yaml"))
    total = sum(len(contract_files(config.tenants_dir, t)) for t in tenants)
    console = Console()
    counts: dict[str, int] = {}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("Indexing contracts", total=total)
        for tenant_id in tenants:
            progress.update(task, description=f"Indexing {tenant_id}")

            def done(result: Any, tenant_id: str = tenant_id) -> None:
                counts[result.status] = counts.get(result.status, 0) + 1
                progress.console.print(
                    f"{tenant_id}/{result.document}: {result.status}, {result.clauses} clauses, "
                    f"{result.embedded} embedded, {result.removed} removed"
                )
                if result.status != "removed":
                    progress.advance(task)

            index_tenant(index, config.tenants_dir, tenant_id, on_document=done)
    where = config.copilot.opensearch_endpoint if config.copilot.index == "opensearch" else config.copilot.index_path
    console.print(f"Indexed {len(tenants)} tenant(s) into {config.copilot.index} ({where}): {counts}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="revgov", description="Revgov: revenue governance for partner programs")
    commands = parser.add_subparsers(dest="command", required=True)
    dev = commands.add_parser("dev", help="serve the whole product locally with the demo tenants")
    dev.add_argument("--port", type=int, default=8000, help="API port on 127.0.0.1 (default 8000)")
    dev.add_argument("--state-file", default=".revgov/local.json", help="where to write the base URL and demo keys")
    dev.add_argument(
        "--backend", choices=["sqlite", "dynamodb"], default="sqlite",
        help="sqlite (default): the embedded engine, data kept in --data-file across restarts; dynamodb: DynamoDB, "
        "EventBridge and SQS at AWS_ENDPOINT_URL or with your AWS credentials",
    )
    dev.add_argument("--data-file", help="the embedded engine's database (default .revgov/revgov.sqlite)")
    dev.add_argument("--reset", action="store_true", help="start over: delete the local database and re-seed")
    dev.set_defaults(run=_dev)
    wait = commands.add_parser("wait", help="wait until `revgov dev` answers (for scripts and the README)")
    wait.add_argument("--state-file", default=".revgov/local.json", help="the state file `revgov dev` writes")
    wait.add_argument("--timeout", type=float, default=120.0, help="seconds to wait (default 120)")
    wait.set_defaults(run=_wait)
    events = commands.add_parser("events", help="ERP events: replay what failed or was dead-lettered")
    event_commands = events.add_subparsers(dest="events_command", required=True)
    replay = event_commands.add_parser("replay", help="put failed or dead-lettered ERP events back on the bus")
    replay.add_argument("--tenant", required=True, help="the tenant id")
    replay.add_argument(
        "--event-id", action="append", help="an evt_… id to replay (repeatable); default: all with --status"
    )
    replay.add_argument(
        "--status",
        action="append",
        choices=["dead_lettered", "failed"],
        help="which events to replay when no --event-id is given (default: both)",
    )
    replay.add_argument(
        "--state-file",
        help="reach the local stack of `revgov dev` through its state file (.revgov/local.json); "
        "without it the AWS settings of the environment are used",
    )
    replay.set_defaults(run=_replay)
    from .cli_tenants import register as register_tenants

    register_tenants(commands)
    from .cli_catalog import register as register_catalog

    register_catalog(commands)
    agent_parser = commands.add_parser("agents", help="bounded agents: run one on demand")
    agent_commands = agent_parser.add_subparsers(dest="agents_command", required=True)
    agent_run = agent_commands.add_parser("run", help="run an agent now (it opens tasks or exceptions, or escalates)")
    from .services.agents import AGENTS

    agent_run.add_argument("name", choices=sorted(AGENTS), help="the agent")
    agent_run.add_argument("--tenant", action="append", help="only this tenant (repeatable); default: every active one")
    agent_run.add_argument(
        "--state-file",
        help="reach the local stack of `revgov dev` through its state file (.revgov/local.json); "
        "without it the AWS settings of the environment are used",
    )
    agent_run.set_defaults(run=_agents_run)
    copilot = commands.add_parser("copilot", help="the contract copilot")
    copilot_commands = copilot.add_subparsers(dest="copilot_command", required=True)
    index = copilot_commands.add_parser("index", help="index tenants' contracts (unchanged documents are no-ops)")
    index.add_argument("--tenant", action="append", help="only this tenant (repeatable); default: every tenant")
    index.set_defaults(run=_copilot_index)
    args = parser.parse_args(argv)
    if getattr(args, "events_command", None) == "replay" and not args.status:
        args.status = ["dead_lettered", "failed"]
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
