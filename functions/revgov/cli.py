"""The `revgov` command: `revgov dev` serves the whole product locally."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any


def _dev(args: argparse.Namespace) -> int:
    from rich.console import Console

    from .adapters.sqlite_db import SchemaTooNew
    from .cli_support import print_keys
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
    console.print(f"[bold]Revgov on {stack.base_url}[/bold]")
    print_keys(console, stack.info)  # one key per line, never folded at the terminal's width
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

    from .cli_support import CliError, emit, require_tenants, use_product

    use_product(args.state_file)
    from .domain.ids import is_typed_id
    from .runtime import runtime
    from .services import erp

    bad = [e for e in args.event_id or [] if not is_typed_id(e, "evt")]
    if bad:
        raise CliError(f"not an event id: {', '.join(bad)} (ERP event ids look like evt_…)")
    rt = runtime()
    require_tenants(rt, [args.tenant])
    event_ids = args.event_id or erp.replayable(rt, args.tenant, tuple(args.status))
    actor = f"cli:{getpass.getuser()}"
    if args.json:
        results = erp.replay(rt, args.tenant, event_ids, actor=actor)
    else:  # people get a progress bar: a replay of thousands of dead-lettered events takes a while
        from rich.progress import track

        results = []
        for event_id in track(event_ids, description=f"Replaying {len(event_ids)} events", transient=True):
            results += erp.replay(rt, args.tenant, [event_id], actor=actor)
    replayed = sum(r["status"] == "replayed" for r in results)
    emit(results, as_json=args.json, title=f"{replayed} of {len(results)} ERP events replayed for {args.tenant}",
         columns=_columns(results, ("event_id", "status")))
    if args.json:
        print(json.dumps({"replayed": replayed, "of": len(results)}))
    return 0 if replayed == len(results) else 1


def _columns(rows: list[dict[str, Any]], first: tuple[str, ...]) -> list[str]:
    seen = list(first)
    for row in rows:
        seen += [k for k in row if k not in seen]
    return seen


def _agents_run(args: argparse.Namespace) -> int:
    """Run one bounded agent now, for the named tenants or every active one; one report per tenant."""
    from .cli_support import emit, require_tenants, use_product

    use_product(args.state_file)
    from .runtime import runtime
    from .services import agents

    rt = runtime()
    if args.tenant:
        require_tenants(rt, args.tenant)
    reports = agents.run(rt, args.name, args.tenant)
    emit(reports, as_json=args.json, title=f"agent {args.name}", columns=_columns(reports, ("tenant_id",)))
    return 0


def _copilot_index(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .runtime import build_copilot
    from .services.copilot import contract_files, index_tenant
    from .settings import settings

    config = settings()
    index, _ = build_copilot(config)
    known = sorted(p.parent.name for p in config.tenants_dir.glob("*/tenant.yaml"))
    unknown = [t for t in args.tenant or [] if t not in known]
    if unknown:
        from .cli_support import CliError

        raise CliError(f"no tenant {', '.join(unknown)} in {config.tenants_dir} (tenants: {', '.join(known)})")
    tenants = args.tenant or known
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
    from . import __version__

    parser = argparse.ArgumentParser(prog="revgov", description="Revgov: revenue governance for partner programs")
    parser.add_argument("--version", action="version", version=f"revgov {__version__}")
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
    _product_options(replay)
    replay.set_defaults(run=_replay)
    from .cli_tenants import register as register_tenants

    register_tenants(commands)
    from .cli_catalog import register as register_catalog

    register_catalog(commands)
    from .cli_policy import register as register_policy

    register_policy(commands)
    agent_parser = commands.add_parser("agents", help="bounded agents: run one on demand")
    agent_commands = agent_parser.add_subparsers(dest="agents_command", required=True)
    agent_run = agent_commands.add_parser("run", help="run an agent now (it opens tasks or exceptions, or escalates)")
    from .services.agents import AGENTS

    agent_run.add_argument("name", choices=sorted(AGENTS), help="the agent")
    agent_run.add_argument("--tenant", action="append", help="only this tenant (repeatable); default: every active one")
    _product_options(agent_run)
    agent_run.set_defaults(run=_agents_run)
    copilot = commands.add_parser("copilot", help="the contract copilot")
    copilot_commands = copilot.add_subparsers(dest="copilot_command", required=True)
    index = copilot_commands.add_parser("index", help="index tenants' contracts (unchanged documents are no-ops)")
    index.add_argument("--tenant", action="append", help="only this tenant (repeatable); default: every tenant")
    index.set_defaults(run=_copilot_index)
    args = parser.parse_args(argv)
    if getattr(args, "events_command", None) == "replay" and not args.status:
        args.status = ["dead_lettered", "failed"]
    from .cli_support import run_safely

    return run_safely(lambda: args.run(args))


def _product_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-file",
        help="the local stack's state file (default .revgov/local.json, written by `make run`); when it is not given "
        "and REVGOV_TABLE or AWS_ENDPOINT_URL is set, the deployed table of the environment is used",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line, for scripts")


if __name__ == "__main__":
    sys.exit(main())
